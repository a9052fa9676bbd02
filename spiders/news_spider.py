"""The news spider: one catalogue source, its feeds and sitemaps, every article page once.

Two phases. Discovery fetches the source's feeds and sitemaps (following sitemap indexes,
bounded) and collects candidates; when it is over (the engine goes idle) the candidates are
filtered once, with feed and sitemap hints merged, and the article pages are requested.
Every article request ends as exactly one of: an article row, a reject row (an article
published outside a backfill's window is an `outside_window` reject), or a duplicate;
counters in the crawl's stats say how many of each.

Scheduled crawls (no date window) are incremental: feeds and sitemaps are requested with the
validators (ETag, Last-Modified) their last complete crawl got, so an unchanged endpoint
answers 304 and yields nothing; the validators this crawl got are written to the spool for
the flow to keep once the landing has committed. Backfills (a window) also read the WordPress
REST API and the dated archive pages of the catalogue entry for the days of their chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import (
    CloseSpider,
    DontCloseSpider,
    DownloadCancelledError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from schemas import REJECT_REASONS, normalize_reject
from schemas.spool import RAW_FILE, VALIDATORS_SEEN_FILE
from spiders import archives, wordpress
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
from spiders.extract_pool import ExtractionPool, Outcome, PageJob, default_workers, extract_page
from spiders.extraction.api import PageHints
from spiders.items import ArticleItem, RejectItem
from spiders.middlewares import RETRY_AFTER_REFUSED, OffsiteRequest, RedirectLoop
from spiders.netsafe import PrivateAddressRequest
from spiders.pipelines import PREFIX, write_json_atomic

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# request.meta keys
KIND = "newslake_kind"  # feed | sitemap | robots | article
DEPTH = "newslake_depth"  # sitemap index depth
HINTS = "newslake_hints"  # PageHints of an article candidate
CANDIDATE = "newslake_candidate"  # the candidate URL as requested, before any redirect
ENDPOINT = "newslake_endpoint"  # a feed's or sitemap's URL as the catalogue or index gave it
LISTING = "newslake_listing"  # wordpress | archive: {"page", "day", ...} of a backfill listing

# Reject reasons that say nothing lasting about a page: a crawl that had any of them is not
# complete, and its validators are not kept (a 304 next time would hide those pages).
TRANSIENT_REJECTS = ("http_error", "fetch_error")

MAX_PROBLEMS = 50  # problems kept in stats.json (and so in the run manifest)
# Article requests scheduled at a time; the next batch goes in when half of one is left, so
# the downloader never runs dry and memory does not grow with the listing.
ARTICLE_BATCH = 256


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
    if isinstance(exc, RedirectLoop):
        return "http_error", str(exc), exc.status
    if isinstance(exc, ResponseDataLossError):
        return (
            "fetch_error",
            "ResponseDataLossError: the connection ended before the announced Content-Length"
            " (or the end of the chunked body) arrived",
            None,
        )
    if isinstance(exc, OffsiteRequest):
        return "offsite", str(exc), None
    if isinstance(exc, PrivateAddressRequest):
        # Not sticky like offsite: a source that later sets allow_private_network gets it.
        return "private_address", str(exc), None
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
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012 - Scrapy reads it from the class
        # One item per response: Scrapy's default (100) starts 100 asyncio tasks per response.
        "CONCURRENT_ITEMS": 1,
        # Scrapy's queue, without its O(n) scan per pop over the articles' priorities.
        "SCHEDULER_PRIORITY_QUEUE": "spiders.scheduling.NewsPriorityQueue",
    }

    def __init__(
        self,
        source_json: str | Source,
        run_id: str,
        out_dir: str | Path,
        skip_file: str | Path | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        window_since: str | date | None = None,
        window_until: str | date | None = None,
        validators_file: str | Path | None = None,
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
        # since/until steer discovery (a backfill chunk's days); the window is the truth an
        # article's publication date is held to (the whole backfill), by default the same.
        self.window_since = _as_date(window_since, "window_since") or self.since
        self.window_until = _as_date(window_until, "window_until") or self.until
        self.backfill = self.since is not None or self.until is not None
        self.validators: dict[str, dict[str, Any]] = {}
        if validators_file and not self.backfill:
            self.validators = json.loads(Path(validators_file).read_text("utf-8"))
        self._validators_seen: dict[str, dict[str, Any]] = {}
        self._listing_links: dict[tuple[str, date], set[str]] = {}
        self.allowed_domains = list(self.source.domains)
        self.candidates = Candidates(
            self.source,
            skip=read_skip_file(str(skip_file) if skip_file else None),
            since=self.window_since,
            until=self.window_until,
            chunk=(self.since, self.until) if self.since and self.until else None,
        )
        self.capture = WarcCapture(self.out_dir / RAW_FILE)
        self._discovery_seen: set[str] = set()
        self._sitemap_requests = 0
        self._sitemap_limit_reported = False
        self._articles_scheduled = False
        self._chosen: list[Candidate] = []
        self._next_article = 0  # index in _chosen of the next article to request
        self._outstanding = 0  # article requests scheduled and not yet answered
        self._yielded: set[str] = set()  # canonical URLs of articles yielded in this run
        self._pool: ExtractionPool | None = None
        # Outcomes are handled in the order the responses arrived, whichever extraction ends
        # first: the same article wins a duplicate as when pages are extracted one by one.
        self._turn: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.backfill:
            slack = crawler.settings.getfloat("NEWSLAKE_BACKFILL_LASTMOD_SLACK_DAYS")
            spider.candidates.lastmod_slack = timedelta(days=slack)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
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

    def on_opened(self, spider: Spider) -> None:
        """Start the extraction workers now, before any connection exists to be inherited."""
        setting = self.settings.get("NEWSLAKE_EXTRACT_WORKERS")
        workers = default_workers() if setting in (None, "") else int(setting)
        if workers < 0:
            raise ValueError(f"NEWSLAKE_EXTRACT_WORKERS must be 0 or more, not {workers}")
        if workers > 1 and self.source.status == "active":
            timeout = self.settings.getfloat("NEWSLAKE_EXTRACT_TIMEOUT", 180.0)
            self._pool = ExtractionPool(self.source, self.run_id, workers, timeout)
            logger.info("Extracting in %d worker processes %s", workers, self._pool.pids())
        self.crawler.stats.set_value(PREFIX + "extract_workers", workers if self._pool else 0)

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
        listings = 0
        if self.backfill:
            for request in self._backfill_requests():
                listings += 1
                yield request
        if not endpoints and not listings:
            self._problem(f"source {self.source.id}: no feeds or sitemaps in the catalogue")

    # --- backfill listings: WordPress REST API, dated archives --------------------------

    def _days(self) -> list[date]:
        first = self.since or self.until
        last = self.until or self.since
        assert first is not None and last is not None
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def _backfill_requests(self) -> Iterator[Request]:
        declared = self.source.wordpress_api
        if declared is not None and declared.confidence != "dead":
            yield self._wp_request(str(declared.url), 1, declared=True)
        elif self.settings.getbool("NEWSLAKE_WP_PROBE"):
            yield self._wp_request(wordpress.conventional_api(self.source.homepage), 1, False)
        for index, archive in enumerate(self.source.archives):
            if archive.confidence == "dead":
                self._problem(f"archive {archive.url}: marked dead in the catalogue, not fetched")
                continue
            for day in self._days():
                yield self._archive_request(index, day, 1)

    def _wp_request(self, api: str, page: int, declared: bool) -> Request:
        days = self._days()
        url = wordpress.posts_query(api, days[0], page, last_day=days[-1])
        return Request(
            url,
            callback=self.parse_wp_api,
            errback=self.listing_failed,
            meta={
                KIND: "wordpress",
                LISTING: {"api": api, "page": page, "declared": declared},
                "handle_httpstatus_list": [] if declared else [401, 403, 404, 410],
            },
            priority=10,
            dont_filter=True,
        )

    def parse_wp_api(self, response: Response) -> Iterator[Request]:
        listing = response.meta[LISTING]
        if response.status != 200:  # only a probe lets these through
            self._inc("wp_api_unavailable")
            logger.info("No WordPress REST API at %s (HTTP %s)", response.url, response.status)
            return
        result = wordpress.parse_posts(
            response.body,
            response.url,
            content_type=_header(response, "Content-Type"),
            total_pages=_header(response, "X-WP-TotalPages"),
        )
        if result.problem:
            if listing["declared"]:
                self._problem(f"wordpress_api {response.url}: {result.problem}")
                self._inc("listing_errors")
            else:
                self._inc("wp_api_unavailable")
                logger.info("No WordPress REST API at %s: %s", response.url, result.problem)
            return
        self._inc("wp_api_pages")
        days = self._days()
        # date_gmt is exact: only the chunk's own UTC days become candidates.
        inside = [
            e
            for e in result.entries
            if e.published is None or days[0] <= e.published.date() <= days[-1]
        ]
        self._inc("wp_api_entries", len(inside))
        self._add_candidates(inside, "wordpress_api", response.url)
        if listing["page"] == 1:
            last = min(result.total_pages, self.settings.getint("NEWSLAKE_WP_MAX_PAGES"))
            if result.total_pages > last:
                self._problem(
                    f"wordpress_api {response.url}: {result.total_pages} pages, only {last} read"
                    " (NEWSLAKE_WP_MAX_PAGES)"
                )
            for page in range(2, last + 1):
                yield self._wp_request(listing["api"], page, listing["declared"])

    def _archive_request(self, index: int, day: date, page: int) -> Request:
        url = self.source.archives[index].page_url(day, page)
        return Request(
            url,
            callback=self.parse_archive,
            errback=self.listing_failed,
            meta={KIND: "archive", LISTING: {"index": index, "day": day, "page": page}},
            priority=10,
            dont_filter=True,
        )

    def parse_archive(self, response: Response) -> Iterator[Request]:
        listing = response.meta[LISTING]
        index, day, page = listing["index"], listing["day"], listing["page"]
        self._inc("archive_pages")
        found = archives.listing_links(response.body, response.url, day=day)
        seen = self._listing_links.setdefault((str(index), day), set())
        new = 0
        for entry in found:
            url = self.candidates.add(entry)
            if url is not None and url not in seen:
                seen.add(url)
                new += 1
        self._inc("archive_links", new)
        archive = self.source.archives[index]
        if new and archive.pagination:
            if page < archive.max_pages:
                yield self._archive_request(index, day, page + 1)
            else:
                # A listing that never runs dry (a pagination trap) ends here, said out loud.
                self._inc("archive_pages_capped")
                self._problem(
                    f"archive {response.url}: page {page} still adds links; max_pages"
                    f" ({archive.max_pages}) reached, no further page requested"
                )

    def listing_failed(self, failure: Failure) -> None:
        """A backfill listing that could not be read leaves its chunk unfinished (retried)."""
        request = failure.request  # type: ignore[attr-defined]
        kind = request.meta.get(KIND, "listing")
        listing = request.meta.get(LISTING, {})
        reason, detail, status = describe_failure(failure)
        if kind == "archive" and status == 404:
            # A day without an archive page, or the page after the last: the listing ends.
            if listing.get("page") == 1:
                self._inc("archive_missing")
                logger.info("No archive page at %s (HTTP 404)", request.url)
            return
        if kind == "wordpress" and not listing.get("declared"):
            self._inc("wp_api_unavailable")
            logger.info("No WordPress REST API at %s: %s", request.url, detail)
            return
        if kind == "wordpress" and status in (401, 403, 404, 410):
            # The catalogue is out of date (the API was closed): retrying will not help.
            self._inc("wp_api_unavailable")
            self._problem(f"wordpress_api {request.url}: declared, but {detail}")
            return
        self._inc("listing_errors")
        self._problem(f"{kind} {request.url}: {reason}: {detail}")

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
        meta: dict[str, Any] = {KIND: kind, DEPTH: depth, ENDPOINT: url}
        headers: dict[str, str] = {}
        known = self.validators.get(url) if kind in ("feed", "sitemap") else None
        if known:
            # Conditional GET: an endpoint unchanged since the last complete crawl answers 304.
            if known.get("etag"):
                headers["If-None-Match"] = known["etag"]
            if known.get("last_modified"):
                headers["If-Modified-Since"] = known["last_modified"]
            meta["handle_httpstatus_list"] = [304]
        return Request(
            url,
            callback=callbacks[kind],
            errback=self.discovery_failed,
            meta=meta,
            headers=headers or None,
            priority=10,
        )

    def _not_modified(self, response: Response) -> bool:
        """True for a 304: the endpoint is unchanged and yields no new candidate."""
        if response.status != 304:
            return False
        self._inc("not_modified")
        logger.info("Not modified since the last crawl: %s", response.url)
        url = response.meta.get(ENDPOINT, response.url)
        self._validators_seen[url] = dict(self.validators.get(url) or {})
        return True

    def _remember(self, response: Response, **extra: Any) -> None:
        """Keep the validators of a feed or sitemap for the next scheduled crawl."""
        etag, modified = _header(response, "ETag"), _header(response, "Last-Modified")
        if not (etag or modified):
            return
        url = response.meta.get(ENDPOINT, response.url)
        self._validators_seen[url] = {"etag": etag, "last_modified": modified, **extra}

    def parse_feed(self, response: Response) -> None:
        if self._not_modified(response):
            return
        self._inc("feeds_fetched")
        result = parse_feed(response.body, response.url, _header(response, "Content-Type"))
        if result.problem:
            self._inc("feed_errors")
            self._inc(result.problem)
            self._problem(f"feed {response.url}: {result.problem}: {result.detail}")
            return
        self._add_candidates(result.entries, "feed", response.url)
        self._inc("feed_entries", len(result.entries))
        self._remember(response)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        depth = response.meta.get(DEPTH, 0) + 1
        if self._not_modified(response):
            # An unchanged index may still point at changed sitemaps: ask each of them.
            url = response.meta.get(ENDPOINT, response.url)
            for child in (self.validators.get(url) or {}).get("children") or []:
                request = self._discovery_request(child, "sitemap", depth)
                if request is not None:
                    yield request
            return
        self._inc("sitemaps_fetched")
        max_size = response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE"))
        result = parse_sitemap(response.body, response.url, max_size=max_size)
        if result.problem:
            self._inc("sitemap_errors")
            self._inc(result.problem)
            self._problem(f"sitemap {response.url}: {result.problem}: {result.detail}")
        self._add_candidates(result.entries, "sitemap", response.url)
        self._inc("sitemap_entries", len(result.entries))
        if not result.problem:
            self._remember(response, children=[url for url, _ in result.children])
        max_depth = self.settings.getint("NEWSLAKE_SITEMAP_MAX_DEPTH")
        for url, lastmod in result.children:
            if self._seen_sitemap(url):
                self._inc("sitemap_loops")
                self._problem(
                    f"sitemap {response.url}: lists {url}, already read in this crawl"
                    " (a loop of sitemap indexes): not read again"
                )
                continue
            if depth > max_depth:
                self._problem(f"sitemap {url}: not fetched, deeper than {max_depth} indexes")
                continue
            if self.candidates.outside_window(None, lastmod, article=False):
                self._inc("sitemaps_out_of_window")
                continue
            request = self._discovery_request(url, "sitemap", depth)
            if request is not None:
                yield request

    def _seen_sitemap(self, url: str) -> bool:
        try:
            return canonical_url(url) in self._discovery_seen
        except ValueError:
            return False  # _discovery_request reports the unusable URL

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
        """Discovery is over: request the candidates, a batch at a time."""
        if not self._articles_scheduled:
            self._articles_scheduled = True
            self._chosen = self._choose()
        # Idle means nothing is in flight: whatever was counted outstanding has ended (a
        # request the dupefilter dropped never reaches a callback).
        self._outstanding = 0
        if self._top_up():
            raise DontCloseSpider

    def _choose(self) -> list[Candidate]:
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
        return chosen

    def _top_up(self) -> bool:
        """Schedule the next batch of article requests once fewer than half a batch wait.

        Requests (with their hints) are far bigger than the candidates they come from; scheduling
        20,000 of them at once made a crawl's memory grow with the listing.
        """
        if self._outstanding > ARTICLE_BATCH // 2 or self._next_article >= len(self._chosen):
            return False
        assert self.crawler.engine is not None
        end = min(self._next_article + ARTICLE_BATCH, len(self._chosen))
        for index in range(self._next_article, end):
            self.crawler.engine.crawl(self._article_request(self._chosen[index], priority=-index))
        self._outstanding += end - self._next_article
        self._next_article = end
        return True

    def _article_done(self) -> None:
        self._outstanding = max(0, self._outstanding - 1)
        self._top_up()

    def _article_request(self, candidate: Candidate, priority: int) -> Request:
        # Decreasing priorities fetch in discovery order (feeds list the newest first).
        return Request(
            candidate.url,
            callback=self.parse_article,
            errback=self.article_failed,
            meta={KIND: "article", HINTS: candidate.hints, CANDIDATE: candidate.url},
            priority=priority,
        )

    async def parse_article(self, response: Response) -> AsyncIterator[ArticleItem | RejectItem]:
        loop = asyncio.get_running_loop()
        previous, turn = self._turn, loop.create_future()
        self._turn = turn
        try:
            outcome = await self._extract(response)
            if previous is not None:
                await asyncio.shield(previous)
            item = self._item(response, outcome)
        finally:
            if not turn.done():
                turn.set_result(None)
            self._article_done()
        if item is not None:
            yield item

    async def _extract(self, response: Response) -> Outcome:
        hints: PageHints | None = response.meta.get(HINTS)
        candidate: str = response.meta.get(CANDIDATE, response.url)
        fetched_at = datetime.now(UTC)
        self._inc("fetched")
        # Captured before extraction, so a page that breaks the extractor is still kept.
        raw_ref = self.capture.write(response, fetched_at)
        self.crawler.stats.set_value(PREFIX + "warc_records", self.capture.records)

        content_type = _header(response, "Content-Type")
        mime = (content_type or "").split(";")[0].strip().lower()
        # A declared non-HTML type is refused by fetched_row; an undeclared one is trusted only
        # when Scrapy sniffed HTML in the body.
        if not mime and not isinstance(response, HtmlResponse):
            return ("reject", "not_html", "Content-Type missing")
        headers = {"Content-Type": content_type or "text/html"}
        language = _header(response, "Content-Language")
        if language:
            headers["Content-Language"] = language
        job = PageJob(
            body=response.body,
            url=strip_tracking(response.url),
            headers=headers,
            hints=hints,
            fetched_at=fetched_at,
            http_status=response.status,
            raw_ref=raw_ref,
            discovered_url=candidate,
        )
        if self._pool is None:
            return extract_page(self.source, self.run_id, job)
        outcome = await self._pool.extract(job)
        self.crawler.stats.set_value(PREFIX + "extract_worker_restarts", self._pool.restarts)
        return outcome

    def _item(self, response: Response, outcome: Outcome) -> ArticleItem | RejectItem | None:
        """The item of an extraction's outcome: a row, a reject, or None for a duplicate."""
        hints: PageHints | None = response.meta.get(HINTS)
        candidate: str = response.meta.get(CANDIDATE, response.url)
        if outcome[0] == "reject":
            return self._reject(candidate, outcome[1], outcome[2], response.status, hints)
        row: dict[str, Any] = outcome[1]
        outside = self._outside_window(row.get("published_at"))
        if outside:
            self._inc("out_of_window")
            return self._reject(candidate, "outside_window", outside, response.status, hints)
        key = row["canonical_url"]
        if key in self._yielded:
            self._inc("duplicates")
            logger.info("Duplicate of an article already yielded in this run: %s", response.url)
            return None
        self._yielded.add(key)
        return ArticleItem(row)

    def _outside_window(self, published: datetime | None) -> str | None:
        """Why an article is outside the backfill window, or None when it belongs in it.

        The truth is the extracted publication date, as a UTC day in [since, until]
        (inclusive); listing dates only steered discovery. An undated article cannot be
        placed, so a backfill does not land it (a scheduled crawl does).
        """
        low, high = self.window_since, self.window_until
        if low is None and high is None:
            return None
        window = f"{low or '…'}..{high or '…'}"
        if published is None:
            return f"no publication date found, so not placed in the window {window}"
        day = published.astimezone(UTC).date()
        if (low and day < low) or (high and day > high):
            stamp = published.astimezone(UTC).isoformat().replace("+00:00", "Z")
            return f"published {stamp}, outside the window {window} (UTC days)"
        return None

    def article_failed(self, failure: Failure) -> Iterator[RejectItem]:
        self._article_done()
        request = failure.request  # type: ignore[attr-defined]
        hints = request.meta.get(HINTS)
        candidate = request.meta.get(CANDIDATE, request.url)
        reason, detail, status = describe_failure(failure)
        if status is not None:
            self._inc("fetched")
        if reason in ("offsite", "private_address", "robots_disallowed"):
            self._inc(reason)
        code = status or 0
        if reason == "fetch_error" or (reason == "http_error" and (code == 429 or code >= 500)):
            # Worth another try later: a backfill day with such failures is not finished.
            self._inc("transient_failures")
        yield self._reject(candidate, reason, detail, status, hints)

    def on_request_dropped(self, request: Request, spider: Spider) -> None:
        # The dupefilter drops a request for a URL already requested (two candidates
        # redirecting to one page): that is one article, counted as a duplicate.
        if request.meta.get(KIND) == "article":
            self._inc("duplicates")
            logger.info("Duplicate request dropped: %s", request.url)

    def on_closed(self, spider: Spider, reason: str) -> None:
        self.capture.close()
        if self._pool is not None:
            self._pool.close()
        if self.backfill:
            return
        stats = self.crawler.stats
        transient = sum(
            int(stats.get_value(f"{PREFIX}rejected/{r}", 0) or 0) for r in TRANSIENT_REJECTS
        )
        capped = int(stats.get_value(PREFIX + "capped", 0) or 0) + int(
            stats.get_value(PREFIX + "candidates_capped", 0) or 0
        )
        if reason != "finished" or transient or capped:
            # Pages this crawl did not get must be listed again next time: no 304 for them.
            logger.info("Validators not kept: the crawl did not get every candidate")
            return
        write_json_atomic(self.out_dir / VALIDATORS_SEEN_FILE, self._validators_seen)
