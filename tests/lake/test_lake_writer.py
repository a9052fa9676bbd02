from __future__ import annotations

import io
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
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
from warcio.archiveiterator import ArchiveIterator

from lake import (
    LakeError,
    SpoolError,
    Store,
    connect,
    land_spool,
    open_store,
    read_manifests,
    write_failed_manifest,
)
from lake.lease import lease_key
from lake.store import LocalStore
from schemas import ARTICLE_SCHEMA, article_id


def rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    con = connect(store)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def data_keys(store: Store) -> list[str]:
    return [k for k in store.list() if not k.startswith("runs/")]


def test_land_writes_the_layout_and_the_manifest(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    spool = write_spool(
        tmp_path / "spool",
        [article(RUN_1, n) for n in ("am-budget", "am-gas", "am-undated")],
        [reject(RUN_1, "am-tag"), reject(RUN_1, "am-gone")],
    )
    before = datetime.now(UTC)
    result = land_spool(
        store, spool, run_id=RUN_1, source_id=AM, started_at=STARTED, extractor=EXTRACTOR
    )
    after = datetime.now(UTC)

    assert (result.landed, result.rejected, result.duplicates) == (3, 2, 0)
    assert not result.already_committed
    assert list(store.list()) == [
        f"articles/source_id={AM}/published_month=2024-03/part-{RUN_1}-0.parquet",
        f"articles/source_id={AM}/published_month=2024-04/part-{RUN_1}-1.parquet",
        f"articles/source_id={AM}/published_month=undated/part-{RUN_1}-2.parquet",
        f"raw/source_id={AM}/{RUN_1}.warc.gz",
        f"rejects/source_id={AM}/rejected_month=2024-04/part-{RUN_1}-3.parquet",
        f"runs/{RUN_1}/{AM}.json",
    ]
    manifest = json.loads(store.get(f"runs/{RUN_1}/{AM}.json"))
    assert before <= ts(manifest.pop("finished_at")) <= after
    sizes = {f["key"]: f.pop("bytes") for f in manifest["files"]}
    assert sizes[f"raw/source_id={AM}/{RUN_1}.warc.gz"] == (spool / "raw.warc.gz").stat().st_size
    assert all(len(store.get(k)) == n for k, n in sizes.items())
    assert manifest == {
        "manifest_version": 1,
        "run_id": RUN_1,
        "source_id": AM,
        "flow": "crawl",
        "status": "committed",
        "started_at": "2024-04-01T06:00:00Z",
        "schema_version": 1,
        "extractor": EXTRACTOR,
        "counts": {
            "discovered": 10,
            "fetched": 5,
            "rejected": 2,
            "skipped_landed": 0,
            "duplicates": 0,
            "offsite": 1,
            "landed": 3,
            "lake_duplicates": 0,
        },
        "files": [
            {
                "key": f"raw/source_id={AM}/{RUN_1}.warc.gz",
                "dataset": "raw",
                "rows": None,
                "partition": {"source_id": AM},
            },
            {
                "key": f"articles/source_id={AM}/published_month=2024-03/part-{RUN_1}-0.parquet",
                "dataset": "articles",
                "rows": 1,
                "partition": {"source_id": AM, "published_month": "2024-03"},
            },
            {
                "key": f"articles/source_id={AM}/published_month=2024-04/part-{RUN_1}-1.parquet",
                "dataset": "articles",
                "rows": 1,
                "partition": {"source_id": AM, "published_month": "2024-04"},
            },
            {
                "key": f"articles/source_id={AM}/published_month=undated/part-{RUN_1}-2.parquet",
                "dataset": "articles",
                "rows": 1,
                "partition": {"source_id": AM, "published_month": "undated"},
            },
            {
                "key": f"rejects/source_id={AM}/rejected_month=2024-04/part-{RUN_1}-3.parquet",
                "dataset": "rejects",
                "rows": 2,
                "partition": {"source_id": AM, "rejected_month": "2024-04"},
            },
        ],
        "error": None,
        "details": {"finished_reason": "finished"},
    }
    assert result.counts == manifest["counts"]


def test_parquet_files_are_zstd_with_statistics_and_the_exact_schema(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    key = f"articles/source_id={AM}/published_month=2024-03/part-{RUN_1}-0.parquet"
    parquet = pq.ParquetFile(io.BytesIO(store.get(key)))
    assert parquet.schema_arrow == ARTICLE_SCHEMA
    assert parquet.schema_arrow.metadata == ARTICLE_SCHEMA.metadata
    column = parquet.metadata.row_group(0).column(parquet.schema_arrow.get_field_index("title"))
    assert column.compression == "ZSTD"
    assert column.statistics.has_min_max
    row = parquet.read().to_pylist()[0]
    assert row == {
        **article(RUN_1, "am-budget"),
        "raw_ref": f"raw/source_id={AM}/{RUN_1}.warc.gz:0",
    }


def test_raw_ref_points_at_the_capture_in_the_lake(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    refs = rows(store, "SELECT url, raw_ref FROM articles WHERE source_id = 'ararat-courier'")
    assert len(refs) == 3
    for url, ref in refs:
        key, offset = ref.rsplit(":", 1)
        assert key == f"raw/source_id={AM}/{RUN_1}.warc.gz"
        record = next(ArchiveIterator(io.BytesIO(store.get(key)[int(offset) :])))
        assert record.rec_headers.get_header("WARC-Target-URI") == url
        assert record.rec_type == "response"


def test_relanding_the_same_run_is_a_no_op(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    keys = list(store.list())
    manifest = store.get(f"runs/{RUN_1}/{AM}.json")
    again = land_spool(store, tmp_path / "spool-am", run_id=RUN_1, source_id=AM)
    assert again.already_committed
    assert (again.landed, again.rejected, again.duplicates) == (3, 2, 0)
    assert again.counts["landed"] == 3
    assert list(store.list()) == keys
    assert store.get(f"runs/{RUN_1}/{AM}.json") == manifest


def test_a_new_run_of_unchanged_pages_lands_nothing(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    spool = write_spool(
        tmp_path / "spool-2",
        [
            article(RUN_2, "am-budget", fetched_at=ts("2024-04-02T06:01:00Z")),
            article(RUN_2, "am-gas", fetched_at=ts("2024-04-02T06:02:00Z")),
            # Twice in one run: kept once.
            article(RUN_2, "am-gas", fetched_at=ts("2024-04-02T06:02:30Z")),
        ],
        [],
        stats={
            "discovered": 3,
            "fetched": 3,
            "spooled": 3,
            "duplicates": 1,
            "finished_reason": "finished",
            "elapsed_seconds": 1.5,
            "rejected_by_reason": {},
        },
    )
    result = land_spool(store, spool, run_id=RUN_2, source_id=AM, started_at=STARTED)
    assert (result.landed, result.rejected, result.duplicates) == (0, 0, 3)
    assert result.counts == {
        "discovered": 3,
        "fetched": 3,
        "spooled": 3,
        "duplicates": 4,
        "landed": 0,
        "rejected": 0,
        "lake_duplicates": 3,
    }
    assert result.manifest["details"] == {
        "finished_reason": "finished",
        "elapsed_seconds": 1.5,
        "rejected_by_reason": {},
    }
    assert [f["dataset"] for f in result.files] == ["raw"]
    assert rows(store, "SELECT count(*) FROM article_versions") == [(4,)]
    assert rows(store, "SELECT crawl_run_id, count(*) FROM articles GROUP BY ALL") == [(RUN_1, 4)]
    assert rows(store, "SELECT run_id, source_id, landed, duplicates FROM runs ORDER BY ALL") == [
        (RUN_1, AM, 3, 0),
        (RUN_1, GE, 1, 0),
        (RUN_2, AM, 0, 4),
    ]


def test_a_changed_page_is_a_new_version(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    edited = article(
        RUN_2,
        "am-gas",
        body="Тарифы на газ не изменятся до конца года.\n\nРегулятор опубликовал решение.",
        modified_at=ts("2024-04-02T05:00:00Z"),
        fetched_at=ts("2024-04-02T06:02:00Z"),
    )
    spool = write_spool(tmp_path / "spool-2", [edited, article(RUN_2, "am-budget")], [])
    result = land_spool(store, spool, run_id=RUN_2, source_id=AM, started_at=STARTED)
    assert (result.landed, result.duplicates) == (1, 1)

    gas = article_id("https://ararat-courier.am/ru/news/gas-prices/")
    original = article(RUN_1, "am-gas")
    assert edited["article_id"] == gas and edited["content_hash"] != original["content_hash"]
    assert rows(
        store,
        f"SELECT content_hash, crawl_run_id, fetched_at, body FROM article_versions "
        f"WHERE article_id = '{gas}' ORDER BY fetched_at",
    ) == [
        (original["content_hash"], RUN_1, original["fetched_at"], original["body"]),
        (edited["content_hash"], RUN_2, edited["fetched_at"], edited["body"]),
    ]
    assert rows(
        store, f"SELECT content_hash, modified_at, body FROM articles WHERE article_id = '{gas}'"
    ) == [(edited["content_hash"], edited["modified_at"], edited["body"])]
    assert rows(store, "SELECT count(*) FROM articles") == [(4,)]
    assert rows(store, "SELECT count(*) FROM article_versions") == [(5,)]


@pytest.mark.parametrize("rerun_id", [RUN_1, RUN_3], ids=["same-run", "new-run"])
def test_interrupted_land_then_reland_lands_exactly_once(
    lake_uri: str, tmp_path: Path, rerun_id: str
) -> None:
    store = open_store(lake_uri)
    names = ("am-budget", "am-gas", "am-undated")
    spool = write_spool(
        tmp_path / "spool", [article(RUN_1, n) for n in names], [reject(RUN_1, "am-tag")]
    )
    with pytest.raises(KeyboardInterrupt):
        land_spool(CrashBeforeCommit(store), spool, run_id=RUN_1, source_id=AM, lease_ttl=0.5)
    orphans = list(store.list())
    # Five data files, and the landing lease the crashed lander could not release.
    assert len(orphans) == 6 and not any(k.startswith("runs/") for k in orphans)
    assert lease_key(AM) in orphans
    time.sleep(0.6)  # a new run takes the lease over once it expires; the same run at once
    # Uncommitted files are invisible.
    assert rows(store, "SELECT count(*) FROM article_versions") == [(0,)]
    assert rows(store, "SELECT count(*) FROM rejects") == [(0,)]
    assert rows(store, "SELECT count(*) FROM runs") == [(0,)]

    if rerun_id != RUN_1:
        spool = write_spool(
            tmp_path / "spool-rerun",
            [article(rerun_id, n) for n in names],
            [reject(rerun_id, "am-tag")],
        )
    result = land_spool(store, spool, run_id=rerun_id, source_id=AM)
    assert (result.landed, result.rejected, result.duplicates) == (3, 1, 0)
    assert rows(
        store, "SELECT title, crawl_run_id, count(*) FROM article_versions GROUP BY ALL ORDER BY 1"
    ) == [
        ("Letters to the editor", rerun_id, 1),
        ("Цены на газ для населения останутся прежними", rerun_id, 1),  # Cyrillic < Armenian
        ("Կառավարությունը հաստատեց 2025 թվականի բյուջեի նախագիծը", rerun_id, 1),
    ]
    assert rows(store, "SELECT count(*) FROM articles") == [(3,)]
    assert rows(store, "SELECT url, crawl_run_id FROM rejects") == [
        ("https://ararat-courier.am/hy/tag/budget/", rerun_id)
    ]
    assert rows(store, "SELECT run_id, status, landed FROM runs") == [(rerun_id, "committed", 3)]


def test_failed_run_manifest(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    manifest = write_failed_manifest(
        store,
        run_id=RUN_1,
        source_id=GE,
        error="CrawlError: connection refused by tbilisi-herald.ge",
        flow="backfill",
        started_at=STARTED,
        finished_at=ts("2024-04-01T06:10:00Z"),
        counts={"discovered": 4, "fetched": 0, "finished_reason": "shutdown"},
        extractor=EXTRACTOR,
    )
    assert manifest["files"] == [] and manifest["status"] == "failed"
    assert rows(store, "SELECT * FROM runs") == [
        (
            RUN_1,
            GE,
            "backfill",
            "failed",
            STARTED,
            ts("2024-04-01T06:10:00Z"),
            1,
            EXTRACTOR,
            4,
            0,
            None,
            None,
            None,
            None,
            0,
            0,
            "CrawlError: connection refused by tbilisi-herald.ge",
        )
    ]
    spool = write_spool(tmp_path / "spool", [article(RUN_1, "ge-port")], [])
    with pytest.raises(LakeError, match="already recorded as failed for tbilisi-herald"):
        land_spool(store, spool, run_id=RUN_1, source_id=GE)
    assert list(store.list()) == [f"runs/{RUN_1}/{GE}.json"]


def test_failure_after_commit_keeps_the_commit(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    kept = write_failed_manifest(store, RUN_1, AM, "late error")
    assert (kept["status"], kept["error"]) == ("committed", None)
    assert [m["status"] for m in read_manifests(store)] == ["committed", "committed"]


def test_bounded_buffers_split_files(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    march = [
        article(
            RUN_1,
            "am-budget",
            url=f"https://ararat-courier.am/hy/news/2024/03/{day:02d}/item/",
            canonical_url=f"https://ararat-courier.am/hy/news/2024/03/{day:02d}/item/",
            published_at=ts(f"2024-03-{day:02d}T08:00:00Z"),
        )
        for day in range(1, 6)
    ]
    spool = write_spool(tmp_path / "spool", [*march, article(RUN_1, "am-undated")], [])
    result = land_spool(store, spool, run_id=RUN_1, source_id=AM, max_rows_per_file=2)
    parts = [(f["partition"]["published_month"], f["rows"]) for f in result.files[1:]]
    assert parts == [("2024-03", 2), ("2024-03", 2), ("2024-03", 1), ("undated", 1)]
    # A byte budget smaller than one row flushes every row on its own.
    spool2 = write_spool(
        tmp_path / "spool2",
        [article(RUN_2, "am-gas"), article(RUN_2, "am-undated", title="Letters, again")],
        [],
    )
    result2 = land_spool(store, spool2, run_id=RUN_2, source_id=AM, max_buffer_bytes=100)
    assert [(f["partition"]["published_month"], f["rows"]) for f in result2.files[1:]] == [
        ("2024-04", 1),
        ("undated", 1),
    ]
    assert rows(
        store,
        "SELECT published_month, count(*) FROM article_versions GROUP BY ALL ORDER BY ALL",
    ) == [("2024-03", 5), ("2024-04", 1), ("undated", 2)]


def _spool_lines(tmp_path: Path) -> tuple[Path, list[str]]:
    spool = write_spool(
        tmp_path / "spool",
        [article(RUN_1, "am-budget"), article(RUN_1, "am-gas")],
        [reject(RUN_1, "am-tag")],
    )
    lines = (spool / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return spool, lines


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: "{not json", "articles.jsonl:2: not valid JSON (Expecting property name"),
        (lambda d: json.dumps([d]), "articles.jsonl:2: expected a JSON object per line"),
        (lambda d: json.dumps({**d, "title": None}), "articles.jsonl:2: title: missing"),
        (lambda d: json.dumps({**d, "mood": "calm"}), "'mood' is not a field of the article"),
        (
            lambda d: json.dumps({**d, "published_at": "2024-04-01 09:15"}),
            "articles.jsonl:2: timestamp without an offset: '2024-04-01 09:15'",
        ),
        (
            lambda d: json.dumps({**d, "title": "Другой заголовок"}),
            "articles.jsonl:2: content_hash",
        ),
        (
            lambda d: json.dumps({**d, "source_id": GE}),
            "articles.jsonl:2: source_id 'tbilisi-herald', expected 'ararat-courier'",
        ),
        (
            lambda d: json.dumps({**d, "crawl_run_id": RUN_2}),
            f"articles.jsonl:2: crawl_run_id '{RUN_2}', expected '{RUN_1}'",
        ),
        (
            lambda d: json.dumps({**d, "http_status": 70000}),
            "articles.jsonl:2: http_status: not an HTTP status: 70000",
        ),
    ],
)
def test_malformed_spool_lines_fail_clearly_and_commit_nothing(
    lake_uri: str, tmp_path: Path, change: Any, message: str
) -> None:
    store = open_store(lake_uri)
    spool, lines = _spool_lines(tmp_path)
    lines[1] = change(json.loads(lines[1]))
    (spool / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpoolError) as info:
        land_spool(store, spool, run_id=RUN_1, source_id=AM)
    assert str(info.value).startswith(str(spool / "articles.jsonl"))
    assert message in str(info.value)
    # The raw capture and anything flushed were cleaned up; nothing was committed.
    assert list(store.list()) == []


def test_bad_reject_line(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    spool, _ = _spool_lines(tmp_path)
    bad = json.loads((spool / "rejects.jsonl").read_text(encoding="utf-8"))
    bad["reason"] = "boring"
    # A blank first line is skipped, and the error names the line as the file numbers it.
    (spool / "rejects.jsonl").write_text("\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(SpoolError) as info:
        land_spool(store, spool, run_id=RUN_1, source_id=AM)
    assert str(info.value).startswith(f"{spool / 'rejects.jsonl'}:2: reason: expected one of")
    assert list(store.list()) == []


def test_raw_ref_without_a_capture_is_an_error(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    spool, _ = _spool_lines(tmp_path)
    (spool / "raw.warc.gz").unlink()
    with pytest.raises(
        SpoolError, match=re.escape("articles.jsonl:1: raw_ref 'raw.warc.gz:0' but the spool")
    ):
        land_spool(store, spool, run_id=RUN_1, source_id=AM)


def test_empty_spool_commits_an_empty_run(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "stats.json").write_text('{"discovered": 0, "finished_reason": "finished"}')
    result = land_spool(store, spool, run_id=RUN_1, source_id=AM)
    assert (result.landed, result.rejected, result.files) == (0, 0, [])
    assert list(store.list()) == [f"runs/{RUN_1}/{AM}.json"]
    with pytest.raises(SpoolError, match=r"spool folder .* does not exist"):
        land_spool(store, tmp_path / "missing", run_id=RUN_2, source_id=AM)


def test_writer_memory_is_bounded_by_the_buffer(tmp_path: Path) -> None:
    """Landing 10 MB of rows with a 1 MiB buffer holds a few MiB of Python objects at most."""
    import tracemalloc

    body = "Երևանում կայացավ համաժողով։ " * 40
    spool = tmp_path / "spool"
    spool.mkdir()
    with open(spool / "articles.jsonl", "w", encoding="utf-8") as fh:
        for i in range(1500):
            row = article(
                RUN_1,
                "am-undated",
                url=f"https://ararat-courier.am/en/item/{i}/",
                canonical_url=f"https://ararat-courier.am/en/item/{i}/",
                body=f"{body} {i}",
            )
            fh.write(json.dumps({**row, "fetched_at": "2024-04-01T06:03:00Z"}) + "\n")
    size = (spool / "articles.jsonl").stat().st_size
    assert size > 8 * 1024 * 1024
    store = LocalStore(tmp_path / "lake")
    tracemalloc.start()
    try:
        result = land_spool(store, spool, run_id=RUN_1, source_id=AM, max_buffer_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.landed == 1500
    assert len(result.files) >= 8
    assert peak < 4 * 1024 * 1024, (peak, size)
