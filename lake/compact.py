"""Compaction: merge a partition's small files into files of a target size, and vacuum.

Every landing adds at least one file per partition it touches, so an hourly crawl leaves a
month partition with hundreds of small files. Compaction rewrites them without changing any
query's result, on the lake's one commit protocol:

1. Under the source's landing lease (so no landing or other compaction interleaves), read the
   committed manifests and pick, per partition, the visible files smaller than half the target.
2. Read them, drop the copies of a version the `article_versions` view would drop anyway (the
   same rule, lake.query.FIRST_COPY), sort, and write new files of about the target size.
   Rejects are kept row for row: the `rejects` view shows every row.
3. Commit ONE create-only manifest `runs/<compaction id>/<source>.json` (flow "compact") that
   lists the new files and `replaces` the old ones. Readers see the files committed manifests
   list minus those a committed compaction replaced, so a snapshot taken before the commit
   reads exactly the old files and one taken after exactly the new ones: never both (no
   duplicates), never neither (no missing rows). A crash before the commit leaves orphans no
   reader opens.
4. `vacuum` deletes replaced files only once their compaction is older than a grace period, so
   a reader that listed the manifests before the commit can still read the old files. Under
   the lease it also deletes orphans (files no manifest lists: crashed landings, crashed
   compactions), since every data file is written under that lease.

Run manifests are never rewritten or deleted: they are the `runs` view and the history.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from lake.datasets import LAYOUTS
from lake.errors import LakeError
from lake.lease import LEASE_TTL, source_lease
from lake.manifest import (
    COMPACT_FLOW,
    DATASETS,
    RUNS_PREFIX,
    Manifest,
    build_manifest,
    check_segment,
    committed_entries,
    read_manifests,
    replaced_keys,
    write_manifest,
)
from lake.query import FIRST_COPY, VERSION_KEY
from lake.store import Store
from lake.writer import parquet_bytes
from schemas import ARTICLE_SCHEMA, REJECT_SCHEMA

log = logging.getLogger(__name__)

DEFAULT_TARGET_MB = 128
# A file under this share of the target is "small" and worth merging.
SMALL_SHARE = 0.5
# Longer than any reader keeps a snapshot open: a query, a skip-list read, a landing.
VACUUM_GRACE = timedelta(hours=24)
# Compaction reads whole partitions and may take longer than a landing.
COMPACT_LEASE_TTL = max(LEASE_TTL, 3600.0)

_LAYOUT: dict[str, tuple[pa.Schema, list[str]]] = {
    # Row schema and the sort order of written files (the writer's, plus tie-breaks).
    "articles": (
        ARTICLE_SCHEMA,
        ["published_at", "article_id", "content_hash", "fetched_at", "crawl_run_id"],
    ),
    "rejects": (REJECT_SCHEMA, ["rejected_at", "url", "crawl_run_id", "reason"]),
}


@dataclass
class PartitionCompaction:
    dataset: str
    partition: dict[str, str]
    replaced: list[str]
    written: list[str]
    rows_in: int
    rows_out: int
    bytes_in: int
    bytes_out: int


@dataclass
class CompactionResult:
    """What compact_source did for one source; `manifest` is None when nothing needed merging."""

    source_id: str
    compaction_id: str
    partitions: list[PartitionCompaction] = field(default_factory=list)
    manifest: Manifest | None = None

    @property
    def files_replaced(self) -> int:
        return sum(len(p.replaced) for p in self.partitions)

    @property
    def files_written(self) -> int:
        return sum(len(p.written) for p in self.partitions)

    @property
    def duplicates_dropped(self) -> int:
        return sum(p.rows_in - p.rows_out for p in self.partitions)

    def counts(self) -> dict[str, int]:
        return {
            "partitions": len(self.partitions),
            "files_replaced": self.files_replaced,
            "files_written": self.files_written,
            "rows": sum(p.rows_out for p in self.partitions),
            "duplicates_dropped": self.duplicates_dropped,
            "bytes_before": sum(p.bytes_in for p in self.partitions),
            "bytes_after": sum(p.bytes_out for p in self.partitions),
        }


def new_compaction_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-compact-" + uuid.uuid4().hex[:6]


def plan(
    manifests: Iterable[Manifest], source_id: str, target_bytes: int
) -> list[tuple[str, dict[str, str], list[dict[str, Any]]]]:
    """(dataset, partition, small files) for each partition with at least two small files."""
    small = target_bytes * SMALL_SHARE
    manifests = list(manifests)
    groups: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = []
    for dataset in _LAYOUT:
        by_partition: dict[tuple[tuple[str, str], ...], list[dict[str, Any]]] = {}
        for entry in committed_entries(manifests, dataset, [source_id]):
            if int(entry.get("bytes") or 0) < small:
                partition = entry.get("partition") or {}
                by_partition.setdefault(tuple(sorted(partition.items())), []).append(entry)
        for pkey in sorted(by_partition):
            files = by_partition[pkey]
            if len(files) >= 2:
                groups.append((dataset, dict(pkey), files))
    return groups


def _read(store: Store, dataset: str, keys: list[str]) -> pa.Table:
    """The files' rows in the newest row schema (columns older files lack read as null)."""
    filesystem, base = store.arrow_filesystem()
    schema = _LAYOUT[dataset][0]
    data = ds.dataset(
        [f"{base}/{key}" for key in keys], schema=schema, format="parquet", filesystem=filesystem
    )
    return data.to_table()


