"""extract(): one page in, the extracted fields of an article out (or NotAnArticle).

The page is decoded and parsed once; every step reads the same tree. Cheap rejections (what
the page declares, its URL) come before the body is extracted, the rest right after it; what
the body's cleaning needs (title, standfirst, bylines, captions, the printed date) is read
before, everything else only for pages that will land.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from schemas import word_count
from spiders.catalogue import Source
from spiders.extraction import classify, dates, language, metadata, overrides
from spiders.extraction.api import NotAnArticle, PageHints
from spiders.extraction.body import clean_paragraphs, join_paragraphs, raw_paragraphs
from spiders.extraction.encoding import to_text
from spiders.extraction.images import article_images
from spiders.extraction.page import Page
from spiders.extraction.syndication import find_credit


def extract_article(
    html: str | bytes,
    url: str | None,
    *,
    source: Source | None = None,
    headers: Mapping[str, str] | None = None,
    hints: PageHints | None = None,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """Extract an article from `html` (bytes are decoded using `headers`, the BOM or the meta tag).

    Returns the keys listed in spiders/extraction/api.py. `source` gives the timezone for dates
    printed without an offset and the languages the text may be in; `fetched_at` anchors
    relative dates ("2 hours ago"). Raises NotAnArticle for section, tag, index, error and
    other non-article pages.
    """
    now = fetched_at or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    source_languages = tuple(source.languages) if source else ()
    ctx = dates.context(source.zone if source else UTC, source_languages, now)

    page = Page(to_text(html, headers), url, headers)
    kind = classify.check_page(page)

    lines = raw_paragraphs(page)
    images, caption_texts = article_images(page)
    title = metadata.title(page, source.name if source else None, hints)
    subtitle = metadata.subtitle(page)
    authors = metadata.authors(page)
    published = dates.published_date(page, ctx, hints)
    lines = clean_paragraphs(
        lines,
        headings=(title, subtitle),
        captions=caption_texts,
        bylines=(*authors, published.raw if published.source == "text" else None),
        is_date=lambda line: dates.is_date_line(line, ctx),
    )
    selectors = overrides.selectors_for(source, url, now)
    override_lines = overrides.body_lines(page, selectors)
    if override_lines is not None:
        lines = override_lines
    credit = find_credit(lines, page)
    if credit is not None and credit.line is not None:
        del lines[credit.line]
    own_names = metadata.site_names(page, source.name if source else None)
    own_credit = credit is not None and metadata.credits_itself(credit.outlet, own_names)
    body = join_paragraphs(lines)
    classify.check_body(page, kind, lines, word_count(body))
    if not title:
        raise NotAnArticle("not_article", "no title: no JSON-LD headline, og:title, h1 or <title>")

    canonical = metadata.canonical(page)
    declared = language.declared_language(page)
    detected = language.detect_language(body, language.candidate_languages(source_languages))
    result = {
        "canonical_url": canonical,
        "title": title,
        "subtitle": subtitle,
        "authors": authors,
        "published_at": published.at,
        "published_at_source": published.source,
        "published_at_raw": published.raw,
        "modified_at": dates.modified_date(page, ctx),
        "language": language.choose_language(detected, declared, source_languages),
        "language_declared": declared,
        "language_detected": detected,
        "section": metadata.section(page),
        "tags": metadata.tags(page),
        "body": body,
        "images": images,
        "syndicated_from": credit.outlet if credit and not own_credit else None,
        "translations": metadata.translations(page, (url, canonical)),
        "machine_translated": False,
    }
    return overrides.apply_fields(result, page, selectors, ctx)
