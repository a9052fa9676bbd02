"""Lake URIs: a folder path, file:// or s3://bucket/prefix, and never one that carries secrets."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lake.errors import LakeError

DEFAULT_LAKE = "./lake"
LAKE_ENV = "NEWSLAKE_LAKE"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# S3 bucket naming rules (also what MinIO and R2 accept).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class LakeURI:
    """Where a lake lives: `kind` is "local" (with `path`) or "s3" (with `bucket` and `prefix`)."""

    kind: str
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    def __str__(self) -> str:
        if self.kind == "local":
            return str(self.path)
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def resolve_uri(uri: str | os.PathLike[str] | None = None) -> LakeURI:
    """Parse a lake location; None means $NEWSLAKE_LAKE or ./lake. Raises LakeError."""
    if uri is None:
        uri = os.environ.get(LAKE_ENV) or DEFAULT_LAKE
    text = os.fspath(uri).strip()
    if not text:
        raise LakeError("empty lake URI: give a folder path, file:///path or s3://bucket/prefix")
    match = _SCHEME.match(text)
    if match is None:
        return LakeURI("local", path=Path(text).expanduser().resolve())
    scheme = match.group(1).lower()
    parts = urlsplit(text)
    if "@" in parts.netloc:
        # Never echo the URI: it holds a secret.
        raise LakeError(
            f"{scheme}:// lake URI must not carry credentials (user:password@); use the standard"
            " AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) instead"
        )
    if parts.query or parts.fragment:
        # Not echoed whole: a query string may hold a signature or a token.
        bare = text.split("?", 1)[0].split("#", 1)[0]
        raise LakeError(
            f"lake URI {bare!r}: query strings and fragments are not supported (credentials"
            " come from the environment, never from the URI)"
        )
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise LakeError(f"lake URI {text!r}: file:// URIs must be local (file:///path)")
        path = unquote(parts.path)
        if not path:
            raise LakeError(f"lake URI {text!r}: no path")
        return LakeURI("local", path=Path(path).resolve())
    if scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise LakeError(f"lake URI {text!r}: {bucket!r} is not a valid S3 bucket name")
        prefix = parts.path.strip("/")
        if prefix and any(seg in ("", ".", "..") for seg in prefix.split("/")):
            raise LakeError(f"lake URI {text!r}: empty, '.' or '..' segment in the prefix")
        return LakeURI("s3", bucket=bucket, prefix=prefix)
    raise LakeError(
        f"lake URI {text!r}: unsupported scheme {scheme!r}; use a folder path, file:///path"
        " or s3://bucket/prefix (S3-compatible stores via AWS_ENDPOINT_URL)"
    )
