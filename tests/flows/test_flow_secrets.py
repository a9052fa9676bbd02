"""Secrets never reach logs or Prefect: masked log records, refused credential parameters."""

from __future__ import annotations

import logging
import os
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler

from flows.backfill import backfill_flow
from flows.compact import compact_flow
from flows.crawl import crawl_flow
from flows.redact import CredentialsInParameters, find_secrets, redact_text, redact_value

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLEsessionTOKENvalue"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261128/us-east-1/s3/aws4_request,"
    " SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630"
)


@pytest.fixture
def aws_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {SECRET} and token {TOKEN}", "key *** and token ***"),
        ("s3://AKIAEXAMPLE:hunter2hunter2@team-news/lake", "s3://***@team-news/lake"),
        ("proxy http://bob:pw@proxy.local:3128/ up", "proxy http://***@proxy.local:3128/ up"),
        (
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20261128&X-Amz-Security-Token=abc&X-Amz-Signature=ff00",
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=***",
        ),
        (
            f"headers {{'Authorization': '{AUTH}', 'Host': 'x'}}",
            "headers {'Authorization': ***, 'Host': 'x'}",
        ),
        (f"Authorization: {AUTH}\nHost: x", "Authorization: ***\nHost: x"),
        (
            "https://feed.example/rss?token=abc123&page=2",
            "https://feed.example/rss?token=***&page=2",
        ),
        ("aws_secret_access_key = abc123def", "aws_secret_access_key = ***"),
        (
            "S3 PUT s3://b/p/runs/r/x.json failed after 5 attempts: 503 SlowDown: Please reduce",
            "S3 PUT s3://b/p/runs/r/x.json failed after 5 attempts: 503 SlowDown: Please reduce",
        ),
    ],
)
def test_redact_text(aws_secrets: None, text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_redact_value_and_find_secrets() -> None:
    settings: dict[str, Any] = {
        "DEFAULT_REQUEST_HEADERS": {"Authorization": "Basic Ym9iOnB3", "Accept": "text/html"},
        "HTTPPROXY": "http://bob:pw@proxy.local:3128",
        "DOWNLOAD_DELAY": 0,
        "EMPTY_PASSWORD": "",
    }
    assert redact_value(settings) == {
        "DEFAULT_REQUEST_HEADERS": {"Authorization": "***", "Accept": "text/html"},
        "HTTPPROXY": "http://***@proxy.local:3128",
        "DOWNLOAD_DELAY": 0,
        "EMPTY_PASSWORD": "",
    }
    assert find_secrets(settings, "settings") == [
        "settings['DEFAULT_REQUEST_HEADERS']['Authorization']",
        "settings['HTTPPROXY']",
    ]


def test_log_records_of_any_logger_are_masked(
    aws_secrets: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("lake.store").warning(
            "uploading with %s to %s", SECRET, "s3://k:pw123456@b/x"
        )
        logging.getLogger("botocore.endpoint").info("Sending %r", {"Authorization": AUTH})
        try:
            raise RuntimeError(f"token {TOKEN} refused")
        except RuntimeError:
            logging.getLogger("flows.crawl").exception("landing failed")
    text = caplog.text
    for secret in (SECRET, TOKEN, "pw123456", "Signature=fe5f"):
        assert secret not in text
    assert "uploading with *** to s3://***@b/x" in text
    assert "Sending {'Authorization': ***}" in text
    assert "RuntimeError: token *** refused" in text


@flow(name="leaky")
def leaky_flow(lake: str, settings: dict[str, Any] | None = None) -> str:
    logger = get_run_logger()
    logger.warning("secret key is %s, token %s", os.environ["AWS_SECRET_ACCESS_KEY"], TOKEN)
    logger.warning(
        "proxy at http://bob:hunter2hunter2@proxy.local:3128 with %s", {"Authorization": AUTH}
    )
    return lake


def _flow_run_logs(flow_run_id: UUID) -> list[str]:
    APILogHandler().flush()  # send what the background worker still holds
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
        )
    return [log.message for log in logs]


def test_a_prefect_flow_runs_logs_and_parameters_hold_no_secret(aws_secrets: None) -> None:
    state = leaky_flow(
        lake="s3://team-news/lake", settings={"DOWNLOAD_DELAY": 0}, return_state=True
    )
    assert state.is_completed()
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    messages = _flow_run_logs(flow_run_id)
    assert "secret key is ***, token ***" in messages
    assert "proxy at http://***@proxy.local:3128 with {'Authorization': ***}" in messages
    joined = "\n".join(messages)
    for secret in (SECRET, TOKEN, "hunter2hunter2", "Signature=fe5f"):
        assert secret not in joined
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
    assert run.parameters == {"lake": "s3://team-news/lake", "settings": {"DOWNLOAD_DELAY": 0}}


def _recorded_parameters() -> list[dict[str, Any]]:
    with get_client(sync_client=True) as client:
        return [run.parameters for run in client.read_flow_runs()]


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda: crawl_flow(lake="s3://AKIAEXAMPLE:hunter2hunter2@team-news/lake"), "lake"),
        (
            lambda: crawl_flow(
                lake="s3://team-news/lake",
                settings={"DEFAULT_REQUEST_HEADERS": {"Authorization": "Bearer hunter2hunter2"}},
            ),
            "settings['DEFAULT_REQUEST_HEADERS']['Authorization']",
        ),
        (
            lambda: backfill_flow(
                source="x",
                since="2024-01-01",
                until="2024-01-02",
                lake="s3://team-news/lake?X-Amz-Signature=hunter2hunter2",
            ),
            "lake",
        ),
        (lambda: compact_flow(lake="https://bob:hunter2hunter2@minio.local/lake"), "lake"),
    ],
    ids=["crawl-lake", "crawl-settings", "backfill-signed-lake", "compact-lake"],
)
def test_credentials_in_flow_parameters_are_refused_before_prefect_records_them(
    call: Any, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(_recorded_parameters())
    with pytest.raises(CredentialsInParameters) as info:
        call()
    message = str(info.value)
    assert message.endswith(
        f": {where} carries credentials; Prefect records flow parameters, so give credentials"
        " through the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) instead"
    )
    assert "hunter2hunter2" not in message
    recorded = _recorded_parameters()
    assert len(recorded) == before  # no flow run was created
    assert "hunter2hunter2" not in repr(recorded)
    assert "hunter2hunter2" not in caplog.text
