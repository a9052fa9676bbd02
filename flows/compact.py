"""The compaction flow: per source, merge small files, then vacuum what older compactions replaced.

Orchestration only: lake.compact does the work and holds the protocol (see its docstring and
the README's "Compaction" section).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from flows.runtime import prefect_defaults

prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.states import Completed, Failed, State  # noqa: E402

from lake import open_store  # noqa: E402
from lake.compact import (  # noqa: E402
    DEFAULT_TARGET_MB,
    VACUUM_GRACE,
    compact_source,
    lake_source_ids,
    vacuum_source,
)


@dataclass
class CompactOutcome:
    source_id: str
    status: str = "ok"  # ok | failed
    counts: dict[str, int] = field(default_factory=dict)
    compaction_id: str | None = None
    error: str | None = None


@dataclass
class CompactSummary:
    lake: str
    sources: list[CompactOutcome]

    @property
    def failed(self) -> list[CompactOutcome]:
        return [s for s in self.sources if s.status == "failed"]

    def table(self) -> list[dict[str, Any]]:
        return [
            {"source": s.source_id, "status": s.status}
            | s.counts
            | ({"error": s.error} if s.error else {})
            for s in self.sources
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@task(name="compact-source", retries=2, retry_delay_seconds=[5, 30])
def compact_one(lake: str, source_id: str, target_mb: float) -> tuple[str, dict[str, int]]:
    """Merge the source's small files under one compaction manifest."""
    result = compact_source(open_store(lake), source_id, target_mb=target_mb)
    return result.compaction_id, result.counts()


@task(name="vacuum-source", retries=2, retry_delay_seconds=[5, 30])
def vacuum_one(lake: str, source_id: str, grace_seconds: float) -> dict[str, int]:
    """Delete files replaced longer than the grace period ago, and orphans."""
    result = vacuum_source(open_store(lake), source_id, grace=timedelta(seconds=grace_seconds))
    return {
        "deleted_replaced": len(result.replaced_deleted),
        "deleted_orphans": len(result.orphans_deleted),
        "waiting_grace": result.replaced_waiting,
    }


@flow(name="compact")
def compact_flow(
    lake: str | None = None,
    sources: list[str] | None = None,
    target_mb: float = DEFAULT_TARGET_MB,
    vacuum: bool = True,
    grace_seconds: float = VACUUM_GRACE.total_seconds(),
) -> State:
    """Compact the lake's sources one after the other (all that have runs, or those named)."""
    logger = get_run_logger()
    store = open_store(lake)
    lake_uri = store.uri
    source_ids = list(sources) if sources else lake_source_ids(store)
    outcomes: list[CompactOutcome] = []
    for source_id in source_ids:
        outcome = CompactOutcome(source_id)
        try:
            outcome.compaction_id, outcome.counts = compact_one(lake_uri, source_id, target_mb)
            if vacuum:
                outcome.counts |= vacuum_one(lake_uri, source_id, grace_seconds)
        except Exception as exc:  # one source's failure must not stop the others
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
            logger.error("compaction of %s failed: %s", source_id, outcome.error)
        outcomes.append(outcome)
        logger.info("%s: %s", source_id, outcome.counts)
    summary = CompactSummary(lake_uri, outcomes)
    create_table_artifact(
        key="compact-counts", table=summary.table(), description=f"compaction of {lake_uri}"
    )
    if summary.failed:
        names = ", ".join(s.source_id for s in summary.failed)
        return Failed(message=f"compaction failed for {names}", data=summary)
    return Completed(message=f"compacted {len(outcomes)} source(s)", data=summary)
