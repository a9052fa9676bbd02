"""`--setting KEY=VALUE` of `newslake crawl` and `newslake backfill`: crawl settings per run.

KEY is a Scrapy setting or one of newslake's (spiders/settings.py); VALUE is read as JSON when
it is JSON (`0`, `2.5`, `true`, `[429, 503]`), `True`/`False` as booleans, anything else as
text. A value whose kind does not match the setting's default (text for a number, a number for
a switch) is refused here, with the setting named, rather than failing inside the crawl.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from scrapy.settings import default_settings

from spiders import settings as newslake_settings

_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _defaults() -> dict[str, Any]:
    known = {n: getattr(default_settings, n) for n in dir(default_settings) if _KEY.match(n)}
    known.update(
        {n: getattr(newslake_settings, n) for n in dir(newslake_settings) if _KEY.match(n)}
    )
    return known


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text in ("True", "False"):
        return text == "True"
    return text


def _kind_problem(default: Any, value: Any) -> str | None:
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(default, int | float):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        return None if numeric else "expected a number"
    if isinstance(default, list | tuple):
        return None if isinstance(value, list) else "expected a JSON list"
    if isinstance(default, dict):
        return None if isinstance(value, dict) else "expected a JSON object"
    return None


def parse_setting(text: str) -> tuple[str, Any]:
    """One `KEY=VALUE` as (key, value); ValueError with a message naming the problem."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"--setting {text!r}: expected KEY=VALUE, e.g. DOWNLOAD_DELAY=0")
    known = _defaults()
    if key not in known:
        raise ValueError(
            f"--setting {text!r}: {key} is not a Scrapy or newslake setting"
            " (see spiders/settings.py and Scrapy's settings reference)"
        )
    default = known[key]
    value = _value(raw.strip())
    if isinstance(default, str) and not isinstance(value, str):
        value = raw.strip()  # LOG_LEVEL=20 is the text "20", as Scrapy would read it
    problem = _kind_problem(default, value)
    if problem:
        raise ValueError(f"--setting {text!r}: {problem} for {key} (default {default!r})")
    return key, value


def parse_settings(texts: Iterable[str] | None) -> dict[str, Any] | None:
    """The settings of repeated `--setting` options (a later KEY wins); None when none given."""
    settings = dict(parse_setting(text) for text in texts or ())
    return settings or None
