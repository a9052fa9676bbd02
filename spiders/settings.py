"""Scrapy settings for polite, honest crawling. The runner overrides any of them per crawl.

The User-Agent names the project and how to reach whoever runs it: set NEWSLAKE_CONTACT (an
email or URL) and, if the deployment has one, NEWSLAKE_PROJECT_URL. No browser disguise: an
outlet that refuses this crawler is marked `blocked` in the catalogue instead.
"""

from __future__ import annotations

import os
import tomllib
from importlib import metadata
from pathlib import Path


def _version() -> str:
    try:
        return metadata.version("newslake")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0"


def _project_url() -> str | None:
    url = os.environ.get("NEWSLAKE_PROJECT_URL")
    if url:
        return url
    try:
        for entry in metadata.metadata("newslake").get_all("Project-URL") or []:
            return str(entry).split(",", 1)[-1].strip()
    except metadata.PackageNotFoundError:
        pass
    return None


def user_agent() -> str:
    contact = os.environ.get("NEWSLAKE_CONTACT") or "contact not configured: set NEWSLAKE_CONTACT"
    url = _project_url()
    about = f"+{url}; {contact}" if url else contact
    return f"newslake/{NEWSLAKE_VERSION} ({about})"


NEWSLAKE_VERSION = _version()

BOT_NAME = "newslake"
USER_AGENT = user_agent()
ROBOTSTXT_OBEY = True

# Politeness: AutoThrottle adapts the delay to the server's latency, never going below
# DOWNLOAD_DELAY; at most two requests in flight per host.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2

DOWNLOAD_TIMEOUT = 30  # also bounds DNS resolution and a server trickling its bytes
DNS_TIMEOUT = 20  # unused by NetSafeResolver below: DOWNLOAD_TIMEOUT bounds name resolution
# Network safety (spiders/netsafe.py): every address a connection would use is checked; a
# loopback, private, link-local or otherwise non-public one is refused unless the source sets
# allow_private_network (the runner copies the source's flag here). The resolver also reads
# IPv6 (AAAA) answers, which Scrapy's default IPv4-only resolver cannot.
TWISTED_DNS_RESOLVER = "spiders.netsafe.NetSafeResolver"
NEWSLAKE_ALLOW_PRIVATE_NETWORK = False
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a page larger than this is rejected as too_large
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
NEWSLAKE_RETRY_AFTER_CODES = [429, 503]
NEWSLAKE_RETRY_AFTER_MAX = 120.0  # seconds; a longer Retry-After gives the page up
NEWSLAKE_RETRY_BACKOFF = 2.0  # first wait on 429/503 without Retry-After, doubled per retry

COOKIES_ENABLED = False
# No listening sockets in a crawl process: no telnet console, and no remote-control server
# (Scrapy 2.19 starts one by default that runs posted Python code, with a job file in $HOME).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Opt-in: with HTTPCACHE_ENABLED the RFC 2616 policy revalidates (conditional GET).
HTTPCACHE_ENABLED = False
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_DIR = "httpcache"

LOG_LEVEL = "INFO"
FEEDS: dict[str, dict[str, object]] = {}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.middlewares.SourceOffsiteMiddleware": 50,
    "spiders.middlewares.CrawlDelayMiddleware": 110,  # after robots.txt (100) was read
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.RetryAfterMiddleware": 550,
    # After robots.txt for requests, before the retries for exceptions: see spiders/netsafe.py.
    "spiders.netsafe.PrivateNetworkMiddleware": 560,
    # Sees a response before the RedirectMiddleware (600) follows it.
    "spiders.middlewares.RedirectLoopMiddleware": 610,
}
ITEM_PIPELINES = {"spiders.pipelines.SpoolPipeline": 300}

# Discovery bounds: sitemap indexes are followed this deep and this many files at most.
NEWSLAKE_SITEMAP_MAX_DEPTH = 3
NEWSLAKE_SITEMAP_MAX_FILES = 200
NEWSLAKE_SITEMAPS_FROM_ROBOTS = False  # also read `Sitemap:` lines of the homepage's robots.txt
NEWSLAKE_MAX_ARTICLES = 0  # 0: no cap on article requests per crawl
# Distinct listing entries one crawl considers: bounds memory against runaway sitemaps
# (200 files of 50,000 URLs each would be 10 million).
NEWSLAKE_MAX_CANDIDATES = 200_000
# Backfills: try the WordPress REST API at /wp-json/wp/v2/posts when the catalogue declares
# none (one request per chunk), and read at most this many pages of it per chunk.
NEWSLAKE_WP_PROBE = True
NEWSLAKE_WP_MAX_PAGES = 50
# Backfills: a listing entry dated only by a lastmod more than this many days after the window
# is taken for a later article and not fetched.
NEWSLAKE_BACKFILL_LASTMOD_SLACK_DAYS = 2.0
