"""Run ids and spool folders, shared by the crawl and backfill flows."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path


def spool_parent() -> str | None:
    """Where crawls spool before landing: $NEWSLAKE_SPOOL_DIR, else the system temp folder."""
    parent = os.environ.get("NEWSLAKE_SPOOL_DIR")
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return parent


def new_run_id() -> str:
    """Sortable and unique: UTC time of the start plus a random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
