"""What Prefect costs per source crawl, against the same steps called directly (by hand):

    python -m benchmarks.prefect_overhead [--articles 100] [--crawls 5]

One generated outlet (benchmarks.incremental's, --articles pages) served on 127.0.0.1 is
crawled --crawls times each way, alternately (the order flips each round, so machine noise
falls on both), every crawl into a fresh lake so each one fetches and lands everything:

  prefect   flows.crawl.crawl_flow on Prefect's ephemeral API (started before any timed run):
            the flow run, its three tasks, their states and results, the counts artifact
  direct    the same three steps without Prefect: the tasks' own functions (`.fn`) of
            prepare_skip_list (write_skip_file and the validators), crawl_source (run_crawl,
            a Scrapy process) and land_source (land_spool and keep_validators)

It prints each crawl's seconds, then the medians, the overhead in seconds (prefect - direct)
and as a ratio (prefect / direct). Crawl settings as in the tests (no AutoThrottle or delay).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import quiet_prefect, table, timed
from benchmarks.incremental import (
    FAST,
    SOURCE_ID,
    generate_site,
    sources_file,
    warm_up_prefect,
)


def crawl_with_prefect(sources: Path, lake: str) -> int:
    from flows.crawl import crawl_flow

    state = crawl_flow(sources_file=str(sources), lake=lake, settings=FAST, return_state=True)
    if not state.is_completed():
        sys.exit(f"the flow failed: {state.message}")
    [outcome] = state.result().sources
    return int(outcome.counts["landed"])


def crawl_directly(sources: Path, lake: str, spools: Path) -> int:
    """The crawl flow's chain for one source, step by step, with no Prefect in the way."""
    from flows.crawl import crawl_source, land_source, prepare_skip_list
    from flows.runs import new_run_id
    from spiders.catalogue import load_sources, select_sources

    [source] = select_sources(load_sources(str(sources)), [SOURCE_ID])
    run_id = new_run_id()
    started_at = datetime.now(UTC)
    spool = spools / run_id / source.id
    skip = prepare_skip_list.fn(lake, source.id, spool)
    crawl = crawl_source.fn(source, run_id, spool, skip, FAST)
    counts = land_source.fn(lake, crawl, run_id, source.id, "crawl", started_at)
    shutil.rmtree(spools / run_id, ignore_errors=True)
    return int(counts["landed"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.prefect_overhead",
        description="Seconds per source crawl through the Prefect flow and without Prefect.",
    )
    parser.add_argument("--articles", type=int, default=100, help="article pages (default 100)")
    parser.add_argument("--crawls", type=int, default=5, help="crawls each way (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the outlet, lakes and home")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="newslake-bench-prefect-"))
    quiet_prefect(str(work / "prefect"))
    from newslake.site_server import SiteServer

    root = generate_site(work / "outlet", args.articles)
    print(f"outlet: {args.articles} articles; {args.crawls} crawls each way; work {work}")
    warm_up_prefect()
    times: dict[str, list[float]] = {"prefect": [], "direct": []}
    landed: set[int] = set()
    rows: list[list[Any]] = []
    with SiteServer(root / "site") as server:
        sources = sources_file(root, server.base_url, work / "sources.yaml")
        for n in range(args.crawls):
            order = ("prefect", "direct") if n % 2 == 0 else ("direct", "prefect")
            for mode in order:
                lake = str(work / "lakes" / f"{mode}-{n}")
                server.clear()
                with timed() as t:
                    if mode == "prefect":
                        landed.add(crawl_with_prefect(sources, lake))
                    else:
                        landed.add(crawl_directly(sources, lake, work / "spools"))
                times[mode].append(t.seconds)
            rows.append([n + 1, order[0], times["prefect"][-1], times["direct"][-1]])
    if landed != {args.articles}:
        sys.exit(f"the crawls landed {sorted(landed)} articles, expected {args.articles} each")
    print(table(["crawl", "first", "prefect s", "direct s"], rows))
    prefect, direct = statistics.median(times["prefect"]), statistics.median(times["direct"])
    print()
    print(
        table(
            ["median prefect s", "median direct s", "overhead s", "prefect ÷ direct"],
            [[prefect, direct, prefect - direct, prefect / direct]],
        )
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
