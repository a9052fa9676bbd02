"""Every metadata field is right on at least 98% of the labeled cases; no non-article lands
and no article is rejected; the page set is large enough to mean something."""

from __future__ import annotations

import pytest
from field_accuracy import FIELDS, Measure, measure, same, table

MIN_ACCURACY = 0.98


@pytest.fixture(scope="module")
def result() -> Measure:
    return measure()


def test_enough_labeled_pages(result: Measure) -> None:
    assert result.page_articles >= 40
    assert result.page_non_articles >= 30


@pytest.mark.parametrize("name", FIELDS)
def test_field_accuracy(result: Measure, name: str) -> None:
    score = result.fields[name]
    assert score.cases == result.articles
    assert score.accuracy >= MIN_ACCURACY, table(result)


def test_no_non_article_lands_and_no_article_is_rejected(result: Measure) -> None:
    assert result.non_articles_landed == [], table(result)
    assert result.articles_rejected == [], table(result)


def test_comparison_rules() -> None:
    assert same("published_at", "2024-05-12T10:35:00Z", "2024-05-12T10:35:59Z")
    assert not same("published_at", "2024-05-12T10:35:00Z", "2024-05-12T10:36:00Z")
    assert same("modified_at", None, None)
    image = {"url": "https://x.am/a.jpg", "caption": "A", "credit": None}
    assert same("images", [image], [dict(image)])
    assert not same("images", [image], [{**image, "credit": "B"}])
    assert not same("authors", ["A", "B"], ["B", "A"])
