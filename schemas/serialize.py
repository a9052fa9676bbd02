"""Rows as JSON-safe dicts and back, driven by the schema types (spool files, CLI output)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def to_jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    """Timestamps become ISO 8601 strings in UTC ending in Z; everything else is left as is."""
    return {k: _to_json(v) for k, v in row.items()}


def parse_timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def from_jsonable(data: Mapping[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """Inverse of to_jsonable for the fields of `schema`; unknown keys are kept unchanged."""
    row = dict(data)
    for field in schema:
        if pa.types.is_timestamp(field.type) and field.name in row:
            row[field.name] = parse_timestamp(row[field.name])
    return row
