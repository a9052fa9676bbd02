"""Crawl throughput against extraction alone, on a synthetic outlet served on loopback.

    python -m benchmarks.crawl_throughput [--articles 2000] [--workers N] [--repeat 1]

Measured in one run, on the same pages:

- extraction only: every article page's bytes, read from disk, through the crawl's own
  row-building path (spiders.rows.fetched_row: extract_article + normalize) in a pool of
  --baseline-workers processes (default: every core), pool warm before the clock starts;
- crawl: spiders.runner.run_crawl of the site (the real crawl subprocess with its extraction
  workers, WARC capture and spool; politeness off: no AutoThrottle, the 1 ms minimum delay,
  still 2 requests at a time), wall time from the call to its return, process start included;
- crawl + land: the crawl, then lake.writer.land_spool of its spool into a local lake.

The site server runs in a process of its own, so its work does not sit in the measuring
process; it still shares the machine's cores with the crawl (the extraction-only baseline
has them to itself), which the ratio pays for.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newslake.synthetic_site import SyntheticSite, write_site
from spiders.catalogue import Source, load_sources
from spiders.extraction import NotAnArticle, PageHints
from spiders.rows import fetched_row

# The crawl without politeness delays; the per-host concurrency limit (2) stays.
FAST_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "NEWSLAKE_RETRY_BACKOFF": 0,
    "LOG_LEVEL": "INFO",
}
CONTENT_TYPE = "text/html; charset=utf-8"


def cores() -> int:
    return len(os.sched_getaffinity(0))


_SERVE = """
import sys, time
from pathlib import Path
from newslake import site_server
# TCP_NODELAY, as production servers (nginx: tcp_nodelay on) answer: http.server writes the
# headers and the body apart, and Nagle's algorithm then waits for the client's delayed ACK
# (40 ms) before the body, capping 2 connections at about 50 pages/s whatever the crawler does.
site_server._Handler.disable_nagle_algorithm = True
server = site_server.SiteServer(Path(sys.argv[1])).start()
print(server.base_url, flush=True)
while True:
    time.sleep(3600)
"""


@contextmanager
def served(site: SyntheticSite) -> Iterator[str]:
    """Serve the site from a separate process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(site.site_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(10)


def source_of(site: SyntheticSite, base_url: str, folder: Path) -> Source:
    text = site.sources_file.read_text("utf-8").replace("{{BASE}}", base_url)
    path = folder / "sources.yaml"
    path.write_text(text, "utf-8")
    return load_sources(path)[0]


def pages_of(site: SyntheticSite, base_url: str) -> list[tuple[str, bytes]]:
    """(URL, body) of every article, exactly as the server sends them."""
    base = base_url.encode("ascii")
    pages = []
    for article in site.articles:
        file = site.site_dir / article.path.strip("/") / "index.html"
        pages.append((base_url + article.path, file.read_bytes().replace(b"{{BASE}}", base)))
    return pages


_SOURCE: Source | None = None


def _init_worker(source: Source) -> None:
    global _SOURCE
    _SOURCE = source


def _extract(page: tuple[str, bytes]) -> bool:
    url, body = page
    try:
        fetched_row(
            body,
            url,
            headers={"Content-Type": CONTENT_TYPE},
            source=_SOURCE,
            run_id="benchmark",
            hints=PageHints(discovered_via="sitemap"),
            http_status=200,
            discovered_url=url,
        )
    except NotAnArticle:
        return False
    return True


def extraction_only(source: Source, pages: list[tuple[str, bytes]], workers: int) -> float:
    """Articles per second of fetched_row over `pages` in `workers` processes (warm pool)."""
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(source,)) as pool:
        pool.map(_extract, pages[: workers * 4], chunksize=1)  # imports, caches, lazy models
        started = time.perf_counter()
        rows = sum(pool.imap_unordered(_extract, pages, chunksize=4))
        elapsed = time.perf_counter() - started
    if rows != len(pages):
        raise SystemExit(f"extraction-only: {len(pages) - rows} of {len(pages)} pages rejected")
    return len(pages) / elapsed


