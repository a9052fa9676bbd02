"""`newslake sources check`: probe every feed and sitemap of the catalogue, once, politely.

For each endpoint: the robots.txt verdict for our User-Agent (a disallowed endpoint is not
fetched), HTTP status, Content-Type, how many items it lists and the newest item's date.
Parsing is the crawler's own (spiders.discovery), so a feed the probe trusts is one the
crawler will read.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from threading import Lock
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

from protego import Protego

from spiders.catalogue import Source
from spiders.discovery import parse_feed, parse_sitemap
from spiders.netsafe import guarded_opener
from spiders.settings import DOWNLOAD_MAXSIZE, user_agent

TIMEOUT = 20.0


@dataclass
class EndpointCheck:
    source_id: str
    kind: str  # feed | sitemap
    url: str
    robots: str = "unknown"  # allowed | disallowed | unknown (robots.txt unreachable)
    status: int | None = None
    content_type: str | None = None
    items: int | None = None
    newest: str | None = None  # ISO 8601 UTC of the newest item, when the listing dates them
    ok: bool = False
    problem: str | None = None
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Fetched:
    status: int | None
    content_type: str | None
    body: bytes
    error: str | None = None


def _fetch(url: str, agent: str, timeout: float, allow_private: bool = False) -> _Fetched:
    request = urllib.request.Request(
        url, headers={"User-Agent": agent, "Accept-Encoding": "identity"}
    )
    try:
        # Loopback and private addresses only for sources that allow them (spiders/netsafe.py).
        opener = guarded_opener(allow_private)
        with opener.open(request, timeout=timeout) as response:
            body = response.read(DOWNLOAD_MAXSIZE + 1)
            if len(body) > DOWNLOAD_MAXSIZE:
                return _Fetched(response.status, None, b"", f"larger than {DOWNLOAD_MAXSIZE} bytes")
            return _Fetched(response.status, response.headers.get("Content-Type"), body)
    except urllib.error.HTTPError as exc:
        return _Fetched(exc.code, exc.headers.get("Content-Type"), b"", f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return _Fetched(None, None, b"", f"fetch failed: {reason}")


class _Robots:
    """robots.txt per host, fetched once (Protego, the parser Scrapy itself uses)."""

    def __init__(self, agent: str, timeout: float) -> None:
        self.agent = agent
        self.timeout = timeout
        self._cache: dict[str, Protego | None] = {}
        self._lock = Lock()

    def verdict(self, url: str, allow_private: bool = False) -> str:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            if origin not in self._cache:
                fetched = _fetch(origin + "/robots.txt", self.agent, self.timeout, allow_private)
                if fetched.status is not None and 400 <= fetched.status < 500:
                    self._cache[origin] = Protego.parse("")  # no robots.txt: all allowed
                elif fetched.status == 200:
                    self._cache[origin] = Protego.parse(fetched.body.decode("utf-8", "replace"))
                else:
                    self._cache[origin] = None
            parser = self._cache[origin]
        if parser is None:
            return "unknown"
        return "allowed" if parser.can_fetch(url, self.agent) else "disallowed"


def _newest(dates: list[datetime | None]) -> str | None:
    known = [d for d in dates if d is not None]
    return max(known).isoformat().replace("+00:00", "Z") if known else None


def check_endpoint(
    source: Source, kind: str, url: str, robots: _Robots, timeout: float
) -> EndpointCheck:
    check = EndpointCheck(source.id, kind, url)
    started = monotonic()
    check.robots = robots.verdict(url, source.allow_private_network)
    if check.robots == "disallowed":
        check.problem = "robots.txt disallows this URL for our User-Agent"
        return check
    fetched = _fetch(url, robots.agent, timeout, source.allow_private_network)
    check.status, check.content_type = fetched.status, fetched.content_type
    check.seconds = round(monotonic() - started, 3)
    if fetched.error:
        check.problem = fetched.error
        return check
    if kind == "feed":
        feed = parse_feed(fetched.body, url, fetched.content_type)
        check.items = len(feed.entries)
        check.newest = _newest([e.published for e in feed.entries])
        check.problem = f"{feed.problem}: {feed.detail}" if feed.problem else None
    else:
        sitemap = parse_sitemap(fetched.body, url, max_size=DOWNLOAD_MAXSIZE)
        if sitemap.kind == "sitemapindex":
            check.items = len(sitemap.children)
            check.newest = _newest([lastmod for _, lastmod in sitemap.children])
        else:
            check.items = len(sitemap.entries)
            check.newest = _newest([e.published or e.lastmod for e in sitemap.entries])
        check.problem = f"{sitemap.problem}: {sitemap.detail}" if sitemap.problem else None
        if sitemap.kind is not None and not check.items and not check.problem:
            check.problem = "sitemap_empty: no URLs listed"
    check.ok = check.problem is None
    return check


def check_sources(
    sources: list[Source], *, timeout: float = TIMEOUT, workers: int = 8
) -> list[EndpointCheck]:
    """Probe every feed and sitemap of `sources`; results in catalogue order."""
    robots = _Robots(user_agent(), timeout)
    jobs = [
        (source, kind, endpoint.url)
        for source in sources
        for kind, endpoints in (("feed", source.feeds), ("sitemap", source.sitemaps))
        for endpoint in endpoints
    ]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs) or 1))) as pool:
        return list(
            pool.map(lambda job: check_endpoint(job[0], job[1], job[2], robots, timeout), jobs)
        )
