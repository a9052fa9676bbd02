"""`newslake demo` as a new user runs it: offline, through the real flow, into a local lake."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from lake import connect

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture


def run_demo(newslake: Runner, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return newslake("demo", cwd=tmp_path, env={"NEWSLAKE_LAKE": str(tmp_path / "lake")})


def counts(stdout: str, source: str) -> list[str]:
    [line] = [line for line in stdout.splitlines() if f" {source} " in line and "│" in line]
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def test_demo_lands_the_bundled_site_once(newslake: Runner, tmp_path: Path) -> None:
    first = run_demo(newslake, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Traceback" not in first.stdout + first.stderr
    assert re.search(r"Serving the demo outlet at http://127\.0\.0\.1:\d+", first.stdout)
    # source, status, discovered, fetched, landed, rejected
    assert counts(first.stdout, "demo-courier-en") == ["demo-courier-en", "ok", "6", "6", "5", "1"]
    assert counts(first.stdout, "demo-courier-ru") == ["demo-courier-ru", "ok", "5", "5", "5", "0"]
    assert "(8 rows)" in first.stdout

    con = connect(str(tmp_path / "lake"))
    by_language = con.execute(
        "SELECT source_id, language, count(*) FROM articles GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert by_language == [("demo-courier-en", "en", 5), ("demo-courier-ru", "ru", 5)]
    complete = con.execute(
        "SELECT count(*) FROM articles WHERE published_at IS NOT NULL AND authors <> []"
        " AND word_count >= 150 AND len(images) >= 1"
    ).fetchone()
    assert complete == (10,)
    rejects = con.execute("SELECT url, reason FROM rejects").fetchall()
    assert [(url.split(":", 2)[-1].split("/", 1)[-1], r) for url, r in rejects] == [
        ("en/category/economy/", "not_article")
    ]

    second = run_demo(newslake, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    if "port 8765 is busy" not in second.stderr:  # same URLs, so the same article ids
        assert counts(second.stdout, "demo-courier-en")[4] == "0"
        assert counts(second.stdout, "demo-courier-ru")[4] == "0"
        assert con.execute("SELECT count(*) FROM article_versions").fetchone() == (10,)
