"""Crawl each fixture site (tests/fixtures/sites/<site>/) and hold the spool to its crawl.json.

crawl.json lists what must land, what must be rejected, what must never be requested and how
often each page is fetched; expected/<case>.json gives the row values of every landed page.
One crawl per site is shared by all its assertions.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from newslake.site_server import SiteServer
from spiders.capture import read_record
from spiders.catalogue import parse_sources
from spiders.runner import CrawlResult, run_crawl

SITES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
SITES = sorted(p.parent.name for p in SITES_DIR.glob("*/crawl.json"))
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}


def substitute(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace("{{BASE}}", base)
    if isinstance(value, list):
        return [substitute(v, base) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, base) for k, v in value.items()}
    return value


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


class SiteCrawl:
    def __init__(self, name: str, server: SiteServer, result: CrawlResult) -> None:
        self.name = name
        self.root = SITES_DIR / name
        self.base = server.base_url
        self.result = result
        self.spec = substitute(json.loads((self.root / "crawl.json").read_text("utf-8")), self.base)
        self.articles = read_jsonl(result.articles_path)
        self.rejects = read_jsonl(result.rejects_path)
        self.requests = server.paths()

    def case(self, case: str) -> dict[str, Any]:
        data = json.loads((self.root / "expected" / f"{case}.json").read_text("utf-8"))
        return substitute(data, self.base)

    def row_for(self, url: str, canonical: str | None) -> dict[str, Any] | None:
        for row in self.articles:
            if row["url"] == url or (canonical and row["canonical_url"] == canonical):
                return row
        return None


def crawl_site(name: str, out: Path) -> SiteCrawl:
    root = SITES_DIR / name
    spec = json.loads((root / "crawl.json").read_text("utf-8"))
    with SiteServer(root / "site") as server:
        text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", server.base_url)
        sources = {s.id: s for s in parse_sources(text, str(root / "sources.yaml"))}
        skip = out / "skip.txt"
        skip.write_text("", "utf-8")
        result = run_crawl(
            sources[spec["source"]],
            out,
            run_id=f"run-{name}",
            skip_file=skip,
            settings=FAST,
            timeout=180,
        )
        return SiteCrawl(name, server, result)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], SiteCrawl]]:
    """One crawl per site, made on first use and shared by every test of that site."""
    done: dict[str, SiteCrawl] = {}

    def get(name: str) -> SiteCrawl:
        if name not in done:
            done[name] = crawl_site(name, tmp_path_factory.mktemp(f"spool-{name}"))
        return done[name]

    yield get


@pytest.fixture(params=SITES)
def site(request: pytest.FixtureRequest, crawled: Callable[[str], SiteCrawl]) -> SiteCrawl:
    return crawled(request.param)


def cases(kind: str) -> list[tuple[str, str]]:
    out = []
    for name in SITES:
        for path in sorted((SITES_DIR / name / "expected").glob("*.json")):
            data = json.loads(path.read_text("utf-8"))
            if kind in data:
                out.append((name, path.stem))
    return out


def test_landed_set(site: SiteCrawl) -> None:
    landed = [row["canonical_url"] for row in site.articles]
    assert sorted(landed) == sorted(site.spec["landed"])
    assert site.result.stats["spooled"] == len(site.spec["landed"])
    assert {row["source_id"] for row in site.articles} == {site.spec["source"]}
    assert {row["crawl_run_id"] for row in site.articles} == {f"run-{site.name}"}


def test_rejects(site: SiteCrawl) -> None:
    got = sorted((r["url"], r["reason"], r["http_status"]) for r in site.rejects)
    expected = [(r["url"], r["reason"], r["http_status"]) for r in site.spec["rejects"]]
    # A robots.txt refusal is a reject row without a status; an offsite link is only counted.
    expected += [
        (s["url"], s["reason"], None)
        for s in site.spec["skipped"]
        if s["reason"] == "robots_disallowed"
    ]
    assert got == sorted(expected)
    assert site.result.stats["rejected"] == len(expected)


def test_requests(site: SiteCrawl) -> None:
    paths = [urlsplit(p).path for p in site.requests]
    for never in site.spec["never_requested"]:
        assert never not in paths
    for request in site.requests:
        params = {k for k, _ in parse_qsl(urlsplit(request).query)}
        assert not params & set(site.spec["never_requested_query_params"]), request
    counts = Counter(paths)
    assert {p: counts[p] for p in site.spec["request_counts"]} == site.spec["request_counts"]


def test_counters(site: SiteCrawl) -> None:
    stats = site.result.stats
    assert stats["discovered"] == site.spec["discovered"]
    assert stats["offsite"] == site.spec["offsite"]
    assert stats["finished_reason"] == "finished"
    assert stats["skipped_landed"] == 0
    assert stats["duplicates"] == 0
    robots = [s for s in site.spec["skipped"] if s["reason"] == "robots_disallowed"]
    assert stats["robots_disallowed"] == len(robots)


def test_raw_capture(site: SiteCrawl) -> None:
    assert site.result.warc_path is not None
    for row in site.articles:
        uri, status, body = read_record(site.result.out_dir, row["raw_ref"])
        assert (uri, status) == (row["url"], 200)
        served = site.root / "site" / urlsplit(row["url"]).path.lstrip("/")
        served = served / "index.html" if served.is_dir() else served
        assert body == served.read_bytes().replace(b"{{BASE}}", site.base.encode())


@pytest.mark.parametrize(("name", "case"), cases("expected"))
def test_article_rows_match_expected(
    crawled: Callable[[str], SiteCrawl], name: str, case: str
) -> None:
    site = crawled(name)
    data = site.case(case)
    expected = data["expected"]
    row = site.row_for(data["url"], expected.get("canonical_url"))
    assert row is not None, f"{data['url']} did not land"
    assert row["url"] == data["url"]
    assert row["http_status"] == 200
    mismatches = {
        key: {"expected": value, "got": row.get(key)}
        for key, value in expected.items()
        if row.get(key) != value
    }
    assert mismatches == {}


@pytest.mark.parametrize(("name", "case"), cases("reject"))
def test_rejected_pages_match_expected(
    crawled: Callable[[str], SiteCrawl], name: str, case: str
) -> None:
    site = crawled(name)
    data = site.case(case)
    reasons = [r["reason"] for r in site.rejects if r["url"] == data["url"]]
    assert reasons == [data["reject"]]
