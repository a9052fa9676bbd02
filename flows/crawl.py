"""The crawl flow: for each source, prepare the skip list, crawl into a spool, land the spool.

Each source runs as its own chain of tasks cut at I/O boundaries, so one broken outlet neither
stops the others nor loses what they fetched. The flow ends Failed when any source failed,
after publishing the per-source counts, so a schedule alerts.

Scheduled crawls are incremental: the skip list carries when each landed URL was fetched (a
listing saying it changed later has it fetched again), and the feeds' and sitemaps'
validators kept in the lake make unchanged endpoints answer 304. The validators a complete
crawl got are kept only after its landing committed. The backfill flow is flows/backfill.py.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.runs import new_run_id
from flows.runtime import prefect_defaults
from flows.spools import keep_spools, new_spool_root, recover_spools

prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.futures import PrefectFuture  # noqa: E402
from prefect.states import Completed, Failed, State  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402

from lake import (  # noqa: E402
    SpoolError,
    land_spool,
    open_store,
    write_failed_manifest,
    write_skip_file,
)
from lake.state import keep_validators, write_validators_file  # noqa: E402
from schemas import RUN_COUNTERS  # noqa: E402
from schemas.spool import SKIP_FILE, VALIDATORS_FILE, VALIDATORS_SEEN_FILE  # noqa: E402
from spiders.catalogue import Source, load_sources, select_sources  # noqa: E402
from spiders.extraction import EXTRACTOR  # noqa: E402
from spiders.runner import CrawlResult, run_crawl  # noqa: E402

# Each source is a chain of three tasks, and a task waiting on its upstream holds a thread:
# 12 threads let four sources crawl at once.
PARALLEL_SOURCES = 4
TASK_THREADS = 3 * PARALLEL_SOURCES


@dataclass
class SourceOutcome:
    source_id: str
    status: str = "ok"  # ok | partial (the crawl stopped early) | failed | skipped
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """The source's line of the run's table artifact."""
        return (
            {"source": self.source_id, "status": self.status}
            | {c: self.counts.get(c, 0) for c in RUN_COUNTERS}
            | ({"error": self.error} if self.error else {})
        )


@dataclass
class RunSummary:
    run_id: str
    lake: str
    sources: list[SourceOutcome]

    @property
    def failed(self) -> list[SourceOutcome]:
        return [s for s in self.sources if s.status == "failed"]

    def table(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.sources]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@task(name="prepare-skip-list", retries=2, retry_delay_seconds=5)
def prepare_skip_list(lake: str, source_id: str, spool: Path) -> Path:
    """Ids of articles already landed, so the spider does not fetch them again, and the feeds'
    and sitemaps' validators for conditional GET. Spools of killed runs of the source land first."""
    recover_spools(lake, source_id)
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / SKIP_FILE
    store = open_store(lake)
    write_skip_file(store, source_id, path)
    write_validators_file(store, source_id, spool / VALIDATORS_FILE)
    return path


@task(name="crawl-source")
def crawl_source(
    source: Source,
    run_id: str,
    spool: Path,
    skip_file: Path,
    settings: dict[str, Any] | None,
) -> CrawlResult:
    """Run the spider for one source in its own process (the Twisted reactor cannot restart)."""
    validators = spool / VALIDATORS_FILE
    return run_crawl(
        source,
        spool,
        run_id=run_id,
        skip_file=skip_file,
        settings=settings,
        validators_file=validators if validators.exists() else None,
    )


def _retry_unless_spool_error(task: Any, task_run: Any, state: State) -> bool:
    """A malformed spool fails the same way every time; storage hiccups are worth retrying."""
    return not isinstance(state.result(raise_on_failure=False), SpoolError)


@task(
    name="land-source",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_retry_unless_spool_error,
)
def land_source(
    lake: str, crawl: CrawlResult, run_id: str, source_id: str, flow_name: str, started_at: datetime
) -> dict[str, int]:
    """Write the spool's rows to the lake and commit the run manifest (idempotent on retry)."""
    result = land_spool(
        open_store(lake),
        crawl.out_dir,
        run_id=run_id,
        source_id=source_id,
        flow=flow_name,
        started_at=started_at,
        counts=crawl.stats,
        extractor=EXTRACTOR,
    )
    # Committed: the next scheduled crawl may now trust a 304 from these endpoints.
    keep_validators(open_store(lake), source_id, crawl.out_dir / VALIDATORS_SEEN_FILE)
    return dict(result.counts)


@task(name="record-failure", retries=2, retry_delay_seconds=5)
def record_failure(
    lake: str, run_id: str, source_id: str, flow_name: str, started_at: datetime, error: str
) -> None:
    write_failed_manifest(
        open_store(lake),
        run_id=run_id,
        source_id=source_id,
        flow=flow_name,
        started_at=started_at,
        error=error,
        extractor=EXTRACTOR,
    )


def _crawl_counts(crawl: PrefectFuture[CrawlResult]) -> dict[str, int]:
    """What the crawl counted, when it got that far before the source failed."""
    if not crawl.state.is_completed():
        return {}
    stats = crawl.result().stats
    return {k: v for k, v in stats.items() if isinstance(v, int)}


def _first_error(chain: list[PrefectFuture[Any]]) -> str:
    """The exception of the first step that failed (later steps only say they never ran)."""
    for future in chain:
        if future.state.is_failed() or future.state.is_crashed():
            outcome = future.state.result(raise_on_failure=False)
            if isinstance(outcome, BaseException):
                return _error_text(outcome)
            return future.state.message or "failed"
    return chain[-1].state.message or f"ended {chain[-1].state.name}"


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:2000] + "…"


