"""Overlapping runs of one source land each article version once (the landing lease)."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from spool_factory import AM, RUN_1, RUN_2, article, write_spool

from lake import LakeError, land_spool, open_store
from lake.lease import lease_key, source_lease


def test_overlapping_landings_of_one_source_land_each_version_once(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    names = ("am-budget", "am-gas", "am-undated")
    spools = {
        run: write_spool(tmp_path / run, [article(run, n) for n in names], [])
        for run in (RUN_1, RUN_2)
    }
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def land(run: str) -> None:
        try:
            results[run] = land_spool(store, spools[run], run_id=run, source_id=AM).landed
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=land, args=(run,)) for run in spools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(results.values()) == [0, 3]
    parquet_rows = 0
    filesystem, base = store.arrow_filesystem()
    for key in store.list("articles/"):
        with filesystem.open_input_file(f"{base}/{key}") as handle:
            parquet_rows += pq.read_metadata(handle).num_rows
    assert parquet_rows == 3  # on disk, not only in the deduplicating views
    assert not store.exists(lease_key(AM))


def test_a_held_lease_makes_another_lander_wait_then_give_up(lake_uri: str) -> None:
    store = open_store(lake_uri)
    with source_lease(store, AM, RUN_1):
        busy = f"source {AM} is being landed by {RUN_1}/"
        with pytest.raises(LakeError, match=busy), source_lease(store, AM, RUN_2, wait=0.3):
            pass
        assert store.exists(lease_key(AM))
    assert not store.exists(lease_key(AM))
    with source_lease(store, AM, RUN_2):  # free again
        assert store.exists(lease_key(AM))
