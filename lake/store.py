"""Object stores under a lake root: a local folder or S3 (the only module that imports boto3).

Keys are relative to the lake root and always use "/" ("runs/<run>/<source>.json"). Both stores
behave like S3: writes are all-or-nothing, create-only writes are atomic, and there are no
directories, only keys (S3 never gets zero-byte "folder" objects).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import pyarrow.fs as pafs
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from lake.errors import AlreadyExists, LakeError, NotFound
from lake.uri import LakeURI, resolve_uri

TMP_DIR = "_tmp"  # local only: staging area for atomic writes, never listed

MULTIPART_THRESHOLD = 64 * 1024 * 1024
_GET_WORKERS = 16


def check_key(key: str) -> str:
    """Refuse keys that would escape the root or look different on disk and on S3."""
    if not key or key.startswith("/") or "\\" in key:
        raise LakeError(f"invalid lake key {key!r}: must be a relative path with '/' separators")
    segments = key.split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        raise LakeError(f"invalid lake key {key!r}: empty, '.' or '..' segment")
    if segments[0] == TMP_DIR:
        raise LakeError(f"invalid lake key {key!r}: {TMP_DIR}/ is reserved")
    return key


class Store(ABC):
    """A flat key space of immutable objects under one lake root."""

    lake: LakeURI

    @property
    def uri(self) -> str:
        """The canonical lake URI (absolute path or s3://bucket/prefix); open_store() takes it."""
        return str(self.lake)

    @abstractmethod
    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        """Write `data` at `key`; with if_absent, raise AlreadyExists rather than overwrite."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Upload the file at `path` (large files in parts); it replaces any object at `key`."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; raises NotFound."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with `prefix` (a string prefix, as on S3), in sorted order."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error (as on S3)."""

    @abstractmethod
    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow filesystem and the base path that keys are relative to."""

    def get_file(self, key: str, path: Path) -> None:
        """Download the object to the file at `path` (replaced); raises NotFound."""
        Path(path).write_bytes(self.get(key))

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """(key, bytes) for each key, in order."""
        for key in keys:
            yield key, self.get(key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


class LocalStore(Store):
    """A folder on a local (or mounted) filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.lake = LakeURI("local", path=self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _staging(self) -> Path:
        tmp = self.root / TMP_DIR
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp / f"{uuid.uuid4().hex}.tmp"

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._staging()
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if if_absent:
                self._link_absent(tmp, final, key)
            else:
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _link_absent(tmp: Path, final: Path, key: str) -> None:
        # A hard link publishes the complete file atomically and fails if the name exists.
        try:
            os.link(tmp, final)
        except FileExistsError:
            raise AlreadyExists(key) from None
        except OSError:
            # Filesystems without hard links: exclusive create is still create-only, though a
            # concurrent reader could see the file before it is complete.
            try:
                with open(final, "xb") as out, open(tmp, "rb") as src:
                    shutil.copyfileobj(src, out)
            except FileExistsError:
                raise AlreadyExists(key) from None

    def put_file(self, key: str, path: Path) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._staging()
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(key) from None

    def get_file(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            if rel == ".":
                rel = ""
                dirnames[:] = [d for d in dirnames if d != TMP_DIR]
            for name in filenames:
                key = f"{rel}/{name}" if rel else name
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Keep the folder tree free of empty directories, like S3's key space.
        parent = path.parent
        while parent != self.root and parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), self.root.as_posix()


class S3Store(Store):
    """A bucket and prefix on S3 or an S3-compatible server (MinIO, R2, a test server).

    Credentials, region and endpoint come from boto3's standard chain (environment, profiles,
    instance roles; AWS_ENDPOINT_URL for other servers). They are never stored or logged.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        max_attempts: int = 5,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.lake = LakeURI("s3", bucket=self.bucket, prefix=self.prefix)
        self._session = boto3.session.Session()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=_GET_WORKERS * 2,
        )
        self._client = self._session.client("s3", config=self._config)
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=4,
        )
        self._fs: tuple[pafs.FileSystem, str] | None = None

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _where(self, key: str) -> str:
        # Also used for list prefixes ("runs/"), which are not valid keys: do not check.
        return (
            f"s3://{self.bucket}/{self.prefix}/{key}"
            if self.prefix
            else f"s3://{self.bucket}/{key}"
        )

    def _error(self, op: str, key: str, exc: Exception) -> LakeError:
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            detail = f"{err.get('Code', '?')}: {err.get('Message', '')}".rstrip(": ")
        elif isinstance(exc, botocore.exceptions.NoCredentialsError):
            detail = "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        return LakeError(f"S3 {op} {self._where(key) if key else self.uri} failed: {detail}")

    @staticmethod
    def _code(exc: botocore.exceptions.ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if if_absent:
            # Stores that ignore If-None-Match would overwrite: check first as well.
            if self.exists(key):
                raise AlreadyExists(key)
            args["IfNoneMatch"] = "*"
        for attempt in range(4):
            try:
                self._client.put_object(**args)
                return
            except botocore.exceptions.ClientError as exc:
                code = self._code(exc)
                if if_absent and code in ("PreconditionFailed", "412"):
                    raise AlreadyExists(key) from None
                # S3 answers 409 while a concurrent conditional write to the key is in flight.
                if if_absent and code == "ConditionalRequestConflict" and attempt < 3:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise self._error("put", key, exc) from None
            except botocore.exceptions.BotoCoreError as exc:
                raise self._error("put", key, exc) from None

    def put_file(self, key: str, path: Path) -> None:
        try:
            self._client.upload_file(str(path), self.bucket, self._key(key), Config=self._transfer)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("upload", key, exc) from None
        except boto3.exceptions.S3UploadFailedError as exc:
            raise LakeError(f"S3 upload {self._where(key)} failed: {exc}") from None

    def get(self, key: str) -> bytes:
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            with contextlib.closing(body):
                data: bytes = body.read()
            return data
        except botocore.exceptions.ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                raise NotFound(key) from None
            raise self._error("get", key, exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("get", key, exc) from None

    def get_file(self, key: str, path: Path) -> None:
        # Streams in parts: a run's WARC can be far larger than memory should hold.
        try:
            self._client.download_file(
                self.bucket, self._key(key), str(path), Config=self._transfer
            )
        except botocore.exceptions.ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                raise NotFound(key) from None
            raise self._error("download", key, exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("download", key, exc) from None

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        keys = list(keys)
        if len(keys) <= 1:
            yield from super().get_many(keys)
            return
        # Many small objects (manifests): latency dominates, so fetch in parallel.
        with ThreadPoolExecutor(max_workers=_GET_WORKERS) as pool:
            yield from zip(keys, pool.map(self.get, keys), strict=True)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except botocore.exceptions.ClientError as exc:
            if self._code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error("head", key, exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("head", key, exc) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=root + prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(root) :]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("list", prefix, exc) from None

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("delete", key, exc) from None

    def arrow_filesystem(self) -> tuple[pafs.FileSystem, str]:
        if self._fs is None:
            self._fs = (self._arrow_s3(), f"{self.bucket}/{self.prefix}".rstrip("/"))
        return self._fs

    def _arrow_s3(self) -> pafs.S3FileSystem:
        """pyarrow's S3 client, configured from what boto3 resolved, so both reach one place."""
        credentials = self._session.get_credentials()
        if credentials is None:
            raise LakeError(
                f"no AWS credentials found to read {self.uri}: set AWS_ACCESS_KEY_ID and"
                " AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            )
        frozen = credentials.get_frozen_credentials()
        options: dict[str, Any] = {
            "access_key": frozen.access_key,
            "secret_key": frozen.secret_key,
            "session_token": frozen.token,
            "connect_timeout": 10,
            "request_timeout": 60,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=5),
        }
        endpoint = urlsplit(self._client.meta.endpoint_url or "")
        custom = endpoint.hostname is not None and not endpoint.hostname.endswith(".amazonaws.com")
        region = self._session.region_name
        if custom:
            # MinIO, R2, moto: explicit endpoint; region only matters for signing.
            options["endpoint_override"] = endpoint.netloc
            options["scheme"] = endpoint.scheme or "https"
            options["region"] = region or "us-east-1"
        elif region:
            options["region"] = region
        else:
            try:
                options["region"] = pafs.resolve_s3_region(self.bucket)
            except OSError as exc:
                raise LakeError(f"cannot find the region of bucket {self.bucket}: {exc}") from None
        return pafs.S3FileSystem(**options)


def open_store(uri: str | os.PathLike[str] | None = None) -> Store:
    """The store for a lake URI (None: $NEWSLAKE_LAKE or ./lake). No network I/O happens here."""
    lake = resolve_uri(uri)
    if lake.kind == "local":
        assert lake.path is not None
        return LocalStore(lake.path)
    return S3Store(lake.bucket, lake.prefix)
