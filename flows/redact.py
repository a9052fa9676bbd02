"""Secrets never reach logs or Prefect: log records are masked, credential parameters refused.

Credentials reach newslake only through the environment or boto3's standard chain, so they
should never be in a message; this is the net under that rule. `redact_text` masks the values
of AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN wherever they appear, the user:password@ part
of URLs, signed-URL query parameters (X-Amz-Signature, X-Amz-Credential,
X-Amz-Security-Token, token=, password=...), Authorization headers and `secret_key=...`-style
assignments.

`install()` (called by flows.runtime.prefect_defaults, so by every flow module and the CLI)
masks every log record of the process, Prefect's run logs included, and makes Prefect refuse a
flow call whose parameters carry credentials (a `lake` URI with user:password@, a `settings`
header named Authorization...) before it records the parameters: Prefect keeps them in its
database and shows them in its UI. What it records is masked as well. Loading stays cheap:
Prefect is patched when it is imported, not imported here.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
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


class CredentialsInParameters(ValueError):
    """A flow was called with credentials in its parameters (the message names only where)."""


def check_parameters(flow_name: str, parameters: Mapping[str, Any]) -> None:
    """Refuse parameters that carry credentials, naming them but never their values."""
    found = [path for name, value in parameters.items() for path in find_secrets(value, name)]
    if found:
        raise CredentialsInParameters(
            f"flow {flow_name!r}: {', '.join(found)} carr{'y' if len(found) > 1 else 'ies'}"
            " credentials; Prefect records flow parameters, so give credentials through the"
            " environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) instead"
        )


def _guard(flow_class: Any) -> None:
    """Wrap Prefect's Flow.serialize_parameters, which every flow-run creation goes through."""
    original = flow_class.serialize_parameters
    if getattr(original, "_newslake_guard", False):
        return

    def serialize_parameters(self: Any, parameters: dict[str, Any]) -> dict[str, Any]:
        check_parameters(self.name, parameters)
        serialized: dict[str, Any] = redact_value(original(self, parameters))
        return serialized

    serialize_parameters._newslake_guard = True  # type: ignore[attr-defined]
    flow_class.serialize_parameters = serialize_parameters


class _GuardOnImport(importlib.abc.MetaPathFinder):
    """Patches prefect.flows right after it is first imported (loading it here costs seconds)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "prefect.flows":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        load = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            _guard(module.Flow)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Mask secrets in all logging, and guard Prefect's recorded parameters (idempotent)."""
    install_log_redaction()
    flows_module = sys.modules.get("prefect.flows")
    if flows_module is not None:
        _guard(flows_module.Flow)
    elif not any(isinstance(f, _GuardOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _GuardOnImport())
