"""What the spider yields: a normalized article row, or a reject row saying why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ArticleItem:
    """One row of schemas.normalize_article (plain values, datetimes in UTC)."""

    row: dict[str, Any]


@dataclass
class RejectItem:
    """One row of schemas.normalize_reject."""

    row: dict[str, Any]
