"""DuckDB over the lake: views articles, article_versions, rejects and runs.

DuckDB reads the Parquet through pyarrow datasets (pyarrow's S3 client for s3:// lakes, since
DuckDB's httpfs extension cannot be installed offline). The datasets hold only the files of
committed runs, as of when the connection was opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import duckdb

from lake.datasets import open_dataset, published_between
from lake.errors import LakeError
from lake.manifest import Manifest, read_manifests, runs_table
from lake.output import FORMATS, format_result
from lake.store import Store, open_store

VIEWS = ("articles", "article_versions", "rejects", "runs")

# One row per version: the first copy of each (article_id, content_hash). Compaction drops
# copies with this same rule, so it never changes what the view shows.
VERSION_KEY = "source_id, article_id, content_hash"
# The view partitions by published_at and its month too. published_at is one of the fields
# content_hash covers, so the result is the same; but DuckDB then pushes a filter on either
# below the window into the scan, where each file's month skips it unopened (lake.datasets).
_VIEW_VERSION_KEY = "source_id, published_month, published_at, article_id, content_hash"
FIRST_COPY = "fetched_at, crawl_run_id"

# Windows partition by source_id first, so `WHERE source_id = ...` is pushed below them into
# the scan, where it prunes whole files by their partition. (The latest version of an article
# may be published in another month than an older one, so a filter on published_at cannot go
# below the `articles` window: connect(since=, until=) narrows the snapshot instead.) The
# latest version is the one fetched last; a re-parse of a capture keeps its fetch time, so
# among versions fetched at the same moment the one a later run produced (run ids sort by
# start time) wins.
_VIEW_SQL = """
CREATE VIEW article_versions AS
SELECT * FROM {rows}
QUALIFY row_number() OVER (PARTITION BY {version_key} ORDER BY {first_copy}) = 1;

CREATE VIEW articles AS
SELECT * FROM article_versions
QUALIFY row_number() OVER (
    PARTITION BY source_id, article_id
    ORDER BY fetched_at DESC, crawl_run_id DESC, content_hash DESC
) = 1;

CREATE VIEW rejects AS SELECT * FROM _lake_reject_rows;

CREATE VIEW runs AS SELECT * FROM _lake_runs;
"""


def _instant(value: date | datetime | None, option: str, *, end: bool) -> datetime | None:
    """A bound as a UTC instant; a day is whole: `since` its first instant, `until` the next
    day's first (so both days are included)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise LakeError(f"{option} {value.isoformat()}: give the time a timezone")
        return value.astimezone(UTC)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(0), tzinfo=UTC)


def published_window(
    since: date | datetime | None, until: date | datetime | None
) -> tuple[datetime | None, datetime | None]:
    """[since, until) as UTC instants: datetimes as given (until excluded), days whole."""
    first = _instant(since, "since", end=False)
    last = _instant(until, "until", end=True)
    if first is not None and last is not None and last <= first:
        raise LakeError(f"until {until} is not after since {since}")
    return first, last


def _sql_timestamp(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.isoformat()}'"


def connect(
    uri: str | os.PathLike[str] | Store | None = None,
    *,
    source_ids: Iterable[str] | None = None,
    manifests: list[Manifest] | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's views (a snapshot of committed runs).

    `source_ids` limits the snapshot to some sources (fewer manifests to read); `manifests`,
    when the caller already read them (read_manifests with the same `source_ids`), is that
    snapshot, so the views and the caller's own figures come from the same runs.

    `since` / `until` limit the article views to versions published in the window: only the
    files of the months it spans are opened, and their rows are filtered on published_at. A
    date counts whole (`until` included), a datetime (with a timezone) is an instant (`until`
    excluded). `articles` then holds, per article, the latest of its versions published in
    the window. `rejects` and `runs` are not limited.
    """
    store = uri if isinstance(uri, Store) else open_store(uri)
    ids = list(source_ids) if source_ids is not None else None
    first, last = published_window(since, until)
    if manifests is None:
        manifests = read_manifests(store, source_ids=ids)
    rows = "_lake_article_rows"
    bounds = [
        *([f"published_at >= {_sql_timestamp(first)}"] if first else []),
        *([f"published_at < {_sql_timestamp(last)}"] if last else []),
    ]
    if bounds:
        rows = f"(SELECT * FROM _lake_article_rows WHERE {' AND '.join(bounds)})"
    articles = open_dataset(store, manifests, "articles", ids, where=published_between(first, last))
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_lake_article_rows", articles)
        con.register("_lake_reject_rows", open_dataset(store, manifests, "rejects", ids))
        con.register("_lake_runs", runs_table(manifests))
        con.execute(
            _VIEW_SQL.format(rows=rows, version_key=_VIEW_VERSION_KEY, first_copy=FIRST_COPY)
        )
    except BaseException:
        con.close()
        raise
    return con


open_lake = connect


def run_query(
    uri: str | os.PathLike[str] | Store | None,
    sql: str,
    fmt: str = "table",
    *,
    width: int | None = None,
    source_ids: Iterable[str] | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> str:
    """Run `sql` over the views and return the result as text ("table", "json" or "csv").

    `source_ids`, `since` and `until` narrow the snapshot as in connect(). SQL errors raise
    LakeError carrying DuckDB's message.
    """
    if fmt not in FORMATS:
        raise LakeError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not sql.strip():
        raise LakeError("empty query")
    con = connect(uri, source_ids=source_ids, since=since, until=until)
    try:
        try:
            cursor = con.execute(sql)
            description = cursor.description or []
            rows = cursor.fetchall() if description else []
        except duckdb.Error as exc:
            raise LakeError(str(exc)) from None
    finally:
        con.close()
    columns = [d[0] for d in description]
    types = [str(d[1]) for d in description]
    return format_result(columns, types, rows, fmt, width=width)
