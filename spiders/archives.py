"""Dated archive pages as a discovery source for backfills.

A catalogue entry may declare archive templates such as
`https://civil.ge/archives/date/{yyyy}/{mm}/{dd}/` with a `pagination` suffix
(`page/{n}/`, appended for pages 2..max_pages; spiders.catalogue.Archive expands both). A
backfill asks for each day of its chunk, reads the listing's links, and follows the
pagination until a page is missing (404), adds no new link, or `max_pages` is reached. Links
pass through the candidate filters (the source's hosts and URL patterns) like feed entries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import urljoin

from parsel import Selector

from spiders.discovery import Discovered
from spiders.extraction.api import PageHints

# Where the listing's article links live, most specific first; the whole page as a last resort.
_LISTING_SCOPES = ("article", "main", "#content, .content, #main")


def listing_links(body: bytes | str, url: str, *, day: date) -> list[Discovered]:
    """Links of an archive listing page, in page order, each once.

    Links inside <article> elements (else <main>, else the content block, else the page) are
    taken: navigation, footer and sidebar links are not candidates.
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
    # Noon UTC of the archive day: the listing belongs to the chunk that asked for that day
    # (the archive's local day and the article's UTC day may differ; the page decides).
    published = datetime.combine(day, time(12), UTC)
    seen: set[str] = set()
    found: list[Discovered] = []
    for href in hrefs:
        link = urljoin(url, href.strip())
        if not href.strip() or href.startswith("#") or link in seen:
            continue
        seen.add(link)
        found.append(Discovered(link, PageHints(discovered_via="link"), published=published))
    return found
