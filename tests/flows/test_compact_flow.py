"""The compaction flow on a lake filled by real crawls of a fixture site."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flows.backfill import backfill_flow
from flows.compact import CompactSummary, compact_flow
from flows.crawl import crawl_flow
from lake import connect, open_store
from lake.manifest import committed_files
from schemas import to_jsonable

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
VIEWS = ("articles", "article_versions", "rejects", "runs")


def snapshot(lake: str) -> dict[str, list[str]]:
    con = connect(lake)
    try:
        out = {}
        for view in VIEWS:
            cursor = con.execute(f"SELECT * FROM {view}")
            names = [d[0] for d in cursor.description or []]
            out[view] = sorted(
                repr(to_jsonable(dict(zip(names, row, strict=True)))) for row in cursor.fetchall()
            )
        return out
    finally:
        con.close()


def backfill(site: Any, lake: str, day: date) -> Any:
    return backfill_flow(
        source=site.name,
        since=day,
        until=day,
        sources_file=str(site.sources_file),
        lake=lake,
        settings=FAST,
        return_state=True,
    )


def crawl(site: Any, lake: str) -> Any:
    return crawl_flow(
        sources_file=str(site.sources_file), lake=lake, settings=FAST, return_state=True
    )


def test_compact_flow_merges_the_files_of_two_runs_and_changes_no_result(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    # A backfill of one day (one run), then a crawl of the rest: two files in the 2024-05
    # partition. (A backfill of the month would land one run per day.)
    for landed in (backfill(wp, lake, date(2024, 5, 11)), crawl(wp, lake)):
        assert landed.is_completed(), landed.message
    store = open_store(lake)
    assert [k.split("/")[2] for k in committed_files(store, "articles")] == [
        "published_month=2024-05",
        "published_month=2024-05",
    ]
    before = snapshot(lake)
    assert len(before["articles"]) == len(wp.spec()["landed"])

    state = compact_flow(lake=lake, target_mb=1, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, CompactSummary)
    [outcome] = summary.sources
    assert outcome.source_id == "wp-en" and outcome.status == "ok"
    # Articles of 2024-05 and this month's rejects: two files each, one each after.
    assert {k: outcome.counts[k] for k in ("partitions", "files_replaced", "files_written")} == {
        "partitions": 2,
        "files_replaced": 4,
        "files_written": 2,
    }
    # Inside the grace period nothing is deleted yet.
    assert (outcome.counts["deleted_replaced"], outcome.counts["waiting_grace"]) == (0, 4)
    assert len(committed_files(store, "articles")) == 1
    assert snapshot(lake) == before

    # A later run still knows every landed article: it fetches none again, lands nothing.
    wp.server.clear()
    third = crawl(wp, lake)
    [after] = third.result().sources
    assert after.counts["landed"] == 0
    landed_paths = {urlsplit(u).path for u in wp.spec()["landed"]}
    assert landed_paths & {urlsplit(p).path for p in wp.server.paths()} == set()
    assert snapshot(lake)["article_versions"] == before["article_versions"]

    # With no grace, the vacuum deletes the replaced files: the four of the first compaction
    # and the two rejects files (the merged one and the third run's) this one merges.
    state = compact_flow(lake=lake, target_mb=1, grace_seconds=0, return_state=True)
    [outcome] = state.result().sources
    assert (outcome.counts["files_replaced"], outcome.counts["deleted_replaced"]) == (2, 6)
    assert snapshot(lake)["articles"] == before["articles"]
