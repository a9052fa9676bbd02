"""The kill test: SIGKILL `newslake crawl` and `newslake backfill` five times each at random
points of a 1,000-article crawl, rerun after each kill, then check that the lake holds each
article exactly once (exactly_once.py beside this file has the procedure and the checks).

The kill points come from a seeded generator; the seed is printed, and NEWSLAKE_KILL_SEED=<seed>
replays the same points. The commands run against the session's Prefect test server (one
server for every run, as with PREFECT_API_URL in production): Prefect's ephemeral API would
add its start-up to each of the twelve runs. `python tests/flows/exactly_once.py` runs the
same with the ephemeral API and as many kills as asked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from exactly_once import run, seed_from_env

KILLS = 5  # the five


def _prefect_api() -> str:
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    assert api, "the flow tests' Prefect server is not running"
    return str(api)


@pytest.mark.timeout(600)  # about 1 and 2 minutes on an idle 2-core machine
@pytest.mark.parametrize("backfill", [False, True], ids=["crawl", "backfill"])
def test_sigkilled_runs_land_each_article_exactly_once(backfill: bool, tmp_path: Path) -> None:
    seed = seed_from_env()
    print(f"kill test seed {seed}: NEWSLAKE_KILL_SEED={seed} reproduces it")
    outcome = run(tmp_path, backfill=backfill, kills=KILLS, seed=seed, prefect_api=_prefect_api())
    print(outcome.report())
    assert len(outcome.kills) == KILLS
    assert {k.planned for k in outcome.kills} == {"crawl", "landing", "committed"}
