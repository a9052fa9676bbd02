"""The source catalogue: load and validate sources YAML files.

Every problem is reported as one line naming the file, the entry and the field, e.g.
`sources.yaml: sources[2] (id 'news-am'): field 'homepage': not an http(s) URL: 'htp://x'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from parsel import Selector
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

BUNDLED_CATALOGUE = Path(__file__).parent / "sources"
SOURCE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE = re.compile(r"^[a-z]{2}$")


class SourcesError(ValueError):
    """The catalogue cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _redacted(value: str) -> str:
    """`value` with any password in it masked, for error messages."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.password is None:
        return value
    user, _, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}").geturl()


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # e.g. a broken IPv6 literal
        raise ValueError(f"not a URL: {_redacted(value)!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {_redacted(value)!r}")
    if parts.username or parts.password:
        # Credentials in a catalogue end up in logs and in the lake; refuse them.
        raise ValueError("URL carries credentials; keep secrets out of the sources file")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class Endpoint(BaseModel):
    """A feed or sitemap; the YAML may give a bare URL or a mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    language: str | None = None
    confidence: Literal["high", "medium", "low", "guess", "dead"] | None = None
    evidence: str | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and not LANGUAGE.match(value):
            raise ValueError(f"not an ISO 639-1 language code: {value!r}")
        return value


def _endpoint(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else value


EndpointField = Annotated[Endpoint, BeforeValidator(_endpoint)]


Confidence = Literal["high", "medium", "low", "guess", "dead"]


class Edition(BaseModel):
    """One language edition of an outlet (news.am/arm/, news.am/eng/...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str
    url: HttpUrl

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not LANGUAGE.match(value):
            raise ValueError(f"not an ISO 639-1 language code: {value!r}")
        return value


_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")
ARCHIVE_PLACEHOLDERS = frozenset({"yyyy", "mm", "dd"})


class Archive(BaseModel):
    """A dated archive listing: `url` with {yyyy} {mm} {dd}; pages 2.. append `pagination`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    pagination: str | None = None
    max_pages: int = Field(default=20, ge=1, le=500)
    language: str | None = None
    confidence: Confidence | None = None
    evidence: str | None = None

    @field_validator("url")
    @classmethod
    def _template(cls, value: str) -> str:
        names = set(_PLACEHOLDER.findall(value))
        unknown = names - ARCHIVE_PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}}: use {{yyyy}}, {{mm}} and {{dd}}"
            )
        if "yyyy" not in names:
            raise ValueError("an archive template needs at least {yyyy}")
        _http_url(_PLACEHOLDER.sub("0", value))
        return value

    @field_validator("pagination")
    @classmethod
    def _pagination(cls, value: str | None) -> str | None:
        if value is not None and "{n}" not in value:
            raise ValueError("pagination needs the page number placeholder {n}")
        return value

    def day_url(self, day: date) -> str:
        return (
            self.url.replace("{yyyy}", f"{day.year:04d}")
            .replace("{mm}", f"{day.month:02d}")
            .replace("{dd}", f"{day.day:02d}")
        )

    def page_url(self, day: date, page: int) -> str:
        """Listing page `page` (1-based) of `day`."""
        first = self.day_url(day)
        if page <= 1 or self.pagination is None:
            return first
        return first + self.pagination.replace("{n}", str(page))


