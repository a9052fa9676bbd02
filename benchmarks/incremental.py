"""A repeated scheduled crawl with nothing new fetches no article (run by hand):

    python -m benchmarks.incremental [--articles 200] [--runs 2]

Generates an outlet of --articles article pages (JSON-LD NewsArticle, several paragraphs),
an RSS feed of the newest 50 and a sitemap index with one urlset of them all, serves it with
newslake.site_server on 127.0.0.1, and crawls it with the crawl flow (Prefect's ephemeral
API, started before the first timed run) into a fresh lake, then again --runs - 1 times.
For each run it prints the requests the server saw (articles, listings: robots.txt, feed,
sitemaps), how many listings answered 304 (the crawl's not_modified counter), what landed,
and the wall time against the first run's. Crawl settings as in the tests: no AutoThrottle,
no download delay (--polite keeps Scrapy's and newslake's defaults).
"""

from __future__ import annotations

import argparse
import html
import json
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks._common import quiet_prefect, table, timed

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
SOURCE_ID = "bench-outlet"
LISTINGS = ("/robots.txt", "/feed/", "/sitemap_index.xml", "/post-sitemap.xml")
_PROSE = (
    "the government said on tuesday that new rules for border crossings would take effect"
    " next month after talks between officials of both countries ended in the capital with"
    " an agreement on customs software freight schedules and the opening of two more lanes"
    " for lorries waiting at the checkpoint where queues have grown since spring according"
    " to drivers and local residents who asked the ministry to publish the timetable"
)
_WORDS = _PROSE.split()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(12, 24))
    return " ".join(words).capitalize() + "."


