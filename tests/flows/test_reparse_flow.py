"""The re-parse flow: a fixture site crawled into a lake, then re-extracted from its captures."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

import spiders.rows
from flows.crawl import crawl_flow
from flows.reparse import ReparseSummary, reparse_flow
from lake import connect, open_store, run_query
from lake.raw import parse_raw_ref, raw_captures
from spiders.extraction import EXTRACTOR, extract_article

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
CHANGED = "/2024/05/11/lake-sevan-rises-third-year-irrigation-cut/"
NEW_EXTRACTOR = "newslake-extract/0.2-test"


def crawl(site: Any, lake: str) -> None:
    state = crawl_flow(
        sources_file=str(site.sources_file), lake=lake, settings=FAST, return_state=True
    )
    assert state.is_completed(), state.message


def reparse(site: Any, lake: str, **window: date) -> dict[str, int]:
    site.server.clear()
    state = reparse_flow(
        source=site.name,
        sources_file=str(site.sources_file),
        lake=lake,
        **window,
        return_state=True,
    )
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, ReparseSummary)
    assert site.server.paths() == []  # no network: not one request reached the site
    return summary.counts


def versions(lake: str) -> list[tuple[str, str, str]]:
    rows = (
        connect(lake)
        .execute("SELECT url, content_hash, extractor FROM article_versions ORDER BY 1, 2")
        .fetchall()
    )
    return [tuple(r) for r in rows]


def use_new_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next extractor release: it reads one page's body differently. Re-parsing runs in
    this process, so the patch reaches it (crawls run in their own processes)."""

    def changed(html: Any, url: str | None, **kwargs: Any) -> dict[str, Any]:
        fields = extract_article(html, url, **kwargs)
        if url and url.endswith(CHANGED):
            fields["body"] += "\n\n(Corrected.)"
        return fields

    monkeypatch.setattr(spiders.rows, "extract_article", changed)
    monkeypatch.setattr(spiders.rows, "EXTRACTOR", NEW_EXTRACTOR)


def test_rows_in_the_lake_point_at_their_capture(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    crawl(wp, lake)
    store = open_store(lake)
    [warc] = raw_captures(store, "wp-en")
    assert warc["key"].startswith("raw/source_id=wp-en/") and warc["key"].endswith(".warc.gz")
    data = store.get(warc["key"])
    rows = connect(lake).execute("SELECT url, raw_ref FROM articles").fetchall()
    assert len(rows) == len(wp.spec()["landed"])
    for url, raw_ref in rows:
        key, offset = parse_raw_ref(raw_ref)
        assert key == warc["key"]
        record = next(iter(ArchiveIterator(io.BytesIO(data[offset:]))))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == url


def test_reparse_lands_exactly_what_the_extractor_changed(
    fixture_site: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    crawl(wp, lake)
    spec = wp.spec()
    landed = len(spec["landed"])
    pages = [r for r in spec["rejects"] if r["http_status"] == 200]  # fetched, not articles
    before = versions(lake)

    # The same extractor: every row comes out the same, nothing lands.
    same = reparse(wp, lake)
    assert same == {
        "records": landed + len(pages),
        "outside_window": 0,
        "reextracted": landed + len(pages),
        "changed": 0,
        "unchanged": landed,
        "rejected": len(pages),
    }
    assert versions(lake) == before

    # A new extractor that changes one page: that article, and only it, gets a new version.
    use_new_extractor(monkeypatch)
    counts = reparse(wp, lake)
    assert (counts["changed"], counts["unchanged"], counts["rejected"]) == (
        1,
        landed - 1,
        len(pages),
    )
    after = versions(lake)
    new = sorted(set(after) - set(before))
    assert [(url.endswith(CHANGED), extractor) for url, _, extractor in new] == [
        (True, NEW_EXTRACTOR)
    ]
    assert len(after) == len(before) + 1
    latest = json.loads(
        run_query(
            lake,
            "SELECT url, extractor, body LIKE '%(Corrected.)' AS corrected, fetched_at,"
            " crawl_run_id FROM articles ORDER BY url",
            "json",
        )
    )
    assert len(latest) == landed
    for row in latest:
        fixed = row["url"].endswith(CHANGED)
        assert (row["extractor"], row["corrected"]) == (
            NEW_EXTRACTOR if fixed else EXTRACTOR,
            fixed,
        )
    runs = (
        connect(lake)
        .execute("SELECT flow, fetched, landed FROM runs ORDER BY started_at")
        .fetchall()
    )
    assert runs == [
        ("crawl", len(spec["request_counts"]), landed),
        ("reparse", 0, 0),
        ("reparse", 0, 1),
    ]

    # Run again: that version is in the lake now, so nothing lands.
    assert reparse(wp, lake)["changed"] == 0


def test_the_window_selects_articles_by_publication_day(
    fixture_site: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    crawl(wp, lake)
    use_new_extractor(monkeypatch)
    counts = reparse(wp, lake, since=date(2024, 5, 12), until=date(2024, 5, 12))
    spec = wp.spec()
    in_window = [u for u in spec["landed"] if "/2024/05/12/" in u]
    assert counts["reextracted"] == len(in_window)
    assert counts["outside_window"] == counts["records"] - len(in_window)
    assert counts["changed"] == 0  # the changed page was published on the 11th
    counts = reparse(wp, lake, since=date(2024, 5, 11), until=date(2024, 5, 11))
    assert counts["changed"] == 1


def test_reparse_on_s3(fixture_site: Callable[..., Any], s3_lake: str) -> None:
    wp = fixture_site("wp-en")
    crawl(wp, s3_lake)
    counts = reparse(wp, s3_lake)
    assert (counts["changed"], counts["unchanged"]) == (0, len(wp.spec()["landed"]))
