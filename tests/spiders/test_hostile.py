"""The hostile-input corpus (tests/fixtures/hostile/cases.yaml): each case ends in a recorded
reject, a reported problem or a clear error, the crawl goes on, and memory stays bounded.

The cases' crawls run once per module, concurrently, against the fixture server; each case
then checks its own share of the outcome exactly.
"""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from newslake.site_server import SiteServer
from spiders.catalogue import Source, SourcesError, load_sources
from spiders.runner import CrawlResult, run_crawl

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CORPUS = yaml.safe_load((HOSTILE / "cases.yaml").read_text("utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
OK_ARTICLE = "/ok/1.html"
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}


@dataclass
class Crawled:
    server: SiteServer
    result: CrawlResult
    articles: list[dict[str, Any]]
    rejects: list[dict[str, Any]]

    @property
    def base(self) -> str:
        return self.server.base_url

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)


def _on(base: str, value: Any) -> Any:
    """Server paths ("/x") of a case's source entry made into URLs on the fixture server."""
    if isinstance(value, str):
        return base + value if value.startswith("/") else value
    if isinstance(value, list):
        return [_on(base, v) for v in value]
    if isinstance(value, dict):
        return {k: _on(base, v) for k, v in value.items()}
    return value


def _source(name: str, spec: dict[str, Any], base: str) -> Source:
    fields: dict[str, Any] = {
        "id": f"hostile-{name}",
        "name": f"Hostile {name}",
        "homepage": base + "/",
        "country": None,
        "languages": ["en"],
        "timezone": "UTC",
        "allow_private_network": True,  # served on 127.0.0.1
        "feeds": [base + "/ok/feed.xml"] if spec.get("ok_feed", True) else [],
        "sitemaps": [],
        "archives": [],
    }
    for case in CASES:
        if case.get("crawl") != name:
            continue
        for key, value in _on(base, case.get("source") or {}).items():
            if isinstance(value, list) and key in ("feeds", "sitemaps", "archives"):
                fields[key] += value
            else:
                fields[key] = value
    return Source.model_validate(fields)


def _warm(server: SiteServer) -> None:
    """Have the server gzip its generated bombs before the crawls, so that their first
    request is not slowed by the compression, then forget those requests."""
    for path in ("/gzip-bomb/page.html", "/gzip-bomb-sitemap/sitemap.xml.gz"):
        with urllib.request.urlopen(server.base_url + path, timeout=60) as response:
            response.read()
    server.clear()


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crawled]]:
    servers = {name: SiteServer(HOSTILE / name).start() for name in ("site", "slow-site")}
    try:
        _warm(servers["site"])
        work = tmp_path_factory.mktemp("hostile")

        def crawl(name: str) -> Crawled:
            spec = CORPUS["crawls"][name]
            server = servers[spec.get("site", "site")]
            window = spec.get("backfill")
            result = run_crawl(
                _source(name, spec, server.base_url),
                work / name,
                run_id=f"hostile-{name}",
                settings={**FAST, **(spec.get("settings") or {})},
                since=date.fromisoformat(str(window[0])) if window else None,
                until=date.fromisoformat(str(window[1])) if window else None,
                timeout=240,
            )
            return Crawled(server, result, _read(result.articles_path), _read(result.rejects_path))

        names = list(CORPUS["crawls"])
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            yield dict(zip(names, pool.map(crawl, names), strict=True))
    finally:
        for server in servers.values():
            server.stop()


def _fill(text: str, base: str) -> str:
    return text.replace("{{BASE}}", base)


def _check_crawl_case(case: dict[str, Any], crawl: Crawled) -> None:
    base = crawl.base
    key = case.get("key", f"/{case['id']}/")
    stats = crawl.result.stats

    # The crawl went on: it finished, and the well-behaved article landed.
    assert stats["finished_reason"] == "finished"
    if CORPUS["crawls"][case["crawl"]].get("ok_feed", True):
        assert OK_ARTICLE in {crawl.path(a["url"]) for a in crawl.articles}
    assert crawl.result.peak_rss_mb is not None
    assert crawl.result.peak_rss_mb < CORPUS["max_rss_mb"]

    mine = [a for a in crawl.articles if key in a["url"]]
    assert sorted(crawl.path(a["url"]) for a in mine) == sorted(case.get("landed") or [])
    for article in mine:
        for field, value in (case.get("fields") or {}).items():
            assert article[field] == value, (article["url"], field)

    rejects = sorted(
        (crawl.path(r["url"]), r["reason"], r["detail"]) for r in crawl.rejects if key in r["url"]
    )
    expected = sorted(case.get("rejects") or [])
    assert [(p, r) for p, r, _ in rejects] == [(p, r) for p, r, _ in expected]
    for (_, _, detail), (_, _, wanted) in zip(rejects, expected, strict=True):
        assert _fill(wanted, base) in detail

    problems = [p for p in stats["problems"] if key in p]
    wanted_problems = [_fill(p, base) for p in case.get("problems") or []]
    assert len(problems) == len(wanted_problems), problems
    for wanted in wanted_problems:
        assert any(wanted in p for p in problems), (wanted, problems)

    for name, value in (case.get("stats") or {}).items():
        assert stats[name] == value, name

    paths = crawl.server.paths()
    for path, count in (case.get("requests") or {}).items():
        assert paths.count(path) == count, path
    if case.get("only_requests"):
        requested = {p for p in paths if p.startswith(case["only_requests"])}
        assert requested == {p for p, n in case["requests"].items() if n}
    for prefix, gap in (case.get("min_gap") or {}).items():
        times = sorted(r.at for r in crawl.server.requests if r.path.startswith(prefix))
        assert len(times) >= 2
        assert min(b - a for a, b in itertools.pairwise(times)) >= gap


def _check_catalogue_case(case: dict[str, Any], tmp_path: Path) -> None:
    file = tmp_path / "sources.yaml"
    file.write_text(case["sources"], "utf-8")
    with pytest.raises(SourcesError) as caught:
        load_sources(file)
    assert caught.value.problems == [e.replace("{file}", str(file)) for e in case["errors"]]
    if case.get("secret"):
        assert case["secret"] not in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_case(case: dict[str, Any], request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if case.get("kind") == "catalogue":
        _check_catalogue_case(case, tmp_path)
        return
    crawled: dict[str, Crawled] = request.getfixturevalue("crawled")
    _check_crawl_case(case, crawled[case["crawl"]])


def test_the_corpus_covers_every_outcome(crawled: dict[str, Crawled]) -> None:
    """Nothing a crawl did escapes the cases: every landed URL, reject and problem is one's."""
    assert len(CASES) >= 30
    for name, crawl in crawled.items():
        keys = [c.get("key", f"/{c['id']}/") for c in CASES if c.get("crawl") == name]
        for url in [a["url"] for a in crawl.articles] + [r["url"] for r in crawl.rejects]:
            assert crawl.path(url) == OK_ARTICLE or any(k in url for k in keys), (name, url)
        for problem in crawl.result.stats["problems"]:
            assert any(k in problem for k in keys), (name, problem)
