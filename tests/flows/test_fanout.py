"""The fan-out on a real work pool: a `prefect server` and two process workers on 127.0.0.1.

Four fixture outlets (two copies of each crawl fixture site, each on its own port) are crawled
by `crawl_fanout_flow`, which starts one `crawl-source` run per outlet on a process pool
polled by two workers, each allowed one run at a time. The worker that ran a flow run is the
`prefect.worker.name` label Prefect's worker puts on it when it submits the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterParentTaskRunId,
)
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.crawl import RunSummary
from flows.deployments import PROJECT_ROOT, deploy_from_checkout, load_deployments
from flows.fanout import crawl_fanout_flow
from lake import connect
from newslake.prefect_server import local_prefect_server
from newslake.site_server import SiteServer

NEWSLAKE = shutil.which("newslake") or "newslake-is-not-installed: run pip install -e ."
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
POOL = "newslake-test"
WORKERS = ("w1", "w2")
# Two copies of each crawl fixture site, under ids of their own.
OUTLETS = {"wp-en-a": "wp-en", "ru-1251-a": "ru-1251", "wp-en-b": "wp-en", "ru-1251-b": "ru-1251"}


def _write_sources(
    serve_site: Callable[[Path], SiteServer], path: Path
) -> dict[str, tuple[str, SiteServer]]:
    served = {}
    entries = []
    for outlet, site in OUTLETS.items():
        server = serve_site(FIXTURES / site / "site")
        text = (FIXTURES / site / "sources.yaml").read_text("utf-8")
        text = text.replace("{{BASE}}", server.base_url).replace(f"id: {site}\n", f"id: {outlet}\n")
        entries.append(text.split("sources:", 1)[1])
        served[outlet] = (site, server)
    path.write_text("sources:" + "".join(entries), "utf-8")
    return served


def _spec(site: str, server: SiteServer) -> dict[str, Any]:
    text = (FIXTURES / site / "crawl.json").read_text("utf-8")
    return json.loads(text.replace("{{BASE}}", server.base_url))


@contextmanager
def _worker(name: str, queue: str | None, env: dict[str, str], log: Path) -> Iterator[None]:
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL]
    command += ["--type", "process", "--name", name, "--limit", "1"]
    command += ["--work-queue", queue] if queue else []
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_workers(client: SyncPrefectClient, logs: list[Path], timeout: float) -> None:
    """Both workers have sent a heartbeat to the pool, so each is polling before runs exist."""
    deadline = time.monotonic() + timeout
    while True:
        online = {w.name for w in client.read_workers_for_work_pool(POOL)}
        if set(WORKERS) <= online:
            return
        if time.monotonic() > deadline:
            tails = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
            raise TimeoutError(f"workers online after {timeout:.0f} s: {online}\n{tails}")
        time.sleep(1)


def test_the_fanout_spreads_the_sources_over_two_workers_and_lands_each_article_once(
    serve_site: Callable[[Path], SiteServer], tmp_path: Path, s3_lake: str
) -> None:
    sources_file = tmp_path / "sources.yaml"
    served = _write_sources(serve_site, sources_file)
    lake = str(tmp_path / "lake")
    [spec] = [s for s in load_deployments() if s.name == "crawl-source"]

    with ExitStack() as stack:
        api = stack.enter_context(local_prefect_server(tmp_path / "prefect-server.log"))
        stack.enter_context(temporary_settings({PREFECT_API_URL: api}))
        client = stack.enter_context(get_client(sync_client=True))
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        deployment_id = deploy_from_checkout(spec, work_pool=POOL)

        env = {
            **os.environ,
            "PREFECT_API_URL": api,
            "PYTHONPATH": str(PROJECT_ROOT),
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
        logs = [tmp_path / f"worker-{name}.log" for name in WORKERS]
        for name, log in zip(WORKERS, logs, strict=True):
            stack.enter_context(_worker(name, spec.work_queue, env, log))
        _wait_for_workers(client, logs, timeout=90)

        state = crawl_fanout_flow(
            sources_file=str(sources_file),
            lake=lake,
            settings=FAST,
            deployment=f"crawl-source/{spec.name}",
            timeout=240,
            poll_interval=1,
            return_state=True,
        )
        worker_logs = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
        assert state.is_completed(), f"{state.message}\n{worker_logs}"

        parent_tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id={"any_": [state.state_details.flow_run_id]})
        )
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                parent_task_run_id=FlowRunFilterParentTaskRunId(any_=[t.id for t in parent_tasks])
            ),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        )
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["crawl-fanout-counts"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )

        # The command line runs the same parent: a second crawl of one outlet lands nothing new.
        command = [NEWSLAKE, "crawl", "--fanout", "--sources-file", str(sources_file)]
        again = subprocess.run(
            [*command, "--source", "wp-en-a", "--lake", lake],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert again.returncode == 0, again.stdout + again.stderr

        # A fan-out whose child deployment is not registered fails before starting anything.
        unknown = crawl_fanout_flow(
            sources_file=str(sources_file),
            lake=lake,
            deployment="crawl-source/nope",
            return_state=True,
        )

        # A child that fails (its lake is a bucket that does not exist) publishes why; the
        # parent fails naming it, with the child's error and no credential.
        broken = crawl_fanout_flow(
            sources_file=str(sources_file),
            sources=["wp-en-b"],
            lake=s3_lake.replace("s3://lake-", "s3://missing-"),
            settings=FAST,
            deployment=f"crawl-source/{spec.name}",
            timeout=240,
            poll_interval=1,
            return_state=True,
        )

        # A child no worker takes (its queue is polled by none) is cancelled at the timeout.
        unpolled = replace(spec, name="crawl-source-unpolled", work_queue="unpolled")
        deploy_from_checkout(unpolled, work_pool=POOL)
        stranded = crawl_fanout_flow(
            sources_file=str(sources_file),
            sources=["ru-1251-b"],
            lake=lake,
            deployment=f"crawl-source/{unpolled.name}",
            timeout=3,
            poll_interval=1,
            return_state=True,
        )
        [cancelled] = client.read_flow_runs(
            deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(
                    any_=[client.read_deployment_by_name(f"crawl-source/{unpolled.name}").id]
                )
            )
        )

    summary = state.result()
    assert isinstance(summary, RunSummary)
    # One flow run per outlet, each a subflow of the fan-out, each completed...
    assert sorted(run.parameters["source"]["id"] for run in children) == sorted(OUTLETS)
    assert all(run.state is not None and run.state.is_completed() for run in children)
    # ...and the two workers shared them.
    ran_by = Counter(run.labels["prefect.worker.name"] for run in children)
    assert set(ran_by) == set(WORKERS), ran_by
    assert sum(ran_by.values()) == len(OUTLETS)
    assert {run.labels["prefect.work-pool.name"] for run in children} == {POOL}

    expected = {outlet: _spec(site, server) for outlet, (site, server) in served.items()}
    assert [(o.source_id, o.status, o.counts["landed"]) for o in summary.sources] == [
        (outlet, "ok", len(spec["landed"])) for outlet, spec in expected.items()
    ]
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [(row["source"], row["status"], row["landed"]) for row in table] == [
        (outlet, "ok", len(spec["landed"])) for outlet, spec in expected.items()
    ]

    # The lake: every outlet's articles, each exactly once, under the parent's one run id.
    con = connect(lake)
    rows = con.execute(
        "SELECT source_id, canonical_url, count(*) FROM articles GROUP BY ALL"
    ).fetchall()
    assert sorted(rows) == sorted(
        (outlet, url, 1) for outlet, spec in expected.items() for url in spec["landed"]
    )
    # The command line's run and the cancelled child's, recorded failed by the parent.
    [table_row] = [line for line in again.stdout.splitlines() if "wp-en-a" in line]
    cells = [cell.strip() for cell in table_row.split("│")[1:-1]]
    assert (cells[0], cells[1], cells[4]) == ("wp-en-a", "ok", "0"), again.stdout
    stranded_summary = stranded.result(raise_on_failure=False)
    runs = con.execute(
        "SELECT run_id = ?, source_id, flow, status, landed FROM runs", [summary.run_id]
    ).fetchall()
    assert sorted(runs) == sorted(
        [
            (True, outlet, "crawl-source", "committed", len(spec["landed"]))
            for outlet, spec in expected.items()
        ]
        + [(False, "wp-en-a", "crawl-source", "committed", 0)]
        + [(False, "ru-1251-b", "crawl-fanout", "failed", None)]
    )
    assert stranded_summary.run_id != summary.run_id

    assert unknown.is_failed()
    assert unknown.message is not None and "no deployment 'crawl-source/nope'" in unknown.message

    assert broken.is_failed()
    broken_summary = broken.result(raise_on_failure=False)
    [failed] = broken_summary.sources
    assert (failed.source_id, failed.status) == ("wp-en-b", "failed")
    assert "missing-" in (failed.error or "") and "NoSuchBucket" in (failed.error or "")
    assert "newslake-test-secret" not in (failed.error or "")
    assert broken.message == f"run {broken_summary.run_id}: 1 source(s) failed: wp-en-b"

    assert stranded.is_failed()
    [timed_out] = stranded_summary.sources
    assert (timed_out.source_id, timed_out.status) == ("ru-1251-b", "failed")
    assert timed_out.error == (
        f"flow run ru-1251-b-{stranded_summary.run_id} still Scheduled after 3 s: cancelled"
    )
    assert stranded.message == f"run {stranded_summary.run_id}: 1 source(s) failed: ru-1251-b"
    assert cancelled.state is not None and cancelled.state.is_cancelled()


def test_the_fanout_from_the_command_line_needs_a_prefect_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [NEWSLAKE, "crawl", "--fanout", "--lake", str(tmp_path / "lake")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--fanout needs a Prefect server whose work pool has workers" in result.stderr
