"""The public Python API; the CLI and the flows are front doors to the same functions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spiders.catalogue import Source, find_source_for_url, load_sources, select_sources
from spiders.extraction import PageHints
from spiders.rows import build_row

if TYPE_CHECKING:
    import duckdb
    from prefect.states import State

    from lake.health import HealthReport, ThresholdsConfig

ADHOC_RUN = "adhoc"


def resolve_source(
    source: str | Source | None, url: str | None, sources_file: str | Path | None = None
) -> Source | None:
    """A Source object from an id, or the catalogue entry owning `url`, or None."""
    if isinstance(source, Source):
        return source
    if source is not None:
        return select_sources(load_sources(sources_file), [source])[0]
    if url is None:
        return None
    return find_source_for_url(load_sources(sources_file), url)


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    source: str | Source | None = None,
    sources_file: str | Path | None = None,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """Extract and normalize one article page into a schema row of plain Python values.

    Without `source`, the catalogue entry owning `url`'s host gives the timezone and languages.
    Raises newslake.NotAnArticle (with `.reason` and `.detail`) for pages that are not articles.
    """
    resolved = resolve_source(source, url, sources_file)
    headers = {"Content-Type": content_type} if content_type else None
    return build_row(
        html,
        url,
        source=resolved,
        run_id=ADHOC_RUN,
        fetched_at=fetched_at,
        headers=headers,
        hints=PageHints(discovered_via="file"),
    )


def crawl(
    sources_file: str | Path | None = None,
    sources: list[str] | None = None,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
) -> State:
    """Run the crawl flow; returns its final Prefect state (its data is the run summary)."""
    from flows.crawl import crawl_flow
    from lake import resolve_uri

    resolve_uri(lake)  # refuse a URI with credentials before Prefect records it as a parameter
    state: State = crawl_flow(
        sources_file=str(sources_file) if sources_file else None,
        sources=sources,
        lake=lake,
        settings=settings,
        return_state=True,
    )
    return state


def backfill(
    source: str,
    since: date,
    until: date,
    sources_file: str | Path | None = None,
    lake: str | None = None,
    settings: dict[str, Any] | None = None,
    max_days: int | None = None,
    on_day: Callable[[date, str, dict[str, int], int, int], None] | None = None,
) -> State:
    """Run the backfill flow for one source and a publication-date window (UTC days,
    inclusive). Days an earlier run of the same window finished are skipped; `max_days`
    stops after that many days; `on_day(day, status, counts, done, total)` is called after
    each day (and once per day finished earlier), e.g. to drive a progress bar."""
    from flows.backfill import backfill_flow, progress_listener
    from lake import resolve_uri

    resolve_uri(lake)  # refuse a URI with credentials before Prefect records it as a parameter
    with progress_listener(on_day) if on_day else contextlib.nullcontext():
        state: State = backfill_flow(
            source=source,
            since=since,
            until=until,
            sources_file=str(sources_file) if sources_file else None,
            lake=lake,
            settings=settings,
            max_days=max_days,
            return_state=True,
        )
    return state


def compact(
    lake: str | None = None,
    sources: list[str] | None = None,
    target_mb: float | None = None,
    vacuum: bool = True,
) -> State:
    """Run the compaction flow: merge each source's small files into files of about
    `target_mb` MB (default 128), then delete files replaced more than a day ago."""
    from flows.compact import compact_flow
    from lake import resolve_uri
    from lake.compact import DEFAULT_TARGET_MB

    resolve_uri(lake)  # refuse a URI with credentials before Prefect records it as a parameter
    state: State = compact_flow(
        lake=lake,
        sources=sources,
        target_mb=target_mb or DEFAULT_TARGET_MB,
        vacuum=vacuum,
        return_state=True,
    )
    return state


def reparse(
    source: str,
    since: date | None = None,
    until: date | None = None,
    sources_file: str | Path | None = None,
    lake: str | None = None,
) -> State:
    """Run the re-parse flow: re-extract the source's raw captures with the current extractor,
    offline, landing a new version only where the row changed. The window (inclusive) is on
    the publication day; undated articles by their capture day."""
    from flows.reparse import reparse_flow
    from lake import resolve_uri

    resolve_uri(lake)  # refuse a URI with credentials before Prefect records it as a parameter
    state: State = reparse_flow(
        source=source,
        since=since,
        until=until,
        sources_file=str(sources_file) if sources_file else None,
        lake=lake,
        return_state=True,
    )
    return state


def connect(
    lake: str | None = None,
    *,
    sources: list[str] | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the views articles, article_versions, rejects and runs.

    `sources`, `since` and `until` (publication days, both included) narrow the snapshot
    before the views are built, so only those sources' and months' files are opened.
    """
    from lake import connect as lake_connect

    return lake_connect(lake, source_ids=sources, since=since, until=until)


def query(
    sql: str,
    lake: str | None = None,
    fmt: str = "table",
    width: int | None = None,
    *,
    sources: list[str] | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> str:
    """Run SQL over the lake's views and format the result as table, json or csv."""
    from lake import run_query

    return run_query(lake, sql, fmt, width=width, source_ids=sources, since=since, until=until)


def health(
    lake: str | None = None,
    *,
    days: int = 14,
    until: date | None = None,
    sources: list[str] | None = None,
    sources_file: str | Path | None = None,
    thresholds: str | Path | ThresholdsConfig | None = None,
) -> HealthReport:
    """Per-source health of the lake over the `days` days ending `until` (default today, UTC).

    Judges the sources named; else the active sources of `sources_file`; else every source with
    a run in the lake. `thresholds` is a YAML file of thresholds (lake.health.load_thresholds)
    or a loaded ThresholdsConfig.
    """
    from lake.health import ThresholdsConfig, compute_health, load_thresholds

    config = thresholds if isinstance(thresholds, ThresholdsConfig) else load_thresholds(thresholds)
    ids: list[str] | None = list(dict.fromkeys(sources)) if sources else None
    if sources_file is not None:
        chosen = select_sources(load_sources(sources_file), ids)
        ids = [s.id for s in chosen if sources or s.status == "active"]
    return compute_health(lake, days=days, until=until, source_ids=ids, thresholds=config)


def health_report(
    out: str | Path,
    lake: str | None = None,
    *,
    days: int = 14,
    until: date | None = None,
    sources: list[str] | None = None,
    sources_file: str | Path | None = None,
    thresholds: str | Path | ThresholdsConfig | None = None,
) -> HealthReport:
    """Write the health report as one self-contained HTML file (charts inline); returns it."""
    from newslake.report import render_report

    report = health(
        lake,
        days=days,
        until=until,
        sources=sources,
        sources_file=sources_file,
        thresholds=thresholds,
    )
    Path(out).write_text(render_report(report), encoding="utf-8")
    return report