def _first_copies(table: pa.Table) -> pa.Table:
    """Drop the article rows the article_versions view drops, by the view's own rule."""
    columns = ["source_id", "article_id", "content_hash", "fetched_at", "crawl_run_id"]
    indexed = table.select(columns).append_column(
        "_row", pa.array(range(table.num_rows), pa.int64())
    )
    con = duckdb.connect(":memory:")
    try:
        con.register("_rows", indexed)
        keep = con.execute(
            f"SELECT _row FROM _rows QUALIFY row_number() OVER"
            f" (PARTITION BY {VERSION_KEY} ORDER BY {FIRST_COPY}) = 1 ORDER BY _row"
        ).fetchall()
    finally:
        con.close()
    # Taking rows by index keeps the exact Arrow types (a round trip through DuckDB would not).
    return table.take(pa.array([row[0] for row in keep], pa.int64()))


def _split(table: pa.Table, bytes_in: int, target_bytes: int) -> list[pa.Table]:
    """Slices of about `target_bytes` each, sized by the input's bytes per row."""
    if table.num_rows == 0:
        return []
    parts = max(1, math.ceil(bytes_in / target_bytes))
    per_file = math.ceil(table.num_rows / parts)
    return [table.slice(i, per_file) for i in range(0, table.num_rows, per_file)]


def _merge(
    store: Store,
    dataset: str,
    partition: dict[str, str],
    files: list[dict[str, Any]],
    *,
    compaction_id: str,
    part_numbers: itertools.count[int],
    target_bytes: int,
    written: list[dict[str, Any]],
) -> PartitionCompaction:
    keys = [f["key"] for f in files]
    table = _read(store, dataset, keys)
    rows_in = table.num_rows
    if dataset == "articles":
        table = _first_copies(table)
    table = table.sort_by([(name, "ascending") for name in _LAYOUT[dataset][1]])
    bytes_in = sum(int(f.get("bytes") or 0) for f in files)
    folder = "/".join(f"{k}={v}" for k, v in partition.items())
    out: list[str] = []
    bytes_out = 0
    for piece in _split(table, bytes_in, target_bytes):
        data = parquet_bytes(piece)
        key = f"{dataset}/{folder}/part-{compaction_id}-{next(part_numbers)}.parquet"
        store.put(key, data)
        written.append(
            {
                "key": key,
                "dataset": dataset,
                "rows": piece.num_rows,
                "bytes": len(data),
                "partition": dict(partition),
            }
        )
        out.append(key)
        bytes_out += len(data)
    return PartitionCompaction(
        dataset, dict(partition), keys, out, rows_in, table.num_rows, bytes_in, bytes_out
    )


def _partition_of(files: list[dict[str, Any]], dataset: str) -> dict[str, str]:
    """The partition values in the layout's order (source_id first), as the writer writes."""
    first = files[0].get("partition") or {}
    names = LAYOUTS[dataset][1].names
    if set(first) != set(names):
        raise LakeError(f"{files[0]['key']}: partition {first!r} does not match {names}")
    return {name: str(first[name]) for name in names}


def compact_source(
    store: Store,
    source_id: str,
    *,
    target_mb: float = DEFAULT_TARGET_MB,
    compaction_id: str | None = None,
    lease_ttl: float = COMPACT_LEASE_TTL,
) -> CompactionResult:
    """Merge the small files of each of `source_id`'s partitions and commit one manifest."""
    check_segment("source_id", source_id)
    if not target_mb > 0:
        raise LakeError(f"target size {target_mb!r} MB: must be positive")
    target_bytes = int(target_mb * 1024 * 1024)
    compaction_id = check_segment("compaction id", compaction_id or new_compaction_id())
    started = datetime.now(UTC)
    result = CompactionResult(source_id, compaction_id)
    with source_lease(store, source_id, compaction_id, ttl=lease_ttl):
        manifests = read_manifests(store, source_ids=[source_id])
        groups = plan(manifests, source_id, target_bytes)
        if not groups:
            log.info("%s: no partition has two small files; nothing to compact", source_id)
            return result
        written: list[dict[str, Any]] = []
        part_numbers = itertools.count()
        try:
            for dataset, _, files in groups:
                result.partitions.append(
                    _merge(
                        store,
                        dataset,
                        _partition_of(files, dataset),
                        files,
                        compaction_id=compaction_id,
                        part_numbers=part_numbers,
                        target_bytes=target_bytes,
                        written=written,
                    )
                )
            manifest = build_manifest(
                run_id=compaction_id,
                source_id=source_id,
                flow=COMPACT_FLOW,
                status="committed",
                started_at=started,
                counts=result.counts(),
                files=written,
                replaces=[key for p in result.partitions for key in p.replaced],
                details={"target_mb": target_mb},
            )
            _check_still_visible(store, source_id, manifest["replaces"])
            result.manifest = write_manifest(store, manifest)
        except BaseException:
            # Best effort: uncommitted files are invisible anyway; vacuum removes leftovers.
            for entry in written:
                try:
                    store.delete(entry["key"])
                except LakeError as exc:
                    log.warning("could not delete uncommitted %s: %s", entry["key"], exc)
            raise
    counts = result.counts()
    log.info(
        "compacted %s: %d files in %d partitions into %d (%d duplicate rows dropped)",
        source_id,
        counts["files_replaced"],
        counts["partitions"],
        counts["files_written"],
        counts["duplicates_dropped"],
    )
    return result


