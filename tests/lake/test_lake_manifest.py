from __future__ import annotations

import logging
from pathlib import Path

import pytest
from spool_factory import AM, GE, RUN_1, RUN_2, STARTED, land_run_1

from lake import (
    LakeError,
    committed_files,
    open_store,
    read_manifest,
    read_manifests,
    write_failed_manifest,
    write_manifest,
)
from lake.manifest import build_manifest


def test_committed_files_and_manifests_by_source(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    write_failed_manifest(store, RUN_2, GE, "CrawlError: timeout", started_at=STARTED)
    assert [(m["run_id"], m["source_id"], m["status"]) for m in read_manifests(store)] == [
        (RUN_1, AM, "committed"),
        (RUN_1, GE, "committed"),
        (RUN_2, GE, "failed"),
    ]
    assert [m["run_id"] for m in read_manifests(store, source_ids=[GE])] == [RUN_1, RUN_2]
    assert committed_files(store, "articles", [GE]) == [
        f"articles/source_id={GE}/published_month=2024-03/part-{RUN_1}-0.parquet"
    ]
    assert committed_files(store, "rejects") == [
        f"rejects/source_id={AM}/rejected_month=2024-04/part-{RUN_1}-3.parquet"
    ]
    assert committed_files(store, "raw") == [
        f"raw/source_id={AM}/{RUN_1}.warc.gz",
        f"raw/source_id={GE}/{RUN_1}.warc.gz",
    ]
    with pytest.raises(LakeError, match="dataset 'photos': expected one of"):
        committed_files(store, "photos")


def test_write_manifest_is_create_only_and_returns_the_first(lake_uri: str) -> None:
    store = open_store(lake_uri)
    first = build_manifest(
        run_id=RUN_1, source_id=AM, flow="crawl", status="committed", started_at=STARTED
    )
    assert write_manifest(store, first) == first
    second = {**first, "flow": "backfill", "counts": {"landed": 99}}
    assert write_manifest(store, second) == first
    assert read_manifest(store, RUN_1, AM) == first
    assert read_manifest(store, RUN_2, AM) is None


@pytest.mark.parametrize(
    ("run_id", "source_id"),
    [("../etc", AM), (RUN_1, "a/b"), (RUN_1, ""), ("", AM), (RUN_1, "x y")],
)
def test_ids_must_be_plain_key_segments(lake_uri: str, run_id: str, source_id: str) -> None:
    with pytest.raises(LakeError, match="use letters, digits"):
        build_manifest(
            run_id=run_id, source_id=source_id, flow="crawl", status="failed", started_at=None
        )


def test_bad_manifests_are_errors_and_strays_are_reported(
    lake_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(lake_uri)
    store.put("runs/README.txt", b"notes")
    with caplog.at_level(logging.WARNING, logger="lake.manifest"):
        assert read_manifests(store) == []
    assert "ignoring runs/README.txt: not a run manifest" in caplog.text
    store.put(f"runs/{RUN_1}/{AM}.json", b"{truncated")
    with pytest.raises(LakeError, match=f"manifest runs/{RUN_1}/{AM}.json is not valid JSON"):
        read_manifests(store)
    with pytest.raises(LakeError, match="status 'maybe'"):
        build_manifest(run_id=RUN_1, source_id=GE, flow="crawl", status="maybe", started_at=None)