def _page(base: str, n: int, path: str, title: str, published: datetime, body: list[str]) -> str:
    url = f"{base}{path}"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": published.isoformat(),
        "author": [{"@type": "Person", "name": f"Reporter {n % 17}"}],
        "mainEntityOfPage": url,
        "inLanguage": "en",
    }
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in body)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} – Bench Courier</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{published.isoformat()}">
<script type="application/ld+json">{json.dumps(ld)}</script>
</head><body>
<header><a href="/">Bench Courier</a></header>
<article><h1>{html.escape(title)}</h1>
<p class="byline">By Reporter {n % 17}</p>
<time datetime="{published.isoformat()}">{published:%d %B %Y}</time>
<div class="entry-content">
{paragraphs}
</div></article>
<footer>© Bench Courier</footer>
</body></html>
"""


def generate_site(root: Path, articles: int, *, seed: int = 6) -> Path:
    """Write an outlet of `articles` pages under root/site and its sources file root/sources.yaml
    ({{BASE}} stands for the server's base URL). Returns root."""
    rng = random.Random(seed)
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    newest = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    entries = []
    for n in range(articles):
        published = newest - timedelta(minutes=37 * n)
        path = f"/{published:%Y/%m/%d}/story-{n:05d}/"
        title = f"Story {n}: " + " ".join(rng.choices(_WORDS, k=6)).capitalize()
        body = [" ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) for _ in range(6)]
        folder = site / path.strip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(
            _page("{{BASE}}", n, path, title, published, body), "utf-8"
        )
        entries.append((path, title, published))
    (site / "robots.txt").write_text(
        "User-agent: *\nDisallow: /wp-admin/\n\nSitemap: {{BASE}}/sitemap_index.xml\n", "utf-8"
    )
    items = "\n".join(
        f"<item><title>{html.escape(t)}</title><link>{{{{BASE}}}}{p}</link>"
        f"<guid>{{{{BASE}}}}{p}</guid><pubDate>{d:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
        for p, t, d in entries[:50]
    )
    (site / "feed.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Bench Courier</title><link>{{BASE}}/</link><description>news</description>"
        f"\n{items}\n</channel></rss>\n",
        "utf-8",
    )
    urls = "\n".join(
        f"<url><loc>{{{{BASE}}}}{p}</loc><lastmod>{d.isoformat()}</lastmod></url>"
        for p, _, d in entries
    )
    (site / "post-sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n',
        "utf-8",
    )
    (site / "sitemap_index.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{{{{BASE}}}}/post-sitemap.xml</loc>"
        f"<lastmod>{newest.isoformat()}</lastmod></sitemap></sitemapindex>\n",
        "utf-8",
    )
    (site / "index.html").write_text("<html><body><h1>Bench Courier</h1></body></html>", "utf-8")
    (site / "_site.yaml").write_text(
        "routes:\n  /feed/:\n    file: feed.xml\n    content_type: application/rss+xml\n", "utf-8"
    )
    (root / "sources.yaml").write_text(
        f"""sources:
  - id: {SOURCE_ID}
    name: Bench Courier
    homepage: "{{{{BASE}}}}/"
    country: AM
    languages: [en]
    timezone: Asia/Yerevan
    allow_private_network: true  # served on 127.0.0.1
    feeds: ["{{{{BASE}}}}/feed/"]
    sitemaps: ["{{{{BASE}}}}/sitemap_index.xml"]
""",
        "utf-8",
    )
    return root


def sources_file(root: Path, base_url: str, where: Path) -> Path:
    """The generated sources file with the served base URL filled in."""
    text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", base_url)
    where.write_text(text, "utf-8")
    return where


def warm_up_prefect() -> None:
    """Start Prefect's ephemeral API with a trivial flow, so no timed run pays for it."""
    from prefect import flow

    @flow(name="benchmark-warm-up")
    def nothing() -> int:
        return 1

    nothing()


def request_counts(paths: list[str]) -> dict[str, int]:
    counts = {"articles": 0, "listings": 0, "other": 0}
    for path in paths:
        bare = urlsplit(path).path
        if bare in LISTINGS:
            counts["listings"] += 1
        elif "/story-" in bare:
            counts["articles"] += 1
        else:
            counts["other"] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.incremental",
        description="Crawl a generated outlet twice: the second, scheduled run fetches nothing.",
    )
    parser.add_argument("--articles", type=int, default=200, help="article pages (default 200)")
    parser.add_argument("--runs", type=int, default=2, help="crawls in a row (default 2)")
    parser.add_argument("--polite", action="store_true", help="keep AutoThrottle and delays")
    parser.add_argument(
        "--keep", action="store_true", help="keep the outlet, lake and Prefect home"
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="newslake-bench-incremental-"))
    quiet_prefect(str(work / "prefect"))
    from flows.crawl import crawl_flow
    from newslake.site_server import SiteServer

    root = generate_site(work / "outlet", args.articles)
    lake = str(work / "lake")
    settings = None if args.polite else FAST
    print(f"outlet: {args.articles} articles; lake {lake}; Prefect home {work / 'prefect'}")
    warm_up_prefect()
    rows: list[list[Any]] = []
    first = 0.0
    with SiteServer(root / "site") as server:
        sources = sources_file(root, server.base_url, work / "sources.yaml")
        for run in range(1, args.runs + 1):
            server.clear()
            with timed() as t:
                state = crawl_flow(
                    sources_file=str(sources), lake=lake, settings=settings, return_state=True
                )
            summary = state.result(raise_on_failure=False)
            if not state.is_completed():
                sys.exit(f"run {run} failed: {state.message}")
            [outcome] = summary.sources
            counts = request_counts(server.paths())
            first = first or t.seconds
            rows.append(
                [
                    run,
                    counts["articles"],
                    counts["listings"],
                    int(outcome.counts.get("not_modified", 0)),
                    counts["other"],
                    int(outcome.counts.get("landed", 0)),
                    int(outcome.counts.get("skipped_landed", 0)),
                    t.seconds,
                    t.seconds / first,
                ]
            )
    headers = [
        "run",
        "article requests",
        "listing requests",
        "304s",
        "other requests",
        "landed",
        "skipped (landed)",
        "seconds",
        "÷ first",
    ]
    print(table(headers, rows))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
