"""The crawl runner: inactive sources, failing and hanging crawls, the time budget, the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from newslake.site_server import SiteServer
from spiders.catalogue import Source
from spiders.crawl import main as crawl_main
from spiders.runner import TERMINATE_GRACE, CrawlFailed, crawl_command, run_crawl

Serve = Callable[[Path], SiteServer]
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0}


def slow_site(root: Path, pages: int, delay: float) -> Path:
    """A sitemap of `pages` pages, each answered after `delay` seconds."""
    root.mkdir()
    urls = "".join(f"<url><loc>{{{{BASE}}}}/p/{i}.html</loc></url>" for i in range(pages))
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{urls}</urlset>",
        "utf-8",
    )
    (root / "p").mkdir()
    routes = ["routes:"]
    for i in range(pages):
        (root / "p" / f"{i}.html").write_text(f"<html><body><p>Page {i}</p></body></html>")
        routes.append(f"  /p/{i}.html: {{delay: {delay}}}")
    (root / "_site.yaml").write_text("\n".join(routes) + "\n", "utf-8")
    return root


def source(base: str, **extra: object) -> Source:
    return Source.model_validate(
        {
            "id": "slow-courier",
            "name": "Slow Courier",
            "homepage": base + "/",
            "country": None,
            "languages": ["en"],
            "timezone": "UTC",
            "sitemaps": [base + "/sitemap.xml"],
            "allow_private_network": True,  # served on 127.0.0.1
            **extra,
        }
    )


@pytest.mark.parametrize("status", ["defunct", "blocked"])
def test_inactive_source_is_not_crawled(serve_site: Serve, tmp_path: Path, status: str) -> None:
    site = serve_site(slow_site(tmp_path / "site", 2, 0))
    result = run_crawl(
        source(site.base_url, status=status), tmp_path / "out", run_id="r1", settings=FAST
    )
    assert site.paths() == []
    assert result.stats["finished_reason"] == f"skipped: {status}"
    assert result.stats["discovered"] == 0
    assert result.returncode == 0
    assert result.articles_path.read_text("utf-8") == ""
    assert result.rejects_path.read_text("utf-8") == ""
    assert result.warc_path is None
    assert json.loads((tmp_path / "out" / "stats.json").read_text("utf-8")) == result.stats


def test_failing_crawl_raises_with_the_log_tail(serve_site: Serve, tmp_path: Path) -> None:
    site = serve_site(slow_site(tmp_path / "site", 1, 0))
    broken = {**FAST, "ITEM_PIPELINES": {"spiders.no_such_module.Pipeline": 300}}
    with pytest.raises(CrawlFailed) as failed:
        run_crawl(source(site.base_url), tmp_path / "out", run_id="r1", settings=broken)
    assert failed.value.returncode == 1
    assert "crawl of slow-courier exited with status 1" in str(failed.value)
    assert "No module named 'spiders.no_such_module'" in failed.value.log_tail
    assert failed.value.log_tail in str(failed.value)
    assert failed.value.log_path == (tmp_path / "out" / "crawl.log").resolve()


def test_hanging_crawl_is_stopped_at_the_timeout(serve_site: Serve, tmp_path: Path) -> None:
    site = serve_site(slow_site(tmp_path / "site", 1, 30))
    started = time.monotonic()
    with pytest.raises(CrawlFailed) as failed:
        run_crawl(
            source(site.base_url),
            tmp_path / "out",
            run_id="r1",
            settings={**FAST, "CLOSESPIDER_TIMEOUT": 0},
            timeout=3,
        )
    elapsed = time.monotonic() - started
    assert "crawl of slow-courier timed out after 3 s and was stopped" in str(failed.value)
    assert "Received SIGTERM" in failed.value.log_tail
    assert 3 <= elapsed < 3 + 3 * TERMINATE_GRACE


def test_time_budget_closes_the_crawl_and_keeps_its_results(
    serve_site: Serve, tmp_path: Path
) -> None:
    site = serve_site(slow_site(tmp_path / "site", 30, 0.4))
    # DOWNLOAD_TIMEOUT 1 s: the crawl is asked to close itself 6 s before the 8 s budget.
    result = run_crawl(
        source(site.base_url),
        tmp_path / "out",
        run_id="r1",
        settings={**FAST, "DOWNLOAD_TIMEOUT": 1},
        timeout=8,
    )
    assert result.stats["finished_reason"] == "closespider_timeout"
    assert 0 < result.stats["fetched"] < 30
    lines = result.rejects_path.read_text("utf-8").splitlines()
    lines += result.articles_path.read_text("utf-8").splitlines()
    assert len(lines) == result.stats["fetched"]


def test_bad_arguments(tmp_path: Path) -> None:
    src = source("http://127.0.0.1:9")
    with pytest.raises(ValueError, match=r"since \(2024-05-02\) is after until \(2024-05-01\)"):
        run_crawl(src, tmp_path, run_id="r", since=date(2024, 5, 2), until=date(2024, 5, 1))
    with pytest.raises(FileNotFoundError, match="skip file not found"):
        run_crawl(src, tmp_path, run_id="r", skip_file=tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="settings must be JSON-serializable"):
        run_crawl(src, tmp_path, run_id="r", settings={"X": object()})


def test_crawl_command_line(tmp_path: Path) -> None:
    command = crawl_command(
        tmp_path / "source.json",
        tmp_path / "out",
        run_id="run-1",
        skip_file=tmp_path / "skip.txt",
        since=date(2024, 5, 1),
        until=date(2024, 5, 31),
        settings={"DOWNLOAD_DELAY": 0},
    )
    assert command[1:] == [
        "-m", "spiders.crawl",
        "--source-json", str(tmp_path / "source.json"),
        "--out", str(tmp_path / "out"),
        "--run-id", "run-1",
        "--skip-file", str(tmp_path / "skip.txt"),
        "--since", "2024-05-01",
        "--until", "2024-05-31",
        "--settings-json", '{"DOWNLOAD_DELAY": 0}',
    ]  # fmt: skip


def test_crawl_main_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "source.json"
    good.write_text(source("http://127.0.0.1:9").model_dump_json(), "utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "Not Valid"}', "utf-8")
    base = ["--out", str(tmp_path / "out"), "--run-id", "r"]
    cases = [
        (["--source-json", str(bad), *base], "--source-json: not a valid source"),
        (["--source-json", str(tmp_path / "nope.json"), *base], "--source-json: cannot read"),
        (["--source-json", str(good), *base, "--since", "2024-13-01"], "not a date"),
        (
            ["--source-json", str(good), *base, "--since", "2024-05-02", "--until", "2024-05-01"],
            "--since 2024-05-02 is after --until 2024-05-01",
        ),
        (["--source-json", str(good), *base, "--settings-json", "[1]"], "must be a JSON object"),
        (["--source-json", str(good), *base, "--skip-file", str(tmp_path / "x")], "no such file"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exited:
            crawl_main(argv)
        assert exited.value.code == 2
        assert message in capsys.readouterr().err
