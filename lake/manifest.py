"""Run manifests at runs/<run_id>/<source_id>.json: what one run landed for one source.

The manifest is the commit. It is written last and create-only, and readers only ever open the
data files a committed manifest lists, so files of an interrupted run stay invisible.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from lake.errors import AlreadyExists, LakeError, NotFound
from lake.store import Store, check_key
from schemas import (
    RUN_COUNTERS,
    RUN_SCHEMA,
    RUN_STATUSES,
    SCHEMA_VERSION,
    from_jsonable,
    to_jsonable,
)

log = logging.getLogger(__name__)

RUNS_PREFIX = "runs/"
DATASETS = ("articles", "rejects", "raw")
MANIFEST_VERSION = 1
# A compaction manifest (flow "compact") also lists the files it `replaces`; readers that
# ignored that list would see rows twice, so it carries a version older readers can refuse.
COMPACTION_MANIFEST_VERSION = 2
COMPACT_FLOW = "compact"

Manifest = dict[str, Any]

# Run ids and source ids become key segments: keep them plain.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_segment(name: str, value: str) -> str:
    if not isinstance(value, str) or not _SEGMENT.match(value):
        raise LakeError(f"{name} {value!r}: use letters, digits, '.', '_' and '-' only")
    return value


def manifest_key(run_id: str, source_id: str) -> str:
    check_segment("run_id", run_id)
    check_segment("source_id", source_id)
    return f"{RUNS_PREFIX}{run_id}/{source_id}.json"


def _timestamp(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise LakeError(f"naive timestamp {value!r} in a manifest: give it a timezone")
    return str(to_jsonable({"t": value})["t"])


def build_manifest(
    *,
    run_id: str,
    source_id: str,
    flow: str,
    status: str,
    started_at: datetime | str | None,
    finished_at: datetime | str | None = None,
    extractor: str | None = None,
    counts: Mapping[str, int] | None = None,
    files: Iterable[Mapping[str, Any]] = (),
    error: str | None = None,
    details: Mapping[str, Any] | None = None,
    replaces: Iterable[str] = (),
) -> Manifest:
    """A manifest dict in its on-disk shape (timestamps ISO 8601 UTC with Z).

    `replaces` (compactions only) names committed files that `files` supersede.
    """
    if status not in RUN_STATUSES:
        raise LakeError(f"manifest status {status!r}: expected one of {RUN_STATUSES}")
    replaced = list(replaces)
    extra = {"replaces": replaced} if replaced else {}
    return {
        "manifest_version": COMPACTION_MANIFEST_VERSION if replaced else MANIFEST_VERSION,
        "run_id": check_segment("run_id", run_id),
        "source_id": check_segment("source_id", source_id),
        "flow": flow,
        "status": status,
        "started_at": _timestamp(started_at),
        "finished_at": _timestamp(finished_at or datetime.now(UTC)),
        "schema_version": SCHEMA_VERSION,
        "extractor": extractor,
        "counts": dict(counts or {}),
        "files": [dict(f) for f in files],
        "error": error,
        "details": dict(details or {}),
        **extra,
    }


def _validate(manifest: Mapping[str, Any], where: str) -> None:
    for name in ("run_id", "source_id", "flow", "status", "files", "counts"):
        if name not in manifest:
            raise LakeError(f"manifest {where}: missing {name!r}")
    if manifest["status"] not in RUN_STATUSES:
        raise LakeError(f"manifest {where}: status {manifest['status']!r} not in {RUN_STATUSES}")
    if manifest["status"] == "failed" and manifest["files"]:
        raise LakeError(f"manifest {where}: a failed run lists no files")
    version = manifest.get("manifest_version", MANIFEST_VERSION)
    if not isinstance(version, int) or version > COMPACTION_MANIFEST_VERSION:
        raise LakeError(
            f"manifest {where}: manifest_version {version!r} is newer than this newslake reads"
            f" ({COMPACTION_MANIFEST_VERSION}); upgrade newslake"
        )
    for entry in manifest["files"]:
        if entry.get("dataset") not in DATASETS:
            raise LakeError(f"manifest {where}: file dataset {entry.get('dataset')!r}")
        check_key(str(entry.get("key", "")))
    replaces = manifest.get("replaces", [])
    if not isinstance(replaces, list):
        raise LakeError(f"manifest {where}: 'replaces' must be a list of keys")
    for key in replaces:
        if not str(key).startswith(("articles/", "rejects/")):
            raise LakeError(f"manifest {where}: replaces {key!r}, not an articles/rejects file")
        check_key(str(key))


def verify_files(store: Store, files: Iterable[Mapping[str, Any]], where: str) -> None:
    """Refuse to commit data files the store does not hold exactly as written.

    Each entry's recorded size is checked against the store's (one HEAD per file on S3): an
    upload cut short on the way, which a store without checksums could keep, or a file
    deleted meanwhile, can never become visible.
    """
    expected = {str(f["key"]): int(f["bytes"]) for f in files if f.get("bytes") is not None}
    problems = []
    for key, size in store.sizes(sorted(expected)):
        if size is None:
            problems.append(f"{key} is missing")
        elif size != expected[key]:
            problems.append(f"{key} holds {size} bytes, {expected[key]} were written")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise LakeError(
            f"not committing {where}: {len(problems)} data file(s) not as written: "
            + "; ".join(problems[:3])
            + more
        )


def write_manifest(store: Store, manifest: Mapping[str, Any]) -> Manifest:
    """Commit `manifest` (create-only). If one is already there, return it unchanged instead:
    a retried task then finds its own earlier commit and does nothing twice.

    The data files it lists are checked first (verify_files): a manifest never commits a
    missing or truncated file.
    """
    key = manifest_key(manifest["run_id"], manifest["source_id"])
    _validate(manifest, key)
    if manifest["status"] == "committed":
        verify_files(store, manifest["files"], key)
    # default=str: crawl stats may carry odd extras in `details`; they must not block a commit.
    text = json.dumps(to_jsonable(manifest), ensure_ascii=False, indent=2, default=str)
    data = text.encode("utf-8")
    try:
        store.put(key, data, if_absent=True)
    except AlreadyExists:
        existing = read_manifest(store, manifest["run_id"], manifest["source_id"])
        if existing is None:
            raise LakeError(f"manifest {key} existed a moment ago and is gone now") from None
        log.info("manifest %s already committed (status %s)", key, existing["status"])
        return existing
    return _parse(key, data)


def _parse(key: str, data: bytes) -> Manifest:
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LakeError(f"manifest {key} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise LakeError(f"manifest {key} is not a JSON object")
    _validate(manifest, key)
    if manifest_key(manifest["run_id"], manifest["source_id"]) != key:
        raise LakeError(
            f"manifest {key} names run {manifest['run_id']!r} and source "
            f"{manifest['source_id']!r}, which belong elsewhere"
        )
    return manifest


def read_manifest(store: Store, run_id: str, source_id: str) -> Manifest | None:
    key = manifest_key(run_id, source_id)
    try:
        return _parse(key, store.get(key))
    except NotFound:
        return None


def read_manifests(store: Store, *, source_ids: Iterable[str] | None = None) -> list[Manifest]:
    """Every manifest (committed and failed), optionally for some sources, oldest run first."""
    wanted = set(source_ids) if source_ids is not None else None
    keys: list[str] = []
    for key in store.list(RUNS_PREFIX):
        parts = key[len(RUNS_PREFIX) :].split("/")
        if len(parts) != 2 or not parts[1].endswith(".json"):
            log.warning("ignoring %s: not a run manifest (runs/<run_id>/<source_id>.json)", key)
            continue
        if wanted is None or parts[1][: -len(".json")] in wanted:
            keys.append(key)
    manifests = [_parse(key, data) for key, data in store.get_many(keys)]
    manifests.sort(key=lambda m: (m.get("started_at") or "", m["run_id"], m["source_id"]))
    return manifests


def is_compaction(manifest: Mapping[str, Any]) -> bool:
    return manifest.get("flow") == COMPACT_FLOW


def replaced_keys(manifests: Iterable[Mapping[str, Any]]) -> set[str]:
    """Files that a committed compaction superseded: no reader opens them any more."""
    return {key for m in manifests if m["status"] == "committed" for key in m.get("replaces", ())}


def committed_entries(
    manifests: Iterable[Mapping[str, Any]], dataset: str, source_ids: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """File entries ({key, dataset, rows, bytes, partition}) of committed runs, each key once.

    The visible files: those committed manifests list, minus those a committed compaction
    replaced. One compaction manifest both adds the merged files and removes the small ones,
    so a snapshot holds either all the old files of a partition or all the new ones.
    """
    if dataset not in DATASETS:
        raise LakeError(f"dataset {dataset!r}: expected one of {DATASETS}")
    manifests = list(manifests)
    wanted = set(source_ids) if source_ids is not None else None
    seen: set[str] = replaced_keys(manifests)
    entries: list[dict[str, Any]] = []
    for manifest in manifests:
        if manifest["status"] != "committed":
            continue
        if wanted is not None and manifest["source_id"] not in wanted:
            continue
        for entry in manifest["files"]:
            if entry["dataset"] == dataset and entry["key"] not in seen:
                seen.add(entry["key"])
                entries.append(dict(entry))
    return entries


def committed_files(
    store: Store, dataset: str, source_ids: Iterable[str] | None = None
) -> list[str]:
    """Keys of the `dataset` files that committed manifests list: the only files readers open."""
    source_ids = list(source_ids) if source_ids is not None else None
    manifests = read_manifests(store, source_ids=source_ids)
    return [e["key"] for e in committed_entries(manifests, dataset, source_ids)]


def runs_table(manifests: Iterable[Mapping[str, Any]]) -> pa.Table:
    """One row per run manifest, in RUN_SCHEMA (compactions are housekeeping, not runs)."""
    rows = []
    for m in manifests:
        if is_compaction(m):
            continue
        counts = m.get("counts") or {}
        parquet = [f for f in m["files"] if f["dataset"] in ("articles", "rejects")]
        row = {
            "run_id": m["run_id"],
            "source_id": m["source_id"],
            "flow": m["flow"],
            "status": m["status"],
            "started_at": m.get("started_at"),
            "finished_at": m.get("finished_at"),
            "schema_version": m.get("schema_version", SCHEMA_VERSION),
            "extractor": m.get("extractor"),
            **{name: counts.get(name) for name in RUN_COUNTERS},
            "files": len(m["files"]),
            "rows": sum(int(f.get("rows") or 0) for f in parquet),
            "error": m.get("error"),
        }
        rows.append(from_jsonable(row, RUN_SCHEMA))
    return pa.Table.from_pylist(rows, schema=RUN_SCHEMA)
