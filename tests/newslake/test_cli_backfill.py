"""`newslake backfill` as users run it: a progress bar over the days, a table, exit 0; and a
rerun of the same window, which finds every day finished."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable
from pathlib import Path

FIXTURE = Path(__file__).parent.parent / "fixtures" / "sites" / "wp-backfill"

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture
_spec = importlib.util.spec_from_file_location("wp_site", FIXTURE / "wp_site.py")
assert _spec and _spec.loader
wp_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wp_site)


def test_backfill_shows_progress_and_a_rerun_finds_the_days_finished(
    newslake: Runner, tmp_path: Path
) -> None:
    server = wp_site.WordPressSite(FIXTURE / "site").start()
    try:
        sources = tmp_path / "sources.yaml"
        text = (FIXTURE / "sources.yaml").read_text("utf-8")
        sources.write_text(text.replace("{{BASE}}", server.base_url), "utf-8")
        lake = tmp_path / "lake"
        args = ["backfill", "--source", "wp-backfill", "--since", "2024-05-02"]
        args += ["--until", "2024-05-03", "--sources-file", str(sources), "--lake", str(lake)]
        first = newslake(*args, env={"NEWSLAKE_SPOOL_DIR": str(tmp_path / "spool")})
        assert first.returncode == 0, first.stderr
        assert "backfill wp-backfill" in first.stderr
        assert "2/2 2024-05-03 ok, landed 3" in first.stderr
        rows = [line for line in first.stdout.splitlines() if "wp-backfill" in line]
        assert [r.split("│")[2].strip() for r in rows] == ["ok", "ok"]
        server.clear()
        again = newslake(*args)
        assert again.returncode == 0, again.stderr
        assert "2/2 2024-05-03 finished earlier, landed 3" in again.stderr
        assert server.paths() == []
    finally:
        server.stop()
