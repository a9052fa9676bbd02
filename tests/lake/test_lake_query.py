from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from spool_factory import AM, EXTRACTOR, GE, RUN_1, RUN_2, STARTED, article, land_run_1, write_spool

from lake import (
    LakeError,
    connect,
    land_spool,
    open_lake,
    open_store,
    read_manifests,
    run_query,
)
from lake.datasets import open_dataset
from schemas import ARTICLE_SCHEMA, REJECT_SCHEMA, RUN_SCHEMA

ARTICLES_SQL = (
    "SELECT source_id, published_month, title, authors, published_at, images, translations,"
    " syndicated_from FROM articles ORDER BY source_id, url"
)


@pytest.fixture
def landed(lake_uri: str, tmp_path: Path) -> str:
    land_run_1(open_store(lake_uri), tmp_path)
    return lake_uri


def test_articles_as_json(landed: str) -> None:
    text = run_query(landed, ARTICLES_SQL, "json")
    assert '"published_at": "2024-03-15T08:30:00Z"' in text
    assert '"title": "Цены на газ для населения останутся прежними"' in text  # not \u-escaped
    assert json.loads(text) == [
        {
            "source_id": AM,
            "published_month": "undated",
            "title": "Letters to the editor",
            "authors": [],
            "published_at": None,
            "images": [],
            "translations": [],
            "syndicated_from": None,
        },
        {
            "source_id": AM,
            "published_month": "2024-03",
            "title": "Կառավարությունը հաստատեց 2025 թվականի բյուջեի նախագիծը",
            "authors": ["Անահիտ Սարգսյան"],
            "published_at": "2024-03-15T08:30:00Z",
            "images": [
                {
                    "url": "https://ararat-courier.am/media/budget.jpg",
                    "caption": "Կառավարության նիստը",
                    "credit": "Photolure",
                },
                {
                    "url": "https://ararat-courier.am/media/chart.png",
                    "caption": None,
                    "credit": None,
                },
            ],
            "translations": [
                {"language": "en", "url": "https://ararat-courier.am/en/news/2024/03/15/budget/"},
                {"language": "ru", "url": "https://ararat-courier.am/ru/news/2024/03/15/budget/"},
            ],
            "syndicated_from": None,
        },
        {
            "source_id": AM,
            "published_month": "2024-04",
            "title": "Цены на газ для населения останутся прежними",
            "authors": ["Иван Петров", "Мариам Акопян"],
            "published_at": "2024-04-01T05:15:00Z",
            "images": [],
            "translations": [],
            "syndicated_from": "www.mk.ru",
        },
        {
            "source_id": GE,
            "published_month": "2024-03",
            "title": "ანაკლიის პორტის მშენებლობა განახლდება",
            "authors": ["ნინო ბერიძე"],
            "published_at": "2024-03-20T10:00:00Z",
            "images": [
                {
                    "url": "https://tbilisi-herald.ge/img/port.jpg",
                    "caption": "პორტი",
                    "credit": None,
                }
            ],
            "translations": [],
            "syndicated_from": None,
        },
    ]


def test_articles_as_csv(landed: str) -> None:
    assert run_query(landed, ARTICLES_SQL, "csv") == (
        "source_id,published_month,title,authors,published_at,images,translations,syndicated_from\n"
        "ararat-courier,undated,Letters to the editor,[],,[],[],\n"
        "ararat-courier,2024-03,Կառավարությունը հաստատեց 2025 թվականի բյուջեի նախագիծը,"
        '"[""Անահիտ Սարգսյան""]",2024-03-15T08:30:00Z,'
        '"[{""url"": ""https://ararat-courier.am/media/budget.jpg"", ""caption"": '
        '""Կառավարության նիստը"", ""credit"": ""Photolure""}, '
        '{""url"": ""https://ararat-courier.am/media/chart.png"", ""caption"": null, '
        '""credit"": null}]",'
        '"[{""language"": ""en"", '
        '""url"": ""https://ararat-courier.am/en/news/2024/03/15/budget/""}, '
        '{""language"": ""ru"", '
        '""url"": ""https://ararat-courier.am/ru/news/2024/03/15/budget/""}]",'
        "\n"
        "ararat-courier,2024-04,Цены на газ для населения останутся прежними,"
        '"[""Иван Петров"", ""Мариам Акопян""]",2024-04-01T05:15:00Z,[],[],www.mk.ru\n'
        "tbilisi-herald,2024-03,ანაკლიის პორტის მშენებლობა განახლდება,"
        '"[""ნინო ბერიძე""]",2024-03-20T10:00:00Z,'
        '"[{""url"": ""https://tbilisi-herald.ge/img/port.jpg"", ""caption"": ""პორტი"", '
        '""credit"": null}]",[],\n'
    )


