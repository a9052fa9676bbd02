"""Peak memory of a crawl, and of landing its spool, at several site sizes.

    python -m benchmarks.crawl_memory [--sizes 2000,10000,20000] [--workers N]

For each size, a synthetic outlet of that many articles is served on loopback (a process of
its own), crawled by spiders.runner.run_crawl (the crawl subprocess and its extraction
workers) and landed into a local lake by lake.writer.land_spool in a subprocess. The process
tree of each is sampled from /proc every --interval seconds:

- RSS: the sum of the tree's resident sets. Forked extraction workers share most of their
  pages with the crawl process, so this counts those pages once per process: an upper bound;
- PSS: the sum of proportional set sizes (a shared page split between its sharers), the
  tree's real footprint;
- the largest single process's RSS.

Target: the peak at most 500 MB and flat (no growth with the number of articles).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.crawl_throughput import FAST_SETTINGS, load_average, served, source_of, table
from newslake.synthetic_site import write_site

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(tree.get(current, []))
    return out


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Peak:
    rss_mb: float = 0.0
    pss_mb: float = 0.0
    largest_mb: float = 0.0
    processes: int = 0
    samples: int = 0


@dataclass
class Sampler:
    """Samples the tree under one pid until stopped."""

    pid: int
    interval: float
    include_root: bool = True
    peak: Peak = field(default_factory=Peak)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            pids = descendants(self.pid)
            if not self.include_root:
                pids.remove(self.pid)
            rss = [_kb(f"/proc/{p}/status", "VmRSS:") for p in pids]
            pss = [_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids]
            peak = self.peak
            peak.rss_mb = max(peak.rss_mb, sum(rss) / 1024)
            peak.pss_mb = max(peak.pss_mb, sum(pss) / 1024)
            peak.largest_mb = max(peak.largest_mb, max(rss, default=0) / 1024)
            peak.processes = max(peak.processes, sum(1 for r in rss if r))
            peak.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# The crawl and the landing each run in a child of this process, so that the sampler sees
# exactly their process trees: for the crawl, run_crawl's subprocess and its extraction
# workers (not the process that called run_crawl, a flow's in production); for landing, the
# process that calls land_spool.
_CRAWL = """
import json, sys
from pathlib import Path
from spiders.catalogue import Source
from spiders.runner import run_crawl
source = Source.model_validate_json(Path(sys.argv[1]).read_text("utf-8"))
result = run_crawl(source, Path(sys.argv[2]), run_id=sys.argv[3],
                   settings=json.loads(sys.argv[4]), timeout=7200)
print(json.dumps(result.stats))
"""
_LAND = """
import json, sys
from pathlib import Path
from lake.store import open_store
from lake.writer import land_spool
result = land_spool(open_store(sys.argv[1]), Path(sys.argv[2]), run_id=sys.argv[3],
                    source_id=sys.argv[4])
print(json.dumps({"landed": result.landed}))
"""


def sampled(
    script: str, args: list[str], interval: float, *, include_root: bool = True
) -> tuple[dict[str, Any], Peak, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    with Sampler(process.pid, interval, include_root) as sampler:
        out, _ = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{script.splitlines()[-2]} failed with status {process.returncode}")
    return json.loads(out.strip().splitlines()[-1]), sampler.peak, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crawl_memory",
        description="Peak RSS/PSS of a crawl (and of landing it) at several site sizes. "
        "Target: <= 500 MB and flat.",
    )
    parser.add_argument(
        "--sizes", default="2000,10000,20000", help="articles per site, comma-separated"
    )
    parser.add_argument("--workers", type=int, default=None, help="NEWSLAKE_EXTRACT_WORKERS")
    parser.add_argument("--interval", type=float, default=0.2, help="sampling period, seconds")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    settings = dict(FAST_SETTINGS)
    if args.workers is not None:
        settings["NEWSLAKE_EXTRACT_WORKERS"] = args.workers

    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="newslake-mem-") as tmp:
            folder = Path(tmp)
            site = write_site(folder / "site", size)
            with served(site) as base_url:
                source = source_of(site, base_url, folder)
                source_file = folder / "source.json"
                source_file.write_text(source.model_dump_json(), "utf-8")
                run_id = f"mem-{uuid.uuid4().hex[:12]}"
                spool = folder / "spool"
                load = load_average()
                stats, crawl, crawl_s = sampled(
                    _CRAWL,
                    [str(source_file), str(spool), run_id, json.dumps(settings)],
                    args.interval,
                    include_root=False,  # the process that called run_crawl: a flow's
                )
            landed, land, land_s = sampled(
                _LAND, [str(folder / "lake"), str(spool), run_id, source.id], args.interval
            )
            if stats["spooled"] != size or landed["landed"] != size:
                raise SystemExit(f"{size}: spooled {stats['spooled']}, landed {landed['landed']}")
            rows.append(
                [
                    str(size),
                    load,
                    f"{crawl_s:.1f}",
                    str(crawl.processes),
                    f"{crawl.rss_mb:.0f}",
                    f"{crawl.pss_mb:.0f}",
                    f"{crawl.largest_mb:.0f}",
                    f"{land_s:.1f}",
                    f"{land.rss_mb:.0f}",
                ]
            )
            print(" ".join(rows[-1]), flush=True)
    print(
        table(
            [
                "articles",
                "load avg",
                "crawl s",
                "processes",
                "crawl peak RSS MB (sum)",
                "crawl peak PSS MB (sum)",
                "largest process MB",
                "land s",
                "land peak RSS MB",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
