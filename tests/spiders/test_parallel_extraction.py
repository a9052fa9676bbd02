"""Extraction in worker processes (NEWSLAKE_EXTRACT_WORKERS) lands exactly what extraction in
the crawl process lands; a page that stalls or kills its worker becomes an `extract_error`
reject and the crawl goes on; workers never outlive the crawl process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newslake.site_server import SiteServer
from newslake.synthetic_site import write_site
from spiders.capture import read_record
from spiders.catalogue import Source, parse_sources
from spiders.extract_pool import ExtractionPool, PageJob, extract_page
from spiders.extraction import PageHints
from spiders.pipelines import COUNTERS
from spiders.runner import run_crawl

SITES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
# Differ between two crawls of one site whatever extracts: the clock and WARC offsets.
VOLATILE_ROW = ("fetched_at", "raw_ref")
VOLATILE_REJECT = ("rejected_at",)
SLOW_PARAGRAPHS = 30_000  # about 3 MB of HTML: about 5 s of extraction on an idle core, far over
# SLOW_TIMEOUT (1 MB took only 0.8 s on an idle machine)
SLOW_TIMEOUT = 1.5


@dataclass
class Spool:
    articles: list[dict[str, Any]]
    rejects: list[dict[str, Any]]
    stats: dict[str, Any]
    out: Path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def crawl(source: Source, out: Path, workers: int, **settings: Any) -> Spool:
    result = run_crawl(
        source,
        out,
        run_id="run-parallel",
        settings={**FAST, "NEWSLAKE_EXTRACT_WORKERS": workers, **settings},
        timeout=240,
    )
    return Spool(
        read_jsonl(result.articles_path), read_jsonl(result.rejects_path), result.stats, out
    )


def comparable(rows: list[dict[str, Any]], volatile: tuple[str, ...]) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in row.items() if k not in volatile}, sort_keys=True)
        for row in rows
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fixture_source(name: str, base: str) -> Source:
    root = SITES_DIR / name
    spec = json.loads((root / "crawl.json").read_text("utf-8"))
    text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", base)
    return {s.id: s for s in parse_sources(text, str(root / "sources.yaml"))}[spec["source"]]


def synthetic_source(root: Path, base: str) -> Source:
    text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", base)
    return parse_sources(text, str(root / "sources.yaml"))[0]


def assert_same_crawl(one: Spool, other: Spool) -> None:
    assert comparable(other.articles, VOLATILE_ROW) == comparable(one.articles, VOLATILE_ROW)
    assert comparable(other.rejects, VOLATILE_REJECT) == comparable(one.rejects, VOLATILE_REJECT)
    for name in (*COUNTERS, "requests", "warc_records"):
        assert (name, other.stats[name]) == (name, one.stats[name])
    assert other.stats["rejected_by_reason"] == one.stats["rejected_by_reason"]
    # Every row's raw_ref points at the WARC response of its own page.
    for spool in (one, other):
        for row in spool.articles:
            uri, status, body = read_record(spool.out, row["raw_ref"])
            assert (uri, status) == (row["url"], row["http_status"])
            assert body


@pytest.mark.parametrize("site", ["wp-en", "ru-1251"])
def test_workers_land_what_the_crawl_process_lands_on_a_fixture_site(
    site: str, tmp_path: Path
) -> None:
    # A fresh server (on one port) per crawl: routes such as "429 the first time" reset.
    port = free_port()
    with SiteServer(SITES_DIR / site / "site", port=port) as server:
        source = fixture_source(site, server.base_url)
        in_process = crawl(source, tmp_path / "in-process", workers=0)
    with SiteServer(SITES_DIR / site / "site", port=port):
        pooled = crawl(source, tmp_path / "pooled", workers=2)
    assert in_process.stats["extract_workers"] == 0
    assert pooled.stats["extract_workers"] == 2
    assert pooled.stats["extract_worker_restarts"] == 0
    assert in_process.articles and in_process.rejects
    assert_same_crawl(in_process, pooled)


def test_workers_land_what_the_crawl_process_lands_on_a_synthetic_outlet(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", 80)
    with SiteServer(site.site_dir) as server:
        source = synthetic_source(site.root, server.base_url)
        one = crawl(source, tmp_path / "one", workers=1)
        three = crawl(source, tmp_path / "three", workers=3)
        urls = set(site.urls(server.base_url))
    assert (one.stats["extract_workers"], three.stats["extract_workers"]) == (0, 3)
    assert len(three.articles) == 80
    assert {r["url"] for r in three.articles} == urls
    assert_same_crawl(one, three)


def slow_page(title: str) -> str:
    paragraphs = "\n".join(
        f"<p>Paragraph {i} of a very long report on the regional water plan, with figures "
        f"{i * 7} and {i * 13}.</p>"
        for i in range(SLOW_PARAGRAPHS)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1>{paragraphs}</article></body></html>"
    )


def test_a_page_that_overruns_the_extraction_timeout_is_a_reject_and_the_crawl_goes_on(
    tmp_path: Path,
) -> None:
    site = write_site(tmp_path / "site", 12)
    slow = site.articles[5]
    (site.site_dir / slow.path.strip("/") / "index.html").write_text(slow_page(slow.title))
    with SiteServer(site.site_dir) as server:
        source = synthetic_source(site.root, server.base_url)
        spool = crawl(source, tmp_path / "spool", workers=2, NEWSLAKE_EXTRACT_TIMEOUT=SLOW_TIMEOUT)
        slow_url = server.base_url + slow.path
        urls = site.urls(server.base_url)
    assert sorted(r["url"] for r in spool.articles) == sorted(u for u in urls if u != slow_url)
    assert [(r["url"], r["reason"], r["detail"]) for r in spool.rejects] == [
        (
            slow_url,
            "extract_error",
            f"extraction took longer than {SLOW_TIMEOUT:g} s (NEWSLAKE_EXTRACT_TIMEOUT); "
            "its worker process was stopped",
        )
    ]
    stats = spool.stats
    assert (stats["fetched"], stats["spooled"], stats["rejected"]) == (12, 11, 1)
    assert stats["extract_worker_restarts"] == 1
    assert stats["warc_records"] == 36  # the slow page was captured like every other
    assert stats["finished_reason"] == "finished"


def test_a_worker_killed_mid_page_rejects_that_page_only_and_is_replaced(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", 1)
    source = synthetic_source(site.root, "http://127.0.0.1:9")
    article = site.site_dir / site.articles[0].path.strip("/") / "index.html"
    body = article.read_bytes().replace(b"{{BASE}}", b"http://127.0.0.1:9")

    def job(url: str, page: bytes) -> PageJob:
        return PageJob(
            body=page,
            url=url,
            headers={"Content-Type": "text/html; charset=utf-8"},
            hints=PageHints(discovered_via="sitemap"),
            fetched_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            http_status=200,
            raw_ref="raw.warc.gz:0",
            discovered_url=url,
        )

    normal = job("http://127.0.0.1:9" + site.articles[0].path, body)
    doomed = job("http://127.0.0.1:9/news/long-report/", slow_page("Long report").encode())

    async def scenario(pool: ExtractionPool) -> tuple[Any, Any]:
        slow = asyncio.ensure_future(pool.extract(doomed))
        deadline = time.monotonic() + 30
        while not pool.busy_pids():
            assert time.monotonic() < deadline, "the page never reached a worker"
            await asyncio.sleep(0.01)
        os.kill(pool.busy_pids()[0], signal.SIGKILL)
        return await slow, await pool.extract(normal)

    pool = ExtractionPool(source, "run-kill", workers=2)
    try:
        before = pool.pids()
        killed, after = asyncio.run(scenario(pool))
        assert killed == (
            "reject",
            "extract_error",
            "the extraction worker process died (killed by SIGKILL)",
        )
        assert after == extract_page(source, "run-kill", normal)
        assert after[0] == "row" and after[1]["title"] == site.articles[0].title
        assert pool.restarts == 1
        assert len(pool.pids()) == 2 and len(set(pool.pids()) - set(before)) == 1
    finally:
        pool.close()
    assert pool.pids() == [] or all(not _alive(pid) for pid in pool.pids())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: only its parent has not collected it yet.
    status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return status != "Z"


OWNER = """
import sys, time
from pathlib import Path
from spiders.catalogue import parse_sources
from spiders.extract_pool import ExtractionPool
root = Path(sys.argv[1])
text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", "http://127.0.0.1:9")
pool = ExtractionPool(parse_sources(text, "sources.yaml")[0], "run-orphan", workers=2)
print(" ".join(map(str, pool.pids())), flush=True)
time.sleep(600)
"""


def test_workers_die_with_a_sigkilled_crawl_process(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", 1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(site.root)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert owner.stdout is not None
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    finally:
        owner.kill()
        owner.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pids if _alive(p)] == []
