"""Backfill listings parsed without a crawl: WordPress REST API pages and dated archives."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from spiders.archives import listing_links
from spiders.wordpress import conventional_api, parse_posts, posts_query

API = "https://example.ge/wp-json/wp/v2/posts"


def test_posts_query_asks_for_the_local_days_around_the_utc_day() -> None:
    url = posts_query(API, date(2024, 5, 3), 2)
    assert url.startswith(API + "?")
    assert parse_qs(urlsplit(url).query) == {
        "after": ["2024-05-02T00:00:00"],
        "before": ["2024-05-05T00:00:00"],
        "per_page": ["100"],
        "page": ["2"],
        "_fields": ["link,date_gmt,modified_gmt"],
        "orderby": ["date"],
        "order": ["asc"],
    }


def test_the_conventional_api_is_at_the_site_root() -> None:
    assert conventional_api("https://example.ge/en/") == API


def test_parse_posts_reads_links_and_gmt_dates() -> None:
    body = json.dumps(
        [
            {
                "link": "https://example.ge/2024/05/03/a/",
                "date_gmt": "2024-05-03T21:30:00",
                "modified_gmt": "2024-05-04T08:00:00",
            },
            {"link": "", "date_gmt": "2024-05-03T10:00:00"},
            {"link": "/2024/05/03/b/", "date_gmt": None},
        ]
    ).encode()
    page = parse_posts(body, API, content_type="application/json; charset=UTF-8", total_pages="3")
    assert page.problem is None
    assert page.total_pages == 3
    assert [(e.url, e.published, e.lastmod, e.hints.discovered_via) for e in page.entries] == [
        (
            "https://example.ge/2024/05/03/a/",
            datetime(2024, 5, 3, 21, 30, tzinfo=UTC),
            datetime(2024, 5, 4, 8, tzinfo=UTC),
            "api",
        ),
        ("https://example.ge/2024/05/03/b/", None, None, "api"),
    ]


def test_parse_posts_refuses_what_is_not_the_api() -> None:
    html = b"<html><body>Not found</body></html>"
    assert parse_posts(html, API, content_type="text/html", total_pages=None).problem == (
        "wp_api_not_json"
    )
    assert parse_posts(b"{}", API, content_type="application/json", total_pages=None).problem == (
        "wp_api_not_posts"
    )
    assert parse_posts(b"[", API, content_type=None, total_pages=None).problem == "wp_api_not_json"


def test_archive_listing_links_come_from_the_articles_with_the_day_as_hint() -> None:
    html = b"""<html><body><nav><a href="/about/">About</a></nav>
    <main><article><h2><a href="/2024/05/03/a/">A</a></h2><a href="/2024/05/03/a/#c">c</a></article>
    <article><h2><a href="https://example.ge/2024/05/03/b/">B</a></h2></article></main>
    <footer><a href="/contact/">Contact</a></footer></body></html>"""
    links = listing_links(
        html,
        "https://example.ge/archives/2024/05/03/",
        day=date(2024, 5, 3),
    )
    assert [(d.url, d.published, d.hints.discovered_via) for d in links] == [
        ("https://example.ge/2024/05/03/a/", datetime(2024, 5, 3, 12, tzinfo=UTC), "link"),
        ("https://example.ge/2024/05/03/a/#c", datetime(2024, 5, 3, 12, tzinfo=UTC), "link"),
        ("https://example.ge/2024/05/03/b/", datetime(2024, 5, 3, 12, tzinfo=UTC), "link"),
    ]
