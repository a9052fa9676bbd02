"""Compaction: small files merged, every view unchanged, readers never see a partial state."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from spool_factory import (
    AM,
    EXTRACTOR,
    GE,
    RUN_1,
    RUN_2,
    RUN_3,
    STARTED,
    CrashBeforeCommit,
    article,
    land_run_1,
    reject,
    ts,
    write_spool,
)

from lake import LakeError, Store, connect, land_spool, open_store, read_manifests
from lake.compact import (
    _split,
    compact_source,
    lake_source_ids,
    vacuum_source,
)
from lake.landed import landed_keys, write_skip_file
from lake.manifest import committed_files, manifest_key
from lake.writer import parquet_bytes
from schemas import ARTICLE_SCHEMA, to_jsonable

VIEWS = ("articles", "article_versions", "rejects", "runs")


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every view, as sorted text (compaction may reorder rows, not change them)."""
    con = connect(store)
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


def land(
    store: Store,
    tmp_path: Path,
    run_id: str,
    source: str,
    rows: list[dict[str, Any]],
    rejects: list[dict[str, Any]] = (),
) -> None:  # type: ignore[assignment]
    spool = write_spool(tmp_path / f"spool-{run_id}-{source}", rows, rejects)
    land_spool(
        store, spool, run_id=run_id, source_id=source, started_at=STARTED, extractor=EXTRACTOR
    )


def land_history(store: Store, tmp_path: Path) -> None:
    """Three runs: several small files in the 2024-03 and 2024-04 partitions of AM."""
    land_run_1(store, tmp_path)
    land(
        store,
        tmp_path,
        RUN_2,
        AM,
        [
            # A new version of a known article, and a new article in a known partition.
            article(
                RUN_2,
                "am-gas",
                body="Тарифы на газ изменятся с мая.",
                fetched_at=ts("2024-04-02T06:02:00Z"),
            ),
            article(
                RUN_2,
                "am-budget",
                url="https://ararat-courier.am/hy/news/2024/03/16/b2/",
                canonical_url="https://ararat-courier.am/hy/news/2024/03/16/b2/",
                title="Երկրորդ հոդված",
                fetched_at=ts("2024-04-02T06:03:00Z"),
            ),
        ],
        [reject(RUN_2, "am-tag")],
    )
    land(
        store,
        tmp_path,
        RUN_3,
        AM,
        [
            article(
                RUN_3,
                "am-budget",
                url="https://ararat-courier.am/hy/news/2024/03/17/b3/",
                canonical_url="https://ararat-courier.am/hy/news/2024/03/17/b3/",
                title="Երրորդ հոդված",
                fetched_at=ts("2024-04-03T06:03:00Z"),
            ),
            article(
                RUN_3,
                "am-gas",
                url="https://ararat-courier.am/ru/news/water/",
                canonical_url="https://ararat-courier.am/ru/news/water/",
                title="Вода",
                fetched_at=ts("2024-04-03T06:04:00Z"),
            ),
        ],
        [reject(RUN_3, "am-gone")],
    )


def visible(store: Store, dataset: str, source: str = AM) -> list[str]:
    return committed_files(store, dataset, [source])


