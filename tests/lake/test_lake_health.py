"""Per-source health over a lake with known content (tests/lake/health_lake.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from health_lake import PATCHY, QUIET, SINCE, STEADY, UNTIL, build_health_lake

from lake import LakeError, open_store
from lake.health import (
    Thresholds,
    ThresholdsConfig,
    ThresholdsError,
    compute_health,
    load_thresholds,
    parse_thresholds,
    to_markdown,
)

DAYS = [f"2024-04-0{i}" for i in range(1, 8)]


def day_rows(source: dict[str, Any], *names: str) -> dict[str, tuple[Any, ...]]:
    return {d["day"]: tuple(d[n] for n in names) for d in source["days"]}


@pytest.fixture
def health_lake(tmp_path: Path) -> str:
    lake = str(tmp_path / "lake")
    build_health_lake(open_store(lake), tmp_path / "spools")
    return lake


def test_figures_per_source_and_day(lake_uri: str, tmp_path: Path) -> None:
    build_health_lake(open_store(lake_uri), tmp_path / "spools")
    report = compute_health(lake_uri, days=7, until=UNTIL)
    data = report.to_dict()
    assert (data["since"], data["until"]) == ("2024-04-01", "2024-04-07")
    by_id = {s["source_id"]: s for s in data["sources"]}
    assert list(by_id) == [PATCHY, QUIET, STEADY]

    names = ("runs", "failed_runs", "discovered", "attempted", "landed", "rejected", "zero")
    steady = by_id[STEADY]
    # The run of 2024-03-25 is before the window and not counted.
    assert day_rows(steady, *names) == dict.fromkeys(DAYS, (1, 0, 5, 4, 3, 1, False))
    assert day_rows(steady, "rejects", "versions", "complete") == dict.fromkeys(
        DAYS,
        ({"not_article": 1}, 3, {"title": 3, "body": 3, "published_at": 3, "language": 3}),
    )
    assert steady["first_run"] == "2024-03-25"
    assert (steady["discovered"], steady["attempted"], steady["landed"]) == (35, 28, 21)
    assert steady["landed_ratio"] == 0.75
    assert steady["zero_days"] == []
    assert steady["ok"] is True

    patchy = by_id[PATCHY]
    assert day_rows(patchy, *names) == {
        "2024-04-01": (0, 0, 0, 0, 0, 0, False),  # before its first run: not a zero day
        "2024-04-02": (1, 0, 4, 4, 2, 0, False),
        "2024-04-03": (2, 1, 4, 4, 2, 0, False),  # one committed run, one failed
        "2024-04-04": (1, 0, 3, 3, 0, 3, True),
        "2024-04-05": (0, 0, 0, 0, 0, 0, True),
        "2024-04-06": (0, 0, 0, 0, 0, 0, True),
        "2024-04-07": (0, 0, 0, 0, 0, 0, True),
    }
    assert day_rows(patchy, "rejects", "versions", "complete")["2024-04-02"] == (
        {},
        2,
        {"title": 2, "body": 1, "published_at": 1, "language": 2},
    )
    assert day_rows(patchy, "rejects", "versions", "complete")["2024-04-03"] == (
        {},
        2,
        {"title": 0, "body": 2, "published_at": 2, "language": 1},
    )
    assert day_rows(patchy, "rejects")["2024-04-04"] == ({"extract_error": 2, "http_error": 1},)
    assert patchy["rejects"] == {"extract_error": 2, "http_error": 1}
    assert patchy["completeness"] == {
        "title": 0.5,
        "body": 0.75,
        "published_at": 0.75,
        "language": 0.75,
    }
    assert patchy["zero_days"] == ["2024-04-04", "2024-04-05", "2024-04-06", "2024-04-07"]
    assert patchy["landed_ratio"] == 4 / 11
    assert patchy["ok"] is False

    quiet = by_id[QUIET]
    assert quiet["zero_days"] == ["2024-04-07"]
    # 2 of its 3 discovered URLs were over the per-run cap: held back, not attempted.
    assert (quiet["discovered"], quiet["held_back"], quiet["attempted"]) == (3, 2, 1)
    assert (quiet["landed"], quiet["landed_ratio"], quiet["ok"]) == (1, 1.0, True)

    assert data["failing"] == [PATCHY]
    assert report.problems() == [
        f"{PATCHY}: 4 zero-article day(s) (at most 2): 2024-04-04, 2024-04-05, 2024-04-06,"
        " 2024-04-07",
        f"{PATCHY}: landed 4 of 11 attempted URLs = 0.36 (at least 0.50)",
        f"{PATCHY}: title complete in 2 of 4 articles = 0.50 (at least 0.90)",
        f"{PATCHY}: body complete in 3 of 4 articles = 0.75 (at least 0.90)",
        f"{PATCHY}: published_at complete in 3 of 4 articles = 0.75 (at least 0.90)",
        f"{PATCHY}: language complete in 3 of 4 articles = 0.75 (at least 0.90)",
    ]


def test_window_bounds_and_named_sources(health_lake: str) -> None:
    report = compute_health(health_lake, days=2, until=date(2024, 4, 3), source_ids=[PATCHY])
    [patchy] = report.sources
    assert [d.day for d in patchy.days] == [date(2024, 4, 2), date(2024, 4, 3)]
    assert (patchy.total("landed"), patchy.total("runs"), patchy.zero_days) == (4, 3, [])
    # Within its two good days: no zero day, 4 of 8 landed (0.50 passes); completeness fails.
    assert patchy.landed_ratio == 0.5
    assert [c.name for c in patchy.failing] == [
        "completeness.title",
        "completeness.body",
        "completeness.published_at",
        "completeness.language",
    ]

    # A named source that never ran: every day is a zero day, nothing to measure otherwise.
    report = compute_health(health_lake, days=3, until=UNTIL, source_ids=["never-ran", QUIET])
    never, quiet = report.sources
    assert never.first_run is None
    assert never.zero_days == [date(2024, 4, 5), date(2024, 4, 6), date(2024, 4, 7)]
    assert never.completeness == dict.fromkeys(("title", "body", "published_at", "language"))
    assert [c.name for c in never.failing] == ["zero_days"]
    assert quiet.zero_days == [date(2024, 4, 7)]
    assert report.since == SINCE.replace(day=5)

    with pytest.raises(LakeError, match="days 0: expected at least 1"):
        compute_health(health_lake, days=0, until=UNTIL)


def test_thresholds_file_overrides_per_source(health_lake: str, tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text(
        "defaults:\n"
        "  min_completeness: {title: 0.5}\n"
        "  max_zero_days: 4\n"
        "sources:\n"
        f"  {PATCHY}:\n"
        "    min_completeness: 0.7\n"
        "    min_landed_ratio: 0.3\n"
        "    min_body_words: 5\n"
        f"  {QUIET}:\n"
        "    max_zero_days: 0\n",
        "utf-8",
    )
    config = load_thresholds(path)
    assert config.defaults == Thresholds(
        min_completeness={"title": 0.5, "body": 0.9, "published_at": 0.9, "language": 0.9},
        max_zero_days=4,
    )
    assert config.for_source(PATCHY) == Thresholds(
        min_completeness=dict.fromkeys(("title", "body", "published_at", "language"), 0.7),
        min_body_words=5,
        max_zero_days=4,
        min_landed_ratio=0.3,
    )
    report = compute_health(health_lake, days=7, until=UNTIL, thresholds=config)
    assert report.unused_thresholds == []
    narrow = compute_health(health_lake, days=7, until=UNTIL, thresholds=config, source_ids=[QUIET])
    assert narrow.unused_thresholds == [PATCHY]
    by_id = {s.source_id: s for s in report.sources}
    # The 5-word body now counts as complete; the repeated title still does not.
    assert by_id[PATCHY].completeness["body"] == 1.0
    assert [c.name for c in by_id[PATCHY].failing] == ["completeness.title"]
    assert [c.detail for c in by_id[QUIET].failing] == [
        "1 zero-article day(s) (at most 0): 2024-04-07"
    ]
    assert by_id[STEADY].ok
    assert [s.source_id for s in report.failing] == [PATCHY, QUIET]


def test_thresholds_errors_name_the_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "defaults:\n"
        "  max_zero_days: -1\n"
        "  min_completeness: {title: 2, colour: 0.5}\n"
        "  speed: fast\n"
        "sources:\n"
        "  patchy-news: {min_landed_ratio: x}\n"
        "  quiet-gazette: [1]\n"
        "extra: 1\n",
        "utf-8",
    )
    with pytest.raises(ThresholdsError) as caught:
        load_thresholds(path)
    assert caught.value.problems == [
        f"{path}: 'extra': unknown key (expected 'defaults' or 'sources')",
        f"{path}: defaults: field 'max_zero_days': expected a whole number >= 0, got -1",
        f"{path}: defaults: field 'min_completeness': title: expected a number from 0 to 1, got 2",
        f"{path}: defaults: field 'min_completeness': unknown field 'colour' (expected title,"
        " body, published_at, language)",
        f"{path}: defaults: field 'speed': unknown key (expected one of max_zero_days,"
        " min_body_words, min_completeness, min_landed_ratio)",
        f"{path}: sources.patchy-news: field 'min_landed_ratio': expected a number from 0 to 1,"
        " got 'x'",
        f"{path}: sources.quiet-gazette: expected a mapping of thresholds, got list",
    ]
    path.write_text("defaults: {max_zero_days: [\n", "utf-8")
    with pytest.raises(ThresholdsError) as caught:
        load_thresholds(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: not valid YAML at line 2: ")
    with pytest.raises(ThresholdsError, match="cannot read"):
        load_thresholds(tmp_path / "missing.yaml")
    assert parse_thresholds(None) == ThresholdsConfig()
    with pytest.raises(ThresholdsError, match="expected a mapping with 'defaults'"):
        parse_thresholds([1, 2])


def test_markdown(health_lake: str) -> None:
    text = to_markdown(compute_health(health_lake, days=7, until=UNTIL))
    assert text.startswith("# Source health 2024-04-01 – 2024-04-07\n")
    lines = text.splitlines()
    assert f"| {PATCHY} | **FAIL** | 4 | 11 | 11 | 4 | 36% | 4 | 50% | 75% | 75% | 75% |" in lines
    assert f"| {STEADY} | ok | 7 | 35 | 28 | 21 | 75% | 0 | 100% | 100% | 100% | 100% |" in lines
    assert f"| {PATCHY} | 0/0 | 2/4 | 2/4 | **0/3** | **0/0** | **0/0** | **0/0** |" in lines
    assert f"| {PATCHY} | extract_error | 2 |" in lines
    assert f"- {PATCHY}: landed 4 of 11 attempted URLs = 0.36 (at least 0.50)" in lines


def test_empty_lake(tmp_path: Path) -> None:
    report = compute_health(str(tmp_path / "lake"), days=3, until=UNTIL)
    assert (report.sources, report.failing) == ([], [])
    assert "0 source(s), 0 below threshold" in to_markdown(report)
