"""Downloader middlewares: wait as long as the server asks before retrying; stay on-site.

`RetryAfterMiddleware` replaces Scrapy's RetryMiddleware (same settings). On 429 and 503 it
honours Retry-After (seconds or an HTTP date) by sleeping in a coroutine before handing the
retry back: the reactor and the other requests keep going. A wait longer than
NEWSLAKE_RETRY_AFTER_MAX is not worth holding the crawl for: the request is given up and the
spider rejects it as an http_error that says so. Without Retry-After, 429/503 retries back off
exponentially from NEWSLAKE_RETRY_BACKOFF seconds.

`RedirectLoopMiddleware` ends a redirect that leads back to a URL of its own chain (A -> B -> A,
or A -> A) as a `RedirectLoop` naming the chain; without it the repeated URL is dropped by
the duplicate filter and the page vanishes without a reject.

`CrawlDelayMiddleware` honours robots.txt's Crawl-delay: once a host's robots.txt asks for one,
that host's download slot sends one request at a time, at least that many seconds apart
(AutoThrottle may slow it further, never speed it up).

`SourceOffsiteMiddleware` replaces Scrapy's OffsiteMiddleware (allowed_domains = the source's
hosts) so that a redirect off the source's hosts reaches the request's errback as an
`OffsiteRequest` instead of being dropped silently at scheduling time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from scrapy import signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from w3lib.url import safe_url_string

if TYPE_CHECKING:
    from typing import Any, Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# request.meta key set when a Retry-After wait was refused (value: the seconds asked for).
RETRY_AFTER_REFUSED = "newslake_retry_after_refused"


class OffsiteRequest(IgnoreRequest):
    """The request (usually a redirect) points outside the source's hosts."""


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("NEWSLAKE_RETRY_AFTER_MAX", 120.0)
        self.backoff = settings.getfloat("NEWSLAKE_RETRY_BACKOFF", 2.0)
        self.honoured_codes = {int(c) for c in settings.getlist("NEWSLAKE_RETRY_AFTER_CODES")}

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = 0.0
        if response.status in self.honoured_codes:
            asked = parse_retry_after(response.headers.get(b"Retry-After"))
            if asked is not None and asked > self.max_wait:
                self.crawler.stats.inc_value("newslake/retry_after_refused")
                logger.warning(
                    "Giving up %(request)s: the server asked to retry after %(asked).0f s, "
                    "more than NEWSLAKE_RETRY_AFTER_MAX (%(max).0f s)",
                    {"request": request, "asked": asked, "max": self.max_wait},
                )
                request.meta[RETRY_AFTER_REFUSED] = asked
                return response
            if asked is not None:
                wait = asked
            else:
                wait = min(self.backoff * 2 ** request.meta.get("retry_times", 0), self.max_wait)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if wait > 0:
            self.crawler.stats.inc_value("newslake/retry_waits")
            waited = self.crawler.stats.get_value("newslake/retry_wait_seconds", 0.0)
            self.crawler.stats.set_value("newslake/retry_wait_seconds", waited + wait)
            logger.info(
                "Waiting %(wait).1f s before retrying %(request)s (HTTP %(status)d)",
                {"wait": wait, "request": request, "status": response.status},
            )
            await sleep(wait)
        return retry


class SourceOffsiteMiddleware(OffsiteMiddleware):
    """Offsite filtering that reports to errbacks and ignores dont_filter.

    Scrapy's version lets dont_filter requests through, and every retry sets dont_filter, so a
    retried page redirecting elsewhere would leave the site; `allow_offsite` meta still opts out.
    """

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        # Checked again in process_request, where raising reaches the request's errback.
        if request.errback is None:
            super().request_scheduled(request, spider)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.meta.get("allow_offsite"):
            return
        assert self.crawler.spider is not None
        if self.should_follow(request, self.crawler.spider):
            return
        host = urlparse_cached(request).hostname
        self.stats.inc_value("offsite/filtered")
        origin = (request.meta.get("redirect_urls") or [request.url])[0]
        via = f" (redirected from {origin})" if origin != request.url else ""
        raise OffsiteRequest(f"{request.url}: host {host!r} is not one of the source's{via}")


class RedirectLoop(IgnoreRequest):
    """A redirect points back to a URL already in its own redirect chain."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RedirectLoopMiddleware:
    """Refuses a redirect back into its own chain; runs before Scrapy's RedirectMiddleware."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400 and location):
            return response
        target = safe_url_string(urljoin(request.url, location.decode("latin-1").strip()))
        chain = [*(request.meta.get("redirect_urls") or []), request.url]
        if target in chain:
            shown = " -> ".join([*chain, target])
            raise RedirectLoop(f"redirect loop: {shown}", response.status)
        return response


class CrawlDelayMiddleware:
    """Applies a host's robots.txt Crawl-delay to its download slot (after RobotsTxtMiddleware)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.user_agent = str(settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT"))
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        host = urlparse_cached(request).hostname or ""
        if delay and delay > 0:
            self.delays[host] = float(delay)
            assert self.crawler.stats is not None
            self.crawler.stats.set_value("newslake/crawl_delay", float(delay))
            logger.info("robots.txt of %s asks for a Crawl-delay of %s s: honoured", host, delay)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        if not delay:
            return
        request.meta["autothrottle_dont_adjust_delay"] = True
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            wanted: dict[str, Any] = {"delay": delay, "concurrency": 1, "jitter": 0}
            downloader.per_slot_settings.setdefault(key, {}).update(wanted)
            return
        slot.delay = max(slot.delay, delay)
        slot.jitter = 0  # a random jitter would bring some requests below the delay
        slot.concurrency = 1
