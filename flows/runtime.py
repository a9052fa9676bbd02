"""Defaults that make Prefect quiet and offline-friendly; applied before Prefect is imported."""

from __future__ import annotations

import os


def prefect_defaults() -> None:
    """Offline-friendly defaults; the user's environment still wins.

    Telemetry is off (offline, its failure floods the log with tracebacks), and the ephemeral
    API gets 90 s to start instead of 20: on a busy 2-core machine it can take longer.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Secrets masked in every log line, and refused as flow parameters (flows/redact.py).
    from flows.redact import install

    install()
