"""`newslake compact` and `newslake reparse` as a user runs them: exit codes and output."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lake import land_spool, open_store
from spiders.catalogue import load_sources
from spiders.runner import run_crawl

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
RUN = "20260101T000000Z-crawl1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reparse", "--source", "news-am", "--since", "2024-02-30"], "--since '2024-02-30'"),
        (
            ["reparse", "--source", "news-am", "--since", "2024-05-02", "--until", "2024-05-01"],
            "--until 2024-05-01 is before --since 2024-05-02",
        ),
        (["reparse", "--source", "no-such-outlet"], "unknown source id 'no-such-outlet'"),
        (["reparse", "--source", "news-am"], "no raw captures of source news-am in "),
        (["compact", "--source", "news-am"], "no runs of source(s) news-am in "),
        (["compact", "--target-mb", "0"], "--target-mb 0.0: must be positive"),
    ],
)
def test_bad_input_exits_2(newslake: Runner, tmp_path: Path, args: list[str], message: str) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    result = newslake(*args, "--lake", str(lake))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_lake_folder_that_does_not_exist(newslake: Runner, tmp_path: Path) -> None:
    for command in (["compact"], ["reparse", "--source", "news-am"]):
        result = newslake(*command, "--lake", str(tmp_path / "nowhere"))
        assert result.returncode == 2
        assert "no lake at" in result.stderr and "Traceback" not in result.stderr


def cells(stdout: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is `first`."""
    for line in stdout.splitlines():
        parts = line.replace("│", " ").replace("┃", " ").split()
        if parts and parts[0] == first:
            return parts
    raise AssertionError(f"no row {first!r} in:\n{stdout}")


def test_reparse_then_compact(
    newslake: Runner, fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp = fixture_site("wp-en")
    lake = tmp_path / "lake"
    # A crawl landed by hand (no Prefect start-up): what `newslake crawl` would leave.
    [source] = load_sources(wp.sources_file)
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "skip.txt").write_text("")
    crawl = run_crawl(source, spool, run_id=RUN, skip_file=spool / "skip.txt", settings=FAST)
    land_spool(open_store(lake), spool, run_id=RUN, source_id="wp-en", counts=crawl.stats)
    landed = len(wp.spec()["landed"])
    common = ["--lake", str(lake)]

    wp.server.clear()
    reparsed = newslake(
        "reparse", "--source", "wp-en", "--sources-file", str(wp.sources_file), *common
    )
    assert reparsed.returncode == 0, reparsed.stderr
    assert "records" in reparsed.stdout and "rejected" in reparsed.stdout
    # records, outside window, re-extracted, changed, unchanged, rejected
    pages = landed + 2  # the articles, the home page and a category page
    assert cells(reparsed.stdout, "wp-en")[1:] == [
        str(pages),
        "0",
        str(pages),
        "0",
        str(landed),
        "2",
    ]
    assert wp.server.paths() == []

    compacted = newslake("compact", "--target-mb", "1", *common)
    assert compacted.returncode == 0, compacted.stderr
    # The rejects of both runs share this month's partition: two files merged into one.
    assert cells(compacted.stdout, "wp-en")[1:5] == ["ok", "1", "2", "1"]
    count = newslake("query", *common, "--format", "json", "SELECT count(*) AS n FROM rejects")
    assert json.loads(count.stdout) == [{"n": 6}]
