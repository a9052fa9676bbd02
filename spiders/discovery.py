"""Find article URLs: RSS/Atom feeds and sitemaps in, filtered candidates with hints out.

Parsing is pure (bytes in, URLs and PageHints out) so it is tested without a crawl; the spider
feeds every parsed entry to a `Candidates` set, which canonicalizes, filters, de-duplicates and
counts, and hands back the URLs worth fetching once discovery is over.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from schemas import article_id
from spiders.canonical import canonical_url
from spiders.catalogue import Source
from spiders.extraction.api import PageHints

__all__ = [
    "Candidates",
    "Discovered",
    "FeedParse",
    "SitemapParse",
    "merge_hints",
    "parse_feed",
    "parse_hint_date",
    "parse_sitemap",
    "sitemap_urls_from_robots",
]

# A local calendar date and a UTC timestamp can differ by a day; hints are only trusted to
# exclude a candidate when they are further than this outside the window.
WINDOW_MARGIN = timedelta(days=1)
_VIA_RANK = {"feed": 0, "sitemap": 1, "link": 2, "file": 3}


@dataclass(frozen=True)
class Discovered:
    """One entry of a feed or sitemap: where it points and what the listing said about it."""

    url: str
    hints: PageHints
    published: datetime | None = None  # the feed's or news sitemap's publication date
    lastmod: datetime | None = None  # the sitemap's <lastmod>


@dataclass
class FeedParse:
    entries: list[Discovered]
    version: str  # feedparser's name of the format ("rss20", "atom10"), "" when not a feed
    problem: str | None = None  # "feed_not_a_feed" | "feed_empty" | "feed_xml_entities"
    detail: str | None = None


@dataclass
class SitemapParse:
    kind: str | None  # "urlset" | "sitemapindex"; None when the body is not a sitemap
    entries: list[Discovered] = field(default_factory=list)
    children: list[tuple[str, datetime | None]] = field(default_factory=list)  # (url, lastmod)
    # "sitemap_not_a_sitemap" | "sitemap_too_large" | "sitemap_truncated" | "sitemap_xml_entities"
    problem: str | None = None
    detail: str | None = None


def parse_hint_date(text: str | None) -> datetime | None:
    """A feed or sitemap date (RFC 822 or W3C/ISO 8601) as UTC; None when unreadable.

    Values without an offset are read as UTC: hints only steer the date window, with a margin.
    """
    if not text:
        return None
    text = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _strings(values: Iterable[Any], key: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        text = value.get(key) if isinstance(value, Mapping) else None
        text = text.strip() if isinstance(text, str) else ""
        if text and text not in out:
            out.append(text)
    return tuple(out)


# An internal DTD subset declaring entities: "billion laughs" expands a kilobyte into
# gigabytes. No feed or sitemap needs one; the whole document is refused, unread.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def declared_entities(body: bytes) -> int:
    """How many <!ENTITY declarations the document's DOCTYPE makes (0 without a DOCTYPE)."""
    doctype = _DOCTYPE.search(body[:4096])
    if doctype is None:
        return 0
    end = body.find(b"]>", doctype.end())
    subset = body[doctype.end() : end if end >= 0 else len(body)]
    return len(_ENTITY.findall(subset))


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> FeedParse:
    """Entries of an RSS 0.9x/1.0/2.0 or Atom feed; `problem` says why a body is not trusted.

    A body is trusted as a feed only when feedparser recognises a feed format and finds at
    least one entry with a link: an HTML page served at a feed URL is `feed_not_a_feed`.
    """
    entities = declared_entities(body)
    if entities:
        detail = f"the document declares {entities} XML entities (<!ENTITY>): refused, unread"
        return FeedParse([], "", "feed_xml_entities", detail)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never a str: feedparser fetches strings that look like URLs or file names.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    version = str(parsed.get("version") or "")
    if not version:
        reason = parsed.get("bozo_exception")
        detail = "not an RSS or Atom document"
        if content_type:
            detail += f" (Content-Type {content_type})"
        if reason is not None:
            detail += f": {reason}"
        return FeedParse([], version, "feed_not_a_feed", detail)
    entries: list[Discovered] = []
    for entry in parsed.entries:
        link = entry.get("feedburner_origlink") or entry.get("link")
        if not link:
            links = [x.get("href") for x in entry.get("links", []) if x.get("href")]
            link = links[0] if links else None
        if not link:
            continue
        authors = _strings(entry.get("authors") or [], "name")
        if not authors and entry.get("author"):
            authors = (str(entry["author"]).strip(),)
        published_raw = entry.get("published")
        # dict.get: feedparser's own get() answers "updated" with the published date.
        updated_raw = dict.get(entry, "updated")
        hints = PageHints(
            discovered_via="feed",
            feed_title=(entry.get("title") or "").strip() or None,
            feed_published=published_raw.strip() if published_raw else None,
            feed_authors=authors,
            feed_tags=_strings(entry.get("tags") or [], "term"),
        )
        entries.append(
            Discovered(
                url=urljoin(url, link.strip()),
                hints=hints,
                published=parse_hint_date(published_raw),
                # Atom <updated> (RSS has none): tells a scheduled crawl a page changed.
                lastmod=parse_hint_date(updated_raw) if updated_raw != published_raw else None,
            )
        )
    if not entries:
        return FeedParse([], version, "feed_empty", f"a {version} feed with no entries")
    return FeedParse(entries, version)


