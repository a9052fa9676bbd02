"""The backfill flow: land one source's articles published in a window, one day at a time.

The window is cut into day chunks, each a task with its own retries: skip list (what the
lake has, plus what finished days of this window fetched) -> crawl the day (the day's
WordPress REST API query and archive pages, the feeds and sitemaps pruned by their dates) ->
land -> a create-only marker in the lake. A day whose crawl stopped early or could not read a
listing lands what it got and raises, so Prefect retries it; only a complete day gets its
marker. A killed backfill run again with the same window skips the days with a marker, and
the skip list keeps it from fetching an article twice.

Days run one after another: they hit the same outlet, and politeness is per crawl process.
Progress goes to a Prefect progress artifact (`backfill-<source>`) and to listeners
registered with `progress_listener` (the CLI's progress bar).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from flows.runtime import prefect_defaults

prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.runtime import task_run  # noqa: E402
from prefect.states import Completed, Failed, State  # noqa: E402

from flows.runs import new_run_id  # noqa: E402
from flows.spools import keep_spools, new_spool_root, recover_spools  # noqa: E402
from lake import Store, land_spool, open_store, read_manifests, write_skip_file  # noqa: E402
from lake.backfill import (  # noqa: E402
    fetched_ids,
    finished_days,
    mark_day_finished,
    spool_fetched_ids,
)
from schemas import RUN_COUNTERS  # noqa: E402
from schemas.spool import SKIP_FILE  # noqa: E402
from spiders.catalogue import Source, load_sources, select_sources  # noqa: E402
from spiders.extraction import EXTRACTOR  # noqa: E402
from spiders.runner import run_crawl  # noqa: E402

# (day, status, counts, done, total) after each day: for a progress bar in the same process.
ProgressListener = Callable[[date, str, dict[str, int], int, int], None]
_listeners: list[ProgressListener] = []


@contextlib.contextmanager
def progress_listener(listener: ProgressListener) -> Iterator[None]:
    """Call `listener` after each day of the backfills run inside this block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class DayIncomplete(RuntimeError):
    """The day's crawl did not get everything (stopped early, a listing failed): retry it."""


