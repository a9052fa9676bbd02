from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from schemas import (
    ARTICLE_SCHEMA,
    InvalidRow,
    article_id,
    article_partition,
    from_jsonable,
    normalize_article,
    normalize_reject,
    rows_to_table,
    to_jsonable,
)

YEREVAN = timezone(timedelta(hours=4))


def fields(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "url": "https://news.example.am/eng/news/734188.html",
        "canonical_url": "https://news.example.am/eng/news/734188.html",
        "source_id": "news-example",
        "title": "  Yerevan   hosts talks ",
        "subtitle": "",
        "authors": ["Anna Petrosyan", "Anna Petrosyan", " Davit Grigoryan "],
        "published_at": datetime(2024, 5, 12, 14, 35, tzinfo=YEREVAN),
        "published_at_source": "jsonld",
        "published_at_raw": "2024-05-12T14:35:00+04:00",
        "language": "en",
        "tags": ["talks", "Yerevan"],
        "body": "Ministers met in Yerevan.\n\nThe talks lasted six hours.",
        "images": [
            {"url": "https://news.example.am/i/1.jpg", "caption": "Ministers", "credit": None},
            {"url": "https://news.example.am/i/1.jpg", "caption": "dup", "credit": None},
        ],
        "translations": [{"language": "hy", "url": "https://news.example.am/arm/news/734188.html"}],
        "fetched_at": datetime(2024, 5, 12, 11, 0, tzinfo=UTC),
        "crawl_run_id": "run-1",
        "extractor": "test/1",
    }
    base.update(overrides)
    return base


def test_normalize_derives_ids_counts_and_utc() -> None:
    row = normalize_article(fields())
    assert list(row) == ARTICLE_SCHEMA.names
    assert row["article_id"] == article_id("https://news.example.am/eng/news/734188.html")
    assert len(row["article_id"]) == 32
    assert row["source_domain"] == "news.example.am"
    assert row["title"] == "Yerevan   hosts talks"
    assert row["subtitle"] is None
    assert row["authors"] == ["Anna Petrosyan", "Davit Grigoryan"]
    assert row["published_at"] == datetime(2024, 5, 12, 10, 35, tzinfo=UTC)
    assert row["word_count"] == 9
    assert row["images"] == [
        {"url": "https://news.example.am/i/1.jpg", "caption": "Ministers", "credit": None}
    ]
    assert row["schema_version"] == 1
    assert article_partition(row) == {"source_id": "news-example", "published_month": "2024-05"}


def test_content_hash_ignores_crawl_fields_and_tracks_content() -> None:
    first = normalize_article(fields())
    refetched = normalize_article(
        fields(fetched_at=datetime(2025, 1, 1, tzinfo=UTC), crawl_run_id="run-2")
    )
    edited = normalize_article(
        fields(body="Ministers met in Yerevan.\n\nThe talks lasted 7 hours.")
    )
    assert first["content_hash"] == refetched["content_hash"]
    assert first["content_hash"] != edited["content_hash"]


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"title": " "}, "title", "empty"),
        ({"published_at": datetime(2024, 5, 12)}, "published_at", "naive datetime"),
        ({"language": "eng"}, "language", "not an ISO 639-1 code"),
        ({"published_at_source": "guess"}, "published_at_source", "expected one of"),
        ({"published_at": None}, "published_at_source", "'none' exactly when"),
        ({"url": "ftp://x.am/a"}, "url", "not an absolute"),
        ({"color": "red"}, "color", "not a field"),
        ({"http_status": 99}, "http_status", "not an HTTP status"),
    ],
)
def test_normalize_names_the_bad_field(
    override: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidRow) as caught:
        normalize_article(fields(**override))
    assert caught.value.field == field
    assert message in caught.value.message


def test_undated_rows_partition_as_undated() -> None:
    row = normalize_article(
        fields(published_at=None, published_at_source=None, published_at_raw=None)
    )
    assert row["published_at_source"] == "none"
    assert article_partition(row)["published_month"] == "undated"


def test_json_round_trip_and_arrow_table() -> None:
    row = normalize_article(fields())
    data = to_jsonable(row)
    assert data["published_at"] == "2024-05-12T10:35:00Z"
    assert from_jsonable(data, ARTICLE_SCHEMA) == row
    table = rows_to_table([row])
    assert table.schema == ARTICLE_SCHEMA
    assert table.column("published_at").type == pa.timestamp("us", tz="UTC")
    assert table.to_pylist()[0]["authors"] == ["Anna Petrosyan", "Davit Grigoryan"]


def test_reject_rows() -> None:
    row = normalize_reject(
        {
            "url": "https://x.am/category/politics/",
            "source_id": "x",
            "reason": "not_article",
            "detail": "listing page",
            "http_status": 200,
            "rejected_at": datetime(2024, 5, 1, 4, 0, tzinfo=YEREVAN),
            "crawl_run_id": "r",
        }
    )
    assert row["rejected_at"] == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert row["reason"] == "not_article"
    with pytest.raises(ValueError, match="reason"):
        normalize_reject({**row, "reason": "bored"})
