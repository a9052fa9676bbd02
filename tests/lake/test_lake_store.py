from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from lake import AlreadyExists, LakeError, LocalStore, NotFound, S3Store, open_store
from lake.store import S3Settings


def test_put_get_exists(lake_uri: str) -> None:
    store = open_store(lake_uri)
    assert not store.exists("runs/r1/a.json")
    store.put("runs/r1/a.json", "Երևան — Тбилиси".encode())
    assert store.exists("runs/r1/a.json")
    assert store.get("runs/r1/a.json").decode() == "Երևան — Тбилиси"
    store.put("runs/r1/a.json", b"replaced")
    assert store.get("runs/r1/a.json") == b"replaced"
    with pytest.raises(NotFound) as info:
        store.get("runs/r1/missing.json")
    assert str(info.value) == "runs/r1/missing.json not found"


def test_put_if_absent_is_create_only(lake_uri: str) -> None:
    store = open_store(lake_uri)
    store.put("runs/r1/a.json", b"first", if_absent=True)
    with pytest.raises(AlreadyExists) as info:
        store.put("runs/r1/a.json", b"second", if_absent=True)
    assert info.value.key == "runs/r1/a.json"
    assert store.get("runs/r1/a.json") == b"first"
    assert list(store.list()) == ["runs/r1/a.json"]


def test_list_is_a_sorted_string_prefix_match(lake_uri: str) -> None:
    store = open_store(lake_uri)
    keys = [
        "runs/r10/b.json",
        "runs/r1/a.json",
        "runs/r1/b.json",
        "articles/source_id=x/published_month=2024-03/part-r1-0.parquet",
        "top.txt",
    ]
    for key in keys:
        store.put(key, b"x")
    assert list(store.list()) == sorted(keys)
    assert list(store.list("runs/")) == ["runs/r1/a.json", "runs/r1/b.json", "runs/r10/b.json"]
    assert list(store.list("runs/r1")) == ["runs/r1/a.json", "runs/r1/b.json", "runs/r10/b.json"]
    assert list(store.list("runs/r1/")) == ["runs/r1/a.json", "runs/r1/b.json"]
    assert list(store.list("articles/source_id=x/")) == [keys[3]]
    assert list(store.list("nothing/")) == []


def test_delete(lake_uri: str) -> None:
    store = open_store(lake_uri)
    store.put("runs/r1/a.json", b"a")
    store.put("runs/r1/b.json", b"b")
    store.delete("runs/r1/a.json")
    store.delete("runs/r1/never-existed.json")
    assert list(store.list()) == ["runs/r1/b.json"]
    assert not store.exists("runs/r1/a.json")


def test_put_file_and_read_through_arrow_filesystem(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    source = tmp_path / "capture.warc.gz"
    source.write_bytes(b"WARC/1.1\r\n" * 1000)
    store.put_file("raw/source_id=x/r1.warc.gz", source)
    assert store.get("raw/source_id=x/r1.warc.gz") == source.read_bytes()
    filesystem, base = store.arrow_filesystem()
    with filesystem.open_input_file(f"{base}/raw/source_id=x/r1.warc.gz") as fh:
        assert fh.read() == source.read_bytes()
    assert source.exists()  # the spool keeps its copy


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs/key",
        "../escape",
        "a//b",
        "a/./b",
        "a/../b",
        "a/",
        "_tmp/x",
        "back\\slash",
        "..\\..\\etc\\passwd",
        "%2e%2e/escape",
        "articles/%2E%2E/%2e%2e/x",
        "articles/..%2fx",
        "runs/r1/a\x00.json",
        "runs/r1/a\n.json",
    ],
)
def test_bad_keys_are_refused(lake_uri: str, key: str) -> None:
    store = open_store(lake_uri)
    for write in (
        lambda: store.put(key, b"x"),
        lambda: store.put(key, b"x", if_absent=True),
        lambda: store.delete(key),
    ):
        with pytest.raises(LakeError, match="invalid lake key"):
            write()
    assert list(store.list()) == []


def test_a_symlink_inside_a_local_lake_does_not_lead_writes_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStore(tmp_path / "lake")
    store.put("articles/x.parquet", b"x")
    (tmp_path / "lake" / "raw").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LakeError) as info:
        store.put("raw/source_id=x/r1.warc.gz", b"escaped")
    assert str(info.value) == (
        f"invalid lake key 'raw/source_id=x/r1.warc.gz': it resolves outside the lake"
        f" {(tmp_path / 'lake').resolve()}"
    )
    assert list(outside.iterdir()) == []


