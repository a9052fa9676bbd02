"""Land one crawl's spool folder in the lake: Parquet per partition, the raw WARC, the manifest.

The spool is read line by line into bounded per-partition buffers, so memory stays flat however
big the crawl was. Data files go up first and the manifest last: until the manifest exists, no
reader sees the files, and landing the same spool again (same run id) rewrites the same keys
and commits once. Versions already landed for the source are dropped as duplicates, so a
re-crawl of unchanged pages adds nothing.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lake.errors import LakeError, SpoolError
from lake.landed import landed_keys
from lake.lease import LEASE_TTL, source_lease
from lake.manifest import Manifest, build_manifest, check_segment, read_manifest, write_manifest
from lake.store import Store
from schemas import (
    ARTICLE_SCHEMA,
    REJECT_SCHEMA,
    SCHEMA_VERSION,
    InvalidRow,
    article_partition,
    from_jsonable,
    normalize_article,
    normalize_reject,
    reject_partition,
)
from schemas.spool import ARTICLES_FILE, RAW_FILE, REJECTS_FILE, STATS_FILE

log = logging.getLogger(__name__)


MAX_ROWS_PER_FILE = 50_000
# JSON text held in buffers across all partitions; the biggest buffer is flushed past it.
MAX_BUFFER_BYTES = 64 * 1024 * 1024
ROW_GROUP_SIZE = 10_000


@dataclass
class LandResult:
    """What land_spool did. `counts` are the manifest's counters (crawl stats plus the lake's)."""

    landed: int
    rejected: int
    duplicates: int
    files: list[dict[str, Any]]
    manifest: Manifest
    already_committed: bool = False
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = {k: int(v) for k, v in self.manifest.get("counts", {}).items()}


@dataclass
class _Buffer:
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    nbytes: int = 0


def parquet_bytes(table: pa.Table) -> bytes:
    """One lake data file: zstd, row groups of ROW_GROUP_SIZE, with column statistics."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        table, sink, compression="zstd", row_group_size=ROW_GROUP_SIZE, write_statistics=True
    )
    data: bytes = sink.getvalue().to_pybytes()
    return data


