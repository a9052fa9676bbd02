"""Every extraction fixture case (pages and crawl sites) against extract_article, key by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from extraction_cases import FIXTURES, case_files, load_case

from schemas import REJECT_REASONS, to_jsonable
from spiders.extraction import NotAnArticle, extract_article
from spiders.extraction.api import __doc__ as API_DOC

# The keys extract_article's docstring promises, in its order.
CONTRACT_KEYS = [
    key.strip()
    for key in API_DOC.split("returns these keys")[1]
    .split("Everything else")[0]
    .split(":", 1)[1]
    .replace("\n", " ")
    .split(",")
    if key.strip()
]
CASES = case_files()


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _diff(expected: dict[str, object], actual: dict[str, object]) -> str:
    lines = []
    for key in CONTRACT_KEYS:
        if expected.get(key) != actual.get(key):
            lines.append(f"--- {key}\n  expected: {_show(expected.get(key))}")
            lines.append(f"  actual:   {_show(actual.get(key))}")
            if isinstance(expected.get(key), str) and isinstance(actual.get(key), str):
                want = str(expected[key]).split("\n\n")
                got = str(actual[key]).split("\n\n")
                missing = [p for p in want if p not in got]
                extra = [p for p in got if p not in want]
                if missing or extra:
                    lines.append(f"  paragraphs missing: {_show(missing)}")
                    lines.append(f"  paragraphs extra:   {_show(extra)}")
    return "\n".join(lines)


def test_contract_keys_are_known() -> None:
    assert CONTRACT_KEYS[0] == "canonical_url" and CONTRACT_KEYS[-1] == "machine_translated"
    assert len(CONTRACT_KEYS) == 18


def test_there_are_enough_cases() -> None:
    pages = [load_case(p) for p in CASES if p.is_relative_to(FIXTURES / "pages")]
    assert sum(1 for c in pages if c.expected is not None) >= 24
    assert sum(1 for c in pages if c.reject == "not_article") >= 8
    assert sum(1 for c in pages if c.reject == "not_html") >= 1


@pytest.mark.parametrize("path", CASES, ids=lambda p: str(Path(p).relative_to(FIXTURES)))
def test_case(path: Path) -> None:
    case = load_case(path)
    assert (case.expected is None) != (case.reject is None), "give `expected` or `reject`"

    def run() -> dict[str, object]:
        return extract_article(
            case.html,
            case.url,
            source=case.source,
            headers=case.headers,
            hints=case.hints,
            fetched_at=case.fetched_at,
        )

    if case.reject is not None:
        assert case.reject in REJECT_REASONS
        with pytest.raises(NotAnArticle) as caught:
            result = run()
            pytest.fail(
                f"expected a {case.reject} rejection, got an article: {_show(to_jsonable(result))}"
            )
        assert caught.value.reason == case.reject, caught.value.detail
        assert caught.value.detail, "a rejection must say why"
        return

    assert case.expected is not None
    assert sorted(case.expected) == sorted(CONTRACT_KEYS), "every contract key must be expected"
    actual = to_jsonable(run())
    assert sorted(actual) == sorted(CONTRACT_KEYS)
    mismatch = _diff(case.expected, actual)
    assert not mismatch, f"{case.name}:\n{mismatch}"
