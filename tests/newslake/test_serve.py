"""`newslake serve` against a real `prefect server` on 127.0.0.1: deploy, trigger, complete."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import NEWSLAKE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings

from lake import connect
from newslake.prefect_server import local_prefect_server

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}


async def _deployment_id(name: str, deadline: float) -> Any:
    async with get_client() as client:
        while True:
            try:
                return (await client.read_deployment_by_name(name)).id
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)


async def _run_to_end(name: str, parameters: dict[str, Any], timeout: float) -> FlowRun:
    deadline = time.monotonic() + timeout
    deployment_id = await _deployment_id(name, deadline)
    async with get_client() as client:
        run = await client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
        while True:
            run = await client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"flow run still {run.state_name} after {timeout:.0f} s")
            await asyncio.sleep(1)


def test_serve_runs_a_triggered_deployment_to_completion(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    site = fixture_site("wp-en")
    lake = tmp_path / "lake"
    with local_prefect_server(tmp_path / "prefect-server.log") as api:
        env = {**os.environ, "PREFECT_API_URL": api, "NEWSLAKE_LAKE": ""}
        serving = subprocess.Popen(
            [
                NEWSLAKE,
                "serve",
                "--only",
                "crawl-am",
                "--sources-file",
                str(site.sources_file),
                "--lake",
                str(lake),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            with temporary_settings({PREFECT_API_URL: api}):
                run = asyncio.run(_run_to_end("crawl/crawl-am", {"settings": FAST}, 240))
        finally:
            serving.send_signal(signal.SIGINT)
            try:
                output, _ = serving.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                serving.kill()
                output, _ = serving.communicate()
        assert run.state is not None and run.state.is_completed(), output.decode()[-3000:]

    landed = {
        r[0] for r in connect(str(lake)).execute("SELECT canonical_url FROM articles").fetchall()
    }
    assert landed == set(site.spec()["landed"])


def test_serve_refuses_an_unknown_deployment(newslake: Callable[..., Any]) -> None:
    result = newslake("serve", "--only", "crawl-mars")
    assert result.returncode == 2
    assert "unknown deployment 'crawl-mars' (known: crawl-am, crawl-az" in result.stderr
