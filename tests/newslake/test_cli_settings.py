"""`--setting KEY=VALUE` on `newslake crawl` and `newslake backfill`: parsed, checked, refused."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from newslake.crawl_settings import parse_setting, parse_settings

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture


def test_values_are_read_as_json_then_as_text() -> None:
    assert parse_settings(
        [
            "DOWNLOAD_DELAY=0",
            "AUTOTHROTTLE_ENABLED=false",
            "NEWSLAKE_WP_PROBE=False",
            "CONCURRENT_REQUESTS_PER_DOMAIN=8",
            "NEWSLAKE_RETRY_AFTER_MAX=2.5",
            "RETRY_HTTP_CODES=[500, 503]",
            "LOG_LEVEL=WARNING",
            "LOG_LEVEL=DEBUG",  # the later one wins
        ]
    ) == {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "NEWSLAKE_WP_PROBE": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "NEWSLAKE_RETRY_AFTER_MAX": 2.5,
        "RETRY_HTTP_CODES": [500, 503],
        "LOG_LEVEL": "DEBUG",
    }
    assert parse_settings([]) is None
    assert parse_setting("USER_AGENT=a=b") == ("USER_AGENT", "a=b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DOWNLOAD_DELAY", "--setting 'DOWNLOAD_DELAY': expected KEY=VALUE, e.g. DOWNLOAD_DELAY=0"),
        ("=1", "--setting '=1': expected KEY=VALUE, e.g. DOWNLOAD_DELAY=0"),
        (
            "DOWNLOAD_DELAI=0",
            "--setting 'DOWNLOAD_DELAI=0': DOWNLOAD_DELAI is not a Scrapy or newslake setting"
            " (see spiders/settings.py and Scrapy's settings reference)",
        ),
        (
            "DOWNLOAD_DELAY=fast",
            "--setting 'DOWNLOAD_DELAY=fast': expected a number for DOWNLOAD_DELAY (default 1.0)",
        ),
        (
            "AUTOTHROTTLE_ENABLED=0",
            "--setting 'AUTOTHROTTLE_ENABLED=0': expected true or false for AUTOTHROTTLE_ENABLED"
            " (default True)",
        ),
        (
            "RETRY_HTTP_CODES=500",
            "--setting 'RETRY_HTTP_CODES=500': expected a JSON list for RETRY_HTTP_CODES"
            " (default [429, 500, 502, 503, 504, 522, 524, 408])",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_setting(text)
    assert str(caught.value) == message


@pytest.mark.parametrize("command", ["crawl", "backfill"])
def test_the_cli_exits_2_on_a_bad_setting_before_crawling(newslake: Runner, command: str) -> None:
    args = ["--setting", "DOWNLOAD_DELAY=fast", "--lake", "/nonexistent/never-created"]
    if command == "backfill":
        args += ["--source", "civil-ge", "--since", "2024-01-01", "--until", "2024-01-02"]
    result = newslake(command, *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: --setting 'DOWNLOAD_DELAY=fast': expected a number for DOWNLOAD_DELAY (default 1.0)"
    )
