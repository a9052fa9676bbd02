from __future__ import annotations

import pytest

from spiders.canonical import canonical_url, strip_tracking


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.AM:80/a/b?utm_source=x&id=3&fbclid=1#frag", "http://example.am/a/b?id=3"),
        ("https://x.am:443/news/?utm_medium=feed&utm_campaign=y", "https://x.am/news/"),
        ("https://x.am/a?b=2&a=1", "https://x.am/a?a=1&b=2"),
        (
            "https://sputnik.example/20240512/story.html?chat_room_id=77",
            "https://sputnik.example/20240512/story.html",
        ),
        ("https://x.am/%d0%b0", "https://x.am/%D0%B0"),
        ("https://x.am", "https://x.am/"),
        ("http://127.0.0.1:8123/post/?yclid=5", "http://127.0.0.1:8123/post/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_relative_urls_resolve_against_base() -> None:
    assert canonical_url("../b/?gclid=1", "https://x.am/a/c/") == "https://x.am/a/b/"


def test_strip_tracking_keeps_order_of_other_parameters() -> None:
    assert strip_tracking("https://x.am/s?q=b&utm_term=z&p=2#top") == "https://x.am/s?q=b&p=2"