class WordPressApi(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    confidence: Confidence | None = None
    evidence: str | None = None


class Wayback(BaseModel):
    """How to backfill a defunct outlet from the Internet Archive (CDX prefix query)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    url_prefix: str = Field(min_length=3)
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _stamp(cls, value: Any) -> Any:
        if isinstance(value, date):
            value = value.isoformat()
        if value is not None and not re.match(r"^\d{4}(-?\d{2}(-?\d{2})?)?$", str(value)):
            raise ValueError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
        return None if value is None else str(value)


def _css(value: str) -> str:
    try:
        Selector(text="<html></html>").css(value)
    except Exception as exc:  # cssselect raises several types; all mean "not a selector"
        raise ValueError(f"not a CSS selector: {value!r} ({exc})") from None
    return value


Css = Annotated[str, AfterValidator(_css)]


class Selectors(BaseModel):
    """CSS selectors (parsel: ::text and ::attr(x) allowed) that replace generic values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Css | None = None
    subtitle: Css | None = None
    authors: Css | None = None
    published: Css | None = None
    modified: Css | None = None
    body: Css | None = None
    body_exclude: list[Css] = Field(default_factory=list)
    section: Css | None = None
    tags: Css | None = None


class Override(BaseModel):
    """Selectors for the pages of one layout period; `since`/`until` match the capture date,
    so a redesign adds an entry and old captures keep parsing with the old one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: date | None = None
    until: date | None = None
    url_pattern: str | None = None
    selectors: Selectors

    @field_validator("url_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {value!r} ({exc})") from None
        return value

    def applies(self, url: str | None, fetched_at: datetime) -> bool:
        day = fetched_at.astimezone(UTC).date() if fetched_at.tzinfo else fetched_at.date()
        if self.since is not None and day < self.since:
            return False
        if self.until is not None and day >= self.until:
            return False
        return self.url_pattern is None or re.search(self.url_pattern, url or "") is not None


class Mirror(BaseModel):
    """A host that republishes other outlets' work (machine translations, farms, aggregators)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    name: str | None = None
    kind: Literal["machine-translation", "content-farm", "aggregator", "preview"]
    copies: list[str] = Field(default_factory=list)
    evidence: str | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9.-]+\.[a-z0-9-]+$", value):
            raise ValueError(f"not a host name: {value!r}")
        return value

    def owns(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host == self.host or host.endswith("." + self.host)


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    homepage: HttpUrl
    country: str | None
    languages: list[str] = Field(min_length=1)
    timezone: str
    feeds: list[EndpointField] = Field(default_factory=list)
    sitemaps: list[EndpointField] = Field(default_factory=list)
    allowed_domains: list[str] = Field(default_factory=list)
    article_url_patterns: list[str] = Field(default_factory=list)
    exclude_url_patterns: list[str] = Field(default_factory=list)
    status: Literal["active", "defunct", "blocked"] = "active"
    status_note: str | None = None
    # The outlet's founding date: an earlier date on its pages is a parsing error.
    date_floor: date | None = None
    editions: list[Edition] = Field(default_factory=list)
    archives: list[Archive] = Field(default_factory=list)
    wordpress_api: WordPressApi | None = None
    wayback: Wayback | None = None
    overrides: list[Override] = Field(default_factory=list)
    # Loopback and private-network addresses are refused unless the source says so (fixture
    # sites, an intranet mirror): a public outlet resolving there is a rebinding attempt.
    allow_private_network: bool = False
    cms: str | None = None
    notes: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not SOURCE_ID.match(value) or len(value) > 64:
            raise ValueError(
                f"{value!r} is not a valid id: use lowercase letters, digits and single hyphens"
                " ([a-z0-9-]+, at most 64 characters)"
            )
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Z]{2}$", value):
            raise ValueError(f"not a two-letter country code in capitals: {value!r}")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for code in value:
            if not LANGUAGE.match(code):
                raise ValueError(f"not an ISO 639-1 language code: {code!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not an IANA time zone: {value!r}") from None
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for host in value:
            if not re.match(r"^[a-z0-9.-]+(:\d+)?$", host):
                raise ValueError(f"not a host name: {host!r}")
        return value

    @field_validator("article_url_patterns", "exclude_url_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {pattern!r} ({exc})") from None
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def domains(self) -> list[str]:
        """Hosts the crawler may request: the homepage's, the endpoints', and allowed_domains."""
        hosts: list[str] = []
        for url in [
            self.homepage,
            *(e.url for e in self.editions),
            *(e.url for e in self.feeds),
            *(e.url for e in self.sitemaps),
            *(a.day_url(date(2000, 1, 1)) for a in self.archives),
            *([self.wordpress_api.url] if self.wordpress_api else []),
        ]:
            host = urlsplit(url).hostname
            if host and host not in hosts:
                hosts.append(host)
        for host in self.allowed_domains:
            bare = host.split(":")[0]
            if bare not in hosts:
                hosts.append(bare)
        return hosts

    def owns(self, url: str) -> bool:
        """True when `url` is on one of this source's hosts or their subdomains."""
        host = urlsplit(url).hostname or ""
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def overrides_for(self, url: str | None, fetched_at: datetime) -> list[Override]:
        """The override entries that apply to a page of `url` captured at `fetched_at`."""
        return [o for o in self.overrides if o.applies(url, fetched_at)]


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[dict[str, Any]]
    mirrors: list[dict[str, Any]] = Field(default_factory=list)


def _entry_label(index: int, entry: Any) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return f"sources[{index}] (id {entry['id']!r})"
    return f"sources[{index}]"


def _field_path(loc: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif item not in ("function-after[_endpoint()]",) and not str(item).startswith(
            ("function-", "literal[")
        ):
            parts.append(str(item))
    return ".".join(parts)


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


@dataclass(frozen=True)
class Catalogue:
    sources: list[Source]
    mirrors: list[Mirror]


def _mirror_label(index: int, entry: Any) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("host"), str):
        return f"mirrors[{index}] (host {entry['host']!r})"
    return f"mirrors[{index}]"


