"""Article schema, version 1.

Adding a nullable field keeps the version: readers open every file with the newest schema and
old files read the new column as null. Renaming or retyping a field needs a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = 1

TIMESTAMP = pa.timestamp("us", tz="UTC")

# Where `published_at` came from, in the order the extractor trusts them.
DATE_SOURCES = ("jsonld", "meta", "time", "text", "feed", "sitemap", "url", "none")

IMAGE_TYPE = pa.struct(
    [
        pa.field("url", pa.string(), nullable=False),
        pa.field("caption", pa.string()),
        pa.field("credit", pa.string()),
    ]
)

TRANSLATION_TYPE = pa.struct(
    [
        pa.field("language", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
    ]
)


def _field(name: str, type_: pa.DataType, nullable: bool, doc: str) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


ARTICLE_FIELDS: list[pa.Field] = [
    _field("article_id", pa.string(), False, "sha256 of canonical_url, first 32 hex digits"),
    _field("url", pa.string(), False, "URL the page was fetched from, tracking parameters removed"),
    _field("canonical_url", pa.string(), False, "rel=canonical (or url), canonicalized"),
    _field("source_id", pa.string(), False, "catalogue id of the outlet; a partition key"),
    _field("source_domain", pa.string(), False, "host of canonical_url"),
    _field("title", pa.string(), False, "headline"),
    _field("subtitle", pa.string(), True, "standfirst or lead; null if the page has none"),
    _field("authors", pa.list_(pa.string()), False, "bylines, in page order"),
    _field("published_at", TIMESTAMP, True, "first publication, UTC"),
    _field("published_at_source", pa.string(), False, "one of DATE_SOURCES"),
    _field("published_at_raw", pa.string(), True, "the date text as the page gave it"),
    _field("modified_at", TIMESTAMP, True, "last modification, UTC"),
    _field("language", pa.string(), False, "ISO 639-1 code of the body text"),
    _field("language_declared", pa.string(), True, "what the page declares (html lang, meta)"),
    _field("language_detected", pa.string(), True, "what the identifier found in the text"),
    _field("section", pa.string(), True, "section or rubric"),
    _field("tags", pa.list_(pa.string()), False, "keywords and tags"),
    _field("body", pa.string(), False, "plain text, paragraphs separated by a blank line"),
    _field("word_count", pa.int32(), False, "words in body"),
    _field("images", pa.list_(IMAGE_TYPE), False, "images with caption and credit"),
    _field("syndicated_from", pa.string(), True, "outlet credited as the original, e.g. www.mk.ru"),
    _field("translations", pa.list_(TRANSLATION_TYPE), False, "hreflang alternates"),
    _field(
        "content_hash", pa.string(), False, "sha256 over CONTENT_FIELDS; a new one is a new version"
    ),
    _field("fetched_at", TIMESTAMP, False, "when the page was fetched, UTC"),
    _field("crawl_run_id", pa.string(), False, "the run that landed this version"),
    _field("raw_ref", pa.string(), True, "where the raw capture of the page is stored"),
    _field("extractor", pa.string(), False, "name and version of the code that produced the row"),
    _field("discovered_via", pa.string(), True, "feed | sitemap | api | link | file"),
    _field("discovered_url", pa.string(), True, "as the feed or sitemap listed it, canonicalized"),
    _field("http_status", pa.int16(), True, "HTTP status of the page"),
    _field(
        "machine_translated",
        pa.bool_(),
        True,
        "the page says it is a machine translation, or its host is a listed mirror",
    ),
    _field("schema_version", pa.int16(), False, "version of this schema"),
]

ARTICLE_SCHEMA = pa.schema(
    ARTICLE_FIELDS, metadata={"newslake.schema": "article", "newslake.schema_version": "1"}
)

# A change in any of these makes a new version of the article.
CONTENT_FIELDS = (
    "canonical_url",
    "title",
    "subtitle",
    "authors",
    "published_at",
    "modified_at",
    "language",
    "section",
    "tags",
    "body",
    "images",
    "syndicated_from",
    "translations",
)

# Hive partition keys of the articles dataset: source, then month of publication.
ARTICLE_PARTITION_SCHEMA = pa.schema(
    [pa.field("source_id", pa.string()), pa.field("published_month", pa.string())]
)
UNDATED_PARTITION = "undated"


def article_partition(row: Mapping[str, Any]) -> dict[str, str]:
    """Partition values of one normalized row."""
    published = row.get("published_at")
    month = published.strftime("%Y-%m") if isinstance(published, datetime) else UNDATED_PARTITION
    return {"source_id": str(row["source_id"]), "published_month": month}
