"""Re-parsing: the captures of a real crawl read back into the very rows the crawl built."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_fixture_sites import SITES_DIR, SiteCrawl, crawl_site, read_jsonl
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spiders import capture, news_spider
from spiders.catalogue import parse_sources
from spiders.reparse import Reparser, read_captures

RUN = "20260101T000000Z-reparse"
# Fields a re-parse sets itself; every other field must come out as the crawl built it.
OWN_FIELDS = {"crawl_run_id"}


@pytest.fixture(scope="module")
def wp(tmp_path_factory: pytest.TempPathFactory) -> SiteCrawl:
    return crawl_site("wp-en", tmp_path_factory.mktemp("spool-wp-en"))


def source_of(site: SiteCrawl) -> Any:
    root = SITES_DIR / site.name
    text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", site.base)
    [source] = parse_sources(text, str(root / "sources.yaml"))
    return source


def reparse(site: SiteCrawl, out: Path, **window: date) -> tuple[Reparser, dict[str, Any]]:
    reparser = Reparser(source_of(site), out, run_id=RUN, **window)
    assert site.result.warc_path is not None
    reparser.add(site.result.warc_path, "raw.warc.gz")
    return reparser, reparser.finish()


def without(row: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


def test_the_spider_keys_its_hints_where_the_capture_reads_them() -> None:
    assert (capture.META_HINTS, capture.META_CANDIDATE) == (
        news_spider.HINTS,
        news_spider.CANDIDATE,
    )


def test_captures_carry_fetch_time_listed_url_and_hints(wp: SiteCrawl) -> None:
    assert wp.result.warc_path is not None
    with open(wp.result.warc_path, "rb") as handle:
        captures = {c.offset: c for c in read_captures(handle)}
    for row in wp.articles:
        found = captures[int(row["raw_ref"].split(":")[1])]
        assert found.url == row["url"]
        assert found.fetched_at.isoformat().replace("+00:00", "Z") == row["fetched_at"]
        assert found.discovered_url == row["discovered_url"]
        assert found.hints is not None and found.hints.discovered_via == row["discovered_via"]
        assert found.headers["Content-Type"].startswith("text/html")
    # Every fetched page was captured: the articles and the pages rejected after fetching.
    fetched = {r["url"] for r in wp.rejects if r["http_status"] == 200}
    assert len(captures) == len(wp.articles) + len(fetched)


def test_an_unchanged_extractor_rebuilds_the_same_rows(wp: SiteCrawl, tmp_path: Path) -> None:
    reparser, stats = reparse(wp, tmp_path / "out")
    rows = read_jsonl(tmp_path / "out" / "articles.jsonl")
    by_ref = {r["raw_ref"]: r for r in rows}
    assert sorted(by_ref) == sorted(r["raw_ref"] for r in wp.articles)
    for original in wp.articles:
        again = by_ref[original["raw_ref"]]
        assert again["crawl_run_id"] == RUN
        assert without(again, OWN_FIELDS) == without(original, OWN_FIELDS)
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    assert sorted((r["url"], r["reason"]) for r in rejects) == sorted(
        (r["url"], r["reason"]) for r in wp.rejects if r["http_status"] == 200
    )
    assert {k: stats[k] for k in ("records", "reextracted", "articles", "rejected")} == {
        "records": len(rows) + len(rejects),
        "reextracted": len(rows) + len(rejects),
        "articles": len(wp.articles),
        "rejected": len(rejects),
    }
    assert (stats["fetched"], stats["outside_window"]) == (0, 0)
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == stats
    assert reparser.counts["records"] == stats["records"]


def test_the_window_is_on_the_publication_day(wp: SiteCrawl, tmp_path: Path) -> None:
    _, stats = reparse(wp, tmp_path / "out", since=date(2024, 5, 10), until=date(2024, 5, 11))
    rows = read_jsonl(tmp_path / "out" / "articles.jsonl")
    assert sorted(r["canonical_url"] for r in rows) == sorted(
        u for u in wp.spec["landed"] if "/2024/05/10/" in u or "/2024/05/11/" in u
    )
    # The rejected pages were captured today, outside a 2024 window, like the other articles.
    assert stats["outside_window"] == stats["records"] - len(rows)
    assert read_jsonl(tmp_path / "out" / "rejects.jsonl") == []


def test_a_capture_without_metadata_uses_the_warc_date(tmp_path: Path, wp: SiteCrawl) -> None:
    """Captures written before the metadata record existed still re-parse, without hints."""
    html = SITES_DIR / "wp-en" / "site" / "2024/05/10/gyumri-kumayri-restoration-grants"
    page = (html / "index.html").read_bytes().replace(b"{{BASE}}", wp.base.encode())
    url = f"{wp.base}/2024/05/10/gyumri-kumayri-restoration-grants/"
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(page),
        http_headers=StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        ),
        warc_headers_dict={"WARC-Date": "2024-05-10T09:00:00Z"},
    )
    writer.write_record(record)
    path = tmp_path / "old.warc.gz"
    path.write_bytes(buffer.getvalue())
    assert gzip.decompress(path.read_bytes()).startswith(b"WARC/1.0")

    with open(path, "rb") as handle:
        [found] = list(read_captures(handle))
    assert (found.offset, found.hints, found.discovered_url) == (0, None, None)
    assert found.fetched_at == datetime(2024, 5, 10, 9, 0, tzinfo=UTC)

    reparser = Reparser(source_of(wp), tmp_path / "out", run_id=RUN)
    reparser.add(path, "raw/source_id=wp-en/old.warc.gz")
    [row] = read_jsonl(tmp_path / "out" / "articles.jsonl")
    assert row["raw_ref"] == "raw/source_id=wp-en/old.warc.gz:0"
    assert row["fetched_at"] == "2024-05-10T09:00:00Z"
    assert row["discovered_via"] is None and row["discovered_url"] is None
    assert row["title"] == wp.row_for(url, None)["title"]  # type: ignore[index]
