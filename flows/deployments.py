"""The deployments of infra/prefect.yaml, as one local process can serve them.

`prefect deploy --all` reads infra/prefect.yaml for a work pool; `newslake serve` reads the same
file here, so the schedules a laptop runs are the ones production runs. One difference: serving
has no work pool to fan out over, so a fan-out parent (flows/fanout.py) is served as the
in-process crawl flow over the same sources (see LOCAL_ENTRYPOINTS).

`deploy_from_checkout` registers deployments of the file on a work pool with this checkout as
their code (process workers on the same machine run them from here): what the fan-out test
does, and a way to try the fan-out without building the worker image.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENTS_FILE = PROJECT_ROOT / "infra" / "prefect.yaml"
_ENV = re.compile(r"^\{\{\s*\$(\w+)\s*\}\}$")
# Parameters holding a path relative to the project root (the worker's working directory).
PATH_PARAMETERS = ("sources_file", "thresholds")
# What `newslake serve` runs in place of an entrypoint that needs a work pool: the fan-out
# parent becomes the in-process crawl of the same sources (parameters it lacks are dropped).
LOCAL_ENTRYPOINTS = {"flows/fanout.py:crawl_fanout_flow": "flows/crawl.py:crawl_flow"}


class DeploymentsError(ValueError):
    """infra/prefect.yaml (or the file given instead) cannot be served."""


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    description: str | None = None
    crons: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    concurrency_limit: int | None = None
    work_pool: str | None = None
    work_queue: str | None = None

    @property
    def flow_path(self) -> str:
        return self.entrypoint.split(":", 1)[0]


def _resolve(value: Any) -> Any:
    """`{{ $NAME }}` is the environment variable NAME (None when unset), as at deploy time."""
    if isinstance(value, str) and (match := _ENV.match(value)):
        return os.environ.get(match.group(1)) or None
    return value


def load_deployments(path: Path = DEPLOYMENTS_FILE) -> list[DeploymentSpec]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeploymentsError(f"{path}: cannot read the deployments: {exc}") from None
    entries = data.get("deployments") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DeploymentsError(f"{path}: no 'deployments' list")
    specs = []
    for index, entry in enumerate(entries):
        where = f"{path}: deployments[{index}]"
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("entrypoint"):
            raise DeploymentsError(f"{where}: needs a name and an entrypoint")
        crons = []
        for schedule in entry.get("schedules") or []:
            if not isinstance(schedule, dict) or "cron" not in schedule:
                raise DeploymentsError(f"{where}: only cron schedules are served locally")
            if schedule.get("timezone", "UTC") != "UTC":
                raise DeploymentsError(f"{where}: schedules are written in UTC")
            crons.append(str(schedule["cron"]))
        limit = entry.get("concurrency_limit")
        pool = entry.get("work_pool") or {}
        if not isinstance(pool, dict):
            raise DeploymentsError(f"{where}: work_pool is a mapping (name, work_queue_name)")
        specs.append(
            DeploymentSpec(
                name=str(entry["name"]),
                entrypoint=str(entry["entrypoint"]),
                description=entry.get("description"),
                crons=tuple(crons),
                parameters={k: _resolve(v) for k, v in (entry.get("parameters") or {}).items()},
                tags=tuple(entry.get("tags") or ()),
                concurrency_limit=int(limit) if limit is not None else None,
                work_pool=pool.get("name"),
                work_queue=pool.get("work_queue_name"),
            )
        )
    return specs


def load_flow(entrypoint: str) -> Flow[Any, Any]:
    """The flow object of `path/to/module.py:function` (imported as a module of this project)."""
    path, _, name = entrypoint.partition(":")
    module_name = path.removesuffix(".py").replace("/", ".")
    try:
        flow = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise DeploymentsError(f"entrypoint {entrypoint!r}: {exc}") from None
    if not isinstance(flow, Flow):
        raise DeploymentsError(f"entrypoint {entrypoint!r} is not a Prefect flow")
    return flow


def _parameters(spec: DeploymentSpec, root: Path) -> dict[str, Any]:
    parameters = dict(spec.parameters)
    for name in PATH_PARAMETERS:
        if isinstance(parameters.get(name), str):
            parameters[name] = str(root / parameters[name])
    return parameters


def runner_deployments(
    specs: list[DeploymentSpec], overrides: dict[str, Any] | None = None
) -> list[RunnerDeployment]:
    """RunnerDeployments for `flow.serve`-style serving; `overrides` replace parameters that the
    deployment declares (e.g. the lake, a sources file), others are left alone."""
    deployments = []
    for spec in specs:
        flow = load_flow(LOCAL_ENTRYPOINTS.get(spec.entrypoint, spec.entrypoint))
        accepted = set(inspect.signature(flow.fn).parameters)
        parameters = {k: v for k, v in _parameters(spec, PROJECT_ROOT).items() if k in accepted}
        for name, value in (overrides or {}).items():
            if name in parameters and value is not None:
                parameters[name] = value
        deployment = flow.to_deployment(
            name=spec.name,
            cron=list(spec.crons) or None,
            parameters=parameters,
            description=spec.description,
            tags=list(spec.tags),
            concurrency_limit=spec.concurrency_limit,
        )
        # to_deployment is sync-compatible: outside an event loop it returns the deployment.
        assert isinstance(deployment, RunnerDeployment)
        deployments.append(deployment)
    return deployments


def deploy_from_checkout(
    spec: DeploymentSpec,
    *,
    root: Path = PROJECT_ROOT,
    work_pool: str | None = None,
    schedules: bool = False,
) -> UUID:
    """Register `spec` on its work pool (or `work_pool`) with `root` as its code.

    The pool's process workers run it with `root` as their working directory; the workers'
    environment must import this project (installed, or PYTHONPATH=root). Schedules are left
    off unless asked for, so registering for a trial does not start the hourly crawls.
    """
    pool = work_pool or spec.work_pool
    if not pool:
        raise DeploymentsError(f"deployment {spec.name!r} names no work pool")
    load_flow(spec.entrypoint)  # a clear error before anything is registered
    remote = Flow.from_source(source=root, entrypoint=spec.entrypoint)
    assert isinstance(remote, Flow)  # from_source is sync-compatible outside an event loop
    deployment_id = remote.deploy(
        name=spec.name,
        work_pool_name=pool,
        work_queue_name=spec.work_queue,
        schedules=[Cron(c, timezone="UTC") for c in spec.crons] if schedules else None,
        parameters=_parameters(spec, root),
        description=spec.description,
        tags=list(spec.tags),
        concurrency_limit=spec.concurrency_limit,
        build=False,
        push=False,
        print_next_steps=False,
    )
    assert isinstance(deployment_id, UUID)
    return deployment_id
