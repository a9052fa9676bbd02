"""Defaults that make Prefect quiet and offline-friendly; applied before Prefect is imported."""

from __future__ import annotations

import os


def prefect_defaults() -> None:
    """Turn off telemetry (its failure floods the log offline); users can still override."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
