"""Crawls of a small site built here, served on 127.0.0.1, through the real runner subprocess.

One crawl is shared by most assertions (module-scoped); the skip-file and date-window crawls
are separate runs of the same site. The site has: an RSS feed and a gzip news sitemap listing
the same article (the feed's link with utm parameters), a sitemap index with a dead child, a
second URL whose rel=canonical is an article already seen, a robots.txt Disallow and a
Sitemap: line, a 404, a page over DOWNLOAD_MAXSIZE, a redirect and a link to another host (a
second server, which must never be hit), a 429 with Retry-After: 1, a 503 with a Retry-After
beyond the cap, a PDF, and an HTML page where a feed should be.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newslake.site_server import SiteServer
from schemas import article_id
from spiders.capture import read_record
from spiders.catalogue import Source
from spiders.runner import CrawlResult, run_crawl

FAST = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "NEWSLAKE_RETRY_BACKOFF": 0,
    "DOWNLOAD_TIMEOUT": 10,
    "LOG_LEVEL": "INFO",
}
MAXSIZE = 60_000  # the big page is over it; feeds, sitemaps and articles are well under

ARTICLES = {
    # path: (headline, datePublished, canonical path or None)
    "/news/alpha/": ("Alpha rises over the valley", "2024-05-12T08:30:00+04:00", None),
    "/news/beta/": ("Beta council meets in Yerevan", "2024-05-12T11:00:00+04:00", None),
    "/news/gamma/": ("Gamma river floods the plain", "2024-01-01T09:00:00+04:00", None),
    "/news/delta/": ("Delta school opens its doors", "2023-12-01T09:00:00+04:00", None),
    "/news/busy/": ("Busy market day in Gyumri", "2024-05-12T15:00:00+04:00", None),
    "/news/alpha-copy/": (
        "Alpha rises over the valley",
        "2024-05-12T08:30:00+04:00",
        "/news/alpha/",
    ),
    "/private/secret/": ("Secret page", "2024-05-12T08:30:00+04:00", None),
    # No date on the page: the feed's pubDate (a hint) is all there is.
    "/news/epsilon/": ("Epsilon bridge reopens after repairs", None, None),
    # Only in the sitemap named by robots.txt, read when NEWSLAKE_SITEMAPS_FROM_ROBOTS is on.
    "/news/zeta/": ("Zeta library extends its hours", "2024-05-12T10:00:00+04:00", None),
}
PARAGRAPH = (
    "The regional council met on Sunday to discuss the new water plan for the valley, "
    "and residents of the three villages asked for a public hearing before the vote. "
    "Officials said the plan would be published in full next week."
)


def article_html(path: str, headline: str, published: str | None, canonical: str | None) -> str:
    body = "\n".join(f"<p>{PARAGRAPH} ({path} paragraph {i})</p>" for i in range(1, 7))
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": headline,
        "author": {"@type": "Person", "name": "Anna Petrosyan"},
    }
    if published:
        data["datePublished"] = published
    jsonld = json.dumps(data)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{headline} | Test Courier</title>
<link rel="canonical" href="{{{{BASE}}}}{canonical or path}">
<script type="application/ld+json">{jsonld}</script></head>
<body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>{headline}</h1><p class="byline">By Anna Petrosyan</p>
{body}
</article></main><footer>Test Courier</footer></body></html>
"""


