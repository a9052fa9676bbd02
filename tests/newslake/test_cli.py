"""The `newslake` command as a user runs it: a separate process, exit codes, stdout, stderr."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WP_EN = FIXTURES / "sites" / "wp-en"


BAD_SOURCES = """\
sources:
  - id: ok-source
    name: OK
    homepage: https://ok.example.am/
    country: AM
    languages: [hy]
    timezone: Asia/Yerevan
  - id: Not OK
    name: Broken
    homepage: www.broken.example
    country: AM
    languages: [hy]
    timezone: Asia/Yerevan
    colour: red
  - id: ok-source
    name: Twice
    homepage: https://twice.example.am/
    country: AM
    languages: [hy]
    timezone: Asia/Yerevan
"""


def test_sources_validate_reports_every_problem_with_file_entry_field(
    newslake: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(BAD_SOURCES, "utf-8")
    result = newslake("sources", "validate", "--sources-file", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{path}: sources[1] (id 'Not OK'): field 'id': 'Not OK' is not a valid id: use lowercase"
        " letters, digits and single hyphens ([a-z0-9-]+, at most 64 characters)",
        f"{path}: sources[1] (id 'Not OK'): field 'homepage': not an absolute http(s) URL:"
        " 'www.broken.example'",
        f"{path}: sources[1] (id 'Not OK'): field 'colour': unknown key",
        f"{path}: sources[2] (id 'ok-source'): field 'id': duplicate of sources[0]",
    ]


def test_sources_validate_and_list_a_good_file(newslake: Runner, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(BAD_SOURCES.split("  - id: Not OK")[0], "utf-8")
    result = newslake("sources", "validate", "--sources-file", str(path))
    assert (result.returncode, result.stdout.strip()) == (0, f"{path}: 1 source(s), all valid")
    listed = newslake("sources", "list", "--sources-file", str(path), "--format", "json")
    assert listed.returncode == 0
    [source] = json.loads(listed.stdout)
    assert (source["id"], source["homepage"], source["languages"], source["status"]) == (
        "ok-source",
        "https://ok.example.am/",
        ["hy"],
        "active",
    )


def test_sources_check_probes_feeds_and_sitemaps(
    newslake: Runner, fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    site = fixture_site("wp-en")
    base = site.base
    extra = (
        f'    feeds: ["{base}/feed/", "{base}/private/feed/", "{base}/missing-feed/", "{base}/"]\n'
    )
    text = site.sources_file.read_text("utf-8")
    text = text.replace(f'    feeds: ["{base}/feed/"]\n', extra)
    sources = tmp_path / "check-sources.yaml"
    sources.write_text(text, "utf-8")
    report = tmp_path / "report.json"
    result = newslake("sources", "check", "--sources-file", str(sources), "--out", str(report))
    assert result.returncode == 0, result.stderr
    assert "2 ok, 3 with problems" in result.stdout
    checks = json.loads(report.read_text("utf-8"))
    summary = [
        (c["kind"], c["url"].removeprefix(base), c["robots"], c["status"], c["items"], c["ok"])
        for c in checks
    ]
    assert summary == [
        ("feed", "/feed/", "allowed", 200, 5, True),
        ("feed", "/private/feed/", "disallowed", None, None, False),
        ("feed", "/missing-feed/", "allowed", 404, None, False),
        ("feed", "/", "allowed", 200, 0, False),
        ("sitemap", "/sitemap_index.xml", "allowed", 200, 3, True),
    ]
    assert checks[0]["content_type"] == "application/rss+xml; charset=UTF-8"
    assert checks[0]["newest"] == "2024-05-12T10:35:12Z"  # the newest <pubDate>
    assert checks[3]["problem"].startswith("feed_not_a_feed")
    assert "/private/feed/" not in site.server.paths()


def test_extract_prints_the_row_and_exit_3_for_non_articles(newslake: Runner) -> None:
    case = json.loads((WP_EN / "expected" / "lake-sevan-water-level.json").read_text("utf-8"))
    page = WP_EN / case["page"]
    url = case["url"].replace("{{BASE}}", "http://127.0.0.1:8000")
    result = newslake("extract", "--url", url, str(page))
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    expected = case["expected"]
    for key in ("title", "subtitle", "authors", "published_at", "section", "tags", "body"):
        assert row[key] == expected[key], key
    assert row["source_id"] == "127-0-0-1"
    assert row["crawl_run_id"] == "adhoc"
    assert row["schema_version"] == 1

    category = WP_EN / "site" / "category" / "politics" / "index.html"
    rejected = newslake(
        "extract", "--url", "http://127.0.0.1:8000/category/politics/", str(category)
    )
    assert rejected.returncode == 3
    assert rejected.stdout == ""
    assert rejected.stderr.startswith("not an article (not_article): ")

    piped = newslake("extract", "-", stdin=page.read_bytes())
    assert piped.returncode == 0
    assert json.loads(piped.stdout)["title"] == expected["title"]


def test_extract_missing_file_and_unknown_source(newslake: Runner, tmp_path: Path) -> None:
    missing = newslake("extract", str(tmp_path / "nope.html"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    page = tmp_path / "p.html"
    page.write_text("<html><body><p>x</p></body></html>", "utf-8")
    unknown = newslake("extract", "--source", "no-such-outlet", str(page))
    assert unknown.returncode == 2
    assert "unknown source id 'no-such-outlet'" in unknown.stderr


def test_query_errors_are_clear(newslake: Runner, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    count = "SELECT count(*) AS n FROM articles"
    missing = newslake("query", "--lake", lake, count)
    assert missing.returncode == 2
    assert f"no lake at {lake}: the folder does not exist" in missing.stderr
    (tmp_path / "lake").mkdir()
    empty = newslake("query", "--lake", lake, "--format", "json", count)
    assert (empty.returncode, json.loads(empty.stdout)) == (0, [{"n": 0}])
    bad = newslake("query", "--lake", lake, "SELEC nonsense")
    assert bad.stdout == ""
    assert bad.returncode == 2
    assert "syntax error" in bad.stderr.lower() and "Traceback" not in bad.stderr
    creds = newslake("query", "--lake", "s3://key:secret@bucket/x", "SELECT 1")
    assert creds.returncode == 2
    assert "secret" not in creds.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backfill", "--source", "x", "--since", "2024-13-01", "--until", "2024-12-01"],
            "--since",
        ),
        (["backfill", "--source", "x", "--since", "2024-05-02", "--until", "2024-05-01"], "before"),
        (["crawl", "--source", "no-such-outlet"], "unknown source id 'no-such-outlet'"),
    ],
)
def test_bad_arguments_exit_2(newslake: Runner, args: list[str], message: str) -> None:
    result = newslake(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
