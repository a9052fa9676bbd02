"""A narrow query opens only the files it needs: counted file by file, on a folder and on S3."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from spool_factory import EXTRACTOR, write_spool

from lake import LakeError, connect, land_spool, open_store, run_query
from lake.datasets import ReadRecordingStore
from schemas import normalize_article

A, B = "alpha-news", "beta-times"
RUN_1 = "20240401T000000Z-aaaaaa"
RUN_2 = "20240501T000000Z-bbbbbb"
RUN_3 = "20240601T000000Z-cccccc"
WEEK = (datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 11, tzinfo=UTC))
WEEK_SQL = (
    "FROM {view} WHERE source_id = 'alpha-news'"
    " AND published_at >= TIMESTAMPTZ '2024-03-04 00:00:00+00'"
    " AND published_at < TIMESTAMPTZ '2024-03-11 00:00:00+00'"
)


def _row(source: str, slug: str, run: str, published: datetime | None, **extra: Any) -> Any:
    url = f"https://{source}.example/news/{slug}/"
    fields = {
        "url": url,
        "canonical_url": url,
        "source_id": source,
        "title": f"{source} {slug}",
        "published_at": published,
        "published_at_source": "jsonld" if published else "none",
        "language": "en",
        "body": f"The story of {slug}, told in full.",
        "fetched_at": datetime(2024, 6, 1, tzinfo=UTC)
        if published is None
        else published + timedelta(hours=1),
        "crawl_run_id": run,
        "extractor": EXTRACTOR,
        "http_status": 200,
    }
    fields.update(extra)
    return normalize_article(fields)


def _day(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def _land(store: Any, tmp_path: Path, run: str, source: str, rows: list[Any]) -> None:
    spool = write_spool(tmp_path / f"spool-{run}-{source}", rows, warc=False)
    land_spool(store, spool, run_id=run, source_id=source, extractor=EXTRACTOR)


@pytest.fixture
def lake(lake_uri: str, tmp_path: Path) -> str:
    """Two sources over three months and undated pages, landed by three runs.

    alpha-news "moved" is published 2024-02-29 in run 1; run 3 re-dates it to 2024-03-05
    (a new version in another month partition).
    """
    store = open_store(lake_uri)
    for run, days in ((RUN_1, (_day(2, 10), _day(3, 5), _day(4, 2))), (RUN_2, (_day(3, 10),))):
        for source in (A, B):
            rows = [_row(source, f"{run[4:8]}-{d:%m-%d}", run, d) for d in days]
            rows.append(_row(source, f"undated-{run[4:8]}", run, None))
            if run == RUN_1 and source == A:
                rows.append(_row(A, "moved", run, _day(2, 29, 22)))
                rows.append(_row(A, "late", run, _day(3, 10, 23)))  # the week's last hour
            _land(store, tmp_path, run, source, rows)
    _land(store, tmp_path, RUN_3, A, [_row(A, "moved", RUN_3, _day(3, 5, 1), title="Moved v2")])
    return lake_uri


def _recording(uri: str) -> ReadRecordingStore:
    return ReadRecordingStore(open_store(uri))


def _files(source: str, month: str, *runs_parts: tuple[str, int]) -> list[str]:
    folder = f"articles/source_id={source}/published_month={month}"
    return [f"{folder}/part-{run}-{n}.parquet" for run, n in runs_parts]


# The part numbers the writer gave each run's files (sorted partitions, undated last).
MARCH_A = _files(A, "2024-03", (RUN_1, 1), (RUN_2, 0), (RUN_3, 0))


def test_one_source_one_week_opens_only_that_month_of_that_source(lake: str) -> None:
    store = _recording(lake)
    con = connect(store, source_ids=[A], since=WEEK[0], until=WEEK[1])
    assert store.opened == []  # building the views reads no data file
    rows = con.execute(
        "SELECT title, published_at FROM articles WHERE source_id = 'alpha-news' ORDER BY 2"
    ).fetchall()
    assert [r[0] for r in rows] == [
        "Moved v2",
        "alpha-news 0401-03-05",
        "alpha-news 0501-03-10",
        "alpha-news late",
    ]
    assert sorted(store.opened) == sorted(MARCH_A)


def test_a_filter_on_published_at_prunes_article_versions_without_options(lake: str) -> None:
    store = _recording(lake)
    con = connect(store)
    sql = "SELECT title " + WEEK_SQL.format(view="article_versions") + " ORDER BY title"
    titles = [r[0] for r in con.execute(sql).fetchall()]
    assert titles == [
        "Moved v2",
        "alpha-news 0401-03-05",
        "alpha-news 0501-03-10",
        "alpha-news late",
    ]
    assert sorted(store.opened) == sorted(MARCH_A)


def test_a_filter_on_the_month_prunes_article_versions(lake: str) -> None:
    store = _recording(lake)
    con = connect(store)
    sql = "SELECT count(*) FROM article_versions WHERE published_month = '2024-04'"
    assert con.execute(sql).fetchone() == (2,)
    assert sorted(store.opened) == _files(A, "2024-04", (RUN_1, 2)) + _files(
        B, "2024-04", (RUN_1, 2)
    )


def test_undated_rows_are_read_from_the_undated_files_only(lake: str) -> None:
    store = _recording(lake)
    con = connect(store)
    sql = "SELECT title FROM article_versions WHERE source_id = 'beta-times'"
    titles = [r[0] for r in con.execute(sql + " AND published_at IS NULL ORDER BY 1").fetchall()]
    assert titles == ["beta-times undated-0401", "beta-times undated-0501"]
    assert sorted(store.opened) == _files(B, "undated", (RUN_1, 3), (RUN_2, 1))


def test_articles_without_a_window_reads_all_of_the_source_and_stays_exact(lake: str) -> None:
    # The latest version may live in another month, so `articles` cannot prune on the date.
    store = _recording(lake)
    con = connect(store)
    sql = "SELECT title " + WEEK_SQL.format(view="articles") + " ORDER BY title"
    titles = [r[0] for r in con.execute(sql).fetchall()]
    assert titles == [
        "Moved v2",
        "alpha-news 0401-03-05",
        "alpha-news 0501-03-10",
        "alpha-news late",
    ]
    assert len(store.opened) == 7  # every file of alpha-news (3 runs), none of beta-times
    assert all(key.startswith(f"articles/source_id={A}/") for key in store.opened)


def test_the_window_view_holds_the_latest_version_published_in_it(lake: str) -> None:
    # In February "moved" had only its first version; the lake's latest is March's.
    feb = connect(lake, since=date(2024, 2, 26), until=date(2024, 2, 29))
    titles = [r[0] for r in feb.execute("SELECT title FROM articles ORDER BY 1").fetchall()]
    assert titles == ["alpha-news moved"]
    everything = connect(lake)
    moved = everything.execute(
        "SELECT title, published_at FROM articles WHERE url LIKE '%/moved/'"
    ).fetchall()
    assert moved == [("Moved v2", _day(3, 5, 1))]


def test_days_are_whole_and_instants_exact(lake: str) -> None:
    def titles(**window: Any) -> list[str]:
        con = connect(lake, source_ids=[A], **window)
        return [r[0] for r in con.execute("SELECT title FROM articles ORDER BY 1").fetchall()]

    # Until a day includes that day's last hour; until an instant excludes it.
    assert titles(since=date(2024, 3, 10), until=date(2024, 3, 10)) == [
        "alpha-news 0501-03-10",
        "alpha-news late",
    ]
    assert titles(since=_day(3, 10, 0), until=_day(3, 10, 23)) == ["alpha-news 0501-03-10"]
    assert titles(since=date(2024, 4, 1)) == ["alpha-news 0401-04-02"]
    assert titles(until=date(2024, 2, 28)) == ["alpha-news 0401-02-10"]


def test_bad_windows_are_refused(lake: str) -> None:
    with pytest.raises(LakeError, match="give the time a timezone"):
        connect(lake, since=datetime(2024, 3, 1))
    with pytest.raises(LakeError, match="is not after since"):
        connect(lake, since=date(2024, 3, 2), until=date(2024, 3, 1))


def test_run_query_takes_the_window(lake: str) -> None:
    text = run_query(
        lake,
        "SELECT source_id, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1",
        "json",
        since=date(2024, 3, 1),
        until=date(2024, 3, 31),
    )
    assert json.loads(text) == [{"source_id": A, "n": 4}, {"source_id": B, "n": 2}]


@pytest.mark.parametrize("lake_uri", ["local"], indirect=True)  # the CLI is the same on S3
def test_query_command_options(lake: str, newslake_cli: Any) -> None:
    sql = "SELECT source_id, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1"
    window = ["--since", "2024-03-04", "--until", "2024-03-10"]
    done = newslake_cli("query", "--lake", lake, "--format", "json", "--source", A, *window, sql)
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == [{"source_id": A, "n": 4}]
    both = newslake_cli(
        "query", "--lake", lake, "--format", "csv", "--source", A, "--source", B, sql
    )
    assert both.stdout == f"source_id,n\n{A},8\n{B},6\n"
    one = newslake_cli("query", "--lake", lake, "--format", "csv", "--source", B, sql)
    assert one.stdout == f"source_id,n\n{B},6\n"
    bad = newslake_cli("query", "--lake", lake, "--since", "2024-03-32", sql)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "--since '2024-03-32' is not a date in YYYY-MM-DD form" in bad.stderr
    window = ["--since", "2024-03-02", "--until", "2024-03-01"]
    reversed_ = newslake_cli("query", "--lake", lake, *window, sql)
    assert reversed_.returncode == 2
    assert "--until 2024-03-01 is before --since 2024-03-02" in reversed_.stderr


@pytest.fixture
def newslake_cli() -> Any:
    """The installed console script, in its own process, as users run it."""
    exe = shutil.which("newslake") or "newslake-is-not-installed"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
            timeout=120,
        )

    return run
