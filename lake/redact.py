"""Secrets out of text: what log lines, error messages and recorded parameters must never hold.

Credentials reach newslake only through the environment or boto3's standard chain, so they
should never be in a message; this is the net under that rule. It masks the values of
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN wherever they appear, the user:password@ part of
URLs, signed-URL query parameters (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token,
token=, password=...), Authorization headers and `secret_key=...`-style assignments.
`install_log_redaction()` applies it to every log record of the process.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# Shorter values would mask ordinary words; real secrets are far longer.
_MIN_SECRET = 8

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"<>]+@")
_SIGNED = re.compile(
    r"(?i)\b(x-amz-(?:signature|credential|security-token)=)[^&\s'\"<>]+",
)
_QUERY = re.compile(
    r"(?i)([?&;](?:signature|awsaccesskeyid|access_token|token|secret|password|passwd|pwd"
    r"|api_key|apikey|sig|auth)=)[^&\s'\"#<>]+",
)
_AUTH_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization\b['\"]?\s*[:=]\s*)(?:(['\"])(?:(?!\2).)*\2|[^\n]*)",
)
_ASSIGNMENT = re.compile(
    r"(?i)(\b(?:aws_)?(?:secret_access_key|secret_key|session_token|security_token|password)"
    r"\b['\"]?\s*[:=]\s*)(['\"]?)[^\s'\",}]+\2",
)
# Mapping keys whose values are secrets whatever they look like.
_SECRET_NAME = re.compile(
    r"(?i)^(?:proxy-)?authorization$|password|passwd|secret|token|api[_-]?key|credential"
    r"|^cookie$|^x-amz-signature$",
)


def _secret_values() -> list[str]:
    values = (os.environ.get(name, "") for name in SECRET_ENV)
    return sorted({v for v in values if len(v) >= _MIN_SECRET}, key=len, reverse=True)


def redact_text(text: str) -> str:
    """`text` with every secret it holds replaced by ***."""
    for value in _secret_values():
        text = text.replace(value, MASK)
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _SIGNED.sub(rf"\1{MASK}", text)
    text = _QUERY.sub(rf"\1{MASK}", text)
    text = _AUTH_HEADER.sub(rf"\1{MASK}", text)
    return _ASSIGNMENT.sub(rf"\1{MASK}", text)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact_value(value: Any) -> Any:
    """A copy of a JSON-like value with secrets masked (strings, and values of secret keys)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (MASK if is_secret_name(str(k)) and v not in (None, "") else redact_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def find_secrets(value: Any, where: str) -> list[str]:
    """Where in `value` secrets are, as paths like "settings['HEADERS']['Authorization']".

    The paths name keys only, never the secret itself, so they are safe to show.
    """
    if isinstance(value, str):
        return [where] if redact_text(value) != value else []
    found: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            path = f"{where}[{str(k)!r}]"
            if is_secret_name(str(k)) and v not in (None, ""):
                found.append(path)
            else:
                found.extend(find_secrets(v, path))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found.extend(find_secrets(v, f"{where}[{i}]"))
    return found


_installed = False


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it itself when it formats
        return
    clean = redact_text(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters use exc_text when it is set: a traceback's messages are masked too.
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))


def install_log_redaction() -> None:
    """Mask secrets in every log record created from now on, by any logger (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
