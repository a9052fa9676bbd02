"""Rejects: every page that was fetched (or meant to be) and did not land, with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from schemas.article import SCHEMA_VERSION, TIMESTAMP

# Reason codes; `detail` carries the human explanation.
REJECT_REASONS = {
    "not_article": "the page is a section, tag, index, search, error or otherwise not an article",
    "invalid": "extraction produced a row the schema refuses",
    "extract_error": "the extractor failed on the page",
    "http_error": "the server answered with an error status",
    "fetch_error": "the page could not be fetched (DNS, connection, timeout)",
    "robots_disallowed": "robots.txt forbids the URL",
    "offsite": "the page or a redirect left the source's domains",
    "private_address": "the host is a loopback, private or reserved address the source does not"
    " allow (allow_private_network)",
    "too_large": "the response exceeded the size cap",
    "not_html": "the response is not an HTML document",
    "outside_window": "a backfill fetched the article, but it was published outside the window",
}

REJECT_SCHEMA = pa.schema(
    [
        pa.field("url", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("http_status", pa.int16()),
        pa.field("rejected_at", TIMESTAMP, nullable=False),
        pa.field("crawl_run_id", pa.string(), nullable=False),
        pa.field("discovered_via", pa.string()),
        pa.field("schema_version", pa.int16(), nullable=False),
    ],
    metadata={"newslake.schema": "reject", "newslake.schema_version": str(SCHEMA_VERSION)},
)

REJECT_PARTITION_SCHEMA = pa.schema(
    [pa.field("source_id", pa.string()), pa.field("rejected_month", pa.string())]
)


def normalize_reject(fields: Mapping[str, Any]) -> dict[str, Any]:
    reason = fields.get("reason")
    if reason not in REJECT_REASONS:
        raise ValueError(f"reason: expected one of {sorted(REJECT_REASONS)}, got {reason!r}")
    rejected_at = fields.get("rejected_at") or datetime.now(UTC)
    if rejected_at.tzinfo is None:
        raise ValueError("rejected_at: naive datetime")
    row = {
        "url": str(fields["url"]),
        "source_id": str(fields["source_id"]),
        "reason": reason,
        "detail": (str(fields["detail"])[:2000] if fields.get("detail") else None),
        "http_status": fields.get("http_status"),
        "rejected_at": rejected_at.astimezone(UTC),
        "crawl_run_id": str(fields["crawl_run_id"]),
        "discovered_via": fields.get("discovered_via"),
        "schema_version": SCHEMA_VERSION,
    }
    return row


def reject_partition(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "source_id": str(row["source_id"]),
        "rejected_month": row["rejected_at"].strftime("%Y-%m"),
    }