def build_site(root: Path, other_base: str, dead_base: str) -> None:
    """Write the fixture site into `root`.

    `other_base` is the offsite server's base URL; `dead_base` is 127.0.0.1 on a port where
    nothing listens (the same host, so on-site, but unreachable).
    """
    files: dict[str, str | bytes] = {}
    for path, (headline, published, canonical) in ARTICLES.items():
        files[path.strip("/") + "/index.html"] = article_html(path, headline, published, canonical)
    files["news/big/index.html"] = article_html(
        "/news/big/", "Big page", "2024-05-12T08:30:00+04:00", None
    ).replace("</article>", "<p>" + "x" * (MAXSIZE + 1000) + "</p></article>")
    files["files/report.pdf"] = b"%PDF-1.4 not really a pdf\n"
    files["robots.txt"] = (
        "User-agent: *\nDisallow: /private/\n\nSitemap: {{BASE}}/sitemap-extra.xml\n"
    )
    files["sitemap-extra.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/news/zeta/</loc></url></urlset>\n"
    )
    files["not-a-feed/index.html"] = (
        "<html><head><title>Feed</title></head><body>Gone</body></html>"
    )
    items = [
        (
            "/news/alpha/?utm_source=rss&utm_medium=feed",
            "Alpha (feed title)",
            "Sun, 12 May 2024 04:30:00 +0000",
            "Feed Author",
            ["Valley"],
        ),
        # Early in the feed, so other pages are still to fetch while it waits for its retry.
        ("/news/busy/", "Busy", "Sun, 12 May 2024 11:00:00 +0000", None, []),
        ("/news/beta/", "Beta (feed title)", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/news/later/", "Later", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        (f"{dead_base}/news/nowhere/", "Nowhere", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/private/secret/", "Secret", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        (f"{other_base}/news/elsewhere/", "Elsewhere", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/news/gone/", "Gone", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/news/big/", "Big", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/news/moved/", "Moved", "Sun, 12 May 2024 07:00:00 +0000", None, []),
        ("/news/epsilon/", "Epsilon", "Sun, 12 May 2024 12:15:00 +0000", None, []),
    ]
    entries = []
    for link, title, pub, author, tags in items:
        href = link if link.startswith("http") else "{{BASE}}" + link
        extra = f"<dc:creator>{author}</dc:creator>" if author else ""
        extra += "".join(f"<category>{t}</category>" for t in tags)
        entries.append(
            f"<item><title>{title}</title><link>{href.replace('&', '&amp;')}</link>"
            f"<pubDate>{pub}</pubDate>{extra}</item>"
        )
    files["feed.xml"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Test Courier</title>'
        "<link>{{BASE}}/</link>" + "".join(entries) + "</channel></rss>\n"
    )
    files["sitemap_index.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>{{BASE}}/sitemap-news.xml.gz</loc></sitemap>"
        "<sitemap><loc>{{BASE}}/sitemap-pages.xml</loc><lastmod>2024-05-12</lastmod></sitemap>"
        "<sitemap><loc>{{BASE}}/sitemap-gone.xml</loc></sitemap>"
        "</sitemapindex>\n"
    )
    news = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        "<url><loc>BASE/news/alpha/</loc><lastmod>2024-05-12T09:00:00+04:00</lastmod>"
        "<news:news><news:publication><news:name>Test Courier</news:name>"
        "<news:language>en</news:language></news:publication>"
        "<news:publication_date>2024-05-12T08:30:00+04:00</news:publication_date>"
        "<news:title>Alpha (news title)</news:title></news:news></url>"
        "<url><loc>BASE/news/gamma/</loc><news:news><news:publication>"
        "<news:name>Test Courier</news:name><news:language>en</news:language>"
        "</news:publication><news:publication_date>2024-01-01T09:00:00+04:00"
        "</news:publication_date><news:title>Gamma</news:title></news:news></url>"
        "</urlset>\n"
    )
    # gzip files are served as they are ({{BASE}} is not substituted in binary files), so the
    # base is filled in by `finish_site` once the server's port is known.
    files["sitemap-news.xml.gz.template"] = news
    files["sitemap-pages.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/news/delta/</loc></url>"
        "<url><loc>{{BASE}}/news/alpha-copy/</loc><lastmod>2024-05-12</lastmod></url>"
        "<url><loc>{{BASE}}/files/report.pdf</loc></url>"
        "</urlset>\n"
    )
    files["_site.yaml"] = (
        "routes:\n"
        "  /news/moved/: {status: 301, location: " + other_base + "/news/landing/}\n"
        "  /news/busy/: {status: 429, headers: {Retry-After: '1'}, times: 1}\n"
        "  /news/later/: {status: 503, headers: {Retry-After: '3600'}}\n"
    )
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, "utf-8")


def finish_site(root: Path, base: str) -> None:
    template = root / "sitemap-news.xml.gz.template"
    (root / "sitemap-news.xml.gz").write_bytes(
        gzip.compress(template.read_text("utf-8").replace("BASE", base).encode())
    )
    template.unlink()


def closed_port_base() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


DEAD_BASE = closed_port_base()


def arrivals(site: SiteServer) -> list[tuple[float, str]]:
    """When each request reached the fixture server, and for which path."""
    return [(r.at, r.path) for r in site.requests]