class _PartitionedWriter:
    """Bounded buffers per partition, each flushed to one Parquet file when full."""

    def __init__(
        self,
        store: Store,
        *,
        dataset: str,
        schema: pa.Schema,
        sort_by: list[tuple[str, str]],
        run_id: str,
        where: str,
        part_numbers: Iterator[int],
        max_rows: int,
        max_bytes: int,
        written: list[dict[str, Any]],
    ) -> None:
        self.store = store
        self.dataset = dataset
        self.schema = schema
        self.sort_by = sort_by
        self.run_id = run_id
        self.where = where
        self.part_numbers = part_numbers
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.buffers: dict[tuple[tuple[str, str], ...], _Buffer] = {}
        self.buffered_bytes = 0
        self.files = written
        self.rows_written = 0

    def add(self, row: dict[str, Any], partition: dict[str, str], line: int, nbytes: int) -> None:
        pkey = tuple(partition.items())
        buf = self.buffers.setdefault(pkey, _Buffer())
        buf.rows.append(row)
        buf.lines.append(line)
        buf.nbytes += nbytes
        self.buffered_bytes += nbytes
        if len(buf.rows) >= self.max_rows:
            self._flush(pkey)
        while self.buffered_bytes > self.max_bytes:
            self._flush(max(self.buffers, key=lambda k: self.buffers[k].nbytes))

    def close(self) -> None:
        for pkey in sorted(self.buffers):
            self._flush(pkey)

    def _table(self, buf: _Buffer) -> pa.Table:
        try:
            return pa.Table.from_pylist(buf.rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            # Find the line to name; the batch conversion does not say which row failed.
            for row, line in zip(buf.rows, buf.lines, strict=True):
                try:
                    pa.Table.from_pylist([row], schema=self.schema)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
                    raise SpoolError(f"{self.where}:{line}: {exc}") from None
            raise

    def _flush(self, pkey: tuple[tuple[str, str], ...]) -> None:
        buf = self.buffers.pop(pkey)
        self.buffered_bytes -= buf.nbytes
        if not buf.rows:
            return
        table = self._table(buf).sort_by(self.sort_by)
        data = parquet_bytes(table)
        folder = "/".join(f"{k}={v}" for k, v in pkey)
        key = f"{self.dataset}/{folder}/part-{self.run_id}-{next(self.part_numbers)}.parquet"
        self.store.put(key, data)
        self.files.append(
            {
                "key": key,
                "dataset": self.dataset,
                "rows": table.num_rows,
                "bytes": len(data),
                "partition": dict(pkey),
            }
        )
        self.rows_written += table.num_rows


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any], int]]:
    """(line number, object, size in bytes) per non-blank line; malformed lines raise."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SpoolError(f"{path}:{number}: not UTF-8 ({exc.reason})") from None
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SpoolError(
                    f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(data, dict):
                raise SpoolError(f"{path}:{number}: expected a JSON object per line")
            yield number, data, len(raw)


def _check_ids(where: str, row: Mapping[str, Any], source_id: str, run_id: str) -> None:
    if row.get("source_id") != source_id:
        raise SpoolError(f"{where}: source_id {row.get('source_id')!r}, expected {source_id!r}")
    if row.get("crawl_run_id") != run_id:
        raise SpoolError(f"{where}: crawl_run_id {row.get('crawl_run_id')!r}, expected {run_id!r}")


def _article_row(where: str, data: dict[str, Any], source_id: str, run_id: str) -> dict[str, Any]:
    """Re-validate a spool row through the schema, which also re-derives ids and hash."""
    unknown = sorted(set(data) - set(ARTICLE_SCHEMA.names))
    if unknown:
        raise SpoolError(f"{where}: {unknown[0]!r} is not a field of the article schema")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SpoolError(f"{where}: schema_version {version!r}, this writer lands {SCHEMA_VERSION}")
    try:
        row = normalize_article(from_jsonable(data, ARTICLE_SCHEMA))
    except (InvalidRow, ValueError, TypeError) as exc:
        raise SpoolError(f"{where}: {exc}") from None
    for name in ("article_id", "content_hash"):
        if data.get(name) is not None and data[name] != row[name]:
            raise SpoolError(f"{where}: {name} {data[name]!r} does not match the row's content")
    _check_ids(where, row, source_id, run_id)
    return row


def _reject_row(where: str, data: dict[str, Any], source_id: str, run_id: str) -> dict[str, Any]:
    unknown = sorted(set(data) - set(REJECT_SCHEMA.names))
    if unknown:
        raise SpoolError(f"{where}: {unknown[0]!r} is not a field of the reject schema")
    for name in ("url", "source_id", "crawl_run_id", "rejected_at"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise SpoolError(f"{where}: {name} missing or empty")
    try:
        row = normalize_reject(from_jsonable(data, REJECT_SCHEMA))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SpoolError(f"{where}: {exc}") from None
    _check_ids(where, row, source_id, run_id)
    return row


def raw_key(source_id: str, run_id: str) -> str:
    return f"raw/source_id={source_id}/{run_id}.warc.gz"


def _rewrite_raw_ref(where: str, row: dict[str, Any], raw: str | None) -> None:
    ref = row.get("raw_ref")
    if ref is None or not ref.startswith(RAW_FILE + ":"):
        return  # null, or already a lake reference (a reparse of landed captures)
    if raw is None:
        raise SpoolError(f"{where}: raw_ref {ref!r} but the spool has no {RAW_FILE}")
    offset = ref[len(RAW_FILE) + 1 :]
    if not offset.isdigit():
        raise SpoolError(f"{where}: raw_ref {ref!r}: expected {RAW_FILE}:<byte offset>")
    row["raw_ref"] = f"{raw}:{offset}"


def _stats(spool_dir: Path) -> dict[str, Any]:
    path = spool_dir / STATS_FILE
    if not path.exists():
        return {}
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpoolError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(stats, dict):
        raise SpoolError(f"{path}: expected a JSON object")
    return stats


def _split_stats(stats: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, Any]]:
    """Integer counters go to `counts`; anything else (finished_reason...) to `details`."""
    counts = {k: v for k, v in stats.items() if isinstance(v, int) and not isinstance(v, bool)}
    details = {k: v for k, v in stats.items() if k not in counts}
    return counts, details


def _result_from(manifest: Manifest) -> LandResult:
    counts = manifest.get("counts", {})
    return LandResult(
        landed=int(counts.get("landed", 0)),
        rejected=int(counts.get("rejected", 0)),
        duplicates=int(counts.get("lake_duplicates", 0)),
        files=list(manifest["files"]),
        manifest=manifest,
        already_committed=True,
    )


@dataclass
class _Staged:
    files: list[dict[str, Any]] = field(default_factory=list)
    landed: int = 0
    rejected: int = 0
    duplicates: int = 0


def _stage(
    store: Store,
    spool_dir: Path,
    staged: _Staged,
    *,
    run_id: str,
    source_id: str,
    max_rows_per_file: int,
    max_buffer_bytes: int,
) -> None:
    """Upload the spool's data files (raw WARC, articles, rejects) without committing them.

    Every file written is appended to `staged.files` as soon as it exists, so a caller can
    clean up after a failure.
    """
    raw: str | None = None
    raw_path = spool_dir / RAW_FILE
    if raw_path.exists():
        raw = raw_key(source_id, run_id)
        store.put_file(raw, raw_path)
        staged.files.append(
            {
                "key": raw,
                "dataset": "raw",
                "rows": None,
                "bytes": raw_path.stat().st_size,
                "partition": {"source_id": source_id},
            }
        )

    part_numbers = itertools.count()

    def writer(
        dataset: str, schema: pa.Schema, sort_by: list[str], where: Path
    ) -> _PartitionedWriter:
        return _PartitionedWriter(
            store,
            dataset=dataset,
            schema=schema,
            sort_by=[(name, "ascending") for name in sort_by],
            run_id=run_id,
            where=str(where),
            part_numbers=part_numbers,
            max_rows=max_rows_per_file,
            max_bytes=max_buffer_bytes,
            written=staged.files,
        )

    landed = landed_keys(store, source_id)
    seen: set[tuple[str, str]] = set()
    path = spool_dir / ARTICLES_FILE
    articles = writer("articles", ARTICLE_SCHEMA, ["published_at", "article_id"], path)
    for line, data, nbytes in _read_jsonl(path):
        where = f"{path}:{line}"
        row = _article_row(where, data, source_id, run_id)
        version = (row["article_id"], row["content_hash"])
        if version in landed or version in seen:
            staged.duplicates += 1
            continue
        seen.add(version)
        _rewrite_raw_ref(where, row, raw)
        articles.add(row, article_partition(row), line, nbytes)
    articles.close()
    staged.landed = articles.rows_written

    path = spool_dir / REJECTS_FILE
    rejects = writer("rejects", REJECT_SCHEMA, ["rejected_at", "url"], path)
    for line, data, nbytes in _read_jsonl(path):
        row = _reject_row(f"{path}:{line}", data, source_id, run_id)
        rejects.add(row, reject_partition(row), line, nbytes)
    rejects.close()
    staged.rejected = rejects.rows_written


def _discard(store: Store, files: list[dict[str, Any]]) -> None:
    """Best effort: uncommitted files are invisible anyway, this only saves space."""
    for entry in files:
        try:
            store.delete(entry["key"])
        except LakeError as exc:
            log.warning("could not delete uncommitted %s: %s", entry["key"], exc)


def land_spool(
    store: Store,
    spool_dir: Path,
    *,
    run_id: str,
    source_id: str,
    flow: str = "crawl",
    started_at: datetime | None = None,
    counts: Mapping[str, Any] | None = None,
    extractor: str | None = None,
    max_rows_per_file: int = MAX_ROWS_PER_FILE,
    max_buffer_bytes: int = MAX_BUFFER_BYTES,
    lease_ttl: float = LEASE_TTL,
) -> LandResult:
    """Land one crawl's spool for one source and commit its run manifest.

    `counts` is the spool's stats.json (read from the spool when None). Idempotent: if this
    run already committed for the source, the existing manifest is returned and nothing is
    written. A malformed spool line raises SpoolError naming the file and line, and nothing
    is committed.
    """
    check_segment("run_id", run_id)
    check_segment("source_id", source_id)
    # One lander per source: reading what is landed and committing must not interleave.
    with source_lease(store, source_id, run_id, ttl=lease_ttl):
        return _land_locked(
            store,
            Path(spool_dir),
            run_id=run_id,
            source_id=source_id,
            flow=flow,
            started_at=started_at,
            counts=counts,
            extractor=extractor,
            max_rows_per_file=max_rows_per_file,
            max_buffer_bytes=max_buffer_bytes,
        )


def _land_locked(
    store: Store,
    spool_dir: Path,
    *,
    run_id: str,
    source_id: str,
    flow: str,
    started_at: datetime | None,
    counts: Mapping[str, Any] | None,
    extractor: str | None,
    max_rows_per_file: int,
    max_buffer_bytes: int,
) -> LandResult:
    existing = read_manifest(store, run_id, source_id)
    if existing is not None:
        if existing["status"] != "committed":
            raise LakeError(
                f"run {run_id} is already recorded as failed for {source_id}: land under a new"
                " run id"
            )
        log.info("run %s already committed for %s; nothing to land", run_id, source_id)
        return _result_from(existing)
    if not spool_dir.is_dir():
        raise SpoolError(f"spool folder {spool_dir} does not exist")
    stats = dict(counts) if counts is not None else _stats(spool_dir)

    staged = _Staged()
    try:
        _stage(
            store,
            spool_dir,
            staged,
            run_id=run_id,
            source_id=source_id,
            max_rows_per_file=max_rows_per_file,
            max_buffer_bytes=max_buffer_bytes,
        )
    except BaseException:
        _discard(store, staged.files)
        raise

    crawl_counts, details = _split_stats(stats)
    crawl_counts.update(
        landed=staged.landed,
        rejected=staged.rejected,
        # The crawl's own duplicates plus versions the lake already had.
        duplicates=crawl_counts.get("duplicates", 0) + staged.duplicates,
        lake_duplicates=staged.duplicates,
    )
    manifest = build_manifest(
        run_id=run_id,
        source_id=source_id,
        flow=flow,
        status="committed",
        started_at=started_at,
        extractor=extractor,
        counts=crawl_counts,
        files=staged.files,
        details=details,
    )
    committed = write_manifest(store, manifest)
    if committed["status"] != "committed" or committed["files"] != manifest["files"]:
        log.warning(
            "run %s for %s was committed concurrently; keeping that commit", run_id, source_id
        )
        return _result_from(committed)
    log.info(
        "landed %s run %s into %s: %d articles, %d rejects, %d duplicates dropped, %d files",
        source_id,
        run_id,
        store.uri,
        staged.landed,
        staged.rejected,
        staged.duplicates,
        len(staged.files),
    )
    return LandResult(
        landed=staged.landed,
        rejected=staged.rejected,
        duplicates=staged.duplicates,
        files=staged.files,
        manifest=committed,
    )


def write_failed_manifest(
    store: Store,
    run_id: str,
    source_id: str,
    error: str,
    *,
    flow: str = "crawl",
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    counts: Mapping[str, Any] | None = None,
    extractor: str | None = None,
) -> Manifest:
    """Record that `source_id` failed in `run_id` (no files). If the run already has a manifest
    for the source (committed or failed), that one is kept and returned."""
    crawl_counts, details = _split_stats(counts or {})
    manifest = build_manifest(
        run_id=run_id,
        source_id=source_id,
        flow=flow,
        status="failed",
        started_at=started_at,
        finished_at=finished_at,
        extractor=extractor,
        counts=crawl_counts,
        error=error,
        details=details,
    )
    return write_manifest(store, manifest)
