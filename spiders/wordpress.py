"""The WordPress REST API as a discovery source for backfills: the posts of one day, paged.

`GET <api>?after=..&before=..&per_page=100&page=N&_fields=link,date_gmt,modified_gmt` lists
posts with their permalink (`link`) and publication time in UTC (`date_gmt`). WordPress
compares `after` and `before` with `post_date`, the site's *local* time, and both bounds are
exclusive, so a day's query asks for the local days around it (from the day before to the
day after) and the UTC day is then cut exactly with `date_gmt`. `X-WP-TotalPages` says how
many pages there are.

A source uses the API when its catalogue entry declares `wordpress_api`, or, when it does
not, when the conventional endpoint `<scheme>://<host>/wp-json/wp/v2/posts` answers the day's
query with a JSON list (the probe is the first real query, so it costs no extra request).
Anything else (404, an HTML page, 401 from a site that closed the API) means "no API": the
backfill falls back to the other discovery sources and the crawl's stats say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urljoin, urlsplit

from spiders.discovery import Discovered, parse_hint_date
from spiders.extraction.api import PageHints

PER_PAGE = 100
FIELDS = "link,date_gmt,modified_gmt"
CONVENTIONAL_PATH = "/wp-json/wp/v2/posts"


def conventional_api(homepage: str) -> str:
    """Where a WordPress site answers the posts endpoint when nobody told us otherwise."""
    parts = urlsplit(homepage)
    return urljoin(f"{parts.scheme}://{parts.netloc}/", CONVENTIONAL_PATH.lstrip("/"))


def posts_query(api: str, day: date, page: int = 1, last_day: date | None = None) -> str:
    """The query URL for the posts published (in UTC) on `day`..`last_day`, page `page`.

    Local-time bounds one day wider on each side, because `after`/`before` compare with the
    site's local post_date: any UTC offset up to a day is covered and date_gmt cuts exactly.
    """
    last = last_day or day
    params = {
        "after": f"{(day - timedelta(days=1)).isoformat()}T00:00:00",
        "before": f"{(last + timedelta(days=2)).isoformat()}T00:00:00",
        "per_page": str(PER_PAGE),
        "page": str(page),
        "_fields": FIELDS,
        "orderby": "date",
        "order": "asc",
    }
    separator = "&" if urlsplit(api).query else "?"
    return api + separator + urlencode(params)


@dataclass
class PostsPage:
    """One page of the posts endpoint: its entries, or why it is not a usable answer."""

    entries: list[Discovered] = field(default_factory=list)
    total_pages: int = 1
    problem: str | None = None  # "wp_api_not_json" | "wp_api_not_posts"


def parse_posts(
    body: bytes, url: str, *, content_type: str | None, total_pages: str | None
) -> PostsPage:
    """Entries (link, with date_gmt as `published` and modified_gmt as `lastmod`) of a page."""
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and not (mime == "application/json" or mime.endswith("+json")):
        return PostsPage(problem="wp_api_not_json")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return PostsPage(problem="wp_api_not_json")
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        return PostsPage(problem="wp_api_not_posts")
    entries: list[Discovered] = []
    for post in data:
        link = post.get("link")
        if not isinstance(link, str) or not link.strip():
            continue
        published = _gmt(post.get("date_gmt"))
        entries.append(
            Discovered(
                url=urljoin(url, link.strip()),
                hints=PageHints(discovered_via="api"),
                published=published,
                lastmod=_gmt(post.get("modified_gmt")),
            )
        )
    try:
        pages = max(1, int(total_pages)) if total_pages else 1
    except ValueError:
        pages = 1
    return PostsPage(entries, pages)


def _gmt(value: object) -> datetime | None:
    # date_gmt has no offset and is UTC, which is how parse_hint_date reads naive values.
    return parse_hint_date(value) if isinstance(value, str) else None