def _check_still_visible(store: Store, source_id: str, keys: list[str]) -> None:
    """Refuse to commit if another compaction replaced some of the files meanwhile.

    The lease already serializes compactions; this catches a lease lost to expiry.
    """
    gone = set(keys) & replaced_keys(read_manifests(store, source_ids=[source_id]))
    if gone:
        raise LakeError(
            f"{source_id}: {len(gone)} file(s) were compacted by someone else meanwhile"
            f" (e.g. {sorted(gone)[0]}); nothing committed, run the compaction again"
        )


@dataclass
class VacuumResult:
    source_id: str
    replaced_deleted: list[str] = field(default_factory=list)
    orphans_deleted: list[str] = field(default_factory=list)
    replaced_waiting: int = 0  # replaced files still inside the grace period


def _finished(manifest: Manifest) -> datetime:
    text = manifest.get("finished_at") or manifest.get("started_at")
    if not text:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


_RUN_TIME = re.compile(r"^(?:part-)?(\d{8}T\d{6}Z)-")


def _written_at(key: str) -> datetime | None:
    """When the run (or compaction) that wrote `key` started, from the run id in its name."""
    match = _RUN_TIME.match(key.rsplit("/", 1)[-1])
    if match is None:
        return None  # a run id without a time: never taken for an orphan
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def vacuum_source(
    store: Store,
    source_id: str,
    *,
    grace: timedelta = VACUUM_GRACE,
    now: datetime | None = None,
    orphans: bool = True,
    lease_ttl: float = COMPACT_LEASE_TTL,
) -> VacuumResult:
    """Delete files replaced by compactions older than `grace`, and (with `orphans`) files
    no manifest lists whose run started before `grace` (its id begins with the start time).
    Holds the landing lease, so no live landing's uncommitted files are taken for orphans."""
    check_segment("source_id", source_id)
    now = now or datetime.now(UTC)
    result = VacuumResult(source_id)
    with source_lease(store, source_id, f"vacuum-{uuid.uuid4().hex[:6]}", ttl=lease_ttl):
        manifests = read_manifests(store, source_ids=[source_id])
        present = {
            key for dataset in DATASETS for key in store.list(f"{dataset}/source_id={source_id}/")
        }
        due: set[str] = set()
        waiting: set[str] = set()
        for manifest in manifests:
            if manifest["status"] != "committed" or not manifest.get("replaces"):
                continue
            bucket = due if _finished(manifest) <= now - grace else waiting
            bucket.update(manifest["replaces"])
        waiting -= due
        listed = {entry["key"] for m in manifests for entry in m["files"]}
        for key in sorted(due & present):
            store.delete(key)
            result.replaced_deleted.append(key)
        result.replaced_waiting = len(waiting & present)
        if orphans:
            for key in sorted(present - listed):
                written = _written_at(key)
                # Only files of runs that started before the grace period: a landing that
                # outlived its lease may still be about to commit a younger one.
                if written is not None and written <= now - grace:
                    store.delete(key)
                    result.orphans_deleted.append(key)
    log.info(
        "vacuumed %s: %d replaced and %d orphan file(s) deleted, %d waiting for the grace period",
        source_id,
        len(result.replaced_deleted),
        len(result.orphans_deleted),
        result.replaced_waiting,
    )
    return result


def lake_source_ids(store: Store) -> list[str]:
    """Sources that have manifests in the lake, sorted (from the manifests' keys alone)."""
    ids = set()
    for key in store.list(RUNS_PREFIX):
        parts = key[len(RUNS_PREFIX) :].split("/")
        if len(parts) == 2 and parts[1].endswith(".json"):
            ids.add(parts[1][: -len(".json")])
    return sorted(ids)
