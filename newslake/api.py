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


def connect(lake: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the views articles, article_versions, rejects and runs."""
    from lake import connect as lake_connect

    return lake_connect(lake)


def query(sql: str, lake: str | None = None, fmt: str = "table", width: int | None = None) -> str:
    """Run SQL over the lake's views and format the result as table, json or csv."""
    from lake import run_query

    return run_query(lake, sql, fmt, width=width)
