"""Dated archive pages as a discovery source for backfills.

A catalogue entry may declare archive templates such as
`https://civil.ge/archives/date/{yyyy}/{mm}/{dd}/` with a `pagination` suffix
(`page/{n}/`, appended for pages 2..max_pages). A backfill expands the template for each day
of its chunk, reads the listing's links, and follows the pagination until a page is missing
(404), adds no new link, or `max_pages` is reached. Links pass through the candidate filters
(the source's hosts and URL patterns) like feed entries; the archive day is the entry's
publication hint, read as a local day in the source's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from parsel import Selector

from spiders.discovery import Discovered
from spiders.extraction.api import PageHints

# Where the listing's article links live, most specific first; the whole page as a last resort.
_LISTING_SCOPES = ("article", "main", "#content, .content, #main")


def expand(template: str, day: date) -> str:
    """The archive URL of `day`: {yyyy} {mm} {dd} filled in."""
    return (
        template.replace("{yyyy}", f"{day.year:04d}")
        .replace("{mm}", f"{day.month:02d}")
        .replace("{dd}", f"{day.day:02d}")
    )


def page_url(day_url: str, pagination: str | None, page: int) -> str | None:
    """URL of listing page `page` (1 = the day's URL itself); None without pagination."""
    if page == 1:
        return day_url
    if not pagination:
        return None
    return urljoin(day_url, pagination.replace("{n}", str(page)))


def listing_links(body: bytes | str, url: str, *, day: date, zone: ZoneInfo) -> list[Discovered]:
    """Links of an archive listing page, in page order, each once.

    Links inside <article> elements (else <main>, else the content block, else the page) are
    taken: navigation, footer and sidebar links are not candidates. The day is the hint.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    page = Selector(text=text)
    hrefs: list[str] = []
    for scope in _LISTING_SCOPES:
        hrefs = page.css(scope).css("a::attr(href)").getall()
        if hrefs:
            break
    else:
        hrefs = page.css("a::attr(href)").getall()
    published = datetime.combine(day, time(12), zone).astimezone(UTC)
    seen: set[str] = set()
    found: list[Discovered] = []
    for href in hrefs:
        link = urljoin(url, href.strip())
        if not href.strip() or href.startswith("#") or link in seen:
            continue
        seen.add(link)
        found.append(Discovered(link, PageHints(discovered_via="link"), published=published))
    return found
