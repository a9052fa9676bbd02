"""Turn extracted fields into one valid schema row, or say precisely why not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from schemas.article import ARTICLE_SCHEMA, DATE_SOURCES, SCHEMA_VERSION
from schemas.identity import article_id, content_hash

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_WORD = re.compile(r"\w+", re.UNICODE)


class InvalidRow(ValueError):
    """A row that cannot land; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _utc(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidRow(name, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise InvalidRow(name, "naive datetime: give it a timezone before normalizing")
    return value.astimezone(UTC)


def _text(name: str, value: Any, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise InvalidRow(name, "missing")
        return None
    if not isinstance(value, str):
        raise InvalidRow(name, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        if required:
            raise InvalidRow(name, "empty")
        return None
    return text


def _strings(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidRow(name, f"expected a list, got {type(value).__name__}")
    out: list[str] = []
    for item in value:
        text = _text(name, item, required=False)
        if text and text not in out:
            out.append(text)
    return out


def word_count(body: str) -> int:
    return len(_WORD.findall(body))


def normalize_article(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `fields` and add the derived ones (ids, hash, counts, version).

    `fields` holds every schema field except the derived ones; optional fields may be absent.
    Returns plain Python values in schema order; raises InvalidRow naming the field.
    """
    unknown = set(fields) - set(ARTICLE_SCHEMA.names)
    if unknown:
        raise InvalidRow(sorted(unknown)[0], "not a field of the article schema")
    row: dict[str, Any] = {}
    for name in ("url", "canonical_url", "source_id", "title", "body", "crawl_run_id", "extractor"):
        row[name] = _text(name, fields.get(name), required=True)
    for name in (
        "subtitle",
        "published_at_raw",
        "section",
        "syndicated_from",
        "raw_ref",
        "discovered_via",
        "discovered_url",
    ):
        row[name] = _text(name, fields.get(name), required=False)
    for name in ("published_at", "modified_at", "fetched_at"):
        row[name] = _utc(name, fields.get(name))
    if row["fetched_at"] is None:
        raise InvalidRow("fetched_at", "missing")
    row["authors"] = _strings("authors", fields.get("authors"))
    row["tags"] = _strings("tags", fields.get("tags"))

    for name in ("language", "language_declared", "language_detected"):
        lang = _text(name, fields.get(name), required=name == "language")
        if lang is not None and not _LANGUAGE.match(lang):
            raise InvalidRow(name, f"not an ISO 639-1 code: {lang!r}")
        row[name] = lang

    source = fields.get("published_at_source") or ("none" if row["published_at"] is None else None)
    if source not in DATE_SOURCES:
        raise InvalidRow("published_at_source", f"expected one of {DATE_SOURCES}, got {source!r}")
    if (source == "none") != (row["published_at"] is None):
        raise InvalidRow("published_at_source", "'none' exactly when published_at is null")
    row["published_at_source"] = source

    row["images"] = _images(fields.get("images"))
    row["translations"] = _translations(fields.get("translations"))

    status = fields.get("http_status")
    if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
        raise InvalidRow("http_status", f"not an HTTP status: {status!r}")
    row["http_status"] = status

    flag = fields.get("machine_translated")
    if flag is not None and not isinstance(flag, bool):
        raise InvalidRow("machine_translated", f"expected true, false or null, got {flag!r}")
    row["machine_translated"] = flag

    for name in ("url", "canonical_url"):
        parts = urlsplit(row[name])
        if parts.scheme not in ("http", "https", "file", "urn") or (
            parts.scheme in ("http", "https") and not parts.hostname
        ):
            raise InvalidRow(name, f"not an absolute http(s), file or urn URL: {row[name]!r}")

    row["article_id"] = article_id(row["canonical_url"])
    row["source_domain"] = urlsplit(row["canonical_url"]).hostname or ""
    row["word_count"] = word_count(row["body"])
    row["content_hash"] = content_hash(row)
    row["schema_version"] = SCHEMA_VERSION
    return {name: row[name] for name in ARTICLE_SCHEMA.names}


def _images(value: Any) -> list[dict[str, str | None]]:
    out: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for item in value or []:
        if not isinstance(item, Mapping):
            raise InvalidRow("images", f"expected {{url, caption, credit}}, got {item!r}")
        url = _text("images.url", item.get("url"), required=True)
        assert url is not None
        if url in seen:
            continue
        seen.add(url)
        out.append(
            {
                "url": url,
                "caption": _text("images.caption", item.get("caption"), required=False),
                "credit": _text("images.credit", item.get("credit"), required=False),
            }
        )
    return out


def _translations(value: Any) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in value or []:
        if not isinstance(item, Mapping):
            raise InvalidRow("translations", f"expected {{language, url}}, got {item!r}")
        lang = _text("translations.language", item.get("language"), required=True)
        url = _text("translations.url", item.get("url"), required=True)
        assert lang is not None and url is not None
        entry = {"language": lang, "url": url}
        if entry not in out:
            out.append(entry)
    return out


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema = ARTICLE_SCHEMA) -> pa.Table:
    """Normalized rows as an Arrow table of exactly `schema`."""
    return pa.Table.from_pylist(rows, schema=schema)