def test_s3_writes_stay_under_the_prefix(s3_lake: str) -> None:
    bucket, prefix = s3_lake.removeprefix("s3://").split("/", 1)
    store = open_store(s3_lake)
    store.put("runs/r1/a.json", b"a")
    store.put("runs/r1/b.json", b"b", if_absent=True)
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        f"{prefix}/runs/r1/a.json",
        f"{prefix}/runs/r1/b.json",
    ]


def test_local_store_leaves_no_staging_files_or_empty_folders(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    store.put("runs/r1/a.json", b"a", if_absent=True)
    with pytest.raises(AlreadyExists):
        store.put("runs/r1/a.json", b"b", if_absent=True)
    assert list((tmp_path / "lake" / "_tmp").iterdir()) == []
    assert list(store.list()) == ["runs/r1/a.json"]
    store.delete("runs/r1/a.json")
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == ["_tmp"]


def test_s3_big_files_go_up_in_parts(s3_lake: str, tmp_path: Path) -> None:
    uri = s3_lake.removeprefix("s3://")
    bucket, prefix = uri.split("/", 1)
    store = S3Store(bucket, prefix, multipart_threshold=5 * 1024 * 1024)
    big = tmp_path / "big.warc.gz"
    data = os.urandom(6 * 1024 * 1024)
    big.write_bytes(data)
    store.put_file("raw/source_id=x/r1.warc.gz", big)
    head = boto3.client("s3").head_object(Bucket=bucket, Key=f"{prefix}/raw/source_id=x/r1.warc.gz")
    assert head["ETag"].strip('"').endswith("-2")  # two parts
    assert store.get("raw/source_id=x/r1.warc.gz") == data


def test_s3_errors_are_lake_errors_naming_the_object(s3_endpoint: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = open_store("s3://no-such-bucket-here/lake")
    with pytest.raises(LakeError) as info:
        store.put("runs/r1/a.json", b"x")
    assert str(info.value) == (
        "S3 PUT s3://no-such-bucket-here/lake/runs/r1/a.json failed: 404 NoSuchBucket: "
        "The specified bucket does not exist"
    )


def test_s3_without_credentials_says_so(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookups
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = open_store("s3://team-news/lake")
    with pytest.raises(LakeError) as info:
        store.get("runs/r1/a.json")
    assert str(info.value) == (
        "S3 GET s3://team-news/lake/runs/r1/a.json failed: no AWS credentials found"
        " (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    )
    with pytest.raises(LakeError, match="no AWS credentials found to read s3://team-news/lake"):
        store.arrow_filesystem()


def test_s3_retry_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWSLAKE_S3_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS", "NEWSLAKE_S3_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NEWSLAKE_S3_CONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("NEWSLAKE_S3_READ_TIMEOUT", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    assert S3Settings.from_env() == S3Settings(5, "standard", 10.0, 60.0)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("NEWSLAKE_S3_READ_TIMEOUT", "2.5")
    assert S3Settings.from_env() == S3Settings(3, "adaptive", 10.0, 2.5)
    monkeypatch.setenv("NEWSLAKE_S3_MAX_ATTEMPTS", "7")  # ours wins over boto3's
    store = open_store("s3://team-news/lake")
    assert isinstance(store, S3Store)
    assert store.settings == S3Settings(7, "adaptive", 10.0, 2.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "NEWSLAKE_S3_MAX_ATTEMPTS",
            "zero",
            "NEWSLAKE_S3_MAX_ATTEMPTS='zero': expected a positive int",
        ),
        ("NEWSLAKE_S3_MAX_ATTEMPTS", "0", "NEWSLAKE_S3_MAX_ATTEMPTS='0': expected a positive int"),
        (
            "NEWSLAKE_S3_READ_TIMEOUT",
            "-1",
            "NEWSLAKE_S3_READ_TIMEOUT='-1': expected a positive float",
        ),
        (
            "NEWSLAKE_S3_RETRY_MODE",
            "legacy",
            "NEWSLAKE_S3_RETRY_MODE='legacy': expected 'standard' or 'adaptive'",
        ),
    ],
)
def test_bad_s3_retry_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(LakeError) as info:
        open_store("s3://team-news/lake")
    assert str(info.value) == message
