"""Object stores under a lake root: a local folder or S3 (the only module that imports boto3).

Keys are relative to the lake root and always use "/" ("runs/<run>/<source>.json"). Both stores
behave like S3: writes are all-or-nothing, create-only writes are atomic, and there are no
directories, only keys (S3 never gets zero-byte "folder" objects).

On S3, botocore retries what is worth retrying (5xx, throttling, resets, timeouts) with
jittered backoff, within the bounds of S3Settings (environment knobs NEWSLAKE_S3_*). A
create-only write whose outcome is unknown (the response was lost, or a 412 arrived for a
write that may have been our own retry) is settled by reading the object back: our bytes mean
success, other bytes AlreadyExists, no object a new attempt. An error that survives the
retries is a LakeError naming the operation, the object, the attempts and the cause.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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

log = logging.getLogger(__name__)

# botocore's messages quote the endpoint URL, which could carry user:password@.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@")


def redact_text(text: str) -> str:
    return _USERINFO.sub(r"\1***@", text)


TMP_DIR = "_tmp"  # local only: staging area for atomic writes, never listed

MULTIPART_THRESHOLD = 64 * 1024 * 1024
_GET_WORKERS = 16


def check_key(key: str) -> str:
    """Refuse keys that would escape the root or look different on disk and on S3.

    Besides absolute paths, backslashes and empty, '.' or '..' segments: '%' (tools that
    URL-decode keys, pyarrow's hive partitions among them, would read '%2e%2e' as '..') and
    control characters. No key the lake writes contains them.
    """
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key:
        raise LakeError(f"invalid lake key {key!r}: must be a relative path with '/' separators")
    if "%" in key or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise LakeError(f"invalid lake key {key!r}: '%' and control characters are not allowed")
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

    def size(self, key: str) -> int:
        """The object's size in bytes; raises NotFound. (Stores override this read.)"""
        return len(self.get(key))

    def sizes(self, keys: Iterable[str]) -> Iterator[tuple[str, int | None]]:
        """(key, size in bytes, or None when absent) for each key, in order."""
        for key in keys:
            try:
                yield key, self.size(key)
            except NotFound:
                yield key, None

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
        path = self.root.joinpath(*check_key(key).split("/"))
        # A symbolic link inside the lake must not lead a write (or a read) out of it.
        if not Path(os.path.realpath(path)).is_relative_to(self.root):
            raise LakeError(f"invalid lake key {key!r}: it resolves outside the lake {self.root}")
        return path

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

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(key)
        return path.stat().st_size

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


@dataclass(frozen=True)
class S3Settings:
    """How hard the S3 client tries: botocore's retry mode and attempts, and its timeouts.

    From the environment: NEWSLAKE_S3_MAX_ATTEMPTS (else AWS_MAX_ATTEMPTS, else 5; the first
    try included), NEWSLAKE_S3_RETRY_MODE (else AWS_RETRY_MODE, else "standard"; or
    "adaptive", which also rate-limits the client after throttling), NEWSLAKE_S3_CONNECT_TIMEOUT
    (10 s) and NEWSLAKE_S3_READ_TIMEOUT (60 s: a response that stalls longer is retried).
    """

    max_attempts: int = 5
    retry_mode: str = "standard"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @classmethod
    def from_env(cls) -> S3Settings:
        def number(names: tuple[str, ...], default: float, kind: type) -> Any:
            for name in names:
                text = os.environ.get(name, "").strip()
                if not text:
                    continue
                try:
                    value = kind(text)
                except ValueError:
                    value = 0
                if not value > 0:
                    raise LakeError(f"{name}={text!r}: expected a positive {kind.__name__}")
                return value
            return default

        mode = "standard"
        for name in ("NEWSLAKE_S3_RETRY_MODE", "AWS_RETRY_MODE"):
            text = os.environ.get(name, "").strip().lower()
            if text:
                if text not in ("standard", "adaptive"):
                    raise LakeError(f"{name}={text!r}: expected 'standard' or 'adaptive'")
                mode = text
                break
        return cls(
            max_attempts=number(("NEWSLAKE_S3_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS"), 5, int),
            retry_mode=mode,
            connect_timeout=number(("NEWSLAKE_S3_CONNECT_TIMEOUT",), 10.0, float),
            read_timeout=number(("NEWSLAKE_S3_READ_TIMEOUT",), 60.0, float),
        )


# Rounds of a create-only write whose outcome was unknown and whose object is absent.
CREATE_ROUNDS = 3
_RETRYABLE_EXCEPTIONS = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
)