def make_source(base: str, **extra: Any) -> Source:
    return Source.model_validate(
        {
            "id": "test-courier",
            "name": "Test Courier",
            "homepage": base + "/",
            "country": "AM",
            "languages": ["en"],
            "timezone": "Asia/Yerevan",
            "feeds": [base + "/feed.xml", base + "/not-a-feed/"],
            "sitemaps": [base + "/sitemap_index.xml"],
            "allow_private_network": True,  # served on 127.0.0.1
            **extra,
        }
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


class Crawled:
    def __init__(self, result: CrawlResult, site: SiteServer, other: SiteServer, seconds: float):
        self.result = result
        self.site = site
        self.other = other
        self.seconds = seconds
        self.base = site.base_url
        self.articles = read_jsonl(result.articles_path)
        self.rejects = read_jsonl(result.rejects_path)
        self.paths = site.paths()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SiteServer, SiteServer]]:
    other_root = tmp_path_factory.mktemp("other")
    (other_root / "news" / "landing").mkdir(parents=True)
    (other_root / "news" / "landing" / "index.html").write_text("<html>other</html>", "utf-8")
    other = SiteServer(other_root).start()
    # "localhost" is another host name than 127.0.0.1: offsite for the source, same machine.
    other_base = other.base_url.replace("127.0.0.1", "localhost")
    root = tmp_path_factory.mktemp("site")
    build_site(root, other_base, DEAD_BASE)
    site = SiteServer(root).start()
    finish_site(root, site.base_url)
    yield site, other
    site.stop()
    other.stop()


_crawl_lock = threading.Lock()


def crawl(servers: tuple[SiteServer, SiteServer], out: Path, **kwargs: Any) -> Crawled:
    site, other = servers
    with _crawl_lock:
        site.clear()
        other.clear()
        settings = {**FAST, "DOWNLOAD_MAXSIZE": MAXSIZE, **kwargs.pop("settings", {})}
        started = time.monotonic()
        result = run_crawl(
            make_source(site.base_url),
            out,
            run_id="run-test",
            settings=settings,
            timeout=120,
            **kwargs,
        )
        return Crawled(result, site, other, time.monotonic() - started)


@pytest.fixture(scope="module")
def full(
    servers: tuple[SiteServer, SiteServer], tmp_path_factory: pytest.TempPathFactory
) -> Crawled:
    return crawl(servers, tmp_path_factory.mktemp("spool-full"))


@pytest.fixture(scope="module")
def skipped_all(
    servers: tuple[SiteServer, SiteServer], tmp_path_factory: pytest.TempPathFactory
) -> Crawled:
    out = tmp_path_factory.mktemp("spool-skip")
    site, _ = servers
    urls = [site.base_url + path for path in CANDIDATE_PATHS] + [DEAD_BASE + "/news/nowhere/"]
    skip = out / "skip.txt"
    skip.write_text("".join(article_id(u) + "\n" for u in urls), "utf-8")
    return crawl(servers, out, skip_file=skip)


@pytest.fixture(scope="module")
def windowed(
    servers: tuple[SiteServer, SiteServer], tmp_path_factory: pytest.TempPathFactory
) -> Crawled:
    out = tmp_path_factory.mktemp("spool-window")
    return crawl(
        servers,
        out,
        since=date(2024, 5, 12),
        until=date(2024, 5, 12),
        settings={"NEWSLAKE_SITEMAPS_FROM_ROBOTS": True},
    )


# Every on-site URL the feed and the sitemaps list, canonicalized (the feed's utm link is alpha).
CANDIDATE_PATHS = [
    "/news/alpha/",
    "/news/beta/",
    "/private/secret/",
    "/news/gone/",
    "/news/big/",
    "/news/moved/",
    "/news/busy/",
    "/news/later/",
    "/news/epsilon/",
    "/news/gamma/",
    "/news/delta/",
    "/news/alpha-copy/",
    "/files/report.pdf",
]
DISCOVERY_PATHS = [
    "/robots.txt",
    "/feed.xml",
    "/not-a-feed/",
    "/sitemap_index.xml",
    "/sitemap-news.xml.gz",
    "/sitemap-pages.xml",
    "/sitemap-gone.xml",
]


def by_url(c: Crawled) -> dict[str, dict[str, Any]]:
    return {row["url"].removeprefix(c.base): row for row in c.articles}


def test_requests_made(full: Crawled) -> None:
    fetched = [p for p in CANDIDATE_PATHS if p not in ("/private/secret/",)]
    assert sorted(full.paths) == sorted([*DISCOVERY_PATHS, *fetched, "/news/busy/"])
    # Candidates are canonicalized before they are requested: no tracking parameters.
    assert not [p for p in full.paths if "utm_" in p]


