"""The crawl flow, run for real on a temporary Prefect server, against fixture sites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)

from flows.backfill import backfill_flow
from flows.crawl import RunSummary, crawl_flow
from lake import LakeError, connect, run_query
from newslake import api

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}


def expected_counts(spec: dict[str, Any]) -> dict[str, int]:
    robots = [s for s in spec.get("skipped", []) if s["reason"] == "robots_disallowed"]
    return {
        "discovered": spec["discovered"],
        "landed": len(spec["landed"]),
        "rejected": len(spec["rejects"]) + len(robots),
    }


def summary_of(state: Any) -> RunSummary:
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, RunSummary), summary
    return summary


def test_crawl_lands_each_article_once_and_a_rerun_fetches_nothing_new(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp, ru = fixture_site("wp-en", "ru-1251")
    lake = str(tmp_path / "lake")
    state = crawl_flow(
        sources_file=str(wp.sources_file), lake=lake, settings=FAST, return_state=True
    )
    assert state.is_completed(), state.message
    summary = summary_of(state)
    assert [o.source_id for o in summary.sources] == ["wp-en", "ru-1251"]
    for site, outcome in zip((wp, ru), summary.sources, strict=True):
        spec = site.spec()
        assert outcome.status == "ok"
        assert {k: outcome.counts[k] for k in ("discovered", "landed", "rejected")} == (
            expected_counts(spec)
        )
        assert outcome.counts["fetched"] == len(spec["request_counts"])  # a retry is one page

    con = connect(lake)
    landed = {row[0] for row in con.execute("SELECT canonical_url FROM articles").fetchall()}
    assert landed == set(wp.spec()["landed"]) | set(ru.spec()["landed"])
    rejects = {
        (url, reason, status)
        for url, reason, status in con.execute(
            "SELECT url, reason, http_status FROM rejects"
        ).fetchall()
    }
    expected_rejects = {
        (r["url"], r["reason"], r["http_status"])
        for site in (wp, ru)
        for r in site.spec()["rejects"]
    } | {
        (s["url"], "robots_disallowed", None)
        for site in (wp, ru)
        for s in site.spec().get("skipped", [])
        if s["reason"] == "robots_disallowed"
    }
    assert rejects == expected_rejects
    runs = con.execute(
        "SELECT source_id, status, landed, rejected FROM runs ORDER BY source_id"
    ).fetchall()
    assert runs == [
        ("ru-1251", "committed", len(ru.spec()["landed"]), expected_counts(ru.spec())["rejected"]),
        ("wp-en", "committed", len(wp.spec()["landed"]), expected_counts(wp.spec())["rejected"]),
    ]

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["crawl-counts"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            ),
        )
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert [(row["source"], row["landed"]) for row in table] == [
        ("wp-en", len(wp.spec()["landed"])),
        ("ru-1251", len(ru.spec()["landed"])),
    ]

    # A second scheduled run: nothing new. Landed articles and pages rejected for a lasting
    # reason (not an article, robots.txt) are not requested again; the 404 is retried. The
    # ru-1251 crawl got every page, so its feed and sitemap were kept validators and now
    # answer 304 (no candidates at all); wp-en had a 404, so its endpoints are read in full.
    wp.server.clear()
    ru.server.clear()
    again = summary_of(
        crawl_flow(sources_file=str(wp.sources_file), lake=lake, settings=FAST, return_state=True)
    )
    for site, outcome in zip((wp, ru), again.sources, strict=True):
        spec = site.spec()
        lasting = [r for r in spec["rejects"] if r["reason"] == "not_article"] + [
            s for s in spec.get("skipped", []) if s["reason"] == "robots_disallowed"
        ]
        complete = not any(r["reason"] == "http_error" for r in spec["rejects"])
        assert (
            outcome.counts["landed"],
            outcome.counts["skipped_landed"],
            outcome.counts["not_modified"],
        ) == ((0, 0, 2) if complete else (0, len(spec["landed"]) + len(lasting), 0))
        retried = {urlsplit(r["url"]).path for r in spec["rejects"] if r["reason"] == "http_error"}
        pages = set(spec["request_counts"])
        assert {urlsplit(p).path for p in site.server.paths()} & pages == retried
    versions = con.execute("SELECT count(*) FROM article_versions").fetchone()
    assert versions == (len(landed),)
    assert connect(lake).execute("SELECT count(*) FROM article_versions").fetchone() == versions


def test_crawl_into_s3(fixture_site: Callable[..., Any], s3_lake: str) -> None:
    wp = fixture_site("wp-en")
    state = crawl_flow(
        sources_file=str(wp.sources_file), lake=s3_lake, settings=FAST, return_state=True
    )
    assert state.is_completed(), state.message
    rows = json.loads(
        run_query(s3_lake, "SELECT canonical_url, language FROM articles ORDER BY 1", "json")
    )
    assert rows == [{"canonical_url": u, "language": "en"} for u in sorted(wp.spec()["landed"])]


def test_backfill_lands_only_the_window(fixture_site: Callable[..., Any], tmp_path: Path) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    state = backfill_flow(
        source="wp-en",
        since=date(2024, 5, 11),
        until=date(2024, 5, 11),
        sources_file=str(wp.sources_file),
        lake=lake,
        settings=FAST,
        return_state=True,
    )
    assert state.is_completed(), state.message
    rows = connect(lake).execute("SELECT canonical_url FROM articles ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == sorted(u for u in wp.spec()["landed"] if "/2024/05/11/" in u)


def test_a_lake_that_cannot_be_written_fails_the_run_with_the_reason(
    fixture_site: Callable[..., Any], s3_lake: str
) -> None:
    wp = fixture_site("wp-en")
    missing = "s3://no-such-bucket-newslake/x"
    state = crawl_flow(
        sources_file=str(wp.sources_file), lake=missing, settings=FAST, return_state=True
    )
    assert state.is_failed()
    summary = summary_of(state)
    [outcome] = summary.sources
    assert outcome.status == "failed"
    assert "no-such-bucket-newslake" in (outcome.error or "")
    assert "newslake-test-secret" not in (outcome.error or "")
    assert state.message == f"run {summary.run_id}: 1 source(s) failed: wp-en"


def test_a_lake_uri_with_credentials_never_reaches_prefect(
    fixture_site: Callable[..., Any],
) -> None:
    wp = fixture_site("wp-en")
    with pytest.raises(LakeError, match="must not carry credentials"):
        api.crawl(sources_file=wp.sources_file, lake="s3://key:hunter2@bucket/x", settings=FAST)
    with get_client(sync_client=True) as client:
        recorded = json.dumps([r.parameters for r in client.read_flow_runs()])
    assert "hunter2" not in recorded
    assert wp.server.paths() == []


def test_a_crawl_cut_short_is_partial_and_the_next_run_lands_the_rest(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    slow = {**FAST, "DOWNLOAD_DELAY": 1.0, "CLOSESPIDER_TIMEOUT": 2}
    first = crawl_flow(
        sources_file=str(wp.sources_file), lake=lake, settings=slow, return_state=True
    )
    assert first.is_completed(), first.message
    [outcome] = summary_of(first).sources
    assert outcome.status == "partial"
    assert outcome.error == "the crawl stopped early: closespider_timeout"
    landed_first = outcome.counts["landed"]
    assert landed_first < len(wp.spec()["landed"])

    second = summary_of(
        crawl_flow(sources_file=str(wp.sources_file), lake=lake, settings=FAST, return_state=True)
    )
    assert [(o.status, o.counts["landed"]) for o in second.sources] == [
        ("ok", len(wp.spec()["landed"]) - landed_first)
    ]
    rows = connect(lake).execute("SELECT canonical_url FROM articles ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == sorted(wp.spec()["landed"])
