"""Shared test set-up: a private Prefect home, fixture sites and an S3 server on loopback."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Prefect reads its settings at import: set them before any test module imports it.
_PREFECT_HOME = tempfile.mkdtemp(prefix="newslake-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
# Spools a failed test run keeps for inspection stay inside the session's temp folder.
os.environ["NEWSLAKE_SPOOL_DIR"] = os.path.join(_PREFECT_HOME, "spool")

import pytest  # noqa: E402

from newslake.site_server import SiteServer  # noqa: E402

_START_DIR = os.getcwd()


@pytest.fixture(autouse=True)
def _keep_working_directory() -> Iterator[None]:
    """Every test starts in the folder pytest started in.

    Code that changes the process's directory (Prefect does when it loads a deployment's code
    for a flow run) would otherwise leave the next tests in a folder that may since have been
    deleted, where even os.getcwd() fails.
    """
    if _cwd() != _START_DIR:
        os.chdir(_START_DIR)
    yield


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except FileNotFoundError:
        return None


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def serve_site() -> Iterator[Callable[[Path], SiteServer]]:
    """Start fixture sites on 127.0.0.1 (one port each); all stop when the test ends."""
    servers: list[SiteServer] = []

    def start(root: Path) -> SiteServer:
        server = SiteServer(Path(root)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@dataclass
class ServedSite:
    """A fixture site from tests/fixtures/sites/<name>/, live, with its rendered sources file."""

    name: str
    server: SiteServer
    sources_file: Path

    @property
    def base(self) -> str:
        return self.server.base_url

    def spec(self) -> dict[str, Any]:
        """crawl.json with {{BASE}} filled in."""
        text = (FIXTURES / "sites" / self.name / "crawl.json").read_text("utf-8")
        return json.loads(text.replace("{{BASE}}", self.base))


@pytest.fixture
def fixture_site(
    serve_site: Callable[[Path], SiteServer], tmp_path: Path
) -> Callable[..., ServedSite]:
    """Serve fixture sites; their sources files land in one combined file if asked for several."""

    def start(*names: str) -> ServedSite | list[ServedSite]:
        served = []
        entries: list[str] = []
        for name in names:
            root = FIXTURES / "sites" / name
            server = serve_site(root / "site")
            text = (root / "sources.yaml").read_text("utf-8").replace("{{BASE}}", server.base_url)
            entries.append(text.split("sources:", 1)[1])
            served.append(ServedSite(name, server, tmp_path / "sources.yaml"))
        (tmp_path / "sources.yaml").write_text("sources:" + "".join(entries), "utf-8")
        return served[0] if len(served) == 1 else served

    return start


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server in server mode, on loopback, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_lake(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the test server; boto3's standard environment points at it."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "newslake-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "newslake-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/newslake"
