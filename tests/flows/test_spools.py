"""Spools of killed runs: the next run of the source lands them under their own run id, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.spools import FAILED_FILE, keep_spools, new_spool_root, recover_spools
from lake import land_spool, open_store, read_manifest, read_manifests
from lake.lease import process_identity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lake"))
from spool_factory import AM, GE, RUN_1, RUN_2, article, reject, write_spool

STARTED = datetime(2024, 4, 1, 6, tzinfo=UTC)


def _dead_process() -> dict[str, Any]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    identity = process_identity(child.pid)
    child.kill()
    child.wait()
    return identity


def _root(parent: Path, run_id: str, lake: str, *, alive: bool = False) -> Path:
    """A run's spool root as new_spool_root writes it, its owner dead unless `alive`."""
    root = new_spool_root(run_id, lake=lake, flow="crawl", started_at=STARTED)
    if not alive:
        owner = json.loads((root / "owner.json").read_text())
        owner["process"] = _dead_process()
        (root / "owner.json").write_text(json.dumps(owner))
    return root


def _spool(root: Path, source_id: str, rows: list[dict[str, Any]], rejects: Any = ()) -> Path:
    spool = write_spool(root / source_id, rows, list(rejects))
    (spool / "stats.json").unlink()  # killed: the crawl never closed
    (spool / "source.json").write_text(json.dumps({"id": source_id}))
    with open(spool / "articles.jsonl", "ab") as fh:
        fh.write(b'{"url": "https://ararat-courier.am/half-written')
    return spool


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spools"
    monkeypatch.setenv("NEWSLAKE_SPOOL_DIR", str(folder))
    return folder


def test_a_killed_runs_spool_lands_once_then_goes(spool_dir: Path, tmp_path: Path) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    root = _root(spool_dir, RUN_1, lake)
    _spool(
        root, AM, [article(RUN_1, n) for n in ("am-budget", "am-gas")], [reject(RUN_1, "am-tag")]
    )
    _spool(root, GE, [article(RUN_1, "ge-port")])
    (root / "never-started").mkdir()  # a spool whose crawl did not begin: no source.json

    [done] = recover_spools(lake, AM)
    assert (done.run_id, done.outcome, done.landed) == (RUN_1, "landed", 2)
    store = open_store(lake)
    manifest = read_manifest(store, RUN_1, AM)
    assert manifest is not None and manifest["status"] == "committed"
    assert manifest["details"]["recovered"] is True
    assert manifest["details"]["finished_reason"].startswith("killed: landed by a later run")
    assert {k: manifest["counts"][k] for k in ("discovered", "landed", "rejected")} == {
        "discovered": 3,
        "landed": 2,
        "rejected": 1,
    }
    assert manifest["started_at"] == "2024-04-01T06:00:00Z"
    # AM's spool is gone; GE's waits for a run of GE; the root stays until then.
    assert sorted(p.name for p in root.iterdir()) == ["owner.json", GE]
    assert recover_spools(lake, AM) == []  # nothing twice

    [ge] = recover_spools(lake, GE)
    assert (ge.run_id, ge.outcome, ge.landed) == (RUN_1, "landed", 1)
    assert not root.exists()


def test_a_spool_committed_before_the_kill_is_removed_not_landed_again(
    spool_dir: Path, tmp_path: Path
) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    root = _root(spool_dir, RUN_1, lake)
    spool = _spool(root, AM, [article(RUN_1, "am-gas")])
    (spool / "articles.jsonl").write_text(
        (spool / "articles.jsonl").read_text().rsplit("\n", 1)[0] + "\n"
    )
    land_spool(open_store(lake), spool, run_id=RUN_1, source_id=AM, counts={"fetched": 1})
    [done] = recover_spools(lake, AM)
    assert (done.outcome, done.landed) == ("already committed", 0)
    assert not root.exists()
    assert len(read_manifests(open_store(lake))) == 1


def test_live_kept_and_other_lake_roots_are_left_alone(spool_dir: Path, tmp_path: Path) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    other = str(open_store(str(tmp_path / "other-lake")).uri)
    live = _root(spool_dir, RUN_1, lake, alive=True)  # this very process: still running
    _spool(live, AM, [article(RUN_1, "am-gas")])
    kept = _root(spool_dir, RUN_2, lake)
    _spool(kept, AM, [article(RUN_2, "am-budget")])
    keep_spools(kept)
    elsewhere = _root(spool_dir, "20240403T060000Z-0789ab", other)
    _spool(elsewhere, AM, [article("20240403T060000Z-0789ab", "am-undated")])
    assert recover_spools(lake, AM) == []
    assert read_manifests(open_store(lake)) == []
    assert all((r / AM / "articles.jsonl").exists() for r in (live, kept, elsewhere))


def test_a_spool_that_cannot_land_is_recorded_and_kept(spool_dir: Path, tmp_path: Path) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    root = _root(spool_dir, RUN_1, lake)
    spool = _spool(root, AM, [article(RUN_1, n) for n in ("am-budget", "am-gas")])
    lines = (spool / "articles.jsonl").read_bytes().split(b"\n")
    lines[1] = b"{not json"
    (spool / "articles.jsonl").write_bytes(b"\n".join(lines))

    [done] = recover_spools(lake, AM)
    assert done.outcome == "failed" and "articles.jsonl:2: not valid JSON" in (done.error or "")
    manifest = read_manifest(open_store(lake), RUN_1, AM)
    assert manifest is not None and manifest["status"] == "failed"
    assert "could not be landed" in manifest["error"]
    assert (spool / FAILED_FILE).exists()
    assert recover_spools(lake, AM) == []  # recorded once, not retried


def test_roots_are_made_whole_and_a_hidden_one_left_by_a_kill_goes(
    spool_dir: Path, tmp_path: Path
) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    root = new_spool_root(RUN_1, lake=lake, flow="crawl", started_at=STARTED)
    assert root.name.startswith(f"newslake-{RUN_1}-") and (root / "owner.json").exists()
    assert json.loads((root / "owner.json").read_text())["lake"] == lake
    stale = spool_dir / f".newslake-{RUN_2}-abc"
    fresh = spool_dir / ".newslake-20240403T060000Z-0789ab-def"
    for hidden in (stale, fresh):
        hidden.mkdir()
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    assert recover_spools(lake, AM) == []
    assert sorted(p.name for p in spool_dir.iterdir()) == [fresh.name, root.name]


def test_a_spool_its_crawl_still_writes_is_left_until_the_crawl_ends(
    spool_dir: Path, tmp_path: Path
) -> None:
    lake = str(open_store(str(tmp_path / "lake")).uri)
    root = _root(spool_dir, RUN_1, lake)  # the flow process died, its crawl did not
    spool = _spool(root, AM, [article(RUN_1, "am-gas")])
    crawl = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "--out", str(spool.resolve())]
    )
    try:
        time.sleep(0.5)  # let it exec, so /proc shows its arguments
        assert recover_spools(lake, AM) == []
        assert (spool / "articles.jsonl").exists()
    finally:
        crawl.kill()
        crawl.wait()
    [done] = recover_spools(lake, AM)
    assert (done.outcome, done.landed) == ("landed", 1)
