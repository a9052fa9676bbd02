"""Object-storage faults: landings, commits, compactions and leases on S3 through a proxy that
answers 500/503/412, hangs, resets connections, trickles and cuts bodies.

Every landing either completes (retried) or fails with a message naming the operation, the
object, the attempts and the cause; readers never see rows of an uncommitted run; a landing
after the fault clears completes with each article exactly once.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from spool_factory import AM, EXTRACTOR, RUN_1, RUN_2, RUN_3, STARTED, article, write_spool

from lake import AlreadyExists, LakeError, Store, connect, land_spool, open_store, read_manifest
from lake.compact import compact_source
from lake.lease import lease_key
from lake.manifest import committed_entries, read_manifests
from lake.writer import LandResult

PARQUET = r"articles/.*\.parquet$"
RAW = r"raw/.*\.warc\.gz$"
COMMIT = r"runs/[^/]+/[^/]+\.json$"
LEASE = r"locks/.*\.json$"
INTERNAL = "500 InternalError: We encountered an internal error. Please try again."


def rows(run_id: str, start: int, count: int) -> list[dict[str, Any]]:
    """`count` distinct Armenian articles of March 2024 (one partition, one Parquet file)."""
    out = []
    for i in range(start, start + count):
        url = f"https://ararat-courier.am/hy/news/2024/03/15/story-{i:03d}/"
        out.append(
            article(run_id, "am-budget", url=url, canonical_url=url, title=f"Պատմություն {i:03d}")
        )
    return out


def titles(start: int, stop: int) -> list[str]:
    return [f"Պատմություն {i:03d}" for i in range(start, stop)]


def land(
    store: Store, tmp_path: Path, run_id: str, start: int, count: int, **kw: Any
) -> LandResult:
    spool = write_spool(
        tmp_path / f"spool-{run_id}-{start}-{time.monotonic_ns()}", rows(run_id, start, count)
    )
    return land_spool(
        store, spool, run_id=run_id, source_id=AM, started_at=STARTED, extractor=EXTRACTOR, **kw
    )


def lake_state(store: Store) -> tuple[list[str], list[str], int]:
    """What a reader sees: article titles, committed run ids, and the rows on disk that the
    committed manifests list (the views deduplicate; the files must not need it)."""
    manifests = read_manifests(store)
    con = connect(store, manifests=manifests)
    try:
        names = [r[0] for r in con.execute("SELECT title FROM articles ORDER BY title").fetchall()]
        versions = con.execute("SELECT count(*) FROM article_versions").fetchone()
        runs = [
            r[0]
            for r in con.execute(
                "SELECT run_id FROM runs WHERE status = 'committed' ORDER BY run_id"
            ).fetchall()
        ]
    finally:
        con.close()
    assert versions is not None and versions[0] == len(names)
    on_disk = sum(int(e["rows"]) for e in committed_entries(manifests, "articles"))
    return names, runs, on_disk


def bucket_of(uri: str) -> str:
    return uri.removeprefix("s3://").split("/", 1)[0]


TRANSIENT = {
    "500": {"fault": "status", "status": 500},
    "503-slow-down": {"fault": "status", "status": 503},
    "timeout": {"fault": "hang", "seconds": 20},
    "reset-mid-upload": {"fault": "reset", "phase": "request"},
    "reset-before-answer": {"fault": "reset", "phase": "before"},
    "reset-after-write": {"fault": "reset", "phase": "after"},
    "reset-mid-answer": {"fault": "reset", "phase": "body"},
    "slow-answer": {"fault": "trickle", "chunk": 16, "interval": 0.05},
}


@pytest.mark.parametrize(
    ("fault", "target"),
    [(fault, PARQUET) for fault in sorted(TRANSIENT)]
    # The raw WARC goes up through s3transfer (upload_file), not put_object.
    + [(fault, RAW) for fault in ("500", "reset-mid-upload", "timeout")],
)
def test_a_transient_fault_on_a_data_upload_is_retried(
    faulty_lake: str, fault_proxy: FaultProxy, tmp_path: Path, fault: str, target: str
) -> None:
    store = open_store(faulty_lake)
    rule = fault_proxy.add(method="PUT", key=target, **TRANSIENT[fault])
    result = land(store, tmp_path, RUN_1, 0, 20)
    assert (result.landed, result.already_committed) == (20, False)
    assert rule.fired == 1
    uploads = fault_proxy.requests("PUT", target)
    assert len(uploads) == (1 if fault == "slow-answer" else 2)
    assert lake_state(store) == (titles(0, 20), [RUN_1], 20)


AMBIGUOUS = {
    # The proxy answers 412 and nothing was written: the object is absent, so try again.
    "412-not-written": {"fault": "status", "status": 412},
    # Written, then the answer is a lie or lost: reading the object back finds our bytes.
    "412-after-write": {"fault": "status", "status": 412, "forward": True},
    "500-after-write": {"fault": "status", "status": 500, "forward": True},
    "reset-after-write": {"fault": "reset", "phase": "after"},
    "timeout-after-write": {"fault": "hang", "forward": True, "seconds": 20},
    "503-not-written": {"fault": "status", "status": 503},
}


@pytest.mark.parametrize("fault", sorted(AMBIGUOUS))
def test_the_commit_survives_a_lost_or_lying_answer(
    faulty_lake: str,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = open_store(faulty_lake)
    land(store, tmp_path, RUN_1, 0, 5)
    rule = fault_proxy.add(method="PUT", key=COMMIT, create_only=True, **AMBIGUOUS[fault])
    with caplog.at_level(logging.WARNING, logger="lake.store"):
        result = land(store, tmp_path, RUN_2, 5, 10)
    assert rule.fired == 1
    assert (result.landed, result.already_committed) == (10, False)
    assert read_manifest(store, RUN_2, AM) == result.manifest
    assert lake_state(store) == (titles(0, 15), [RUN_1, RUN_2], 15)
    commits = fault_proxy.requests("PUT", rf"runs/{RUN_2}/")
    # A 412 is final for botocore; every other fault is retried once.
    assert len(commits) == (1 if fault == "412-after-write" else 2)
    settled = [r.getMessage() for r in caplog.records if "create-only PUT" in r.getMessage()]
    if fault.endswith("after-write") or fault == "412-not-written":
        assert len(settled) == 1
    else:
        assert settled == []


def test_a_412_for_someone_elses_object_is_already_exists(
    faulty_lake: str, fault_proxy: FaultProxy
) -> None:
    store = open_store(faulty_lake)
    store.put("runs/r1/a.json", b"theirs")
    # The existence check misses it (a stale answer), so the create-only PUT reaches S3.
    fault_proxy.add("status", method="HEAD", key=r"runs/r1/a\.json$", status=404)
    with pytest.raises(AlreadyExists) as info:
        store.put("runs/r1/a.json", b"ours", if_absent=True)
    assert info.value.key == "runs/r1/a.json"
    assert store.get("runs/r1/a.json") == b"theirs"
    assert fault_proxy.requests("PUT") == ["newslake/runs/r1/a.json"] * 2


def test_a_412_that_keeps_lying_about_an_absent_object_fails_clearly(
    faulty_lake: str, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLAKE_S3_MAX_ATTEMPTS", "2")
    store = open_store(faulty_lake)
    fault_proxy.add("status", method="PUT", status=412, count=None)
    with pytest.raises(LakeError) as info:
        store.put("runs/r1/a.json", b"ours", if_absent=True)
    assert str(info.value) == (
        f"S3 PUT s3://{bucket_of(faulty_lake)}/newslake/runs/r1/a.json failed: 412"
        " PreconditionFailed: At least one of the pre-conditions you specified did not hold"
        " (3 times, and each time the object was absent)"
    )
    assert not store.exists("runs/r1/a.json")


FATAL = {
    # (key pattern, rule): faults that outlast the retries (2 attempts here).
    "parquet-500": (PARQUET, {"fault": "status", "status": 500}),
    "raw-500": (RAW, {"fault": "status", "status": 500}),
    "commit-500": (COMMIT, {"fault": "status", "status": 500}),
    "commit-reset": (COMMIT, {"fault": "reset", "phase": "before"}),
    "parquet-reset-mid-upload": (PARQUET, {"fault": "reset", "phase": "request"}),
}


@pytest.mark.parametrize("case", sorted(FATAL))
def test_a_fault_that_outlasts_the_retries_fails_clearly_and_commits_nothing(
    faulty_lake: str,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    monkeypatch.setenv("NEWSLAKE_S3_MAX_ATTEMPTS", "2")
    store = open_store(faulty_lake)
    land(store, tmp_path, RUN_1, 0, 5)
    before = lake_state(store)
    target, fault = FATAL[case]
    fault_proxy.add(method="PUT", key=target, count=None, **fault)
    with pytest.raises(LakeError) as info:
        land(store, tmp_path, RUN_2, 5, 10)
    where = (
        f"s3://{bucket_of(faulty_lake)}/newslake/"
        + {
            PARQUET: f"articles/source_id={AM}/published_month=2024-03/part-{RUN_2}-0.parquet",
            RAW: f"raw/source_id={AM}/{RUN_2}.warc.gz",
            COMMIT: f"runs/{RUN_2}/{AM}.json",
        }[target]
    )
    message = str(info.value)
    if fault["fault"] == "status":
        assert message == f"S3 PUT {where} failed after 2 attempts: {INTERNAL}"
    else:
        assert message.startswith(
            f"S3 PUT {where} failed after 2 attempts: ConnectionClosedError: Connection was"
            " closed before we received a valid response from endpoint URL"
        )
    # Readers see exactly what was committed before; the run left no manifest.
    assert lake_state(store) == before
    assert read_manifest(store, RUN_2, AM) is None
    if target != COMMIT:  # staging failed: its uploads were removed
        assert [k for k in store.list() if RUN_2 in k] == []

    fault_proxy.clear()
    again = land(store, tmp_path, RUN_2, 5, 10)
    assert (again.landed, again.duplicates) == (10, 0)
    assert lake_state(store) == (titles(0, 15), [RUN_1, RUN_2], 15)


def test_a_truncated_upload_is_never_committed(
    faulty_lake: str, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    store = open_store(faulty_lake)
    # A broken middlebox forwards half the Parquet body, and S3 (here) keeps what it got.
    fault_proxy.add("cut_body", method="PUT", key=PARQUET)
    with pytest.raises(LakeError) as info:
        land(store, tmp_path, RUN_1, 0, 20)
    match = re.fullmatch(
        rf"not committing runs/{RUN_1}/{AM}\.json: 1 data file\(s\) not as written: "
        rf"articles/source_id={AM}/published_month=2024-03/part-{RUN_1}-0\.parquet holds"
        r" (\d+) bytes, (\d+) were written",
        str(info.value),
    )
    assert match is not None, str(info.value)
    assert int(match.group(1)) == int(match.group(2)) // 2
    assert lake_state(store) == ([], [], 0)
    again = land(store, tmp_path, RUN_1, 0, 20)
    assert again.landed == 20
    assert lake_state(store) == (titles(0, 20), [RUN_1], 20)


def test_readers_during_a_stalled_landing_see_only_committed_rows(
    faulty_lake: str,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSLAKE_S3_READ_TIMEOUT", "60")  # the stall lasts until released
    store = open_store(faulty_lake)
    land(store, tmp_path, RUN_1, 0, 5)
    before = lake_state(store)
    release_upload, release_commit = threading.Event(), threading.Event()
    upload = fault_proxy.add(
        "hang", method="PUT", key=PARQUET, forward=True, seconds=60, release=release_upload
    )
    commit = fault_proxy.add(
        "hang", method="PUT", key=COMMIT, create_only=True, seconds=60, release=release_commit
    )
    outcome: list[Any] = []
    lander = threading.Thread(
        target=lambda: outcome.append(land(open_store(faulty_lake), tmp_path, RUN_2, 5, 10))
    )
    lander.start()
    try:
        # 1. The Parquet file is on the store, its answer stalled: not visible.
        assert upload.hit.wait(60)
        assert [k for k in store.list("articles/") if RUN_2 in k] != []
        assert lake_state(store) == before
        release_upload.set()
        # 2. Everything staged, the commit stalled (not written): still not visible.
        assert commit.hit.wait(60)
        assert lake_state(store) == before
        release_commit.set()
    finally:
        release_upload.set()
        release_commit.set()
        lander.join(timeout=120)
    assert outcome and outcome[0].landed == 10
    assert lake_state(store) == (titles(0, 15), [RUN_1, RUN_2], 15)


def test_readers_ride_out_resets_timeouts_and_slow_answers(
    faulty_lake: str, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    store = open_store(faulty_lake)
    land(store, tmp_path, RUN_1, 0, 20)
    land(store, tmp_path, RUN_2, 20, 5)
    expected = (titles(0, 25), [RUN_1, RUN_2], 25)
    fault_proxy.add("reset", method="GET", key=COMMIT, phase="body")
    fault_proxy.add("hang", method="GET", key=COMMIT, nth=2, seconds=20)
    fault_proxy.add("status", method="GET", key=COMMIT, nth=3, status=503)
    slow = fault_proxy.add("trickle", method="GET", key=PARQUET, count=None, chunk=4096)
    assert lake_state(open_store(faulty_lake)) == expected
    assert slow.fired >= 2


def _compaction_history(store: Store, tmp_path: Path) -> None:
    """Three small Parquet files in one partition."""
    land(store, tmp_path, RUN_1, 0, 5)
    land(store, tmp_path, RUN_2, 5, 5)
    land(store, tmp_path, RUN_3, 10, 5)


COMPACTION = "20240404T060000Z-compact-abc123"


@pytest.mark.parametrize("fault", ["reset-after-write", "412-after-write", "503-not-written"])
def test_a_compaction_commit_survives_a_lost_or_lying_answer(
    faulty_lake: str, fault_proxy: FaultProxy, tmp_path: Path, fault: str
) -> None:
    store = open_store(faulty_lake)
    _compaction_history(store, tmp_path)
    before = lake_state(store)
    rule = fault_proxy.add(
        method="PUT", key=r"runs/[^/]*-compact-", create_only=True, **AMBIGUOUS[fault]
    )
    result = compact_source(store, AM, target_mb=1, compaction_id=COMPACTION)
    assert rule.fired == 1
    assert result.manifest is not None
    assert read_manifest(store, COMPACTION, AM) == result.manifest
    assert (result.files_replaced, result.files_written) == (3, 1)
    assert lake_state(store) == before
    visible = [e["key"] for e in committed_entries(read_manifests(store), "articles")]
    assert visible == [
        f"articles/source_id={AM}/published_month=2024-03/part-{COMPACTION}-0.parquet"
    ]


def test_a_compaction_whose_commit_fails_changes_nothing(
    faulty_lake: str,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSLAKE_S3_MAX_ATTEMPTS", "2")
    store = open_store(faulty_lake)
    _compaction_history(store, tmp_path)
    before = lake_state(store)
    files_before = sorted(store.list("articles/"))
    fault_proxy.add("status", method="PUT", key=r"runs/[^/]*-compact-", status=500, count=None)
    with pytest.raises(LakeError) as info:
        compact_source(store, AM, target_mb=1, compaction_id=COMPACTION)
    assert str(info.value) == (
        f"S3 PUT s3://{bucket_of(faulty_lake)}/newslake/runs/{COMPACTION}/{AM}.json failed"
        f" after 2 attempts: {INTERNAL}"
    )
    assert lake_state(store) == before
    assert sorted(store.list("articles/")) == files_before  # the merged file was removed
    assert not store.exists(lease_key(AM))
    fault_proxy.clear()
    result = compact_source(store, AM, target_mb=1)
    assert (result.files_replaced, result.files_written) == (3, 1)
    assert lake_state(store) == before


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "reset", "phase": "after"},
        {"fault": "status", "status": 412, "forward": True},
        {"fault": "status", "status": 503},
        {"fault": "hang", "seconds": 20},
    ],
    ids=["reset-after-write", "412-after-write", "503", "timeout"],
)
def test_taking_the_lease_survives_faults(
    faulty_lake: str, fault_proxy: FaultProxy, tmp_path: Path, fault: dict[str, Any]
) -> None:
    store = open_store(faulty_lake)
    rule = fault_proxy.add(method="PUT", key=LEASE, **fault)
    result = land(store, tmp_path, RUN_1, 0, 5)
    assert rule.fired == 1
    assert result.landed == 5
    assert not store.exists(lease_key(AM))
    assert lake_state(store) == (titles(0, 5), [RUN_1], 5)


def test_a_lease_that_cannot_be_released_does_not_fail_the_landing(
    faulty_lake: str,
    fault_proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("NEWSLAKE_S3_MAX_ATTEMPTS", "2")
    store = open_store(faulty_lake)
    fault_proxy.add("status", method="DELETE", key=LEASE, status=500, count=None)
    with caplog.at_level(logging.WARNING, logger="lake.lease"):
        first = land(store, tmp_path, RUN_1, 0, 5, lease_ttl=1.0)
    assert first.landed == 5
    assert store.exists(lease_key(AM))  # left behind; it expires by itself
    warnings = [r.getMessage() for r in caplog.records if r.name == "lake.lease"]
    assert warnings == [
        f"could not release the landing lease {lease_key(AM)} (it expires by itself): S3 DELETE"
        f" s3://{bucket_of(faulty_lake)}/newslake/{lease_key(AM)} failed after 2 attempts:"
        f" {INTERNAL}"
    ]
    fault_proxy.clear()
    second = land(store, tmp_path, RUN_2, 5, 5)  # waits for the expiry, then takes over
    assert second.landed == 5
    assert not store.exists(lease_key(AM))
    assert lake_state(store) == (titles(0, 10), [RUN_1, RUN_2], 10)
