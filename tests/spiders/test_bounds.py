"""Discovery stays bounded: a crawl considers at most NEWSLAKE_MAX_CANDIDATES listing entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from spiders.catalogue import load_sources
from spiders.runner import run_crawl

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}


def test_candidates_are_capped_and_the_cap_is_reported(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    site = fixture_site("wp-en")
    [source] = load_sources(site.sources_file)
    result = run_crawl(
        source,
        tmp_path / "spool",
        run_id="run-capped",
        settings={**FAST, "NEWSLAKE_MAX_CANDIDATES": 2},
        timeout=120,
    )
    stats = result.stats
    assert stats["discovered"] == 2
    assert stats["candidates_capped"] > 0
    assert any("NEWSLAKE_MAX_CANDIDATES reached" in p for p in stats["problems"])
    assert stats["finished_reason"] == "finished"
