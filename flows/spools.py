"""Spool folders of killed runs: the next run of the same source lands them, then removes them.

A crawl or backfill run spools each source (or day) into a folder under one root per run,
`<spool dir>/newslake-<run_id>-<random>/`, whose `owner.json` names the lake, the flow and
the process running it. When that process is gone (SIGKILL, OOM, a reboot) without having
finished, its spools are orphans, and a killed crawl's work would be lost with them. So every
run of a source first looks for orphaned spools of that source into the same lake, and for
each one:

- its rows' run has no manifest: the crawl or its landing was cut short. The half-written
  tails are cut off (lake.spools.repair_spool) and the spool lands under the killed run's own
  id, marked `recovered` in the manifest's details (the runs view shows that run committed
  with what it had fetched). The landing is the ordinary one: under the source's lease, every
  version the lake already has dropped, so nothing lands twice;
- its run already has a manifest (killed after the commit): nothing to land;

and then the folder is removed, and the root once it is empty. A root the run kept on purpose
(a source failed: `kept` is written beside owner.json) is left for inspection, as before. A
spool whose crawl process is still writing (its parent alone was killed) is left alone too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.runs import spool_parent
from lake import SpoolError, land_spool, open_store, read_manifest, write_failed_manifest
from lake.lease import process_gone, process_identity
from lake.spools import repair_spool, spool_run_id
from schemas.spool import STATS_FILE
from spiders.extraction import EXTRACTOR
from spiders.runner import SOURCE_NAME

log = logging.getLogger(__name__)

OWNER_FILE = "owner.json"
KEPT_FILE = "kept"  # the run kept its spools for inspection: not an orphan
FAILED_FILE = "recovery-failed.txt"  # a spool that could not be landed: kept, not retried
ROOT_PREFIX = "newslake-"
STAGING_GRACE = 600.0  # seconds: a hidden root older than this was left by a kill


@dataclass(frozen=True)
class Recovered:
    spool: str
    run_id: str | None
    outcome: str  # landed | already committed | empty | failed
    landed: int = 0
    error: str | None = None


def _root_parent() -> Path:
    return Path(spool_parent() or tempfile.gettempdir())


def new_spool_root(run_id: str, *, lake: str, flow: str, started_at: datetime) -> Path:
    """A run's spool root, with the owner.json that lets a later run find it if this one dies.

    The root is made under a hidden name and renamed once owner.json is in it, so no root
    ever lacks its owner; a hidden one left by a kill within that instant is removed later.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".{ROOT_PREFIX}{run_id}-", dir=spool_parent()))
    owner = {
        "lake": lake,
        "flow": flow,
        "run_id": run_id,
        "started_at": started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "process": process_identity(),
    }
    (staging / OWNER_FILE).write_text(json.dumps(owner, indent=1), "utf-8")
    root = staging.with_name(staging.name.removeprefix("."))
    os.rename(staging, root)
    return root


def keep_spools(root: Path) -> None:
    """Mark a finished run's root as kept on purpose (a source failed): not an orphan."""
    (root / KEPT_FILE).write_text("kept for inspection by the run that wrote it\n", "utf-8")


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _crawl_running(spool: Path) -> bool:
    """A crawl process still writes into `spool` (only its parent died): Linux /proc only."""
    needle = b"\0--out\0" + str(spool.resolve()).encode() + b"\0"
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if needle in (b"\0" + Path(entry.path, "cmdline").read_bytes()):
                        return True
    return False


def _remove_stale_staging() -> None:
    """Hidden roots a run was killed in the middle of creating (they never held a spool)."""
    for staging in _root_parent().glob(f".{ROOT_PREFIX}*"):
        with contextlib.suppress(OSError):
            if time.time() - staging.stat().st_mtime > STAGING_GRACE:
                shutil.rmtree(staging)


def _orphan_roots(lake: str) -> list[tuple[Path, dict[str, Any]]]:
    _remove_stale_staging()
    roots = []
    for owner_path in sorted(_root_parent().glob(f"{ROOT_PREFIX}*/{OWNER_FILE}")):
        root = owner_path.parent
        owner = _json(owner_path)
        if owner is None or owner.get("lake") != lake or (root / KEPT_FILE).exists():
            continue
        if process_gone(owner.get("process")):
            roots.append((root, owner))
    return roots


def _recover_one(lake: str, spool: Path, source_id: str, owner: dict[str, Any]) -> Recovered:
    store = open_store(lake)
    run_id = spool_run_id(spool)
    if run_id is None:
        return Recovered(str(spool), None, "empty")
    existing = read_manifest(store, run_id, source_id)
    if existing is not None:
        return Recovered(str(spool), run_id, "already committed")
    repair = repair_spool(spool)
    started_at = datetime.fromisoformat(str(owner["started_at"]).replace("Z", "+00:00"))
    stats = _json(spool / STATS_FILE) if repair.finished else None
    counts: dict[str, Any] = dict(stats) if stats is not None else repair.counts()
    counts.update(
        recovered=True,
        recovered_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        recovered_cut_bytes=repair.cut_bytes,
    )
    if stats is None:
        counts["finished_reason"] = "killed: landed by a later run from the spool it left"
    result = land_spool(
        store,
        spool,
        run_id=run_id,
        source_id=source_id,
        flow=str(owner.get("flow") or "crawl"),
        started_at=started_at,
        counts=counts,
        extractor=EXTRACTOR,
    )
    log.warning(
        "landed the spool of killed run %s of %s: %d article(s), %d reject(s)",
        run_id,
        source_id,
        result.landed,
        result.rejected,
    )
    return Recovered(str(spool), run_id, "landed", landed=result.landed)


def recover_spools(lake: str, source_id: str) -> list[Recovered]:
    """Land the spools that killed runs of `source_id` left for `lake`, then remove them."""
    lake = str(open_store(lake).uri)
    done: list[Recovered] = []
    for root, owner in _orphan_roots(lake):
        try:
            spools = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:  # removed meanwhile by the recovery of another source of the run
            continue
        for spool in spools:
            if (spool / FAILED_FILE).exists():
                continue
            source = _json(spool / SOURCE_NAME)
            if source is None:  # the crawl never started: nothing was fetched into it
                shutil.rmtree(spool, ignore_errors=True)
                continue
            if source.get("id") != source_id or _crawl_running(spool):
                continue
            try:
                outcome = _recover_one(lake, spool, source_id, owner)
            except SpoolError as exc:
                # The same spool would fail the same way next time: record it, keep it.
                error = f"the spool of this killed run could not be landed: {exc}"
                log.error("%s: %s", spool, error)
                (spool / FAILED_FILE).write_text(error + "\n", "utf-8")
                run_id = _failed_run_id(spool)
                if run_id is not None:
                    write_failed_manifest(
                        open_store(lake),
                        run_id=run_id,
                        source_id=source_id,
                        error=error,
                        flow=str(owner.get("flow") or "crawl"),
                        extractor=EXTRACTOR,
                    )
                done.append(Recovered(str(spool), run_id, "failed", error=error))
                continue
            shutil.rmtree(spool, ignore_errors=True)
            done.append(outcome)
        with contextlib.suppress(OSError):
            if not any(p.is_dir() for p in root.iterdir()):
                shutil.rmtree(root)
    return done


def _failed_run_id(spool: Path) -> str | None:
    try:
        return spool_run_id(spool)
    except SpoolError:
        return None
