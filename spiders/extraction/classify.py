"""Article or not: sections, tags, authors, search results, archives, galleries without text,
cookie walls and error pages served with status 200 must not land.

The signals are general: what the page says it is (og:type, JSON-LD @type), the shape of its
URL, an error <title>, and what its extracted text looks like (length, share of lines that are
link texts of teasers, cookie vocabulary). Every rejection carries the figures it was based
on, so a wrong one can be understood from the rejects table.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

from schemas import word_count
from spiders.extraction.api import NotAnArticle
from spiders.extraction.images import CAPTION_CLASS
from spiders.extraction.page import ARTICLE_TYPES, LISTING_TYPES, Page, collapse
from spiders.extraction.vocab import COOKIE_WORD, ERROR_TITLE, LISTING_URL

# Fewer words than this is no article (a gallery, a wall, an empty template) ...
MIN_WORDS_TYPED = 20
# ... and for a page that does not say it is an article, a little more is needed.
MIN_WORDS_UNTYPED = 40
# A body is a teaser list when it holds this many headline links of the page (anchor texts
# of at least HEADLINE_WORDS words found in the text) ...
MIN_TEASERS = 4
HEADLINE_WORDS = 4
# ... on this share of its paragraphs, making up this share of its characters; more for a
# page that says it is an article ("10 things to know today" digests are link lists).
TEASER_LINE_SHARE = 0.4
TEASER_CHAR_SHARE = 0.2
TEASER_LINE_SHARE_TYPED = 0.6
TEASER_CHAR_SHARE_TYPED = 0.5
# Cookie walls: short text, and this share of its lines about cookies or consent.
COOKIE_SHARE = 0.3
COOKIE_MAX_WORDS = 250
# An article declared in JSON-LD with at least this many words skips the teaser measure (it
# costs a pass over every link of the page).
SURE_WORDS = 150
_LINKS = XPath(".//a[@href]")
# A short body must rest on this many words of prose on the page: text outside links,
# headings, figures, captions and page chrome. A gallery or a wall has almost none.
MIN_PROSE_WORDS = 20
PROSE_CHECK_BELOW = 150
_NOT_PROSE = frozenset(
    {
        *("a", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "picture", "time"),
        *("script", "style", "noscript", "template", "svg", "iframe", "nav", "header"),
        *("footer", "aside", "form", "button", "select", "label", "menu", "title", "head"),
    }
)


@dataclass(frozen=True)
class Kind:
    """What the page says it is."""

    article_typed: bool  # JSON-LD article type, or og:type article without a listing type
    declared_in_jsonld: bool  # JSON-LD itself has an article type
    listing_types: tuple[str, ...]
    og_type: str | None

    def describe(self) -> str:
        parts = [f"og:type {self.og_type!r}" if self.og_type else "no og:type"]
        parts.append(
            "JSON-LD article type"
            if self.declared_in_jsonld
            else f"JSON-LD {', '.join(self.listing_types)}"
            if self.listing_types
            else "no JSON-LD article type"
        )
        return "; ".join(parts)


def page_kind(page: Page) -> Kind:
    og_type = (page.meta_first("og:type") or "").strip().lower() or None
    in_jsonld = bool(page.jsonld_types & ARTICLE_TYPES)
    listing = tuple(sorted(page.jsonld_types & LISTING_TYPES))
    # Yoast and others say og:type "article" on category archives too: JSON-LD decides.
    article_typed = in_jsonld or (og_type == "article" and not listing)
    return Kind(article_typed, in_jsonld, listing, og_type)


def _path(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def check_page(page: Page) -> Kind:
    """Reject what the page's own declarations and URL already show; cheap, before the body."""
    kind = page_kind(page)
    if kind.declared_in_jsonld:
        return kind
    if kind.listing_types:
        raise NotAnArticle(
            "not_article",
            f"JSON-LD declares {', '.join(kind.listing_types)} and no article type; "
            f"{kind.describe()}",
        )
    if kind.og_type == "profile":
        raise NotAnArticle("not_article", "og:type 'profile': an author or profile page")
    path = _path(page.url)
    match = LISTING_URL.search(path)
    if match and not kind.article_typed:
        raise NotAnArticle(
            "not_article",
            f"URL {path!r} has the shape of a listing ({match.group(0)!r}); {kind.describe()}",
        )
    return kind


def prose_words(page: Page, enough: int | None = None) -> int:
    """Words of running text on the page outside links, headings, figures, captions and
    chrome; counting stops once `enough` are found."""
    chrome = set(page.chrome_elements)
    count = 0
    stack = [page.body_element]
    while stack and (enough is None or count < enough):
        element = stack.pop()
        tag = element.tag
        if not isinstance(tag, str) or tag in _NOT_PROSE or element in chrome:
            continue
        classes = element.get("class")
        if classes and CAPTION_CLASS.search(classes):
            continue
        if element.text:
            count += word_count(element.text)
        for child in element:
            stack.append(child)
            if child.tail:
                count += word_count(child.tail)
    return count


@dataclass(frozen=True)
class Teasers:
    """How much of an extracted text is a list of links to other pages."""

    headlines: int  # headline links of the page found in the text, or their summaries
    lines: int  # lines holding a headline or being the summary beside one
    chars: int  # characters of those headlines and summaries


def _item_text(page: Page, link: HtmlElement, link_text: str) -> str:
    """The teaser a headline link heads: its nearest ancestor (three levels up at most) with
    more text than the link (headline, date, summary), if that stays short and is not the
    article's own block."""
    for depth, ancestor in enumerate(link.iterancestors()):
        if depth == 3 or ancestor in page.article_path:
            return ""
        raw = ancestor.text_content()  # C-level; teaser blocks hold no scripts
        if len(raw) > 2 * (len(link_text) + 400):
            return ""
        text = collapse(raw)
        if len(text) > len(link_text) + 400:
            return ""
        if len(text) >= len(link_text) + 20:
            return text.casefold()
    return ""


