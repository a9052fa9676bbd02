"""The health flow: per-source health of the lake over recent days, as a Prefect artifact.

It publishes the report as a Markdown artifact (key `source-health`) and ends Failed when a
source is below its thresholds, so a schedule alerts. The computation is lake.health's.
"""

from __future__ import annotations

from datetime import date

from flows.runtime import prefect_defaults

prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.states import Completed, Failed, State  # noqa: E402

from lake import open_store  # noqa: E402
from lake.health import (  # noqa: E402
    DEFAULT_DAYS,
    HealthReport,
    ThresholdsConfig,
    compute_health,
    load_thresholds,
    to_markdown,
)
from spiders.catalogue import load_sources, select_sources  # noqa: E402

ARTIFACT_KEY = "source-health"


def health_source_ids(sources_file: str | None, sources: list[str] | None) -> list[str] | None:
    """The sources to judge: those named; else the active ones of a sources file; else None
    (every source with a run in the lake)."""
    if sources_file is None:
        return list(sources) if sources else None
    chosen = select_sources(load_sources(sources_file), sources)
    return [s.id for s in chosen if sources or s.status == "active"]


@task(name="compute-health", retries=2, retry_delay_seconds=5)
def compute_health_task(
    lake: str,
    days: int,
    until: date | None,
    source_ids: list[str] | None,
    thresholds: ThresholdsConfig,
) -> HealthReport:
    return compute_health(
        lake, days=days, until=until, source_ids=source_ids, thresholds=thresholds
    )


@flow(name="health")
def health_flow(
    lake: str | None = None,
    days: int = DEFAULT_DAYS,
    thresholds: str | None = None,
    sources_file: str | None = None,
    sources: list[str] | None = None,
    until: date | None = None,
) -> State:
    """Judge each source over the `days` days ending `until` (default today, UTC).

    `thresholds` is a YAML file of thresholds (defaults plus per-source overrides).
    """
    logger = get_run_logger()
    lake_uri = str(open_store(lake).uri)
    config = load_thresholds(thresholds)
    ids = health_source_ids(sources_file, sources)
    report = compute_health_task(lake_uri, days, until, ids, config)
    create_markdown_artifact(
        markdown=to_markdown(report),
        key=ARTIFACT_KEY,
        description=f"source health {report.since} – {report.until} of {lake_uri}",
    )
    for sid in report.unused_thresholds:
        logger.warning(
            "%s: thresholds for %r, a source this report does not judge", thresholds, sid
        )
    for problem in report.problems():
        logger.warning("%s", problem)
    window = f"{report.since} – {report.until}"
    if report.failing:
        names = ", ".join(s.source_id for s in report.failing)
        return Failed(
            message=f"{len(report.failing)} source(s) below threshold ({window}): {names}",
            data=report,
        )
    return Completed(message=f"{len(report.sources)} source(s) healthy ({window})", data=report)