class _NewsSitemap(Sitemap):
    """Scrapy's Sitemap, also reading the nested <news:news> block of Google News sitemaps.

    The base class keeps only the direct children of <url> (and clears them), so the nested
    publication date, title and language are collected first.
    """

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        news: dict[str, str] = {}
        for child in elem:
            if self._get_tag_name(child) != "news":
                continue
            for sub in child.iter():
                name = self._get_tag_name(sub)
                if name in ("publication_date", "title", "language") and sub.text:
                    news.setdefault(name, sub.text.strip())
        entry = super()._process_sitemap_element(elem)
        if entry is not None and news:
            entry["news"] = news
        return entry


def _is_gzip(body: bytes) -> bool:
    return body[:2] == b"\x1f\x8b"


def parse_sitemap(body: bytes, url: str, *, max_size: int = 0) -> SitemapParse:
    """A sitemap index (children) or urlset (entries with hints); gzip bodies are unpacked."""
    if _is_gzip(body):
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # scrapy's size guard: a decompression bomb or an oversize file
            detail = f"larger than {max_size} bytes once decompressed"
            return SitemapParse(None, problem="sitemap_too_large", detail=detail)
        except (OSError, EOFError) as exc:
            detail = f"broken gzip data: {exc}"
            return SitemapParse(None, problem="sitemap_not_a_sitemap", detail=detail)
    entities = declared_entities(body)
    if entities:
        detail = f"the document declares {entities} XML entities (<!ENTITY>): refused, unread"
        return SitemapParse(None, problem="sitemap_xml_entities", detail=detail)
    try:
        sitemap = _NewsSitemap(body)
        kind = sitemap.type
    except (lxml.etree.XMLSyntaxError, StopIteration) as exc:
        detail = f"not XML: {str(exc) or 'empty or unreadable document'}"
        return SitemapParse(None, problem="sitemap_not_a_sitemap", detail=detail)
    if kind not in ("urlset", "sitemapindex"):
        detail = f"the document's root is <{kind}>, not <urlset> or <sitemapindex>"
        return SitemapParse(None, problem="sitemap_not_a_sitemap", detail=detail)
    result = SitemapParse(kind)
    try:
        for item in sitemap:
            loc = urljoin(url, item["loc"])
            lastmod_raw = item.get("lastmod") or None
            if kind == "sitemapindex":
                result.children.append((loc, parse_hint_date(lastmod_raw)))
                continue
            news = item.get("news") or {}
            hints = PageHints(
                discovered_via="sitemap",
                sitemap_lastmod=lastmod_raw,
                sitemap_published=news.get("publication_date"),
                sitemap_title=news.get("title"),
                sitemap_language=news.get("language"),
            )
            result.entries.append(
                Discovered(
                    url=loc,
                    hints=hints,
                    published=parse_hint_date(news.get("publication_date")),
                    lastmod=parse_hint_date(lastmod_raw),
                )
            )
    except lxml.etree.XMLSyntaxError as exc:
        # lxml recovers from most damage; what it cannot read ends the file, not the crawl.
        result.problem = "sitemap_truncated"
        result.detail = f"XML error after {len(result.entries)} entries: {exc}"
    return result


