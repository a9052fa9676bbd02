"""Lake test fixtures: every storage test runs on a local folder and on the S3 test server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultProxy


@pytest.fixture(params=["local", "s3"])
def lake_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty lake: a folder, or a new bucket on the moto server."""
    if request.param == "local":
        return str(tmp_path / "lake")
    uri: str = request.getfixturevalue("s3_lake")
    return uri


@pytest.fixture
def fault_proxy(s3_endpoint: str) -> Iterator[FaultProxy]:
    """A fault-injecting proxy on 127.0.0.1 in front of the S3 test server."""
    proxy = FaultProxy(s3_endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty_lake(s3_endpoint: str, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket that boto3 and pyarrow reach through `fault_proxy`, with short timeouts
    (1 s) so a hung response is retried quickly."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "newslake-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "newslake-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    monkeypatch.setenv("NEWSLAKE_S3_READ_TIMEOUT", "1")
    monkeypatch.setenv("NEWSLAKE_S3_CONNECT_TIMEOUT", "2")
    monkeypatch.delenv("NEWSLAKE_S3_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    return f"s3://{bucket}/newslake"