def test_compaction_keeps_every_view_identical(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_history(store, tmp_path)
    before = snapshot(store)
    articles_before = visible(store, "articles")
    rejects_before = visible(store, "rejects")
    assert len(articles_before) == 7 and len(rejects_before) == 3

    result = compact_source(store, AM, target_mb=1)
    # 2024-03 (3 files) and 2024-04 (3 files) of articles, 2024-04 of rejects (3 files);
    # undated has one file and is left alone.
    assert [
        (p.dataset, p.partition, len(p.replaced), len(p.written)) for p in result.partitions
    ] == [
        ("articles", {"source_id": AM, "published_month": "2024-03"}, 3, 1),
        ("articles", {"source_id": AM, "published_month": "2024-04"}, 3, 1),
        ("rejects", {"source_id": AM, "rejected_month": "2024-04"}, 3, 1),
    ]
    assert result.manifest is not None and result.manifest["flow"] == "compact"
    assert result.manifest["manifest_version"] == 2
    assert sorted(result.manifest["replaces"]) == sorted(
        k for k in articles_before if "undated" not in k
    ) + sorted(rejects_before)
    assert result.counts()["rows"] == 10 and result.duplicates_dropped == 0
    assert store.exists(manifest_key(result.compaction_id, AM))

    after = visible(store, "articles")
    assert len(after) == 3 and len(visible(store, "rejects")) == 1
    assert snapshot(store) == before  # articles, article_versions, rejects and runs alike
    assert visible(store, "articles", GE) == committed_files(store, "articles", [GE])

    # The replaced files stay for readers that listed before the commit, until the grace ends.
    kept = vacuum_source(store, AM)
    assert (kept.replaced_deleted, kept.orphans_deleted, kept.replaced_waiting) == ([], [], 9)
    gone = vacuum_source(store, AM, grace=timedelta(0))
    assert len(gone.replaced_deleted) == 9 and gone.orphans_deleted == []
    assert not any(store.exists(k) for k in result.manifest["replaces"])
    assert snapshot(store) == before

    # Nothing left to merge: no manifest is written.
    again = compact_source(store, AM, target_mb=1)
    assert again.partitions == [] and again.manifest is None
    assert not store.exists(manifest_key(again.compaction_id, AM))
    assert lake_source_ids(store) == [AM, GE]


def test_duplicate_copies_are_dropped_exactly_as_the_view_drops_them(
    lake_uri: str, tmp_path: Path
) -> None:
    """Copies of one version (from before landings took a lease) merge into the view's pick."""
    store = open_store(lake_uri)
    land_history(store, tmp_path)
    # A legacy file holding a later copy of a landed version, committed by hand.
    from lake.manifest import build_manifest, write_manifest

    copy = article("20240405T000000Z-legacy", "am-budget", fetched_at=ts("2024-04-05T00:00:00Z"))
    table = pa.Table.from_pylist([copy], schema=ARTICLE_SCHEMA)
    key = f"articles/source_id={AM}/published_month=2024-03/part-legacy-0.parquet"
    data = parquet_bytes(table)
    store.put(key, data)
    write_manifest(
        store,
        build_manifest(
            run_id="20240405T000000Z-legacy",
            source_id=AM,
            flow="crawl",
            status="committed",
            started_at=ts("2024-04-05T00:00:00Z"),
            files=[
                {
                    "key": key,
                    "dataset": "articles",
                    "rows": 1,
                    "bytes": len(data),
                    "partition": {"source_id": AM, "published_month": "2024-03"},
                }
            ],
        ),
    )
    before = snapshot(store)
    result = compact_source(store, AM, target_mb=1)
    assert result.duplicates_dropped == 1
    assert snapshot(store) == before
    con = connect(store)
    assert con.execute(
        "SELECT count(*) FROM _lake_article_rows WHERE crawl_run_id = '20240405T000000Z-legacy'"
    ).fetchone() == (0,)


def test_a_reader_never_sees_a_partition_missing_rows_or_holding_duplicates(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    # Many partitions (twelve months) of several files each, so compaction takes a while.
    runs = [f"2024050{i}T000000Z-r{i}" for i in range(1, 4)]
    for n, run in enumerate(runs):
        rows = [
            article(
                run,
                "am-budget",
                url=f"https://ararat-courier.am/hy/news/{m}/{n}/",
                canonical_url=f"https://ararat-courier.am/hy/news/{m}/{n}/",
                published_at=ts(f"2023-{m:02d}-15T08:30:00Z"),
            )
            for m in range(1, 13)
        ]
        land(store, tmp_path, run, AM, rows)
    expected = sorted(
        (r[0], r[1])
        for r in connect(store)
        .execute("SELECT article_id, content_hash FROM _lake_article_rows")
        .fetchall()
    )
    assert len(expected) == 36

    snapshots: list[int] = []
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while True:
            last = done.is_set()  # one more snapshot once the compaction has committed
            con = connect(store)
            try:
                seen = sorted(
                    (r[0], r[1])
                    for r in con.execute(
                        "SELECT article_id, content_hash FROM _lake_article_rows"
                    ).fetchall()
                )
                manifests = len(read_manifests(store, source_ids=[AM]))
            finally:
                con.close()
            if seen != expected:
                problems.append(f"{len(seen)} rows, {len(set(seen))} distinct")
            snapshots.append(manifests)
            if last:
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        time.sleep(0.2)
        result = compact_source(store, AM, target_mb=1)
    finally:
        done.set()
        thread.join(timeout=120)
    assert problems == []
    # Snapshots from before the commit (three run manifests) and after it (plus the compaction).
    assert (snapshots[0], snapshots[-1]) == (3, 4)
    assert len(result.partitions) == 12 and result.files_written == 12
    assert len(visible(store, "articles")) == 12


def test_a_crash_before_the_commit_changes_nothing(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_history(store, tmp_path)
    before = snapshot(store)
    files_before = sorted(store.list())
    with pytest.raises(KeyboardInterrupt):
        compact_source(CrashBeforeCommit(store), AM, target_mb=1, lease_ttl=0.5)
    orphans = sorted(set(store.list()) - set(files_before))
    assert len(orphans) == 4  # three merged files and the lease the crashed process held
    assert snapshot(store) == before
    time.sleep(0.6)  # the dead compaction's lease expires

    # The vacuum (under the lease) removes the dead compaction's files once they are older
    # than the grace period (by the time in their compaction id); no replaced file goes.
    assert vacuum_source(store, AM).orphans_deleted == []
    # A file whose name carries no run time is never taken for an orphan.
    odd = f"articles/source_id={AM}/published_month=2024-03/part-by-hand-0.parquet"
    store.put(odd, b"not parquet")
    cleaned = vacuum_source(store, AM, grace=timedelta(0))
    assert cleaned.replaced_deleted == [] and len(cleaned.orphans_deleted) == 3
    assert sorted(store.list()) == sorted([*files_before, odd])
    store.delete(odd)
    result = compact_source(store, AM, target_mb=1)
    assert result.files_replaced == 9
    assert snapshot(store) == before


def test_landing_after_compaction_dedupes_against_compacted_rows(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    land_history(store, tmp_path)
    keys = landed_keys(store, AM)
    write_skip_file(store, AM, tmp_path / "skip-before.txt")
    compact_source(store, AM, target_mb=1)
    vacuum_source(store, AM, grace=timedelta(0))
    assert landed_keys(store, AM) == keys
    write_skip_file(store, AM, tmp_path / "skip-after.txt")
    assert (tmp_path / "skip-after.txt").read_text() == (tmp_path / "skip-before.txt").read_text()

    run = "20240410T000000Z-after"
    spool = write_spool(
        tmp_path / "spool-after",
        [
            article(run, "am-undated"),  # landed before compaction (its partition untouched)
            article(run, "am-budget"),  # landed before, now only in a compacted file
            article(
                run,
                "am-budget",
                url="https://ararat-courier.am/hy/news/new/",
                canonical_url="https://ararat-courier.am/hy/news/new/",
            ),
        ],
    )
    result = land_spool(store, spool, run_id=run, source_id=AM)
    assert (result.landed, result.duplicates) == (1, 2)


def test_compaction_needs_a_positive_target(lake_uri: str) -> None:
    store = open_store(lake_uri)
    with pytest.raises(LakeError, match="must be positive"):
        compact_source(store, AM, target_mb=0)


def test_output_files_are_cut_to_the_target_size() -> None:
    table = pa.table({"n": list(range(10))})
    pieces = _split(table, bytes_in=3000, target_bytes=1000)
    assert [p.column("n").to_pylist() for p in pieces] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _split(table, bytes_in=500, target_bytes=1000)[0].num_rows == 10


def test_a_manifest_from_a_newer_newslake_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "lake")
    store.put(
        manifest_key(RUN_1, AM),
        b'{"manifest_version": 3, "run_id": "%s", "source_id": "%s", "flow": "crawl",'
        b' "status": "committed", "files": [], "counts": {}}' % (RUN_1.encode(), AM.encode()),
    )
    with pytest.raises(LakeError, match="newer than this newslake reads"):
        read_manifests(store)


def test_the_vacuum_keeps_replaced_files_inside_the_grace_period(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    land_history(store, tmp_path)
    compact_source(store, AM, target_mb=1)
    later = datetime.now(UTC) + timedelta(hours=23)
    assert vacuum_source(store, AM, now=later).replaced_waiting == 9
    assert len(vacuum_source(store, AM, now=later + timedelta(hours=2)).replaced_deleted) == 9
