"""The news spider: one catalogue source, its feeds and sitemaps, every article page once.

Two phases. Discovery fetches the source's feeds and sitemaps (following sitemap indexes,
bounded) and collects candidates; when it is over (the engine goes idle) the candidates are
filtered once, with feed and sitemap hints merged, and the article pages are requested.
Every article request ends as exactly one of: an article row, a reject row, a duplicate, or
out of the date window; counters in the crawl's stats say how many of each.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from schemas import REJECT_REASONS, normalize_reject
from schemas.spool import RAW_FILE
from spiders.canonical import canonical_url, strip_tracking
from spiders.capture import WarcCapture
from spiders.catalogue import Source
from spiders.discovery import (
    Candidate,
    Candidates,
    Discovered,
    parse_feed,
    parse_sitemap,
    read_skip_file,
    sitemap_urls_from_robots,
)
from spiders.extraction.api import NotAnArticle, PageHints
from spiders.items import ArticleItem, RejectItem
from spiders.middlewares import RETRY_AFTER_REFUSED, OffsiteRequest
from spiders.pipelines import PREFIX
from spiders.rows import build_row

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# request.meta keys
KIND = "newslake_kind"  # feed | sitemap | robots | article
DEPTH = "newslake_depth"  # sitemap index depth
HINTS = "newslake_hints"  # PageHints of an article candidate
CANDIDATE = "newslake_candidate"  # the candidate URL as requested, before any redirect

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_PROBLEMS = 50  # problems kept in stats.json (and so in the run manifest)


def _as_date(value: str | date | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None


def describe_failure(failure: Failure) -> tuple[str, str, int | None]:
    """(reject reason, detail, http status) for a request that produced no usable response."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        detail = f"HTTP {response.status}"
        retries = response.meta.get("retry_times")
        if retries:
            detail += f" after {retries} retr{'y' if retries == 1 else 'ies'}"
        asked = response.meta.get(RETRY_AFTER_REFUSED)
        if asked is not None:
            detail += (
                f"; the server asked to retry after {asked:.0f} s, more than"
                " NEWSLAKE_RETRY_AFTER_MAX allows: given up"
            )
        return "http_error", detail, response.status
    if isinstance(exc, OffsiteRequest):
        return "offsite", str(exc), None
    message = str(exc)
    if isinstance(exc, DownloadCancelledError) or "DOWNLOAD_MAXSIZE" in message:
        # Scrapy cancels a download at DOWNLOAD_MAXSIZE (announced or received).
        return "too_large", message or "the response exceeded DOWNLOAD_MAXSIZE", None
    # RobotsTxtMiddleware raises a plain IgnoreRequest with this message.
    if isinstance(exc, IgnoreRequest) and "robots.txt" in message:
        return "robots_disallowed", "forbidden by robots.txt", None
    return "fetch_error", f"{type(exc).__name__}: {message}".rstrip(": "), None


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self,
        source_json: str | Source,
        run_id: str,
        out_dir: str | Path,
        skip_file: str | Path | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source = (
            source_json
            if isinstance(source_json, Source)
            else Source.model_validate_json(source_json)
        )
        if not run_id:
            raise ValueError("run_id: required")
        self.run_id = run_id
        self.out_dir = Path(out_dir)
        self.since = _as_date(since, "since")
        self.until = _as_date(until, "until")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        self.allowed_domains = list(self.source.domains)
        self.candidates = Candidates(
            self.source,
            skip=read_skip_file(str(skip_file) if skip_file else None),
            since=self.since,
            until=self.until,
        )
        self.capture = WarcCapture(self.out_dir / RAW_FILE)
        self._discovery_seen: set[str] = set()
        self._sitemap_requests = 0
        self._sitemap_limit_reported = False
        self._articles_scheduled = False
        self._yielded: set[str] = set()  # canonical URLs of articles yielded in this run

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    # --- bookkeeping -----------------------------------------------------------------

    def _inc(self, name: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(PREFIX + name, count)

    def _problem(self, text: str) -> None:
        logger.warning(text)
        problems: list[str] = self.crawler.stats.get_value(PREFIX + "problems") or []
        if len(problems) >= MAX_PROBLEMS:  # the log has them all; the stats keep a sample
            self._inc("problems_omitted")
            return
        problems.append(text)
        self.crawler.stats.set_value(PREFIX + "problems", problems)

    def _add_candidates(self, entries: list[Discovered], kind: str, url: str) -> None:
        """Feed listing entries to the candidate set, up to NEWSLAKE_MAX_CANDIDATES."""
        room = self.settings.getint("NEWSLAKE_MAX_CANDIDATES") - len(self.candidates)
        if len(entries) > room:
            self._inc("candidates_capped", len(entries) - max(room, 0))
            self._problem(
                f"{kind} {url}: NEWSLAKE_MAX_CANDIDATES reached, {len(entries) - max(room, 0)}"
                " entries not considered"
            )
            entries = entries[: max(room, 0)]
        for entry in entries:
            self.candidates.add(entry)

    def _reject(
        self,
        url: str,
        reason: str,
        detail: str | None,
        http_status: int | None,
        hints: PageHints | None,
    ) -> RejectItem:
        if reason not in REJECT_REASONS:
            detail = f"unknown reject reason {reason!r}: {detail}"
            reason = "extract_error"
        logger.info("Rejected %s (%s): %s", url, reason, detail)
        return RejectItem(
            normalize_reject(
                {
                    "url": url,
                    "source_id": self.source.id,
                    "reason": reason,
                    "detail": detail,
                    "http_status": http_status,
                    "rejected_at": datetime.now(UTC),
                    "crawl_run_id": self.run_id,
                    "discovered_via": hints.discovered_via if hints else None,
                }
            )
        )

    # --- discovery -------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.source.status != "active":
            raise CloseSpider(f"skipped: {self.source.status}")
        endpoints = [("feed", e) for e in self.source.feeds]
        endpoints += [("sitemap", e) for e in self.source.sitemaps]
        for kind, endpoint in endpoints:
            if endpoint.confidence == "dead":
                self._problem(f"{kind} {endpoint.url}: marked dead in the catalogue, not fetched")
                continue
            request = self._discovery_request(endpoint.url, kind)
            if request is not None:
                yield request
        if self.settings.getbool("NEWSLAKE_SITEMAPS_FROM_ROBOTS"):
            robots = canonical_url("/robots.txt", base=self.source.homepage)
            request = self._discovery_request(robots, "robots")
            if request is not None:
                yield request
        if not endpoints:
            self._problem(f"source {self.source.id}: no feeds or sitemaps in the catalogue")

    def _discovery_request(self, url: str, kind: str, depth: int = 0) -> Request | None:
        try:
            key = canonical_url(url)
        except ValueError as exc:
            self._problem(f"{kind} {url}: not a usable URL: {exc}")
            return None
        if key in self._discovery_seen:
            return None
        if kind == "sitemap":
            limit = self.settings.getint("NEWSLAKE_SITEMAP_MAX_FILES")
            if limit and self._sitemap_requests >= limit:
                if not self._sitemap_limit_reported:
                    self._sitemap_limit_reported = True
                    self._problem(f"sitemap {url}: not fetched, NEWSLAKE_SITEMAP_MAX_FILES={limit}")
                return None
            self._sitemap_requests += 1
        self._discovery_seen.add(key)
        callbacks = {
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
            "robots": self.parse_robots,
        }
        return Request(
            url,
            callback=callbacks[kind],
            errback=self.discovery_failed,
            meta={KIND: kind, DEPTH: depth},
            priority=10,
        )

    def parse_feed(self, response: Response) -> None:
        self._inc("feeds_fetched")
        result = parse_feed(response.body, response.url, _header(response, "Content-Type"))
        if result.problem:
            self._inc("feed_errors")
            self._inc(result.problem)
            self._problem(f"feed {response.url}: {result.problem}: {result.detail}")
            return
        self._add_candidates(result.entries, "feed", response.url)
        self._inc("feed_entries", len(result.entries))

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        self._inc("sitemaps_fetched")
        max_size = response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
        result = parse_sitemap(response.body, response.url, max_size=max_size)
        if result.problem:
            self._inc("sitemap_errors")
            self._inc(result.problem)
            self._problem(f"sitemap {response.url}: {result.problem}: {result.detail}")
        self._add_candidates(result.entries, "sitemap", response.url)
        self._inc("sitemap_entries", len(result.entries))
        depth = response.meta.get(DEPTH, 0) + 1
        max_depth = self.settings.getint("NEWSLAKE_SITEMAP_MAX_DEPTH")
        for url, lastmod in result.children:
            if depth > max_depth:
                self._problem(f"sitemap {url}: not fetched, deeper than {max_depth} indexes")
                continue
            if self.candidates.outside_window(None, lastmod):
                self._inc("sitemaps_out_of_window")
                continue
            request = self._discovery_request(url, "sitemap", depth)
            if request is not None:
                yield request

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            request = self._discovery_request(url, "sitemap")
            if request is not None:
                yield request

    def discovery_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get(KIND, "discovery")
        reason, detail, _ = describe_failure(failure)
        if kind in ("feed", "sitemap"):
            self._inc(f"{kind}_errors")
        self._problem(f"{kind} {request.url}: {reason}: {detail}")

    # --- articles --------------------------------------------------------------------

    def on_idle(self, spider: Spider) -> None:
        """Discovery is over: request the candidates, once."""
        if self._articles_scheduled:
            return
        self._articles_scheduled = True
        chosen = self.candidates.select()
        for name, count in self.candidates.counts.items():
            self._inc(name, count)
        cap = self.settings.getint("NEWSLAKE_MAX_ARTICLES")
        if cap and len(chosen) > cap:
            self._inc("capped", len(chosen) - cap)
            chosen = chosen[:cap]
        logger.info(
            "Discovery found %d candidates for %s; requesting %d",
            len(self.candidates),
            self.source.id,
            len(chosen),
        )
        assert self.crawler.engine is not None
        for index, candidate in enumerate(chosen):
            self.crawler.engine.crawl(self._article_request(candidate, priority=-index))
        if chosen:
            raise DontCloseSpider

    def _article_request(self, candidate: Candidate, priority: int) -> Request:
        # Decreasing priorities fetch in discovery order (feeds list the newest first).
        return Request(
            candidate.url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={KIND: "article", HINTS: candidate.hints, CANDIDATE: candidate.url},
            priority=priority,
        )

    def parse_article(self, response: Response) -> Iterator[ArticleItem | RejectItem]:
        hints: PageHints | None = response.meta.get(HINTS)
        candidate: str = response.meta.get(CANDIDATE, response.url)
        fetched_at = datetime.now(UTC)
        self._inc("fetched")
        # Captured before extraction, so a page that breaks the extractor is still kept.
        raw_ref = self.capture.write(response, fetched_at)
        self.crawler.stats.set_value(PREFIX + "warc_records", self.capture.records)

        content_type = _header(response, "Content-Type")
        mime = (content_type or "").split(";")[0].strip().lower()
        if (mime and mime not in HTML_TYPES) or (
            not mime and not isinstance(response, HtmlResponse)
        ):
            detail = f"Content-Type {content_type or 'missing'}"
            yield self._reject(candidate, "not_html", detail, response.status, hints)
            return
        headers = {"Content-Type": content_type or "text/html"}
        language = _header(response, "Content-Language")
        if language:
            headers["Content-Language"] = language
        try:
            row = build_row(
                response.body,
                strip_tracking(response.url),
                source=self.source,
                run_id=self.run_id,
                fetched_at=fetched_at,
                headers=headers,
                hints=hints,
                http_status=response.status,
                raw_ref=raw_ref,
                discovered_url=candidate,
            )
        except NotAnArticle as exc:
            yield self._reject(candidate, exc.reason, exc.detail, response.status, hints)
            return
        except Exception as exc:
            logger.exception("Extraction failed on %s", response.url)
            detail = f"{type(exc).__name__}: {exc}"
            yield self._reject(candidate, "extract_error", detail, response.status, hints)
            return

        if not self._in_window(row.get("published_at")):
            self._inc("out_of_window")
            logger.info(
                "Out of the date window: %s (published %s)", response.url, row["published_at"]
            )
            return
        key = row["canonical_url"]
        if key in self._yielded:
            self._inc("duplicates")
            logger.info("Duplicate of an article already yielded in this run: %s", response.url)
            return
        self._yielded.add(key)
        yield ArticleItem(row)

    def _in_window(self, published: datetime | None) -> bool:
        """Inside [since, until] by the publication date in the source's time zone.

        An undated article cannot be placed and is kept: dropping it would lose it silently.
        """
        if published is None or (self.since is None and self.until is None):
            return True
        day = published.astimezone(self.source.zone).date()
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def article_failed(self, failure: Failure) -> Iterator[RejectItem]:
        request = failure.request  # type: ignore[attr-defined]
        hints = request.meta.get(HINTS)
        candidate = request.meta.get(CANDIDATE, request.url)
        reason, detail, status = describe_failure(failure)
        if status is not None:
            self._inc("fetched")
        if reason in ("offsite", "robots_disallowed"):
            self._inc(reason)
        yield self._reject(candidate, reason, detail, status, hints)

    def on_request_dropped(self, request: Request, spider: Spider) -> None:
        # The dupefilter drops a request for a URL already requested (two candidates
        # redirecting to one page): that is one article, counted as a duplicate.
        if request.meta.get(KIND) == "article":
            self._inc("duplicates")
            logger.info("Duplicate request dropped: %s", request.url)

    def on_closed(self, spider: Spider, reason: str) -> None:
        self.capture.close()
