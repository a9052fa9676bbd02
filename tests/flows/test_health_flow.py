"""The health flow on a temporary Prefect server: its Markdown artifact and its final state."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lake"))

from health_lake import PATCHY, QUIET, STEADY, UNTIL, build_health_lake

from flows.health import ARTIFACT_KEY, health_flow
from lake import open_store
from lake.health import HealthReport


@pytest.fixture
def health_lake(tmp_path: Path) -> str:
    lake = str(tmp_path / "lake")
    build_health_lake(open_store(lake), tmp_path / "spools")
    return lake


def latest_artifact() -> str:
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY])),
        )
    latest = max(artifacts, key=lambda a: a.created)  # type: ignore[arg-type, return-value]
    assert latest.type == "markdown"
    assert isinstance(latest.data, str)
    return latest.data


def test_fails_naming_the_source_below_threshold_and_publishes_the_report(
    health_lake: str,
) -> None:
    state = health_flow(lake=health_lake, days=7, until=UNTIL, return_state=True)
    assert state.is_failed()
    assert state.message == f"1 source(s) below threshold (2024-04-01 – 2024-04-07): {PATCHY}"
    report = state.result(raise_on_failure=False)
    assert isinstance(report, HealthReport)
    assert [s.source_id for s in report.sources] == [PATCHY, QUIET, STEADY]

    markdown = latest_artifact()
    lines = markdown.splitlines()
    assert lines[0] == "# Source health 2024-04-01 – 2024-04-07"
    assert f"| {PATCHY} | **FAIL** | 4 | 11 | 11 | 4 | 36% | 4 | 50% | 75% | 75% | 75% |" in lines
    assert f"| {QUIET} | ok | 1 | 3 | 1 | 1 | 100% | 1 | 100% | 100% | 100% | 100% |" in lines
    assert (
        f"- {PATCHY}: 4 zero-article day(s) (at most 2): 2024-04-04, 2024-04-05, 2024-04-06,"
        " 2024-04-07" in lines
    )


def test_completes_with_lenient_thresholds_and_judges_only_active_sources(
    health_lake: str, tmp_path: Path
) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(
        f"sources:\n  {PATCHY}: {{min_completeness: 0.5, max_zero_days: 4,"
        " min_landed_ratio: 0.3}\n",
        "utf-8",
    )
    state = health_flow(
        lake=health_lake, days=7, until=UNTIL, thresholds=str(thresholds), return_state=True
    )
    assert state.is_completed(), state.message
    assert state.message == "3 source(s) healthy (2024-04-01 – 2024-04-07)"
    assert f"| {PATCHY} | ok | 4 |" in latest_artifact()

    # With a sources file, its active sources are judged (the defunct one is left out).
    sources = tmp_path / "sources.yaml"
    entries = [(STEADY, "active"), (QUIET, "active"), (PATCHY, "defunct")]
    sources.write_text(
        "sources:\n"
        + "".join(
            f"  - {{id: {sid}, name: {sid}, homepage: 'https://{sid}.example/', country: AM,"
            f" languages: [en], timezone: UTC, status: {status},"
            f" status_note: 'closed in 2024'}}\n"
            for sid, status in entries
        ),
        "utf-8",
    )
    state = health_flow(
        lake=health_lake,
        days=7,
        until=date(2024, 4, 7),
        sources_file=str(sources),
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert [s.source_id for s in state.result().sources] == [STEADY, QUIET]