def test_robots_disallowed_and_offsite_never_requested(full: Crawled) -> None:
    assert "/private/secret/" not in full.paths
    # The feed's link to the other host and the redirect to it never reach that server.
    assert full.other.paths() == []


def test_landed_rows(full: Crawled) -> None:
    rows = by_url(full)
    assert sorted(rows) == [
        "/news/alpha/",
        "/news/beta/",
        "/news/busy/",
        "/news/delta/",
        "/news/epsilon/",
        "/news/gamma/",
    ]
    for path, row in rows.items():
        assert row["canonical_url"] == full.base + path
        assert row["discovered_url"] == full.base + path  # as listed (no redirect here)
        assert row["source_id"] == "test-courier"
        assert row["crawl_run_id"] == "run-test"
        assert row["http_status"] == 200
        assert row["title"] == ARTICLES[path][0]
        assert row["fetched_at"].endswith("Z")
        assert row["raw_ref"].startswith("raw.warc.gz:")
    assert {p: r["discovered_via"] for p, r in rows.items()} == {
        "/news/alpha/": "feed",
        "/news/beta/": "feed",
        "/news/busy/": "feed",
        "/news/delta/": "sitemap",
        "/news/epsilon/": "feed",
        "/news/gamma/": "sitemap",
    }
    assert rows["/news/alpha/"]["published_at"] == "2024-05-12T04:30:00Z"
    # The feed's hints reach the extractor: epsilon's only date is the feed's pubDate.
    epsilon = rows["/news/epsilon/"]
    assert (
        epsilon["published_at"],
        epsilon["published_at_source"],
        epsilon["published_at_raw"],
    ) == (
        "2024-05-12T12:15:00Z",
        "feed",
        "Sun, 12 May 2024 12:15:00 +0000",
    )


def test_rejects(full: Crawled) -> None:
    got = sorted(
        (r["url"].removeprefix(full.base), r["reason"], r["http_status"], r["discovered_via"])
        for r in full.rejects
    )
    assert got == [
        ("/files/report.pdf", "not_html", 200, "sitemap"),
        ("/news/big/", "too_large", None, "feed"),
        ("/news/gone/", "http_error", 404, "feed"),
        ("/news/later/", "http_error", 503, "feed"),
        ("/news/moved/", "offsite", None, "feed"),
        ("/private/secret/", "robots_disallowed", None, "feed"),
        (DEAD_BASE + "/news/nowhere/", "fetch_error", None, "feed"),
    ]
    details = {r["url"].removeprefix(full.base): r["detail"] for r in full.rejects}
    assert details["/news/gone/"] == "HTTP 404"
    assert details[DEAD_BASE + "/news/nowhere/"].startswith("DownloadConnectionRefusedError: ")
    assert details["/news/later/"] == (
        "HTTP 503; the server asked to retry after 3600 s, more than"
        " NEWSLAKE_RETRY_AFTER_MAX allows: given up"
    )
    assert "larger than download max size (60000)" in details["/news/big/"]
    assert details["/news/moved/"].startswith("http://localhost:")
    assert "redirected from" in details["/news/moved/"]
    for reject in full.rejects:
        assert reject["source_id"] == "test-courier"
        assert reject["crawl_run_id"] == "run-test"
        assert reject["rejected_at"].endswith("Z")


def test_stats(full: Crawled) -> None:
    stats = full.result.stats
    counters = {
        k: stats[k]
        for k in (
            "discovered",
            "fetched",
            "spooled",
            "rejected",
            "skipped_landed",
            "duplicates",
            "offsite",
            "out_of_window",
            "robots_disallowed",
            "feeds_fetched",
            "feed_errors",
            "sitemaps_fetched",
            "sitemap_errors",
            "requests",
            "retries",
            "warc_records",
        )
    }
    assert counters == {
        "discovered": 14,
        "fetched": 10,  # 8 pages parsed + the 404 + the 503
        "spooled": 6,
        "rejected": 7,
        "skipped_landed": 0,
        "duplicates": 1,  # alpha-copy's rel=canonical is alpha
        "offsite": 2,  # the feed's link to another host + the redirect to it
        "out_of_window": 0,
        "robots_disallowed": 1,
        "feeds_fetched": 2,
        "feed_errors": 1,
        "sitemaps_fetched": 3,
        "sitemap_errors": 1,  # sitemap-gone.xml answers 404
        # 14 on the site (busy twice) + 3 tries of robots.txt and of the page on the dead port
        "requests": 26,
        "retries": 5,
        "warc_records": 24,  # response, request and metadata of each of the 8 pages
    }
    assert stats["finished_reason"] == "finished"
    assert stats["rejected_by_reason"] == {
        "fetch_error": 1,
        "http_error": 2,
        "not_html": 1,
        "offsite": 1,
        "robots_disallowed": 1,
        "too_large": 1,
    }
    assert stats["retry_after_refused"] == 1
    assert len(stats["problems"]) == 2
    assert [p for p in stats["problems"] if "/not-a-feed/: feed_not_a_feed" in p]
    assert f"sitemap {full.base}/sitemap-gone.xml: http_error: HTTP 404" in stats["problems"]
    assert stats["response_bytes"] > 0
    assert json.loads((full.result.out_dir / "stats.json").read_text("utf-8")) == stats


