"""DuckDB over the lake: views articles, article_versions, rejects and runs.

DuckDB reads the Parquet through pyarrow datasets (pyarrow's S3 client for s3:// lakes, since
DuckDB's httpfs extension cannot be installed offline). The datasets hold only the files of
committed runs, as of when the connection was opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import duckdb

from lake.datasets import open_dataset
from lake.errors import LakeError
from lake.manifest import Manifest, read_manifests, runs_table
from lake.output import FORMATS, format_result
from lake.store import Store, open_store

VIEWS = ("articles", "article_versions", "rejects", "runs")

# One row per version: the first copy of each (article_id, content_hash). Compaction drops
# copies with this same rule, so it never changes what the view shows.
VERSION_KEY = "source_id, article_id, content_hash"
FIRST_COPY = "fetched_at, crawl_run_id"

# Windows partition by source_id first, so `WHERE source_id = ...` is pushed below them into
# the scan, where it prunes whole files by their partition. The latest version is the one
# fetched last; a re-parse of a capture keeps its fetch time, so among versions fetched at
# the same moment the one a later run produced (run ids sort by start time) wins.
_VIEW_SQL = f"""
CREATE VIEW article_versions AS
SELECT * FROM _lake_article_rows
QUALIFY row_number() OVER (PARTITION BY {VERSION_KEY} ORDER BY {FIRST_COPY}) = 1;

CREATE VIEW articles AS
SELECT * FROM article_versions
QUALIFY row_number() OVER (
    PARTITION BY source_id, article_id
    ORDER BY fetched_at DESC, crawl_run_id DESC, content_hash DESC
) = 1;

CREATE VIEW rejects AS SELECT * FROM _lake_reject_rows;

CREATE VIEW runs AS SELECT * FROM _lake_runs;
"""


def connect(
    uri: str | os.PathLike[str] | Store | None = None,
    *,
    source_ids: Iterable[str] | None = None,
    manifests: list[Manifest] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's views (a snapshot of committed runs).

    `source_ids` limits the snapshot to some sources (fewer manifests to read); `manifests`,
    when the caller already read them (read_manifests with the same `source_ids`), is that
    snapshot, so the views and the caller's own figures come from the same runs.
    """
    store = uri if isinstance(uri, Store) else open_store(uri)
    ids = list(source_ids) if source_ids is not None else None
    if manifests is None:
        manifests = read_manifests(store, source_ids=ids)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("_lake_article_rows", open_dataset(store, manifests, "articles", ids))
        con.register("_lake_reject_rows", open_dataset(store, manifests, "rejects", ids))
        con.register("_lake_runs", runs_table(manifests))
        con.execute(_VIEW_SQL)
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
) -> str:
    """Run `sql` over the views and return the result as text ("table", "json" or "csv").

    SQL errors raise LakeError carrying DuckDB's message.
    """
    if fmt not in FORMATS:
        raise LakeError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not sql.strip():
        raise LakeError("empty query")
    con = connect(uri)
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