def submit_source(
    source: Source,
    *,
    run_id: str,
    spool: Path,
    lake_uri: str,
    flow_name: str,
    started_at: datetime,
    settings: dict[str, Any] | None,
) -> list[PrefectFuture[Any]]:
    """Submit one source's chain (skip list, crawl, landing); the futures in that order."""
    skip = prepare_skip_list.submit(lake_uri, source.id, spool)
    crawled = crawl_source.submit(
        source,
        run_id,
        spool,
        spool / SKIP_FILE,
        settings,
        wait_for=[skip],
        return_state=False,
    )
    # The crawl's future is resolved by Prefect into its CrawlResult before landing.
    landed = land_source.submit(
        lake_uri, crawled, run_id, source.id, flow_name, started_at, return_state=False
    )
    return [skip, crawled, landed]


def collect_source(
    source_id: str,
    chain: list[PrefectFuture[Any]],
    *,
    spool: Path,
    lake_uri: str,
    run_id: str,
    flow_name: str,
    started_at: datetime,
) -> SourceOutcome:
    """Wait for one source's chain and say how it ended; a failure is recorded in the lake."""
    logger = get_run_logger()
    for future in chain:
        future.wait()
    landing = chain[-1]
    if landing.state.is_completed():
        counts = landing.result()
        finished = chain[1].result().stats.get("finished_reason", "finished")
        outcome = SourceOutcome(source_id, counts=counts)
        if finished != "finished":  # landed what it fetched, but did not get through
            outcome.status, outcome.error = "partial", f"the crawl stopped early: {finished}"
            logger.warning("%s: %s", source_id, outcome.error)
        logger.info("%s: %s", source_id, ", ".join(f"{c} {counts.get(c, 0)}" for c in RUN_COUNTERS))
        shutil.rmtree(spool, ignore_errors=True)
        return outcome
    # One source failing must not hide the others' results; report the step that broke.
    error = _first_error(chain)
    logger.error("source %s failed: %s", source_id, error)
    record_source_failure(lake_uri, run_id, source_id, flow_name, started_at, error)
    return SourceOutcome(source_id, "failed", _crawl_counts(chain[1]), error)


def record_source_failure(
    lake_uri: str, run_id: str, source_id: str, flow_name: str, started_at: datetime, error: str
) -> None:
    try:
        record_failure(lake_uri, run_id, source_id, flow_name, started_at, error)
    except Exception as record_exc:  # the lake itself may be what failed
        get_run_logger().error("could not record the failure in the lake: %s", record_exc)


def finish_run(flow_name: str, summary: RunSummary, spool_root: Path | None = None) -> State:
    """Publish the per-source table; Failed, naming the sources, when any source failed."""
    create_table_artifact(
        key=f"{flow_name}-counts",
        table=summary.table(),
        description=f"{flow_name} run {summary.run_id} into {summary.lake}",
    )
    failed = summary.failed
    count = len(summary.sources)
    if not failed:
        if spool_root is not None:
            shutil.rmtree(spool_root, ignore_errors=True)
        return Completed(message=f"run {summary.run_id}: {count} source(s)", data=summary)
    if spool_root is not None:
        keep_spools(spool_root)  # recovery of killed runs leaves kept spools alone
        get_run_logger().warning(
            "spools of the failed sources kept for inspection in %s", spool_root
        )
    names = ", ".join(s.source_id for s in failed)
    return Failed(
        message=f"run {summary.run_id}: {len(failed)} source(s) failed: {names}", data=summary
    )


def run_sources(
    *,
    flow_name: str,
    sources_file: str | None,
    source_ids: list[str] | None,
    lake: str | None,
    settings: dict[str, Any] | None = None,
) -> State:
    """The crawl flow's body: every source's chain, then the outcomes and the artifact."""
    logger = get_run_logger()
    lake_uri = str(open_store(lake).uri)
    sources = select_sources(load_sources(sources_file), source_ids)
    run_id = new_run_id()
    started_at = datetime.now(UTC)
    spool_root = new_spool_root(run_id, lake=lake_uri, flow=flow_name, started_at=started_at)
    logger.info("run %s: %d source(s) into %s", run_id, len(sources), lake_uri)

    outcomes: dict[str, SourceOutcome] = {}
    chains: dict[str, list[PrefectFuture[Any]]] = {}
    common = {"run_id": run_id, "lake_uri": lake_uri, "flow_name": flow_name}
    for source in sources:
        if source.status != "active":
            outcomes[source.id] = SourceOutcome(source.id, status="skipped", error=source.status)
            continue
        chains[source.id] = submit_source(
            source,
            spool=spool_root / source.id,
            started_at=started_at,
            settings=settings,
            **common,
        )
    for source_id, chain in chains.items():
        outcomes[source_id] = collect_source(
            source_id, chain, spool=spool_root / source_id, started_at=started_at, **common
        )
    summary = RunSummary(run_id, lake_uri, [outcomes[s.id] for s in sources])
    return finish_run(flow_name, summary, spool_root)


@flow(name="crawl", task_runner=ThreadPoolTaskRunner(max_workers=TASK_THREADS))  # type: ignore[arg-type]
def crawl_flow(
    sources_file: str | None = None,
    sources: list[str] | None = None,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
) -> State:
    """Crawl the sources' feeds and sitemaps and land new articles in the lake."""
    return run_sources(
        flow_name="crawl",
        sources_file=sources_file,
        source_ids=sources,
        lake=lake,
        settings=settings,
    )


__all__ = [
    "RunSummary",
    "SourceOutcome",
    "collect_source",
    "crawl_flow",
    "finish_run",
    "record_source_failure",
    "submit_source",
]