def test_retry_after_waited_without_blocking_others(full: Crawled) -> None:
    site = full.site
    busy = [t for t, p in arrivals(site) if p == "/news/busy/"]
    assert len(busy) == 2
    assert busy[1] - busy[0] >= 1.0
    # Other pages were requested while the 429 page waited for its retry.
    others = [p for t, p in arrivals(site) if busy[0] < t < busy[1]]
    assert [p for p in others if p.startswith("/news/") or p.startswith("/files/")]
    assert full.result.stats["retry_wait_seconds"] == 1.0


def test_warc_offsets_round_trip(full: Crawled) -> None:
    assert full.result.warc_path == full.result.out_dir / "raw.warc.gz"
    root = full.site.root
    for path, row in by_url(full).items():
        uri, status, body = read_record(full.result.out_dir, row["raw_ref"])
        served = (root / path.lstrip("/") / "index.html").read_bytes()
        assert (uri, status) == (full.base + path, 200)
        assert body == served.replace(b"{{BASE}}", full.base.encode())


def test_skip_file_means_no_article_requests(skipped_all: Crawled) -> None:
    assert sorted(skipped_all.paths) == sorted(DISCOVERY_PATHS)
    stats = skipped_all.result.stats
    assert (stats["discovered"], stats["skipped_landed"], stats["fetched"]) == (14, 14, 0)
    assert (skipped_all.articles, skipped_all.rejects) == ([], [])
    assert skipped_all.result.warc_path is None


def test_date_window_and_sitemaps_from_robots(windowed: Crawled) -> None:
    assert sorted(by_url(windowed)) == [
        "/news/alpha/",
        "/news/beta/",
        "/news/busy/",
        "/news/epsilon/",
        "/news/zeta/",
    ]
    assert windowed.paths.count("/sitemap-extra.xml") == 1
    stats = windowed.result.stats
    # gamma's news sitemap date is months before the window: never requested.
    assert stats["out_of_window_hint"] == 1
    assert "/news/gamma/" not in windowed.paths
    # delta has no listing date: fetched, then dropped on its extracted date.
    assert stats["out_of_window"] == 1
    assert "/news/delta/" in windowed.paths


def test_per_domain_concurrency_is_honoured(tmp_path: Path) -> None:
    """Two requests in flight per host at most, even with DOWNLOAD_DELAY 0 asked for."""
    root = tmp_path / "site"
    root.mkdir()
    urls = "".join(f"<url><loc>{{{{BASE}}}}/p{i}.html</loc></url>" for i in range(6))
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>",
        "utf-8",
    )
    routes = "".join(f"  /p{i}.html: {{delay: 0.3}}\n" for i in range(6))
    (root / "_site.yaml").write_text("routes:\n" + routes, "utf-8")
    for i in range(6):
        (root / f"p{i}.html").write_text(f"<html><body><p>{i}</p></body></html>", "utf-8")
    with SiteServer(root) as site:
        source = Source.model_validate(
            {
                "id": "slow",
                "name": "Slow",
                "homepage": site.base_url + "/",
                "country": None,
                "languages": ["en"],
                "timezone": "UTC",
                "sitemaps": [site.base_url + "/sitemap.xml"],
                "allow_private_network": True,  # served on 127.0.0.1
            }
        )
        settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
        run_crawl(source, tmp_path / "out", run_id="r", settings=settings, timeout=60)
        pages = sorted(t for t, p in arrivals(site) if p.startswith("/p"))
    assert len(pages) == 6
    # Each page takes 0.3 s: a third request may start only when one of two has finished.
    assert min(pages[i + 2] - pages[i] for i in range(4)) >= 0.25
