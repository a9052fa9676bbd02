"""pyarrow datasets over exactly the files committed manifests list.

Each file becomes a fragment whose partition expression is parsed (hive style) from its key,
so a filter on source_id or the month skips whole files without opening them. The dataset has
the newest schema: columns missing from older files read as null.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from lake.errors import LakeError
from lake.manifest import committed_entries
from lake.store import Store
from schemas import (
    ARTICLE_PARTITION_SCHEMA,
    ARTICLE_SCHEMA,
    REJECT_PARTITION_SCHEMA,
    REJECT_SCHEMA,
    UNDATED_PARTITION,
)

LAYOUTS: dict[str, tuple[pa.Schema, pa.Schema]] = {
    "articles": (ARTICLE_SCHEMA, ARTICLE_PARTITION_SCHEMA),
    "rejects": (REJECT_SCHEMA, REJECT_PARTITION_SCHEMA),
}


def dataset_schema(dataset: str) -> pa.Schema:
    """Row schema plus the partition columns that live only in the path (published_month...)."""
    schema, partitions = LAYOUTS[dataset]
    extra = [f for f in partitions if f.name not in schema.names]
    return pa.schema([*schema, *extra], metadata=schema.metadata)


# A month partition holds only rows whose timestamp falls in that month (undated: null), so
# each file also guarantees a range of the timestamp, and a filter on the timestamp itself,
# not only on the month, skips the files of other months without opening them.
MONTH_COLUMNS = {"published_month": "published_at", "rejected_month": "rejected_at"}
_TIMESTAMP = pa.timestamp("us", tz="UTC")


def month_range(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of a "YYYY-MM" partition value."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def _guarantee(expression: ds.Expression) -> ds.Expression:
    """The partition expression plus the timestamp range its month implies."""
    keys = ds.get_partition_keys(expression)
    for month_column, column in MONTH_COLUMNS.items():
        month = keys.get(month_column)
        if month is None:
            continue
        if month == UNDATED_PARTITION:
            expression = expression & ds.field(column).is_null()
            continue
        try:
            start, end = month_range(str(month))
        except ValueError:
            continue  # not a month: the file is read and filtered row by row
        expression = expression & (ds.field(column) >= pa.scalar(start, type=_TIMESTAMP))
        expression = expression & (ds.field(column) < pa.scalar(end, type=_TIMESTAMP))
    return expression


def open_dataset(
    store: Store,
    manifests: Iterable[Mapping[str, Any]],
    dataset: str,
    source_ids: Iterable[str] | None = None,
    *,
    where: ds.Expression | None = None,
) -> ds.FileSystemDataset:
    """A dataset of the committed `dataset` files ("articles" or "rejects"); no I/O until read.

    `where` keeps only the files whose partition can hold rows matching it (decided from
    their paths alone); the rows themselves are not filtered.
    """
    if dataset not in LAYOUTS:
        raise LakeError(f"dataset {dataset!r}: expected one of {sorted(LAYOUTS)}")
    filesystem, base = store.arrow_filesystem()
    partitioning = ds.HivePartitioning(LAYOUTS[dataset][1])
    fmt = ds.ParquetFileFormat()
    fragments = []
    for entry in committed_entries(manifests, dataset, source_ids):
        key: str = entry["key"]
        # The path below the dataset folder, file name included (parse() ignores the last part).
        relative = key[len(dataset) + 1 :] if key.startswith(dataset + "/") else None
        if relative is None:
            raise LakeError(f"committed file {key} is not under {dataset}/")
        size = entry.get("bytes")
        fragments.append(
            fmt.make_fragment(
                f"{base}/{key}",
                filesystem=filesystem,
                partition_expression=_guarantee(partitioning.parse("/" + relative)),
                # Known sizes save one HEAD request per file on S3.
                file_size=int(size) if size else None,
            )
        )
    schema = dataset_schema(dataset)
    if where is not None:
        # pyarrow prunes on the partition expressions only: no file is opened here.
        everything = ds.FileSystemDataset(
            fragments, schema=schema, format=fmt, filesystem=filesystem
        )
        fragments = list(everything.get_fragments(filter=where))
    return ds.FileSystemDataset(fragments, schema=schema, format=fmt, filesystem=filesystem)


def published_between(since: datetime | None, until: datetime | None) -> ds.Expression | None:
    """since <= published_at < until (either bound may be open), as a dataset filter."""
    terms = []
    if since is not None:
        terms.append(ds.field("published_at") >= pa.scalar(since, type=_TIMESTAMP))
    if until is not None:
        terms.append(ds.field("published_at") < pa.scalar(until, type=_TIMESTAMP))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else terms[0] & terms[1]


class _OpenRecorder(pafs.FileSystemHandler):
    """A pyarrow filesystem handler over another filesystem that records each file opened."""

    def __init__(self, inner: pafs.FileSystem, opened: list[str]) -> None:
        self.inner = inner
        self.opened = opened

    def get_type_name(self) -> str:
        return f"recording+{self.inner.type_name}"

    def normalize_path(self, path: str) -> str:
        return str(self.inner.normalize_path(path))

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return list(self.inner.get_file_info(paths))

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return list(self.inner.get_file_info(selector))

    def open_input_file(self, path: str) -> Any:
        self.opened.append(path)
        return self.inner.open_input_file(path)

    def open_input_stream(self, path: str) -> Any:
        self.opened.append(path)
        return self.inner.open_input_stream(path)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise LakeError("the read-recording filesystem only reads")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
    delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only


class ReadRecordingStore(Store):
    """A store whose pyarrow readers record the keys of the data files they open.

    It shows which files a query really read (`opened`), e.g. that a one-source one-week
    query opens only that source's files of that month. Everything else goes to `inner`.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.lake = inner.lake
        self._paths: list[str] = []
        filesystem, self._base = inner.arrow_filesystem()
        self._filesystem = pafs.PyFileSystem(_OpenRecorder(filesystem, self._paths))

    @property
    def opened(self) -> list[str]:
        """Keys of the files opened so far, in order (a file opened twice is listed twice)."""
        prefix = self._base.rstrip("/") + "/"
        return [p[len(prefix) :] if p.startswith(prefix) else p for p in self._paths]

    def reset(self) -> None:
        self._paths.clear()

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        return self._filesystem, self._base

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        self.inner.put(key, data, if_absent=if_absent)

    def put_file(self, key: str, path: Path) -> None:
        self.inner.put_file(key, path)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        return self.inner.get_many(keys)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)