def merge_hints(first: PageHints, second: PageHints) -> PageHints:
    """One hint set for a URL listed twice: feed hints win, sitemap hints fill the gaps."""
    if _VIA_RANK.get(second.discovered_via, 9) < _VIA_RANK.get(first.discovered_via, 9):
        first, second = second, first
    gaps = {
        f.name: getattr(second, f.name)
        for f in fields(PageHints)
        if getattr(first, f.name) in (None, ()) and getattr(second, f.name) not in (None, ())
    }
    return replace(first, **gaps) if gaps else first


@dataclass(frozen=True)
class Candidate:
    """An article URL worth fetching (canonicalized) and what discovery knew of it."""

    url: str
    hints: PageHints


@dataclass
class _Entry:
    hints: PageHints
    published: datetime | None
    lastmod: datetime | None


class Candidates:
    """The crawl's candidate set: canonicalized, on the source's hosts, de-duplicated.

    `counts` tallies each distinct URL once under the first filter that stopped it:
    offsite, excluded (scheme, article/exclude patterns), skipped_landed, out_of_window_hint;
    `discovered` is the number of distinct candidates that passed ownership and patterns.

    `skip` maps the article id of each URL not to fetch to the time its landed version was
    fetched (None for ids skipped whatever happens, e.g. lasting rejects). A landed URL whose
    listing entry says it changed later (a feed's <updated>, a sitemap's <lastmod>) is fetched
    again, and counted as `refetched_changed`.
    """

    def __init__(
        self,
        source: Source,
        *,
        skip: Mapping[str, datetime | None] | Iterable[str] = (),
        since: date | None = None,
        until: date | None = None,
        chunk: tuple[date, date] | None = None,
        lastmod_slack: timedelta | None = None,
    ) -> None:
        self.source = source
        self.skip: dict[str, datetime | None] = (
            dict(skip) if isinstance(skip, Mapping) else dict.fromkeys(skip)
        )
        self.since = since
        self.until = until
        # since..until is the whole backfill window; `chunk` the days this crawl is for.
        self.chunk = chunk
        # How long after the window an undated entry's lastmod may be and still be read as
        # "perhaps published inside it" (None: any time after).
        self.lastmod_slack = lastmod_slack
        self.counts: Counter[str] = Counter()
        self._entries: dict[str, _Entry] = {}
        self._refused: set[str] = set()
        self._include = [re.compile(p) for p in source.article_url_patterns]
        self._exclude = [re.compile(p) for p in source.exclude_url_patterns]

    def __len__(self) -> int:
        return len(self._entries)

    def _refuse(self, url: str, counter: str) -> None:
        if url not in self._refused:
            self._refused.add(url)
            self.counts[counter] += 1

    def add(self, found: Discovered) -> str | None:
        """Record one listing entry; the candidate URL, or None when it was filtered out."""
        try:
            url = canonical_url(found.url)
            scheme = urlsplit(url).scheme
        except ValueError:  # e.g. a broken IPv6 host: not a URL anyone can fetch
            self._refuse(found.url, "excluded")
            return None
        if scheme not in ("http", "https"):
            self._refuse(url, "excluded")
            return None
        if not self.source.owns(url):
            self._refuse(url, "offsite")
            return None
        if self._include and not any(p.search(url) for p in self._include):
            self._refuse(url, "excluded")
            return None
        if any(p.search(url) for p in self._exclude):
            self._refuse(url, "excluded")
            return None
        known = self._entries.get(url)
        if known is None:
            self._entries[url] = _Entry(found.hints, found.published, found.lastmod)
        else:
            known.hints = merge_hints(known.hints, found.hints)
            known.published = known.published or found.published
            known.lastmod = known.lastmod or found.lastmod
        return url

    def outside_window(
        self, published: datetime | None, lastmod: datetime | None, *, article: bool = True
    ) -> bool:
        """True when listing dates put an entry clearly outside [since, until].

        A publication date can exclude on both sides; a lastmod before `since`, and after
        `until` only beyond `lastmod_slack` (a page modified after the window may have been
        published inside it, but news pages are seldom edited long after publication: without
        the slack, a backfill of 2021 would fetch every page of every later year). The slack
        is for article entries only (`article`): a sitemap file listing old pages is modified
        whenever a new page is added to it.
        """
        low = datetime.combine(self.since, datetime.min.time(), UTC) if self.since else None
        high = (
            datetime.combine(self.until, datetime.min.time(), UTC) + timedelta(days=1)
            if self.until
            else None
        )
        if low is not None:
            low -= WINDOW_MARGIN
            if (published and published < low) or (lastmod and lastmod < low):
                return True
        if high is not None:
            high += WINDOW_MARGIN
            if published and published >= high:
                return True
            slack = self.lastmod_slack if article else None
            if published is None and lastmod and slack is not None and lastmod >= high + slack:
                return True
        return False

    def in_chunk(self, published: datetime | None, lastmod: datetime | None) -> bool:
        """True when this chunk of the window owns the entry, so one URL is one chunk's job.

        The owner is the window day of the entry's listing date, clamped into the window:
        the UTC day of its publication date, else of its lastmod (modified after the window:
        the last day; it may have been published on any day), else the first day.
        """
        if self.chunk is None or self.since is None or self.until is None:
            return True
        first, last = self.since, self.until
        hint = published or lastmod
        day = hint.astimezone(UTC).date() if hint else first
        owner = min(max(day, first), last)
        return self.chunk[0] <= owner <= self.chunk[1]

    def select(self) -> list[Candidate]:
        """Candidates to fetch, in discovery order; sets the discovered and skip counts."""
        chosen: list[Candidate] = []
        skipped = outside = changed = 0
        for url, entry in self._entries.items():
            key = article_id(url)
            if key in self.skip:
                landed_at = self.skip[key]
                if landed_at is None or entry.lastmod is None or entry.lastmod <= landed_at:
                    skipped += 1
                    continue
                changed += 1
            if self.outside_window(entry.published, entry.lastmod) or not self.in_chunk(
                entry.published, entry.lastmod
            ):
                outside += 1
            else:
                chosen.append(Candidate(url, entry.hints))
        self.counts["discovered"] = len(self._entries)
        self.counts["skipped_landed"] = skipped
        self.counts["out_of_window_hint"] = outside
        self.counts["refetched_changed"] = changed
        self.counts = +self.counts  # drop the zeros
        return chosen


def read_skip_file(path: str | None) -> dict[str, datetime | None]:
    """The skip list: article id -> when its landed version was fetched (None if not given).

    One id per line, optionally followed by a tab and an ISO 8601 time; blank lines and
    # comments are ignored. A line with an unreadable time keeps the id with no time.
    """
    skip: dict[str, datetime | None] = {}
    if not path:
        return skip
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, when = line.partition("\t")
            fetched = parse_hint_date(when) if when else None
            previous = skip.get(key.strip())
            # The same id listed twice (landed and rejected) is skipped by its latest fetch.
            if key.strip() in skip and (previous is None or fetched is None):
                skip[key.strip()] = None
            else:
                skip[key.strip()] = max(filter(None, [previous, fetched]), default=None)
    return skip
