"""Stable identities: which article a row is, and which version of it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from schemas.article import CONTENT_FIELDS


def article_id(canonical_url: str) -> str:
    """Stable id of an article: the first 32 hex digits of sha256(canonical URL)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def content_hash(row: Mapping[str, Any]) -> str:
    """sha256 over the content fields, so an unchanged page maps to the same version."""
    payload = {name: _plain(row.get(name)) for name in CONTENT_FIELDS}
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
