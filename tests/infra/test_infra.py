"""infra/ cannot run here (no Docker, no AWS): its files are parsed and checked against the code.

The Glue/Athena definitions are generated from schemas/ and checked three ways: the committed
files equal a fresh generation, their columns are the pyarrow schema's, and their types are the
ones DuckDB reads back from a Parquet file written with that schema.
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import hcl2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.client.schemas.schedules import CronSchedule

from flows.deployments import DEPLOYMENTS_FILE, load_deployments, load_flow
from schemas import ARTICLE_SCHEMA, REJECT_SCHEMA
from schemas.athena import TABLES, athena_ddl, terraform_tables, write
from spiders.catalogue import BUNDLED_CATALOGUE, load_sources

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


def test_generated_files_match_the_schemas(tmp_path: Path) -> None:
    for written in write(tmp_path):
        committed = INFRA / written.relative_to(tmp_path)
        assert committed.read_text(encoding="utf-8") == written.read_text(encoding="utf-8"), (
            f"{committed} is stale: run `python -m schemas.athena infra/`"
        )


def _ddl_columns(ddl: str) -> list[tuple[str, str]]:
    body = ddl.split("(\n", 1)[1].split("\n)\nPARTITIONED BY", 1)[0]
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^  `(\w+)`\s+(\S+?)(?: COMMENT '.*')?,?$", body, re.M)
    ]


@pytest.mark.parametrize("schema", [ARTICLE_SCHEMA, REJECT_SCHEMA], ids=["articles", "rejects"])
def test_ddl_columns_are_the_pyarrow_schema(schema: pa.Schema) -> None:
    table = next(t for t in TABLES if t.schema is schema)
    columns = _ddl_columns(athena_ddl(table))
    partitions = table.partitions.names
    assert [name for name, _ in columns] == [n for n in schema.names if n not in partitions]
    assert f"PARTITIONED BY ({', '.join(f'`{p}` string' for p in partitions)})" in athena_ddl(table)


def _duckdb_to_hive(type_: str) -> str:
    """DuckDB's name of a Parquet column type, in Hive's spelling."""
    scalars = {
        "VARCHAR": "string",
        "BOOLEAN": "boolean",
        "SMALLINT": "smallint",
        "INTEGER": "int",
        "BIGINT": "bigint",
        "TIMESTAMP WITH TIME ZONE": "timestamp",
        "DOUBLE": "double",
    }
    if type_.endswith("[]"):
        return f"array<{_duckdb_to_hive(type_[:-2])}>"
    if type_.startswith("STRUCT("):
        fields = re.findall(r'"?(\w+)"? ([A-Z][A-Z ]*?)(?=, |\)$)', type_[len("STRUCT(") :])
        return "struct<" + ",".join(f"{n}:{_duckdb_to_hive(t)}" for n, t in fields) + ">"
    return scalars[type_]


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_ddl_types_are_what_parquet_readers_see(table: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(table.schema.empty_table(), path)
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    seen = {name: _duckdb_to_hive(type_) for name, type_, *_ in described}
    for name, hive in _ddl_columns(athena_ddl(table)):
        assert hive == seen[name], name
    ddl_names = {name for name, _ in _ddl_columns(athena_ddl(table))}
    assert ddl_names == set(seen) - set(table.partitions.names)


def test_terraform_reads_the_generated_tables_and_scopes_access_to_the_lake() -> None:
    main = hcl2.load((INFRA / "terraform" / "main.tf").open())
    variables = hcl2.load((INFRA / "terraform" / "variables.tf").open())
    resources: dict[str, dict[str, Any]] = {}
    for block in main["resource"]:
        for kind, named in block.items():
            for name, body in named.items():
                resources[f"{kind}.{name}"] = body

    rules = resources["aws_s3_bucket_lifecycle_configuration.lake"]["rule"]
    raw_rule = next(r for r in rules if r["filter"][0]["prefix"] == "${var.lake_prefix}/raw/")
    assert raw_rule["status"] == "Enabled"
    assert [t["storage_class"] for t in raw_rule["transition"]] == ["STANDARD_IA", "GLACIER_IR"]

    policy = main["data"][0]["aws_iam_policy_document"]["lake_writer"]["statement"]
    listing, objects = policy
    assert listing["actions"] == ["s3:ListBucket"]
    assert listing["condition"][0]["values"] == ["${var.lake_prefix}/*"]
    assert objects["resources"] == ["${local.lake_arn}/*"]
    assert main["locals"][0]["lake_arn"] == "arn:aws:s3:::${var.bucket_name}/${var.lake_prefix}"

    glue = resources["aws_glue_catalog_table.tables"]
    assert glue["for_each"] == "${var.glue_tables}"
    declared = {name for block in variables["variable"] for name in block}
    generated = json.loads((INFRA / "terraform" / "glue_tables.auto.tfvars.json").read_text())
    assert set(generated) <= declared
    assert generated == json.loads(json.dumps(terraform_tables()))


def test_prefect_yaml_deployments_load_and_match_their_flows() -> None:
    data = yaml.safe_load(DEPLOYMENTS_FILE.read_text(encoding="utf-8"))
    model = PrefectYamlModel.model_validate(data)
    assert [d.name for d in model.deployments] == [s.name for s in load_deployments()]
    for spec in load_deployments():
        flow = load_flow(spec.entrypoint)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(spec.parameters) <= accepted, spec.name
        for cron in spec.crons:
            CronSchedule(cron=cron)
        if "sources_file" in spec.parameters:
            assert (ROOT / spec.parameters["sources_file"]).exists()

    scheduled = {
        Path(s.parameters["sources_file"]).name
        for s in load_deployments()
        if s.crons and "sources_file" in s.parameters
    }
    with_active = {
        path.name
        for path in BUNDLED_CATALOGUE.glob("*.yaml")
        if any(source.status == "active" for source in load_sources(path))
    }
    assert scheduled == with_active, "every catalogue file with active outlets is crawled hourly"


def test_the_worker_image_and_compose_file_fit_the_deployments() -> None:
    dockerfile = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    prefect_yaml = yaml.safe_load(DEPLOYMENTS_FILE.read_text(encoding="utf-8"))
    workdir = prefect_yaml["pull"][0]["prefect.deployments.steps.set_working_directory"]
    assert f"WORKDIR {workdir['directory']}" in dockerfile
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in packages:
        assert f"COPY {package.rstrip('*')} " in dockerfile, package
    pool = prefect_yaml["definitions"]["work_pools"]["newslake"]["name"]
    assert f'"--pool", "{pool}"' in dockerfile

    compose = yaml.safe_load((INFRA / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"minio", "prefect-server", "worker"} <= set(services)
    assert services["worker"]["build"]["dockerfile"] == "infra/Dockerfile"
    worker_env = services["worker"]["environment"]
    assert worker_env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert worker_env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    for service in services.values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), "published ports stay on loopback"


def _fanout_specs() -> tuple[list[Any], Any]:
    specs = load_deployments()
    [child] = [s for s in specs if s.entrypoint == "flows/fanout.py:crawl_source_flow"]
    parents = [s for s in specs if s.entrypoint == "flows/fanout.py:crawl_fanout_flow"]
    return parents, child


def test_the_hourly_crawls_fan_out_to_the_crawl_source_deployment_on_its_own_queue() -> None:
    from flows.fanout import SOURCE_DEPLOYMENT, crawl_fanout_flow, crawl_source_flow

    parents, child = _fanout_specs()
    assert {s.name for s in parents} == {
        s.name for s in load_deployments() if s.crons and ("sources_file" in s.parameters)
    }
    assert f"{crawl_source_flow.name}/{child.name}" == SOURCE_DEPLOYMENT
    default = inspect.signature(crawl_fanout_flow.fn).parameters["deployment"].default
    assert default == SOURCE_DEPLOYMENT
    for parent in parents:
        assert parent.work_pool == child.work_pool == "newslake"
        assert parent.work_queue == "default" and parent.concurrency_limit == 1
        assert "deployment" not in parent.parameters  # the default names the child
    assert child.work_queue == "crawl-sources" and not child.crons
    # What the parent hands each child is what the child flow accepts.
    accepted = set(inspect.signature(crawl_source_flow.fn).parameters)
    assert accepted == {"source", "lake", "settings", "run_id", "started_at"}


def test_serving_locally_runs_a_fanout_parent_as_the_in_process_crawl() -> None:
    from flows.deployments import runner_deployments

    parents, _ = _fanout_specs()
    [served] = runner_deployments([parents[0]], {"lake": "/tmp/lake"})
    assert served.entrypoint is not None and served.entrypoint.endswith("crawl.py:crawl_flow")
    assert served.name == parents[0].name
    assert set(served.parameters) == {"sources_file", "lake"}
    assert served.parameters["lake"] == "/tmp/lake"
    assert served.parameters["sources_file"] == str(ROOT / parents[0].parameters["sources_file"])


def _k8s_documents() -> dict[tuple[str, str], dict[str, Any]]:
    docs = yaml.safe_load_all((INFRA / "k8s" / "worker.yaml").read_text(encoding="utf-8"))
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def test_the_kubernetes_workers_poll_the_pool_and_split_the_queues() -> None:
    from prefect.utilities.templating import apply_values

    docs = _k8s_documents()
    prefect_yaml = yaml.safe_load(DEPLOYMENTS_FILE.read_text(encoding="utf-8"))
    pool = prefect_yaml["definitions"]["work_pools"]["newslake"]["name"]
    queues_used = {s.work_queue for s in load_deployments()}

    polled: dict[str, set[str]] = {}
    for (kind, name), doc in docs.items():
        if kind != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "newslake-worker"
        [container] = pod["containers"]
        args = container["args"]
        assert args[:3] == ["prefect", "worker", "start"]
        assert args[args.index("--pool") + 1] == pool
        assert args[args.index("--type") + 1] == "kubernetes"
        assert int(args[args.index("--limit") + 1]) >= 1
        assert container["image"] == "prefecthq/prefect:3.9.1-python3.11-kubernetes"
        env_names = {e["name"] for e in container.get("env", [])}
        assert not any(n.startswith("AWS_") for n in env_names), "credentials come from IRSA"
        assert container["envFrom"] == [{"secretRef": {"name": "newslake-prefect"}}]
        polled[name] = {args[i + 1] for i, a in enumerate(args) if a == "--work-queue"}
    # Parents and children never share a worker, and every queue in use is polled.
    assert polled == {
        "newslake-worker-control": {"default"},
        "newslake-worker-crawl": {"crawl-sources"},
    }
    assert set().union(*polled.values()) == queues_used

    role = docs[("Role", "newslake-worker")]
    [jobs_rule] = [rule for rule in role["rules"] if rule["resources"] == ["jobs"]]
    assert jobs_rule["apiGroups"] == ["batch"] and {"create", "watch"} <= set(jobs_rule["verbs"])
    binding = docs[("RoleBinding", "newslake-worker")]
    assert binding["subjects"][0]["name"] == "newslake-worker"
    crawler = docs[("ServiceAccount", "newslake-crawler")]
    assert "eks.amazonaws.com/role-arn" in crawler["metadata"]["annotations"]

    # The pool's base job template: valid for a Prefect server, and rendered with its
    # defaults it runs the worker image as the crawler, with the spool the image expects.
    from prefect.server.schemas.actions import WorkPoolCreate

    template = json.loads((INFRA / "k8s" / "base-job-template.json").read_text("utf-8"))
    WorkPoolCreate(name=pool, type="kubernetes", base_job_template=template)
    defaults = {
        name: spec["default"]
        for name, spec in template["variables"]["properties"].items()
        if "default" in spec
    }
    job = apply_values(template["job_configuration"], defaults)["job_manifest"]
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert container["image"] == f"newslake-worker:{version}"
    assert f"-t newslake-worker:{version} ." in (INFRA / "Dockerfile").read_text("utf-8")
    assert pod["serviceAccountName"] == crawler["metadata"]["name"]
    assert job["metadata"]["namespace"] == crawler["metadata"]["namespace"] == "newslake"
    spool = re.search(r"NEWSLAKE_SPOOL_DIR=(\S+)", (INFRA / "Dockerfile").read_text("utf-8"))
    assert spool is not None
    assert container["volumeMounts"] == [{"name": "spool", "mountPath": spool.group(1)}]
    assert defaults["env"]["NEWSLAKE_SPOOL_DIR"] == spool.group(1)
    assert not any(k.startswith("AWS_") for k in defaults["env"])
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
