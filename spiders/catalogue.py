"""The source catalogue: load and validate sources YAML files.

Every problem is reported as one line naming the file, the entry and the field, e.g.
`sources.yaml: sources[2] (id 'news-am'): field 'homepage': not an http(s) URL: 'htp://x'`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
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


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {value!r}")
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
        for url in [self.homepage, *(e.url for e in self.feeds), *(e.url for e in self.sitemaps)]:
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


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[dict[str, Any]]


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


def parse_sources(text: str, label: str) -> list[Source]:
    """Parse one sources document; `label` names it in messages (usually the file path)."""
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
    if problems:
        raise SourcesError(problems)
    return sources


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Load a sources file, or every *.yaml in a folder (default: the bundled catalogue)."""
    root = Path(path) if path is not None else BUNDLED_CATALOGUE
    if root.is_dir():
        files = sorted(root.glob("*.yaml"))
    elif root.exists():
        files = [root]
    else:
        raise SourcesError([f"{root}: no such sources file or folder"])
    problems: list[str] = []
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for file in files:
        try:
            loaded = parse_sources(file.read_text(encoding="utf-8"), str(file))
        except SourcesError as exc:
            problems.extend(exc.problems)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{file}: cannot read: {exc}")
            continue
        for source in loaded:
            if source.id in seen:
                problems.append(
                    f"{file}: source {source.id!r}: field 'id': duplicate of the one in "
                    f"{seen[source.id]}"
                )
                continue
            seen[source.id] = file
            sources.append(source)
    if problems:
        raise SourcesError(problems)
    return sources


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