def parse_catalogue(text: str, label: str) -> Catalogue:
    """Parse one sources document (sources and mirrors); `label` names it in messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourcesError([f"{label}: not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise SourcesError([f"{label}: expected a mapping with a 'sources' list at the top"])
    try:
        document = _SourcesFile.model_validate(data)
    except ValidationError as exc:
        raise SourcesError(
            [
                f"{label}: top level: key {'.'.join(str(p) for p in error['loc'])!r}: "
                f"{_message(error)}"
                for error in exc.errors()
            ]
        ) from None

    problems: list[str] = []
    sources: list[Source] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(document.sources):
        where = f"{label}: {_entry_label(index, entry)}"
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(f"{where}: field {_field_path(error['loc'])!r}: {_message(error)}")
            continue
        if source.id in first_index:
            problems.append(f"{where}: field 'id': duplicate of sources[{first_index[source.id]}]")
            continue
        first_index[source.id] = index
        sources.append(source)
    mirrors: list[Mirror] = []
    for index, entry in enumerate(document.mirrors):
        try:
            mirrors.append(Mirror.model_validate(entry))
        except ValidationError as exc:
            where = f"{label}: {_mirror_label(index, entry)}"
            for error in exc.errors():
                problems.append(f"{where}: field {_field_path(error['loc'])!r}: {_message(error)}")
    if problems:
        raise SourcesError(problems)
    return Catalogue(sources, mirrors)


def parse_sources(text: str, label: str) -> list[Source]:
    """Parse one sources document; `label` names it in messages (usually the file path)."""
    return parse_catalogue(text, label).sources


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load a sources file, or every *.yaml in a folder (default: the bundled catalogue).

    Parsed catalogues are cached by file name, size and modification time: `newslake extract`
    over many pages would otherwise re-validate dozens of outlets per page.
    """
    root = Path(path) if path is not None else BUNDLED_CATALOGUE
    if root.is_dir():
        files = sorted(root.glob("*.yaml"))
    elif root.exists():
        files = [root]
    else:
        raise SourcesError([f"{root}: no such sources file or folder"])
    try:
        stamp = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    except OSError as exc:
        raise SourcesError([f"{root}: cannot read: {exc}"]) from None
    cached = _parse_files(stamp)
    # Sources and mirrors are frozen; fresh lists keep one caller's edits from the next.
    return Catalogue(list(cached.sources), list(cached.mirrors))


@lru_cache(maxsize=16)
def _parse_files(stamp: tuple[tuple[str, int, int], ...]) -> Catalogue:
    files = [Path(name) for name, _, _ in stamp]
    problems: list[str] = []
    sources: list[Source] = []
    mirrors: list[Mirror] = []
    seen: dict[str, Path] = {}
    for file in files:
        try:
            loaded = parse_catalogue(file.read_text(encoding="utf-8"), str(file))
        except SourcesError as exc:
            problems.extend(exc.problems)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: cannot read: {exc}")
            continue
        for source in loaded.sources:
            if source.id in seen:
                problems.append(
                    f"{file}: source {source.id!r}: field 'id': duplicate of the one in "
                    f"{seen[source.id]}"
                )
                continue
            seen[source.id] = file
            sources.append(source)
        mirrors.extend(loaded.mirrors)
    known = set(seen)
    for mirror in mirrors:
        for copied in mirror.copies:
            if copied not in known:
                problems.append(
                    f"mirror {mirror.host!r}: field 'copies': unknown source id {copied!r}"
                )
    if problems:
        raise SourcesError(problems)
    return Catalogue(sources, mirrors)


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Load a sources file, or every *.yaml in a folder (default: the bundled catalogue)."""
    return load_catalogue(path).sources


@lru_cache(maxsize=8)
def _bundled_mirrors() -> tuple[Mirror, ...]:
    return tuple(load_catalogue().mirrors)


def load_mirrors(path: str | Path | None = None) -> list[Mirror]:
    """The `mirrors` lists of a sources file or folder (default: the bundled catalogue, cached)."""
    if path is None:
        return list(_bundled_mirrors())
    return load_catalogue(path).mirrors


def find_mirror(mirrors: Sequence[Mirror], url: str) -> Mirror | None:
    """The listed mirror whose host holds `url`, if any."""
    for mirror in mirrors:
        if mirror.owns(url):
            return mirror
    return None


def select_sources(sources: Sequence[Source], ids: Sequence[str] | None) -> list[Source]:
    """The sources named by `ids` (all when empty), or SourcesError naming unknown ids."""
    if not ids:
        return list(sources)
    ids = list(dict.fromkeys(ids))  # `--source x --source x` is one source, crawled once
    by_id = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        known = ", ".join(sorted(by_id)) or "none"
        raise SourcesError([f"unknown source id {i!r} (known: {known})" for i in unknown])
    return [by_id[i] for i in ids]


def find_source_for_url(sources: Sequence[Source], url: str) -> Source | None:
    """The catalogue entry whose hosts contain `url`'s host, if any."""
    for source in sources:
        if source.owns(url):
            return source
    return None