def test_articles_as_table(landed: str) -> None:
    sql = (
        "SELECT source_id, published_month, language, word_count, published_at, tags"
        " FROM articles ORDER BY source_id, url"
    )
    lines = run_query(landed, sql, "table", width=120).splitlines()
    assert [line.rstrip() for line in lines] == [
        " source_id        published_month   language   word_count   published_at           tags",
        "─" * 112,
        " ararat-courier   undated           en                  7   NULL                   []",
        " ararat-courier   2024-03           hy                 10   2024-03-15T08:30:00Z"
        '   ["բյուջե", "կառավարություն"]',
        " ararat-courier   2024-04           ru                 13   2024-04-01T05:15:00Z"
        '   ["газ"]',
        " tbilisi-herald   2024-03           ka                  6   2024-03-20T10:00:00Z   []",
        "(4 rows)",
    ]


def test_table_cells_are_not_markup_and_long_values_are_cut(lake_uri: str) -> None:
    text = run_query(lake_uri, "SELECT '[bold]x[/bold]' AS a, repeat('ա', 500) AS b", "table")
    assert "[bold]x[/bold]" in text
    assert "ա" * 199 + "…" in text.replace("\n", "").replace(" ", "")
    assert "ա" * 200 not in text.replace("\n", "").replace(" ", "")


def test_rejects_view(landed: str) -> None:
    assert json.loads(run_query(landed, "SELECT * FROM rejects ORDER BY url", "json")) == [
        {
            "url": "https://ararat-courier.am/hy/tag/budget/",
            "source_id": AM,
            "reason": "not_article",
            "detail": "tag listing page",
            "http_status": 200,
            "rejected_at": "2024-04-01T06:05:00Z",
            "crawl_run_id": RUN_1,
            "discovered_via": "link",
            "schema_version": 1,
            "rejected_month": "2024-04",
        },
        {
            "url": "https://ararat-courier.am/ru/news/deleted/",
            "source_id": AM,
            "reason": "http_error",
            "detail": "HTTP 404",
            "http_status": 404,
            "rejected_at": "2024-04-01T06:06:00Z",
            "crawl_run_id": RUN_1,
            "discovered_via": "feed",
            "schema_version": 1,
            "rejected_month": "2024-04",
        },
    ]


def test_runs_view(landed: str) -> None:
    sql = "SELECT * EXCLUDE (finished_at) FROM runs ORDER BY source_id"
    assert run_query(landed, sql, "csv") == (
        "run_id,source_id,flow,status,started_at,schema_version,extractor,discovered,fetched,"
        "landed,rejected,skipped_landed,duplicates,files,rows,error\n"
        f"{RUN_1},ararat-courier,crawl,committed,2024-04-01T06:00:00Z,1,{EXTRACTOR},"
        "10,5,3,2,0,0,5,5,\n"
        f"{RUN_1},tbilisi-herald,crawl,committed,2024-04-01T06:00:00Z,1,{EXTRACTOR},"
        "10,3,1,0,0,0,2,1,\n"
    )
    con = connect(landed)
    assert [d[0] for d in con.execute("SELECT * FROM runs").description] == RUN_SCHEMA.names
    con.close()


def test_article_versions_view_has_every_column(landed: str) -> None:
    con = open_lake(landed)
    got = con.execute(
        "SELECT * FROM article_versions WHERE source_id = 'tbilisi-herald'"
    ).fetchall()
    columns = [d[0] for d in con.description]
    con.close()
    expected = {
        **article(RUN_1, "ge-port"),
        "raw_ref": f"raw/source_id={GE}/{RUN_1}.warc.gz:0",
        "published_month": "2024-03",
    }
    assert columns == [*ARTICLE_SCHEMA.names, "published_month"]
    assert dict(zip(columns, got[0], strict=True)) == expected
    assert len(got) == 1


