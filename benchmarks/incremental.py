"""A repeated scheduled crawl with nothing new fetches no article (run by hand):

    python -m benchmarks.incremental [--articles 200] [--runs 2]

Generates a synthetic outlet of --articles pages (newslake.synthetic_site: WordPress markup,
an RSS feed of the newest 50, a sitemap index with one urlset per month), serves it with
newslake.site_server on 127.0.0.1, and crawls it with the crawl flow (Prefect's ephemeral
API, started before the first timed run) into a fresh lake, then again --runs - 1 times.
For each run it prints the requests the server saw (articles, listings: robots.txt, feed,
sitemaps), how many listings answered 304 (the crawl's not_modified counter), what landed,
and the wall time against the first run's. Crawl settings as in the tests: no AutoThrottle,
no download delay (--polite keeps Scrapy's and newslake's defaults).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks._common import quiet_prefect, table, timed
from newslake.synthetic_site import write_site

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
SOURCE_ID = "bench-outlet"


def generate_site(root: Path, articles: int) -> Path:
    """The synthetic outlet (newslake.synthetic_site) under `root`; returns `root`."""
    write_site(root, articles, source_id=SOURCE_ID)
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
        if bare in ("/robots.txt", "/feed.rss", "/sitemap_index.xml") or bare.startswith(
            "/sitemaps/"
        ):
            counts["listings"] += 1
        elif bare.startswith("/news/"):
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
