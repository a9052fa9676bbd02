"""The extraction contract shared by the spider, `newslake extract` and the benchmarks.

`spiders.extraction.extract_article` (article.py) returns these keys (plain Python values;
datetimes timezone-aware in UTC):

    canonical_url, title, subtitle, authors, published_at, published_at_source,
    published_at_raw, modified_at, language, language_declared, language_detected,
    section, tags, body, images, syndicated_from, translations, machine_translated

Everything else in a schema row (ids, hashes, run, fetch and source fields) is added by
`spiders.rows.build_row`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

# Goes into every row's `extractor`: a re-parse with other code is a new, traceable version.
EXTRACTOR = f"newslake-extract/0.1 trafilatura/{version('trafilatura')}"


@dataclass(frozen=True)
class PageHints:
    """What discovery learned about a URL before it was fetched (feed entry, sitemap entry)."""

    discovered_via: str = "link"  # feed | sitemap | api | link | file
    feed_title: str | None = None
    feed_published: str | None = None  # raw text, as the feed gave it
    feed_authors: tuple[str, ...] = ()
    feed_tags: tuple[str, ...] = ()
    sitemap_lastmod: str | None = None
    sitemap_published: str | None = None  # news:publication_date
    sitemap_title: str | None = None  # news:title
    sitemap_language: str | None = None  # news:language


class NotAnArticle(Exception):
    """The page must not land; `reason` is a key of schemas.REJECT_REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