def test_empty_lake_has_all_views_with_no_rows(lake_uri: str) -> None:
    con = connect(lake_uri)
    try:
        for view, names in [
            ("articles", [*ARTICLE_SCHEMA.names, "published_month"]),
            ("article_versions", [*ARTICLE_SCHEMA.names, "published_month"]),
            ("rejects", [*REJECT_SCHEMA.names, "rejected_month"]),
            ("runs", RUN_SCHEMA.names),
        ]:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchall() == [(0,)]
            described = con.execute(f"DESCRIBE {view}").fetchall()
            assert [row[0] for row in described] == names
        types = dict((row[0], row[1]) for row in con.execute("DESCRIBE articles").fetchall())
        assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["images"] == "STRUCT(url VARCHAR, caption VARCHAR, credit VARCHAR)[]"
        assert types["word_count"] == "INTEGER"
    finally:
        con.close()
    assert run_query(lake_uri, "SELECT * FROM articles", "json") == "[]\n"
    assert run_query(lake_uri, "SELECT url, reason FROM rejects", "csv") == "url,reason\n"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", 'Parser Error: syntax error at or near "SELEC"'),
        ("SELECT * FROM nope", "Catalog Error: Table with name nope does not exist!"),
        ("SELECT no_such_column FROM articles", 'Binder Error: Referenced column "no_such_column"'),
        ("   ", "empty query"),
    ],
)
def test_bad_sql_is_a_lake_error_with_duckdbs_message(
    lake_uri: str, sql: str, message: str
) -> None:
    with pytest.raises(LakeError) as info:
        run_query(lake_uri, sql, "table")
    assert str(info.value).startswith(message)
    # No chained DuckDB traceback behind the message.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_bad_format(lake_uri: str) -> None:
    with pytest.raises(LakeError, match="format 'xml': expected one of table, json, csv"):
        run_query(lake_uri, "SELECT 1", "xml")


def test_duplicate_column_names_stay_apart_in_json(lake_uri: str) -> None:
    text = run_query(lake_uri, "SELECT 1 AS x, 2 AS x, 3 AS x_1", "json")
    assert json.loads(text) == [{"x": 1, "x_1": 2, "x_1_1": 3}]


def test_source_filter_prunes_fragments(landed: str) -> None:
    store = open_store(landed)
    dataset = open_dataset(store, read_manifests(store), "articles")
    _, base = store.arrow_filesystem()
    prefix = f"{base}/articles/"
    assert sorted(f.path.removeprefix(prefix) for f in dataset.get_fragments()) == [
        f"source_id={AM}/published_month=2024-03/part-{RUN_1}-0.parquet",
        f"source_id={AM}/published_month=2024-04/part-{RUN_1}-1.parquet",
        f"source_id={AM}/published_month=undated/part-{RUN_1}-2.parquet",
        f"source_id={GE}/published_month=2024-03/part-{RUN_1}-0.parquet",
    ]
    only_ge = dataset.get_fragments(filter=ds.field("source_id") == GE)
    assert [f.path.removeprefix(prefix) for f in only_ge] == [
        f"source_id={GE}/published_month=2024-03/part-{RUN_1}-0.parquet"
    ]
    undated = dataset.get_fragments(filter=ds.field("published_month") == "undated")
    assert [f.path.removeprefix(prefix) for f in undated] == [
        f"source_id={AM}/published_month=undated/part-{RUN_1}-2.parquet"
    ]


def test_source_filter_in_sql_never_opens_other_sources_files(landed: str) -> None:
    """The views push `source_id = ...` below their windows into the scan: with the other
    source's files gone, a query filtered on this source still runs, an unfiltered one fails."""
    store = open_store(landed)
    con = connect(store)
    try:
        for key in list(store.list(f"articles/source_id={AM}/")):
            store.delete(key)
        for view in ("articles", "article_versions"):
            assert con.execute(
                f"SELECT title FROM {view} WHERE source_id = 'tbilisi-herald'"
            ).fetchall() == [("ანაკლიის პორტის მშენებლობა განახლდება",)]
        plan = con.execute(
            "EXPLAIN SELECT title FROM articles WHERE source_id = 'tbilisi-herald'"
        ).fetchall()[0][1]
        assert "PYTHON_ARROW_SCAN" in plan and "source_id='tbilisi-herald'" in plan.replace(
            '"', ""
        ).replace(" ", "")
        with pytest.raises(duckdb.Error, match=re.escape(f"part-{RUN_1}-0.parquet")):
            con.execute("SELECT count(*) FROM articles").fetchall()
    finally:
        con.close()


def test_connect_to_some_sources_and_snapshot(landed: str, tmp_path: Path) -> None:
    con = connect(landed, source_ids=[GE])
    try:
        assert con.execute("SELECT DISTINCT source_id FROM articles").fetchall() == [(GE,)]
        assert con.execute("SELECT source_id FROM runs").fetchall() == [(GE,)]
        # A connection sees the runs committed when it was opened, not later ones.
        store = open_store(landed)
        spool = write_spool(
            tmp_path / "later",
            [article(RUN_2, "ge-port", title="ანაკლიის პორტი: ახალი ტენდერი")],
        )
        land_spool(store, spool, run_id=RUN_2, source_id=GE, started_at=STARTED)
        assert con.execute("SELECT count(*) FROM article_versions").fetchall() == [(1,)]
    finally:
        con.close()
    assert (
        run_query(landed, "SELECT title FROM articles WHERE source_id = 'tbilisi-herald'", "csv")
        == "title\nანაკლიის პორტი: ახალი ტენდერი\n"
    )
