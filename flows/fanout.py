"""The crawl, fanned out over a work pool: one flow run per source, on whichever worker is free.

`crawl_fanout_flow` (the parent) reads the catalogue once and starts one run of the
`crawl-source` deployment per active source through `run_deployment`; each run is
`crawl_source_flow`, the same skip-list, crawl and landing tasks as the in-process
`crawl_flow`, for one source. Workers on as many machines as wanted poll the pool, so the
sources are shared between them. All the children land under the parent's run id, so the
lake sees one run, as with `crawl_flow`.

The child gets the source's whole definition as a parameter, not a path to the sources file:
a worker on another machine needs no copy of the catalogue, and every child crawls the
catalogue as the parent read it. The lake must be one every worker reaches (S3 in
production; a local folder only when all workers share the machine).

Each child publishes its outcome as a one-row table artifact on the Prefect server; the
parent reads those back (a child's return value stays in the child's process), so the
parent's table and Failed state name the failing sources exactly as `crawl_flow` does. A
child that ended without an outcome (crashed, cancelled, never picked up before `timeout`)
is a failed source, recorded in the lake.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flows.runs import new_run_id
from flows.runtime import prefect_defaults
from flows.spools import keep_spools, new_spool_root

prefect_defaults()

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.client.orchestration import SyncPrefectClient, get_client  # noqa: E402
from prefect.client.schemas.filters import (  # noqa: E402
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import FlowRun  # noqa: E402
from prefect.deployments import run_deployment  # noqa: E402
from prefect.exceptions import ObjectNotFound  # noqa: E402
from prefect.states import Cancelled, Cancelling, Completed, Failed, State  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from flows.crawl import (  # noqa: E402
    RunSummary,
    SourceOutcome,
    collect_source,
    finish_run,
    record_source_failure,
    submit_source,
)
from lake import open_store  # noqa: E402
from schemas import RUN_COUNTERS  # noqa: E402
from spiders.catalogue import Source, load_sources, select_sources  # noqa: E402

SOURCE_FLOW = "crawl-source"
FANOUT_FLOW = "crawl-fanout"
# The deployment of crawl_source_flow in infra/prefect.yaml ("flow name/deployment name").
SOURCE_DEPLOYMENT = f"{SOURCE_FLOW}/crawl-source"
OUTCOME_ARTIFACT = f"{SOURCE_FLOW}-outcome"


class FanoutError(RuntimeError):
    """The fan-out cannot start: the child deployment is not on the server."""


def _outcome_of_row(row: dict[str, Any]) -> SourceOutcome:
    counts = {c: int(row[c]) for c in RUN_COUNTERS if c in row}
    return SourceOutcome(str(row["source"]), str(row["status"]), counts, row.get("error"))


# Three threads: the chain's tasks wait on one another, each holding one.
@flow(name=SOURCE_FLOW, task_runner=ThreadPoolTaskRunner(max_workers=3))  # type: ignore[arg-type]
def crawl_source_flow(
    source: Source,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
    run_id: str | None = None,
    started_at: datetime | None = None,
) -> State:
    """Crawl one source and land its new articles (the fan-out's child; also runs alone)."""
    lake_uri = str(open_store(lake).uri)
    run_id = run_id or new_run_id()
    started_at = started_at or datetime.now(UTC)
    logger = get_run_logger()
    if source.status != "active":
        outcome = SourceOutcome(source.id, status="skipped", error=source.status)
    else:
        logger.info("run %s: source %s into %s", run_id, source.id, lake_uri)
        root = new_spool_root(run_id, lake=lake_uri, flow=SOURCE_FLOW, started_at=started_at)
        spool = root / source.id
        common: dict[str, Any] = {
            "run_id": run_id,
            "lake_uri": lake_uri,
            "flow_name": SOURCE_FLOW,
            "started_at": started_at,
        }
        chain = submit_source(source, spool=spool, settings=settings, **common)
        outcome = collect_source(source.id, chain, spool=spool, **common)
        if outcome.status == "failed":
            keep_spools(root)
            logger.warning("the spool of %s is kept for inspection in %s", source.id, spool)
        else:
            shutil.rmtree(root, ignore_errors=True)
    create_table_artifact(
        key=OUTCOME_ARTIFACT,
        table=[outcome.row()],
        description=f"{SOURCE_FLOW} {source.id}, run {run_id} into {lake_uri}",
    )
    if outcome.status == "failed":
        return Failed(message=f"run {run_id}: {source.id} failed: {outcome.error}", data=outcome)
    return Completed(message=f"run {run_id}: {source.id} {outcome.status}", data=outcome)


def _wait_for(
    client: SyncPrefectClient, ids: list[UUID], poll_interval: float, timeout: float | None
) -> dict[UUID, FlowRun]:
    """Poll the children until every one is final, or the timeout passes."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        runs = {
            run.id: run
            for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids)
            )
        }
        if all(run.state is not None and run.state.is_final() for run in runs.values()):
            return runs
        if deadline is not None and time.monotonic() > deadline:
            return runs
        time.sleep(poll_interval)


def _published_outcome(client: SyncPrefectClient, run: FlowRun) -> SourceOutcome | None:
    artifacts = client.read_artifacts(
        artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[OUTCOME_ARTIFACT]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]),
        )
    )
    if not artifacts:
        return None
    data = artifacts[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
        return None  # not what crawl_source_flow publishes
    return _outcome_of_row(rows[0])


@flow(name=FANOUT_FLOW)
def crawl_fanout_flow(
    sources_file: str | None = None,
    sources: list[str] | None = None,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
    deployment: str = SOURCE_DEPLOYMENT,
    timeout: float | None = None,
    poll_interval: float = 5,
) -> State:
    """Crawl the sources as one flow run each on the work pool of `deployment`; wait for all.

    `timeout` (seconds, default none) bounds the wait: children not finished by then are
    cancelled and reported as failed.
    """
    logger = get_run_logger()
    lake_uri = str(open_store(lake).uri)
    selected = select_sources(load_sources(sources_file), sources)
    run_id = new_run_id()
    started_at = datetime.now(UTC)
    logger.info(
        "run %s: %d source(s) into %s through %s", run_id, len(selected), lake_uri, deployment
    )

    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(deployment)
        except ObjectNotFound:
            raise FanoutError(
                f"no deployment {deployment!r} on the Prefect server: register the "
                "crawl-source deployment of infra/prefect.yaml (infra/work-pools.md)"
            ) from None

    outcomes: dict[str, SourceOutcome] = {}
    children: dict[str, FlowRun] = {}
    for source in selected:
        if source.status != "active":
            outcomes[source.id] = SourceOutcome(source.id, status="skipped", error=source.status)
            continue
        child = run_deployment(
            deployment,
            parameters={
                "source": source.model_dump(mode="json"),
                "lake": lake_uri,
                "settings": settings,
                "run_id": run_id,
                "started_at": started_at.isoformat(),
            },
            flow_run_name=f"{source.id}-{run_id}",
            # Asking twice for the same child (an API call retried) still makes one run.
            idempotency_key=f"{run_id}-{source.id}",
            timeout=0,  # start them all, then wait for them together
        )
        assert isinstance(child, FlowRun)  # the sync form, called from this sync flow
        children[source.id] = child

    with get_client(sync_client=True) as client:
        ids = [child.id for child in children.values()]
        finished = _wait_for(client, ids, poll_interval, timeout) if ids else {}
        for source_id, child in children.items():
            run = finished.get(child.id, child)
            state = run.state
            published = _published_outcome(client, run) if state and state.is_final() else None
            if published is not None:
                outcomes[source_id] = published
                logger.info("%s: %s (flow run %s)", source_id, published.status, run.name)
                continue
            if state is not None and not state.is_final():
                # A run no worker took yet is cancelled outright; a started one is stopped by
                # its worker, which sees it Cancelling.
                stop = Cancelled if state.is_scheduled() else Cancelling
                client.set_flow_run_state(run.id, stop(message="the fan-out timed out"))
                error = f"flow run {run.name} still {state.name} after {timeout:g} s: cancelled"
            else:
                name = state.name if state else "unknown"
                message = state.message if state and state.message else "no outcome published"
                error = f"flow run {run.name} ended {name}: {message}"
            logger.error("source %s failed: %s", source_id, error)
            record_source_failure(lake_uri, run_id, source_id, FANOUT_FLOW, started_at, error)
            outcomes[source_id] = SourceOutcome(source_id, "failed", {}, error)

    summary = RunSummary(run_id, lake_uri, [outcomes[s.id] for s in selected])
    return finish_run(FANOUT_FLOW, summary)


__all__ = [
    "SOURCE_DEPLOYMENT",
    "FanoutError",
    "crawl_fanout_flow",
    "crawl_source_flow",
]