@dataclass
class DayOutcome:
    day: str
    status: str  # ok | finished earlier | failed
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class BackfillSummary:
    run_id: str
    lake: str
    source_id: str
    since: str
    until: str
    days: list[DayOutcome]

    @property
    def failed(self) -> list[DayOutcome]:
        return [d for d in self.days if d.status == "failed"]

    def table(self) -> list[dict[str, Any]]:
        return [
            {"source": f"{self.source_id} {d.day}", "status": d.status}
            | {c: d.counts.get(c, 0) for c in RUN_COUNTERS}
            | ({"error": d.error} if d.error else {})
            for d in self.days
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


@task(name="backfill-day", retries=2, retry_delay_seconds=[5, 30])
def backfill_day(
    lake: str,
    source: Source,
    since: date,
    until: date,
    day: date,
    run_id: str,
    spool_root: Path,
    started_at: datetime,
    settings: dict[str, Any] | None,
) -> dict[str, int]:
    """Crawl and land one day of the window, then mark it finished in the lake."""
    store = open_store(lake)
    markers = finished_days(store, source.id, since, until)
    if day in markers:  # a retry after the marker was written
        return dict(markers[day].get("counts") or {})
    # Each attempt lands under its own run id: a retry must not find the earlier attempt's
    # manifest and skip landing what it fetched.
    attempt_id = f"{run_id}-{day:%Y%m%d}-{task_run.run_count or 1}"
    spool = spool_root / day.isoformat()
    spool.mkdir(parents=True, exist_ok=True)
    write_skip_file(store, source.id, spool / SKIP_FILE, extra=fetched_ids(markers.values()))
    crawl = run_crawl(
        source,
        spool,
        run_id=attempt_id,
        skip_file=spool / SKIP_FILE,
        since=day,
        until=day,
        window=(since, until),
        settings=settings,
    )
    result = land_spool(
        store,
        crawl.out_dir,
        run_id=attempt_id,
        source_id=source.id,
        flow="backfill",
        started_at=started_at,
        counts=crawl.stats,
        extractor=EXTRACTOR,
    )
    finished = crawl.stats.get("finished_reason")
    listing_errors = int(crawl.stats.get("listing_errors", 0))
    transient = int(crawl.stats.get("transient_failures", 0))
    why = []
    if finished != "finished":
        why.append(f"the crawl stopped early: {finished}")
    if listing_errors:
        problems = "; ".join(crawl.stats.get("problems", [])[-3:])
        why.append(f"{listing_errors} listing(s) could not be read: {problems}")
    if transient:
        why.append(f"{transient} article(s) failed with a server or network error")
    if why:
        raise DayIncomplete(f"{source.id} {day}: landed {result.landed}, but " + "; ".join(why))
    counts = _day_counts(store, source.id, attempt_id, result.counts)
    mark_day_finished(
        store,
        source.id,
        since,
        until,
        day,
        run_id=attempt_id,
        counts=counts,
        fetched=spool_fetched_ids(spool),
    )
    shutil.rmtree(spool, ignore_errors=True)
    return counts


def _day_counts(
    store: Store, source_id: str, attempt_id: str, last: dict[str, int]
) -> dict[str, int]:
    """The day's counters over all its attempts: what earlier, failed attempts landed counts."""
    counts = dict(last)
    prefix = attempt_id.rsplit("-", 1)[0] + "-"
    for manifest in read_manifests(store, source_ids=[source_id]):
        run = manifest["run_id"]
        if run.startswith(prefix) and run != attempt_id and manifest["status"] == "committed":
            for name in ("fetched", "landed", "rejected", "duplicates"):
                counts[name] = counts.get(name, 0) + int(manifest["counts"].get(name, 0))
    return counts


def _error_text(state: State) -> str:
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        text = f"{type(outcome).__name__}: {outcome}"
    else:
        text = state.message or state.name or "failed"
    return text if len(text) <= 2000 else text[:2000] + "…"


@flow(name="backfill")
def backfill_flow(
    source: str,
    since: date,
    until: date,
    sources_file: str | None = None,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
    max_days: int | None = None,
) -> State:
    """Land the articles of one source published between `since` and `until` (UTC days,
    inclusive), day by day, skipping days an earlier run of the same window finished.

    `max_days` stops after that many days were worked on (the rest is left for a rerun).
    """
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    logger = get_run_logger()
    store = open_store(lake)
    lake_uri = str(store.uri)
    [chosen] = select_sources(load_sources(sources_file), [source])
    if chosen.status != "active":
        raise ValueError(f"source {chosen.id} is {chosen.status}: not crawled")
    run_id = new_run_id()
    started_at = datetime.now(UTC)
    days = window_days(since, until)
    done = finished_days(store, chosen.id, since, until)
    outcomes: dict[date, DayOutcome] = {
        d: DayOutcome(d.isoformat(), "finished earlier", dict(done[d].get("counts") or {}))
        for d in days
        if d in done
    }
    pending = [d for d in days if d not in done]
    logger.info(
        "backfill %s of %s %s..%s: %d day(s), %d finished earlier",
        run_id,
        chosen.id,
        since,
        until,
        len(days),
        len(done),
    )
    key = f"backfill-{chosen.id}"
    artifact = create_progress_artifact(
        progress=100.0 * len(done) / len(days),
        key=key,
        description=f"backfill of {chosen.id} {since}..{until} into {lake_uri} (run {run_id})",
    )
    assert isinstance(artifact, UUID)  # sync flow: the call ran, not a coroutine
    count = len(done)
    for listener in _listeners:
        for n, day in enumerate(sorted(done), 1):
            listener(day, "finished earlier", outcomes[day].counts, n, len(days))
    recover_spools(lake_uri, chosen.id)  # what killed runs of the source had fetched lands first
    spool_root = new_spool_root(run_id, lake=lake_uri, flow="backfill", started_at=started_at)
    for index, day in enumerate(pending):
        if max_days is not None and index >= max_days:
            logger.info("max_days=%d reached: %d day(s) left for a rerun", max_days, len(pending))
            break
        state = backfill_day(
            lake_uri,
            chosen,
            since,
            until,
            day,
            run_id,
            spool_root,
            started_at,
            settings,
            return_state=True,
        )
        if state.is_completed():
            outcomes[day] = DayOutcome(day.isoformat(), "ok", state.result())
        else:
            error = _error_text(state)
            logger.error("%s %s failed: %s", chosen.id, day, error)
            outcomes[day] = DayOutcome(day.isoformat(), "failed", error=error)
        count += 1
        update_progress_artifact(artifact, progress=100.0 * count / len(days))
        for listener in _listeners:
            listener(day, outcomes[day].status, outcomes[day].counts, count, len(days))

    summary = BackfillSummary(
        run_id,
        lake_uri,
        chosen.id,
        since.isoformat(),
        until.isoformat(),
        [outcomes[d] for d in days if d in outcomes],
    )
    create_table_artifact(
        key=f"{key}-days",
        table=summary.table(),
        description=f"backfill run {run_id} of {chosen.id} {since}..{until}",
    )
    failed = summary.failed
    left = len(days) - len(summary.days)
    if failed:
        keep_spools(spool_root)
        logger.warning("spools of the failed days kept for inspection in %s", spool_root)
        names = ", ".join(d.day for d in failed)
        return Failed(message=f"run {run_id}: {len(failed)} day(s) failed: {names}", data=summary)
    shutil.rmtree(spool_root, ignore_errors=True)
    message = f"run {run_id}: {len(summary.days)} of {len(days)} day(s) done"
    if left:
        message += f", {left} left for a rerun"
    return Completed(message=message, data=summary)
