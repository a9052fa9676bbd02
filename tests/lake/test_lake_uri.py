from __future__ import annotations

from pathlib import Path

import pytest

from lake import LakeError, LakeURI, LocalStore, S3Store, open_store, resolve_uri


def test_default_is_env_then_dot_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSLAKE_LAKE", raising=False)
    assert resolve_uri(None) == LakeURI("local", path=tmp_path.resolve() / "lake")
    monkeypatch.setenv("NEWSLAKE_LAKE", "s3://team-news/lake")
    assert resolve_uri(None) == LakeURI("s3", bucket="team-news", prefix="lake")


def test_folder_paths_and_file_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_uri("data/lake").path == tmp_path.resolve() / "data" / "lake"
    assert resolve_uri(tmp_path / "x").path == tmp_path.resolve() / "x"
    assert resolve_uri("file:///srv/news%20lake").path == Path("/srv/news lake")
    assert resolve_uri("file://localhost/srv/lake").path == Path("/srv/lake")
    assert str(resolve_uri("file:///srv/lake")) == "/srv/lake"


def test_s3_uris() -> None:
    assert resolve_uri("s3://team-news/a/b/") == LakeURI("s3", bucket="team-news", prefix="a/b")
    assert resolve_uri("S3://team-news") == LakeURI("s3", bucket="team-news", prefix="")
    assert str(resolve_uri("s3://team-news/a/b/")) == "s3://team-news/a/b"
    assert str(resolve_uri("s3://team-news")) == "s3://team-news"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://AKIAEXAMPLE:SuperSecret123@team-news/lake",
        "s3://SuperSecret123@team-news/lake",
        "file://user:SuperSecret123@/srv/lake",
    ],
)
def test_credentials_in_uri_are_refused_without_echoing_them(uri: str) -> None:
    with pytest.raises(LakeError) as info:
        resolve_uri(uri)
    message = str(info.value)
    assert "must not carry credentials" in message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "SuperSecret123" not in message
    assert "AKIAEXAMPLE" not in message


@pytest.mark.parametrize(
    "uri",
    [
        "s3://team-news/lake?X-Amz-Signature=SuperSecret123&X-Amz-Credential=AKIAEXAMPLE",
        "s3://team-news/lake?aws_secret_access_key=SuperSecret123",
        "file:///srv/lake#token=SuperSecret123",
    ],
)
def test_query_strings_are_refused_without_echoing_them(uri: str) -> None:
    with pytest.raises(LakeError) as info:
        resolve_uri(uri)
    message = str(info.value)
    assert "query strings and fragments are not supported" in message
    assert "SuperSecret123" not in message
    assert "AKIAEXAMPLE" not in message


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "empty lake URI"),
        ("gs://bucket/x", "unsupported scheme 'gs'"),
        ("https://example.com/lake", "unsupported scheme 'https'"),
        ("s3://Bad_Bucket/x", "'Bad_Bucket' is not a valid S3 bucket name"),
        ("s3://ab/x", "'ab' is not a valid S3 bucket name"),
        ("s3://bucket/a//b", "empty, '.' or '..' segment in the prefix"),
        ("s3://bucket/a/../b", "empty, '.' or '..' segment in the prefix"),
        ("s3://bucket/x?versionId=3", "query strings and fragments are not supported"),
        ("file://fileserver/share/lake", "file:// URIs must be local"),
    ],
)
def test_bad_uris(uri: str, message: str) -> None:
    with pytest.raises(LakeError) as info:
        resolve_uri(uri)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_open_store_picks_the_store_and_round_trips(tmp_path: Path) -> None:
    local = open_store(tmp_path / "lake")
    assert isinstance(local, LocalStore)
    assert local.uri == str(tmp_path.resolve() / "lake")
    assert open_store(local.uri).uri == local.uri
    assert open_store(f"file://{tmp_path}/lake").uri == local.uri
    s3 = open_store("s3://team-news/lake/")
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.prefix, s3.uri) == ("team-news", "lake", "s3://team-news/lake")
    assert open_store(s3.uri).uri == s3.uri