@dataclass
class CrawlFigures:
    articles: int
    crawl_seconds: float
    land_seconds: float
    stats: dict[str, Any]

    @property
    def crawl_rate(self) -> float:
        return self.articles / self.crawl_seconds

    @property
    def end_to_end_rate(self) -> float:
        return self.articles / (self.crawl_seconds + self.land_seconds)


def crawl_and_land(
    source: Source, folder: Path, settings: dict[str, Any], *, land: bool = True
) -> CrawlFigures:
    from lake.store import open_store
    from lake.writer import land_spool
    from spiders.runner import run_crawl

    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    spool = folder / f"spool-{run_id}"
    started = time.perf_counter()
    result = run_crawl(source, spool, run_id=run_id, settings=settings, timeout=3600)
    crawl_seconds = time.perf_counter() - started
    land_seconds = 0.0
    if land:
        started = time.perf_counter()
        land_spool(open_store(folder / "lake"), spool, run_id=run_id, source_id=source.id)
        land_seconds = time.perf_counter() - started
    return CrawlFigures(int(result.stats["spooled"]), crawl_seconds, land_seconds, result.stats)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crawl_throughput",
        description="End-to-end crawl articles/s divided by extraction-only articles/s "
        "(same extractor, same pages, all cores). Target: >= 0.8.",
    )
    parser.add_argument("--articles", type=int, default=2000, help="site size (default 2000)")
    parser.add_argument(
        "--workers",
        default="default",
        help="NEWSLAKE_EXTRACT_WORKERS of the crawl, or several comma-separated (each measured "
        "in every run), e.g. 'default,0'; 'default' leaves the crawl's own default (the cores)",
    )
    parser.add_argument(
        "--baseline-workers",
        type=int,
        default=cores(),
        help=f"processes of the extraction-only baseline (default: cores, {cores()})",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times")
    parser.add_argument("--no-land", action="store_true", help="skip landing into a lake")
    parser.add_argument("--seed", type=int, default=0, help="site generator seed")
    args = parser.parse_args(argv)

    modes = [m.strip() for m in args.workers.split(",") if m.strip()]
    with tempfile.TemporaryDirectory(prefix="newslake-bench-") as tmp:
        folder = Path(tmp)
        site = write_site(folder / "site", args.articles, seed=args.seed)
        with served(site) as base_url:
            source = source_of(site, base_url, folder)
            pages = pages_of(site, base_url)
            print(
                f"{args.articles} articles, {sum(len(b) for _, b in pages) / 1e6:.1f} MB of "
                f"pages; {cores()} cores; crawl settings {FAST_SETTINGS}"
            )
            rows = []
            for attempt in range(1, args.repeat + 1):
                load = load_average()
                baseline = extraction_only(source, pages, args.baseline_workers)
                for mode in modes:
                    settings = dict(FAST_SETTINGS)
                    if mode != "default":
                        settings["NEWSLAKE_EXTRACT_WORKERS"] = int(mode)
                    figures = crawl_and_land(source, folder, settings, land=not args.no_land)
                    if figures.articles != args.articles:
                        raise SystemExit(
                            f"the crawl spooled {figures.articles} of {args.articles} articles: "
                            f"{figures.stats}"
                        )
                    rows.append(
                        [
                            str(attempt),
                            load,
                            f"{baseline:.1f}",
                            f"{figures.stats['extract_workers']}",
                            f"{figures.crawl_seconds:.2f}",
                            f"{figures.crawl_rate:.1f}",
                            f"{figures.crawl_rate / baseline:.2f}",
                            f"{figures.land_seconds:.2f}",
                            f"{figures.end_to_end_rate:.1f}",
                            f"{figures.end_to_end_rate / baseline:.2f}",
                        ]
                    )
    print(
        table(
            [
                "run",
                "load avg (1/5/15 min)",
                "extract-only art/s",
                "crawl workers",
                "crawl s",
                "crawl art/s",
                "ratio crawl",
                "land s",
                "crawl+land art/s",
                "ratio crawl+land",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
