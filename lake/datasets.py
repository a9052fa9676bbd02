"""pyarrow datasets over exactly the files committed manifests list.

Each file becomes a fragment whose partition expression is parsed (hive style) from its key,
so a filter on source_id or the month skips whole files without opening them. The dataset has
the newest schema: columns missing from older files read as null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from lake.errors import LakeError
from lake.manifest import committed_entries
from lake.store import Store
from schemas import (
    ARTICLE_PARTITION_SCHEMA,
    ARTICLE_SCHEMA,
    REJECT_PARTITION_SCHEMA,
    REJECT_SCHEMA,
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


def open_dataset(
    store: Store,
    manifests: Iterable[Mapping[str, Any]],
    dataset: str,
    source_ids: Iterable[str] | None = None,
) -> ds.FileSystemDataset:
    """A dataset of the committed `dataset` files ("articles" or "rejects"); no I/O until read."""
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
                partition_expression=partitioning.parse("/" + relative),
                # Known sizes save one HEAD request per file on S3.
                file_size=int(size) if size else None,
            )
        )
    return ds.FileSystemDataset(
        fragments, schema=dataset_schema(dataset), format=fmt, filesystem=filesystem
    )