# What may stand before a headline in a teaser: nothing, the end of the previous teaser, a
# time or a date. A link inside a sentence is an inline link of an article.
_BEFORE_HEADLINE = re.compile(r"(?:^|[.!?…:;|»\"”)\]]|\d{1,2}:\d{2}|\d{4}|\d{1,2}\.\d{2})\s*$")


def _opens(line: str, headline: str) -> bool:
    """True when `headline` stands in `line` as a teaser headline, not inside a sentence."""
    start = line.find(headline)
    while start != -1:
        if _BEFORE_HEADLINE.search(line[max(0, start - 12) : start]):
            return True
        start = line.find(headline, start + 1)
    return False


# Far more than any listing page needs to show itself as one.
MAX_TEASER_LINKS = 600
MAX_TEASER_LINES = 400


def _bare(url: str) -> str:
    """A URL without fragment and trailing slash, to spot links to the page itself."""
    return url.split("#")[0].rstrip("/")


def teasers(page: Page, lines: list[str]) -> Teasers:
    """Headline links (anchor texts of HEADLINE_WORDS words and more) whose text, or whose
    teaser's summary, is in `lines`: trafilatura keeps the summaries of a teaser list even
    when it drops the headline links themselves.

    Every link is compared with every line, so both are capped: a hostile page of prose
    with a link in each paragraph would otherwise hold the crawl for minutes.
    """
    folded = [line.casefold() for line in lines[:MAX_TEASER_LINES]]
    own = _bare(page.url) if page.url else None
    headlines = 0
    chars = 0
    teaser_lines: set[int] = set()
    seen: set[str] = set()
    for element in itertools.islice(_LINKS(page.body_element), MAX_TEASER_LINKS):
        raw = element.text_content()  # C-level; links hold no scripts
        if len(raw) > 600:
            continue
        text = collapse(raw)
        key = text.casefold()
        if len(text) < 20 or len(text.split()) < HEADLINE_WORDS or key in seen:
            continue
        href = page.absolute(element.get("href"))
        if own is not None and href is not None and _bare(href) == own:
            continue
        seen.add(key)
        heading = [i for i, line in enumerate(folded) if _opens(line, key)]
        if heading:
            headlines += 1
            chars += len(key)
            teaser_lines.update(heading)
            continue
        item = _item_text(page, element, text)
        summaries = [
            i
            for i, line in enumerate(folded)
            if len(line) >= 20 and line in item and key not in line
        ]
        if summaries:
            headlines += 1
            chars += sum(len(folded[i]) for i in summaries if i not in teaser_lines)
            teaser_lines.update(summaries)
    return Teasers(headlines, len(teaser_lines), chars)


def check_body(page: Page, kind: Kind, lines: list[str], words: int) -> None:
    """Reject on the extracted text: too short, a teaser list, a cookie wall, an error page."""
    title = page.title_tag or ""
    heading = collapse(page.h1.text_content()) if page.h1 is not None else ""
    error = ERROR_TITLE.search(title) or ERROR_TITLE.search(heading)
    # og:type "article" is a template default that error pages keep; only JSON-LD vouches.
    if error and not kind.declared_in_jsonld:
        shown = title if ERROR_TITLE.search(title) else heading
        raise NotAnArticle(
            "not_article",
            f"error page served as a page: title/h1 {shown[:80]!r} matches {error.group(0)!r}; "
            f"{words} words of text; {kind.describe()}",
        )
    minimum = MIN_WORDS_TYPED if kind.article_typed else MIN_WORDS_UNTYPED
    if words < minimum:
        raise NotAnArticle(
            "not_article",
            f"{words} words of article text (< {minimum}) in {len(lines)} paragraphs; "
            f"{len(page.tree.findall('.//img'))} images; {kind.describe()}",
        )
    if words < PROSE_CHECK_BELOW:
        prose = prose_words(page, enough=MIN_PROSE_WORDS)
        if prose < MIN_PROSE_WORDS:
            raise NotAnArticle(
                "not_article",
                f"no running text: {prose} words of prose outside links, headings and "
                f"captions (< {MIN_PROSE_WORDS}); extracted text {words} words; "
                f"{len(page.tree.findall('.//img'))} images; {kind.describe()}",
            )
    cookie_lines = (
        sum(1 for line in lines if COOKIE_WORD.search(line)) if words <= COOKIE_MAX_WORDS else 0
    )
    if cookie_lines and cookie_lines >= COOKIE_SHARE * len(lines):
        raise NotAnArticle(
            "not_article",
            f"cookie or consent wall: {cookie_lines} of {len(lines)} paragraphs about cookies "
            f"or consent, {words} words; {kind.describe()}",
        )
    if kind.declared_in_jsonld and words >= SURE_WORDS:
        return
    found = teasers(page, lines)
    line_share = found.lines / len(lines) if lines else 0.0
    char_share = found.chars / max(1, sum(len(line) for line in lines))
    line_min, char_min = (
        (TEASER_LINE_SHARE_TYPED, TEASER_CHAR_SHARE_TYPED)
        if kind.article_typed
        else (TEASER_LINE_SHARE, TEASER_CHAR_SHARE)
    )
    if found.headlines >= MIN_TEASERS and line_share >= line_min and char_share >= char_min:
        raise NotAnArticle(
            "not_article",
            f"teaser list: {found.headlines} headline links of the page in the text, on "
            f"{found.lines} of {len(lines)} paragraphs ({line_share:.2f} >= {line_min}), "
            f"{char_share:.2f} of its characters (>= {char_min}); {words} words; "
            f"{kind.describe()}",
        )
