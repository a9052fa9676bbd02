"""Per-field accuracy of extract_article over every labeled extraction case, and how often an
article is rejected or a non-article lands. Printed by `python -m benchmarks.fields`, checked
by test_field_accuracy.py.

Comparison rules: published_at and modified_at to the minute in UTC; images as the list of
(url, caption, credit); every other field exactly. An article case that is rejected counts as
wrong on every field.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extraction_cases import FIXTURES, Case, case_files, load_case, run_case

from schemas import to_jsonable
from spiders.extraction import NotAnArticle

FIELDS = (
    "title",
    "subtitle",
    "authors",
    "published_at",
    "modified_at",
    "language",
    "images",
    "syndicated_from",
    "section",
    "tags",
    "translations",
    "machine_translated",
)
_MINUTE_FIELDS = frozenset({"published_at", "modified_at"})
PAGES = FIXTURES / "pages"


def _minute(value: Any) -> Any:
    # "2024-05-12T10:35:27Z" -> "2024-05-12T10:35" (to_jsonable writes UTC with a Z).
    return value[:16] if isinstance(value, str) else value


def _images(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [
        (item.get("url"), item.get("caption"), item.get("credit"))
        if isinstance(item, dict)
        else item
        for item in value
    ]


def same(name: str, expected: Any, actual: Any) -> bool:
    """Whether `actual` counts as right for field `name` (both as to_jsonable gives them)."""
    if name in _MINUTE_FIELDS:
        return _minute(expected) == _minute(actual)
    if name == "images":
        return _images(expected) == _images(actual)
    return bool(expected == actual)


@dataclass
class Score:
    cases: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.cases if self.cases else 1.0


@dataclass
class Measure:
    fields: dict[str, Score] = field(default_factory=lambda: {name: Score() for name in FIELDS})
    misses: dict[str, list[str]] = field(default_factory=dict)
    articles: int = 0
    non_articles: int = 0
    non_articles_landed: list[str] = field(default_factory=list)
    articles_rejected: list[str] = field(default_factory=list)
    page_articles: int = 0  # in tests/fixtures/pages
    page_non_articles: int = 0
    by_language: Counter[str] = field(default_factory=Counter)
    by_layout: Counter[str] = field(default_factory=Counter)


def _layout(case: Case) -> str:
    data = json.loads(case.path.read_text(encoding="utf-8"))
    return str(data.get("layout") or "unlabelled")


def measure(paths: Iterable[Path] | None = None) -> Measure:
    """Run every case (default: all of case_files()) and score it."""
    result = Measure()
    for path in case_files() if paths is None else paths:
        case = load_case(path)
        in_pages = path.is_relative_to(PAGES)
        try:
            actual: dict[str, Any] | None = to_jsonable(run_case(case))
            error = None
        except NotAnArticle as exc:
            actual, error = None, exc
        if case.expected is None:
            result.non_articles += 1
            result.page_non_articles += in_pages
            if actual is not None:
                result.non_articles_landed.append(case.name)
            continue
        result.articles += 1
        result.page_articles += in_pages
        result.by_language[str(case.expected.get("language"))] += 1
        if in_pages:
            result.by_layout[_layout(case)] += 1
        if actual is None:
            result.articles_rejected.append(f"{case.name}: {error}")
        for name in FIELDS:
            score = result.fields[name]
            score.cases += 1
            if actual is not None and same(name, case.expected.get(name), actual.get(name)):
                score.correct += 1
            else:
                result.misses.setdefault(name, []).append(case.name)
    return result


def table(result: Measure) -> str:
    """The report as plain text: the field table, then the non-article confusion counts."""
    lines = [f"{'field':<20}{'cases':>7}{'correct':>9}{'accuracy':>10}"]
    for name, score in result.fields.items():
        lines.append(f"{name:<20}{score.cases:>7}{score.correct:>9}{score.accuracy:>10.3f}")
    lines.append("")
    lines.append(
        f"article cases: {result.articles} ({result.page_articles} in tests/fixtures/pages); "
        f"non-article cases: {result.non_articles} ({result.page_non_articles} in pages)"
    )
    lines.append(f"non-articles landed: {len(result.non_articles_landed)}")
    lines.extend(f"  {name}" for name in result.non_articles_landed)
    lines.append(f"articles rejected: {len(result.articles_rejected)}")
    lines.extend(f"  {name}" for name in result.articles_rejected)
    lines.append("")
    languages = ", ".join(f"{k} {v}" for k, v in sorted(result.by_language.items()))
    layouts = ", ".join(f"{k} {v}" for k, v in sorted(result.by_layout.items()))
    lines.append(f"article cases by language: {languages}")
    lines.append(f"article pages by layout family: {layouts}")
    for name, cases in result.misses.items():
        lines.append(f"wrong {name}: {', '.join(cases)}")
    return "\n".join(lines)
