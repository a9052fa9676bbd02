"""Run manifests: what one run landed for one source. The manifest is the commit."""

from __future__ import annotations

import pyarrow as pa

from schemas.article import TIMESTAMP

RUN_STATUSES = ("committed", "failed")

# Per-source counters a crawl reports; the runs view has one column each.
RUN_COUNTERS = ("discovered", "fetched", "landed", "rejected", "skipped_landed", "duplicates")

RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("flow", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("started_at", TIMESTAMP),
        pa.field("finished_at", TIMESTAMP),
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("extractor", pa.string()),
        *[pa.field(name, pa.int64()) for name in RUN_COUNTERS],
        pa.field("files", pa.int32()),
        pa.field("rows", pa.int64()),
        pa.field("error", pa.string()),
    ],
    metadata={"newslake.schema": "run"},
)
