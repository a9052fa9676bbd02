"""Retry-After parsing (the crawl test proves the wait happens without blocking others)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spiders.middlewares import parse_retry_after

NOW = datetime(2024, 5, 12, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1", 1.0),
        (b"120", 120.0),
        (" 30 ", 30.0),
        ("Sun, 12 May 2024 10:01:30 GMT", 90.0),
        ("Sun, 12 May 2024 09:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | bytes | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds
