"""What the lake must never contain: folder marker objects, empty objects, credentials."""

from __future__ import annotations

import gzip
import io
import logging
import os
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from spool_factory import AM, GE, RUN_1, RUN_2, article, land_run_1, write_spool

from lake import (
    land_spool,
    open_store,
    read_manifests,
    run_query,
    write_failed_manifest,
    write_skip_file,
)


def _readable(key: str, data: bytes) -> bytes:
    """Object content with compression undone, so a secret could not hide in it."""
    if key.endswith(".parquet"):
        parquet = pq.ParquetFile(io.BytesIO(data))
        return (repr(parquet.read().to_pylist()) + repr(parquet.schema_arrow.metadata)).encode()
    if key.endswith(".gz"):
        return gzip.decompress(data)
    return data


def _all_objects(lake_uri: str) -> dict[str, bytes]:
    """Every object in the bucket (not only under the lake prefix) or file under the folder."""
    if lake_uri.startswith("s3://"):
        bucket = lake_uri.removeprefix("s3://").split("/", 1)[0]
        s3 = boto3.client("s3")
        out = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        return out
    root = Path(lake_uri)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_no_markers_no_empty_objects_no_credentials(
    lake_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    if not lake_uri.startswith("s3://"):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "newslake-test-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "newslake-test-secret")
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    key_id = os.environ["AWS_ACCESS_KEY_ID"]
    caplog.set_level(logging.DEBUG)

    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    edited = article(RUN_2, "am-gas", body="Тарифы пересмотрят осенью.")
    land_spool(store, write_spool(tmp_path / "s2", [edited]), run_id=RUN_2, source_id=AM)
    write_failed_manifest(store, RUN_2, GE, "CrawlError: timeout")
    write_skip_file(store, AM, tmp_path / "skip.txt")
    for fmt in ("table", "json", "csv"):
        run_query(lake_uri, "SELECT * FROM articles", fmt)
        run_query(lake_uri, "SELECT * FROM runs", fmt)
    assert len(read_manifests(store)) == 4

    objects = _all_objects(lake_uri)
    assert len(objects) == 13
    if lake_uri.startswith("s3://"):
        assert all(k.startswith("newslake/") for k in objects)
    for key, data in objects.items():
        assert not key.endswith("/"), key
        assert data, f"empty object {key}"
        content = _readable(key, data)
        assert secret.encode() not in content, key
        assert key_id.encode() not in content, key
    assert secret not in caplog.text
    assert caplog.text  # the logs were captured: boto3 and the lake both logged at DEBUG/INFO
    assert f"landed {AM} run {RUN_1} into {store.uri}" in caplog.text
