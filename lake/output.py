"""Query results as text: a rich table for people, JSON or CSV for programs."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import shutil
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lake.errors import LakeError

FORMATS = ("table", "json", "csv")
# Table cells are for reading: long values (bodies) are cut, json and csv keep everything.
TABLE_CELL_CHARS = 200
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


def plain(value: Any) -> Any:
    """A JSON-safe value: timestamps ISO 8601 (UTC ones end in Z), nested values recursively."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID | timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def _text(value: Any) -> str:
    """One value as a single text cell (csv, table); null is the caller's business."""
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _unique(columns: Sequence[str]) -> list[str]:
    """JSON objects cannot hold two keys of one name: `SELECT a.x, b.x` gives x and x_1."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in columns:
        candidate = name
        while candidate in seen:
            seen[name] += 1
            candidate = f"{name}_{seen[name]}"
        seen.setdefault(candidate, 0)
        out.append(candidate)
    return out


def to_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    names = _unique(columns)
    records = [dict(zip(names, (plain(v) for v in row), strict=True)) for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _text(v) for v in row])
    return out.getvalue()


def to_table(
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    width: int | None = None,
) -> str:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for name, type_ in zip(columns, types, strict=True):
        numeric = type_.upper().startswith(_NUMERIC)
        # Text objects, not strings: a value like "[b]" must not be read as rich markup.
        table.add_column(Text(name), justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        cells = []
        for value in row:
            if value is None:
                cells.append(Text("NULL", style="dim"))
                continue
            text = _text(value)
            if len(text) > TABLE_CELL_CHARS:
                text = text[: TABLE_CELL_CHARS - 1] + "…"
            cells.append(Text(text))
        table.add_row(*cells)
    out = io.StringIO()
    width = width or shutil.get_terminal_size((160, 24)).columns
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    console.print(table)
    console.print(f"({len(rows)} row{'' if len(rows) == 1 else 's'})", markup=False)
    return out.getvalue()


def format_result(
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: str,
    *,
    width: int | None = None,
) -> str:
    if fmt == "json":
        return to_json(columns, rows)
    if fmt == "csv":
        return to_csv(columns, rows)
    if fmt == "table":
        return to_table(columns, types, rows, width=width)
    raise LakeError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
