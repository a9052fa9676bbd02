"""Descriptive fields: canonical URL, title, subtitle, authors, section, tags, translations."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath

from spiders.canonical import canonical_url
from spiders.extraction.api import PageHints
from spiders.extraction.page import Page, collapse, ld_text, short_text, text_of
from spiders.extraction.vocab import (
    AUTHOR_CLASS_WORDS,
    AUTHOR_PREFIX,
    AUTHOR_SPLIT,
    SUBTITLE_CLASS_WORDS,
)

# Separators before the site name in <title>: "Headline | Site", "Headline - Site", ...
_TITLE_SEPARATORS = (" | ", " - ", " — ", " – ")
# Class names of a standfirst, alone or as the last word of a compound ("article__lead",
# "entry-subtitle", "news-detail__lead"); likewise bylines ("post-author", "author-name").
_SUBTITLE_CLASS = re.compile(
    rf"^(?:[\w-]*[-_])?(?:{'|'.join(SUBTITLE_CLASS_WORDS)})$", re.IGNORECASE
)
_AUTHOR_CLASS = re.compile(rf"^(?:[\w-]*[-_])?(?:{'|'.join(AUTHOR_CLASS_WORDS)})$", re.IGNORECASE)
# A cheap first test on "class id" before the class names are looked at one by one.
_SUBTITLE_WORD = re.compile("|".join(SUBTITLE_CLASS_WORDS), re.IGNORECASE)
_SUBTITLE_TAGS = frozenset({"p", "div", "h2", "h3", "h4", "span", "section"})
_REL_AUTHOR = XPath(".//*[contains(@rel, 'author')]")
_TAG_LINKS_XPATH = XPath(".//a[contains(@rel, 'tag')]")
_BYLINE_CUT = re.compile(r"\s*(?:\||·|•|/)\s*")
_NAME_NOISE = re.compile(r"https?://|@|\d{3,}")


# Letters a name is written with or without ("AZƏRTAC", "AZERTAC").
_FOLD = str.maketrans({"ə": "e", "ı": "i"})


def _key(text: str) -> str:
    """A name as compared: case, punctuation and diacritics dropped."""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    return re.sub(r"\W+", "", "".join(c for c in folded if not unicodedata.combining(c)))


def canonical(page: Page) -> str | None:
    """<link rel=canonical>, else og:url, else the fetched URL; absolute and canonicalized.

    A canonical or og:url pointing at the site's front page from an inner page is a template
    misconfiguration, not the article's identity (it would merge every article into one), so
    it is passed over.
    """
    candidates: list[str | None] = [
        element.get("href") for rel, element in page.link_elements if "canonical" in rel
    ]
    candidates.append(page.meta_first("og:url"))
    own_path = urlsplit(page.url).path.strip("/") if page.url else ""
    for candidate in candidates:
        absolute = page.absolute(candidate)
        if absolute and (urlsplit(absolute).path.strip("/") or not own_path):
            return canonical_url(absolute)
    fetched = page.absolute(page.url)
    return canonical_url(fetched) if fetched else None


# Armenian and Cyrillic letters in Latin, so that "ԱՐՄԵՆՊՐԵՍ" and "АРМЕНПРЕСС" in a dateline
# are known for the outlet named "Armenpress".
def _letters(script: str, latin: str) -> dict[str, str]:
    return dict(zip(script, latin.split(), strict=True))


_LATIN = str.maketrans(
    {
        **_letters(
            "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
            "a b g d e z e y t zh i l kh ts k h dz gh ch m y n sh o ch p j r s v t r ts v p k o f",
        ),
        "և": "ev",
        **_letters(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya",
        ),
    }
)
_REPEATS = re.compile(r"(.)\1+")


def _outlet_key(text: str) -> str:
    """An outlet's name as compared across scripts: _key in Latin letters, doubled letters
    single ("ԱՐՄԵՆՊՐԵՍ", "АРМЕНПРЕСС" and "Armenpress" are one)."""
    latin = _key(text).translate(_LATIN).replace("-", "")
    return _REPEATS.sub(r"\1", latin)


def site_names(page: Page, source_name: str | None) -> set[str]:
    names = {_outlet_key(n) for n in page.publisher_names}
    if source_name:
        names.add(_outlet_key(source_name))
    host = page.host.removeprefix("www.")
    if host:
        names.update({_outlet_key(host), _outlet_key(host.split(".")[0])})
    names.discard("")
    return names


def credits_itself(outlet: str, names: set[str]) -> bool:
    """True when a syndication credit names the page's own outlet (`names` from site_names):
    ARMENPRESS's dateline on armenpress.am is the house byline, not syndication."""
    return _outlet_key(outlet.removeprefix("www.")) in names


def strip_site_name(text: str, names: set[str]) -> str:
    """`text` without a trailing " | Site" when Site is one of `names` (compared as _key)."""
    cut = max(text.rfind(separator) for separator in _TITLE_SEPARATORS)
    if cut > 0:
        head, site = text[:cut], text[cut + 3 :]
        if _outlet_key(site) in names and collapse(head):
            return collapse(head)
    return text