_STREAM_ERRORS = (
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
    botocore.exceptions.ReadTimeoutError,
)


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
        max_attempts: int | None = None,
        settings: S3Settings | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.lake = LakeURI("s3", bucket=self.bucket, prefix=self.prefix)
        settings = settings or S3Settings.from_env()
        if max_attempts is not None:
            settings = S3Settings(
                max_attempts, settings.retry_mode, settings.connect_timeout, settings.read_timeout
            )
        self.settings = settings
        self._session = boto3.session.Session()
        self._config = Config(
            retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_pool_connections=_GET_WORKERS * 2,
        )
        self._client = self._session.client("s3", config=self._config)
        # Attempts of the current call, per thread (get_many calls from a pool).
        self._tries = threading.local()
        self._client.meta.events.register("before-send.s3", self._count_attempt)
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * 1024 * 1024),
            max_concurrency=4,
        )
        self._fs: tuple[pafs.FileSystem, str] | None = None

    def _count_attempt(self, **_: Any) -> None:
        self._tries.count = getattr(self._tries, "count", 0) + 1

    def _begin(self) -> None:
        self._tries.count = 0

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

    def _attempts(self, exc: BaseException) -> int:
        counted = int(getattr(self._tries, "count", 0))
        if isinstance(exc, botocore.exceptions.ClientError):
            meta = exc.response.get("ResponseMetadata", {})
            return max(counted, int(meta.get("RetryAttempts", 0)) + 1)
        if counted:
            return counted
        # Raised from another thread (s3transfer's): a retryable error means all were spent.
        return self.settings.max_attempts if isinstance(exc, _RETRYABLE_EXCEPTIONS) else 1

    def _error(self, op: str, key: str, exc: BaseException, note: str = "") -> LakeError:
        """'S3 PUT s3://b/p/runs/r/x.json failed after 5 attempts: 503 SlowDown: ...'."""
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = str(err.get("Code") or "?")
            head = f"{status} {code}" if status and str(status) != code else code
            detail = f"{head}: {err.get('Message') or ''}".rstrip(": ")
        elif isinstance(exc, botocore.exceptions.NoCredentialsError):
            detail = "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        attempts = self._attempts(exc)
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        where = self._where(key) if key else self.uri
        text = f"S3 {op} {where} failed{tries}: {detail}{note}"
        return LakeError(redact_text(text))

    @staticmethod
    def _code(exc: botocore.exceptions.ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if not if_absent:
            self._begin()
            try:
                self._client.put_object(**args)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                raise self._error("PUT", key, exc) from None
            return
        # Stores that ignore If-None-Match would overwrite: check first as well.
        if self.exists(key):
            raise AlreadyExists(key)
        args["IfNoneMatch"] = "*"
        self._put_create_only(key, data, args)

    def _put_create_only(self, key: str, data: bytes, args: dict[str, Any]) -> None:
        failure = LakeError(f"S3 PUT {self._where(key)} failed")
        for round_ in range(1, CREATE_ROUNDS + 1):
            self._begin()
            try:
                self._client.put_object(**args)
                return
            except botocore.exceptions.ClientError as exc:
                code = self._code(exc)
                # S3 answers 409 while a concurrent conditional write to the key is in flight.
                if code == "ConditionalRequestConflict" and round_ < CREATE_ROUNDS:
                    time.sleep(0.2 * round_)
                    continue
                precondition = code in ("PreconditionFailed", "412")
                cause: BaseException = exc
            except botocore.exceptions.BotoCoreError as exc:
                precondition, cause = False, exc
            failure = self._error("PUT", key, cause)
            # The outcome is unknown: a 412 may answer our own retried write, and a write
            # whose response was lost may have happened. The object itself tells.
            owner = self._owner(key, data, failure)
            if owner == "ours":
                log.warning(
                    "create-only PUT %s: %s; the object holds our bytes, so it was written",
                    self._where(key),
                    "412 for our own write" if precondition else "the response was lost",
                )
                return
            if owner == "theirs":
                raise AlreadyExists(key) from None
            if not precondition:
                raise failure from None
            # 412 for an absent object: a confused server or proxy. Try again, boundedly.
            log.warning("create-only PUT %s: 412 but no object; trying again", self._where(key))
        raise LakeError(
            f"{failure} ({CREATE_ROUNDS} times, and each time the object was absent)"
        ) from None

    def _owner(self, key: str, data: bytes, failure: LakeError) -> str:
        """Who wrote `key`: "ours" (it holds `data`), "theirs" or "absent"."""
        try:
            held = self.get(key)
        except NotFound:
            return "absent"
        except LakeError as exc:
            raise LakeError(
                f"{failure}; reading it back to learn whether it was written failed too: {exc}"
            ) from None
        return "ours" if held == data else "theirs"

    def put_file(self, key: str, path: Path) -> None:
        self._begin()
        try:
            self._client.upload_file(str(path), self.bucket, self._key(key), Config=self._transfer)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("PUT", key, exc) from None
        except boto3.exceptions.S3UploadFailedError as exc:
            # s3transfer wraps the botocore error of its worker thread.
            inner = exc.__context__
            if isinstance(
                inner, (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
            ):
                raise self._error("PUT", key, inner) from None
            raise LakeError(redact_text(f"S3 PUT {self._where(key)} failed: {exc}")) from None

    def get(self, key: str) -> bytes:
        self._begin()
        attempts = 0
        while True:
            try:
                body = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
                with contextlib.closing(body):
                    data: bytes = body.read()
                return data
            except botocore.exceptions.ClientError as exc:
                if self._code(exc) in ("NoSuchKey", "404"):
                    raise NotFound(key) from None
                raise self._error("GET", key, exc) from None
            except _STREAM_ERRORS as exc:
                # botocore retries the request, not the reading of its body: a connection
                # lost mid-body is retried here, within the same bound.
                attempts += 1
                if attempts >= self.settings.max_attempts:
                    raise self._error("GET", key, exc) from None
                time.sleep(min(0.05 * 2**attempts, 2.0))
            except botocore.exceptions.BotoCoreError as exc:
                raise self._error("GET", key, exc) from None

    def get_file(self, key: str, path: Path) -> None:
        # Streams in parts: a run's WARC can be far larger than memory should hold.
        self._begin()
        try:
            self._client.download_file(
                self.bucket, self._key(key), str(path), Config=self._transfer
            )
        except botocore.exceptions.ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404"):
                raise NotFound(key) from None
            raise self._error("GET", key, exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("GET", key, exc) from None

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        keys = list(keys)
        if len(keys) <= 1:
            yield from super().get_many(keys)
            return
        # Many small objects (manifests): latency dominates, so fetch in parallel.
        with ThreadPoolExecutor(max_workers=_GET_WORKERS) as pool:
            yield from zip(keys, pool.map(self.get, keys), strict=True)

    def _head(self, key: str) -> dict[str, Any] | None:
        self._begin()
        try:
            head: dict[str, Any] = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return head
        except botocore.exceptions.ClientError as exc:
            if self._code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("HEAD", key, exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._error("HEAD", key, exc) from None

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise NotFound(key)
        return int(head["ContentLength"])

    def sizes(self, keys: Iterable[str]) -> Iterator[tuple[str, int | None]]:
        keys = list(keys)
        if len(keys) <= 1:
            yield from super().sizes(keys)
            return
        with ThreadPoolExecutor(max_workers=_GET_WORKERS) as pool:
            heads = pool.map(self._head, keys)
            for key, head in zip(keys, heads, strict=True):
                yield key, None if head is None else int(head["ContentLength"])

    def list(self, prefix: str = "") -> Iterator[str]:
        root = f"{self.prefix}/" if self.prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        self._begin()
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=root + prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"][len(root) :]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("LIST", prefix, exc) from None

    def delete(self, key: str) -> None:
        self._begin()
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._error("DELETE", key, exc) from None

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
            "connect_timeout": self.settings.connect_timeout,
            "request_timeout": self.settings.read_timeout,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(
                max_attempts=self.settings.max_attempts
            ),
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