def title(page: Page, source_name: str | None, hints: PageHints | None) -> str | None:
    """JSON-LD headline, else og:title, else the <h1>, else <title> without the site name."""
    for value in page.jsonld_values("headline"):
        text = ld_text(value)
        if text:
            return text
    og = page.meta_first("og:title")
    if og and collapse(og):
        return collapse(og)
    if page.h1 is not None:
        return text_of(page.h1)
    if page.title_tag:
        return strip_site_name(page.title_tag, site_names(page, source_name))
    if hints is not None:
        return hints.feed_title or hints.sitemap_title
    return None


def subtitle(page: Page) -> str | None:
    """The standfirst element (p.lead, .standfirst, .entry-subtitle, ...), else the JSON-LD
    alternativeHeadline."""
    for element, marks in page.classed:
        if not _SUBTITLE_WORD.search(marks):
            continue
        classes = (element.get("class") or "").split()
        if element.tag not in _SUBTITLE_TAGS or not any(map(_SUBTITLE_CLASS.match, classes)):
            continue
        text = short_text(element, 600)
        if len(text) >= 15 and not page.in_chrome(element):
            return text
    if page.article_node is not None:
        return ld_text(page.article_node.get("alternativeHeadline"))
    return None


def _names_from_ld(page: Page, value: Any) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = page.resolve(item)
        if isinstance(item, str):
            names.append(collapse(item))
        elif isinstance(item, dict):
            name = ld_text(item.get("name"))
            if name:
                names.append(name)
    return names


def _split_byline(text: str) -> list[str]:
    text = _BYLINE_CUT.split(collapse(text))[0]
    text = AUTHOR_PREFIX.sub("", text)
    # A part ending in a colon is a label ("Posted by:", "Հրապարակուած՝"), not a name.
    parts = (collapse(part) for part in AUTHOR_SPLIT.split(text))
    return [part for part in parts if part and not part.endswith((":", "՝", "։"))]


def _byline_names(page: Page) -> list[str]:
    """[rel=author] elements, else the first .author / .byline element, else meta author."""
    names: list[str] = []
    for element in _REL_AUTHOR(page.body_element):
        if "author" in (element.get("rel") or "").lower().split():
            text = short_text(element, 80)
            if text and not page.in_chrome(element):
                names.extend(_split_byline(text))
    if names:
        return names
    for element, _marks in page.classed:
        tokens = (element.get("class") or "").split()
        if not any(_AUTHOR_CLASS.match(token) for token in tokens):
            continue
        text = short_text(element, 80)
        names = _split_byline(text) if text and not page.in_chrome(element) else []
        if names:
            return names
    meta = page.meta_first("author")
    return _split_byline(meta) if meta else []


def authors(page: Page) -> list[str]:
    """JSON-LD author names, else the byline; the publisher's own name is not an author."""
    publisher = {_key(n) for n in page.publisher_names}

    def keep(names: Iterable[str]) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for name in names:
            key = _key(name)
            if not key or key in publisher or key in seen or _NAME_NOISE.search(name):
                continue
            seen.add(key)
            out.append(name)
        return out

    from_ld = keep(n for value in page.jsonld_values("author") for n in _names_from_ld(page, value))
    if from_ld:
        return from_ld
    # Feed authors are not used: the rules want [] for a page without a byline.
    return keep(_byline_names(page))


def section(page: Page) -> str | None:
    """JSON-LD articleSection, else the article:section meta."""
    for value in page.jsonld_values("articleSection"):
        text = ld_text(value)
        if text:
            return text
    meta = page.meta_first("article:section")
    return collapse(meta) if meta else None


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        text = collapse(value)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def tags(page: Page) -> list[str]:
    """article:tag metas, else JSON-LD keywords, else rel=tag links; page order, unique."""
    found = _unique(page.meta.get("article:tag", []))
    if found:
        return found
    for value in page.jsonld_values("keywords"):
        items = value if isinstance(value, list) else str(value).split(",")
        found = _unique(str(item) for item in items if isinstance(item, str))
        if found:
            return found
    links = []
    for element in _TAG_LINKS_XPATH(page.body_element):
        rel = set((element.get("rel") or "").lower().split())
        if "tag" in rel and "category" not in rel:
            links.append(text_of(element))
    # Feed categories are not used: they are sections more often than tags.
    return _unique(links)


def translations(page: Page, own: Iterable[str | None]) -> list[dict[str, str]]:
    """hreflang alternates except x-default and the page itself, page order."""
    own_keys = {canonical_url(u) for u in own if u}
    out: list[dict[str, str]] = []
    for rel, element in page.link_elements:
        hreflang = (element.get("hreflang") or "").strip().lower()
        href = (element.get("href") or "").strip()
        if "alternate" not in rel or not hreflang or not href or hreflang == "x-default":
            continue
        url = urljoin(page.base, href) if page.base else href
        if canonical_url(url) in own_keys:
            continue
        entry = {"language": hreflang[:2], "url": url}
        if entry not in out:
            out.append(entry)
    return out
