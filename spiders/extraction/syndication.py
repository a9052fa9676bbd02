"""Which outlet an article credits as its original: credit lines and agency datelines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import XPath

from spiders.catalogue import Mirror, find_mirror, load_mirrors
from spiders.extraction.page import Page, ld_text, short_text, type_names
from spiders.extraction.vocab import (
    MACHINE_TRANSLATION_NOTICE,
    MACHINE_TRANSLATION_STEMS,
    SOURCE_LABEL,
    SOURCE_LABELS,
)

# "Источник www.mk.ru", "Source: Reuters", "Աղբյուր՝ news.am", "Mənbə: report.az".
CREDIT_LINE = re.compile(
    rf"^[\s(\[]*{SOURCE_LABEL}(?!\w)\s*(?P<sep>[:՝։\-—–])?\s*(?P<value>[^\s:].{{0,80}}?)"
    r"[\s.)\]]*$",
    re.IGNORECASE,
)
_MAX_WORDS = 8
# "YEREVAN, MARCH 21, ARMENPRESS." / "STEPANAKERT, JUNE 23, ARTSAKHPRESS-ARMENPRESS:" /
# "BAKU, July 8, 2024, AZERTAC." - city, date, then the agency in capitals.
_CAPS = "A-ZА-ЯЁԱ-Ֆ"  # Latin, Cyrillic and Armenian capitals
DATELINE = re.compile(
    rf"^[{_CAPS}][\w .'-]{{1,40}},\s+(?:[^\W\d_]+\.?\s+\d{{1,2}}|\d{{1,2}}\s+[^\W\d_]+\.?)"
    rf"(?:,?\s+\d{{4}})?\s*[,.]\s*/?(?P<agency>(?:[{_CAPS}][{_CAPS}0-9]+-)*[{_CAPS}][{_CAPS}0-9]{{2,}})"
    r"/?\s*(?:[.:։—–-]|$)"
)
# "ARTSAKHPRESS-ARMENPRESS: ..." or "ARTSAKHPRESS: ..." opening a paragraph.
AGENCY_PREFIX = re.compile(r"^(?P<agency>(?:[A-Z][A-Z0-9]+-)*[A-Z][A-Z0-9]*PRESS)\s*:")
# "..., news.am informs."
INFORMS = re.compile(
    r",\s+(?P<value>(?:[\w-]+\.)+[a-z]{2,}|[A-Z][\w.-]+)\s+informs\b", re.IGNORECASE
)
_HOST = re.compile(
    r"(?<![\w@/.-])(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})\b", re.I
)
_MAX_LINE = 120
_SPELLINGS = (*SOURCE_LABELS, *(label.upper() for label in SOURCE_LABELS))
# Text nodes that may open a credit line; the XPath substring test runs in C.
_LABELLED_TEXTS = XPath(
    ".//text()[" + " or ".join(f"contains(., '{label}')" for label in _SPELLINGS) + "]"
)


@dataclass(frozen=True)
class Credit:
    outlet: str
    line: int | None  # index of the body line that is only the credit, or None


def outlet_name(value: str) -> str | None:
    """The credited outlet: its host name when the credit gives a domain or URL, else the name."""
    value = value.strip()
    if value.lower().startswith(("http://", "https://")):
        host = urlsplit(value).hostname
        if host:
            return host
    match = _HOST.search(value)
    if match:
        return match.group(1).lower()
    name = value.strip(" .,;:-—–\"'«»“”()")
    return name or None


def _agency(match: re.Match[str]) -> str:
    # "ARTSAKHPRESS-ARMENPRESS": the last agency of the chain wrote the story.
    return match.group("agency").split("-")[-1]


def credit_line(text: str) -> str | None:
    """The outlet named by a credit line ("Источник www.mk.ru" -> "www.mk.ru"), if `text` is one."""
    if len(text) > _MAX_LINE:
        return None
    match = CREDIT_LINE.match(text)
    if not match:
        return None
    value = match.group("value")
    # Without a colon only a domain makes it a credit: "Источник в правительстве сказал..."
    # is a sentence.
    if len(value.split()) > _MAX_WORDS or (not match.group("sep") and not _HOST.search(value)):
        return None
    return outlet_name(value)


def opening_credit(text: str) -> str | None:
    """The agency or outlet credited by a dateline or an "..., X informs" in `text`."""
    match = DATELINE.match(text) or AGENCY_PREFIX.match(text)
    if match:
        return _agency(match)
    informs = INFORMS.search(text[:400])
    return outlet_name(informs.group("value")) if informs else None


def credit_at_end(lines: list[str]) -> Credit | None:
    """A credit line among the last three of `lines` (its index is not kept: these are the
    lines before cleaning)."""
    for text in reversed(lines[-3:]):
        outlet = credit_line(text)
        if outlet:
            return Credit(outlet, None)
    return None


def find_credit(lines: list[str], page: Page | None = None) -> Credit | None:
    """The syndication credit of an article whose body is `lines`.

    A credit line of its own (first paragraph or the last three) wins; then an agency dateline
    or an "informs" in the first two paragraphs; then a credit line elsewhere in the article
    container (when the extractor dropped it as chrome).
    """
    edges = [0, *range(max(1, len(lines) - 3), len(lines))] if lines else []
    for index in reversed(edges):
        outlet = credit_line(lines[index])
        if outlet:
            return Credit(outlet, index)
    for index, text in enumerate(lines[:2]):
        outlet = opening_credit(text)
        if outlet:
            # "Baku, July 8, AZERTAC" as a paragraph of its own is the credit line itself.
            alone = DATELINE.fullmatch(text.rstrip(" .:։—–-"))
            return Credit(outlet, index if alone else None)
    container = page.container if page is not None else None
    # Look for a label in the container's text (one C call) before walking its text nodes.
    text = container.text_content() if container is not None else ""
    if page is not None and container is not None and any(s in text for s in _SPELLINGS):
        for piece in _LABELLED_TEXTS(container):
            element = piece.getparent()
            if element is not None and piece.is_tail:
                element = element.getparent()
            text = short_text(element, _MAX_LINE) if element is not None else ""
            outlet = credit_line(text) if text else None
            if outlet and not page.in_chrome(element):
                return Credit(outlet, None)
    return None


# --- machine translation ---------------------------------------------------------------

# A notice is a short block of its own ("This article was machine translated from Russian."),
# not a sentence inside a long paragraph about translation software.
NOTICE_MAX_CHARS = 250
# Hosts of machine-translation proxies: a page served through one is a machine translation.
_TRANSLATION_PROXY = re.compile(r"\.translate\.goog$|^translate\.googleusercontent\.com$")
# Classes a browser's translator leaves on <html> when a translated page is saved.
_TRANSLATED_HTML = re.compile(r"\btranslated-(?:ltr|rtl)\b")
_SOFTWARE = frozenset({"SoftwareApplication", "WebApplication"})


# The notice pattern on lowercased text: case-insensitive matching is several times slower.
_NOTICE_LOWER = re.compile(MACHINE_TRANSLATION_NOTICE.pattern)
# Text nodes holding a translation word stem; the XPath substring test runs in C.
_STEM_TEXTS = XPath(
    ".//text()[" + " or ".join(f"contains(., '{s}')" for s in MACHINE_TRANSLATION_STEMS) + "]"
)


def notice_line(line: str) -> bool:
    """True for a body line that is a machine-translation notice of its own."""
    return len(line) <= NOTICE_MAX_CHARS and bool(MACHINE_TRANSLATION_NOTICE.search(line))


def _middle(lines: Sequence[str]) -> set[str]:
    """Body lines but the first and the last: a notice stands first or last, a short
    paragraph elsewhere mentioning machine translation is the article's own text."""
    return set(lines[1:-1])


def drop_notices(lines: list[str]) -> list[str]:
    """`lines` without the machine-translation notices standing at their edges."""
    middle = _middle(lines)
    return [line for line in lines if line in middle or not notice_line(line)]


def says_machine_translated(page: Page, lines: Sequence[str] = ()) -> str | None:
    """What shows the page is a machine translation, or None: a notice in a short block of the
    page ("Перевод выполнен автоматически") that is not a paragraph in the middle of the
    article's `lines`, a translation proxy's host, the marks a browser's translator leaves on
    a saved page, or a JSON-LD translator that is software."""
    if _TRANSLATION_PROXY.search(page.host):
        return f"served by the translation proxy {page.host}"
    root = page.tree if page.tree.tag == "html" else page.tree.find(".//html")
    if root is not None and _TRANSLATED_HTML.search(root.get("class") or ""):
        return "saved after a browser translated it (<html class=translated-*>)"
    for value in page.jsonld_values("translator"):
        for item in value if isinstance(value, list) else [value]:
            item = page.resolve(item)
            if isinstance(item, dict) and type_names(item) & _SOFTWARE:
                return f"JSON-LD translator is software: {ld_text(item.get('name'))!r}"
    # Most pages never mention translation: one scan of the text rules them out before the
    # per-node search (17 substring tests on every text node).
    text = page.body_element.text_content()
    if not any(stem in text for stem in MACHINE_TRANSLATION_STEMS):
        return None
    middle = _middle(lines)
    for piece in _STEM_TEXTS(page.body_element):
        element = piece.getparent()
        if element is not None and piece.is_tail:
            element = element.getparent()
        # The phrase may run over inline markup ("Перевод выполнен <em>автоматически</em>"):
        # the block around the stem, up to two levels, is what is read.
        for _level in range(3):
            if element is None or element.tag in ("script", "style", "body", "html"):
                break
            text = short_text(element, NOTICE_MAX_CHARS)
            if not text:
                break
            if _NOTICE_LOWER.search(text.lower()):
                if text in middle:
                    break
                return f"notice: {text[:120]!r}"
            element = element.getparent()
    return None


def mirror_of(url: str | None, mirrors: Sequence[Mirror] | None = None) -> Mirror | None:
    """The listed mirror holding `url` (`mirrors`, default the bundled catalogue's list,
    loaded once per process)."""
    if not url:
        return None
    return find_mirror(load_mirrors() if mirrors is None else mirrors, url)


def machine_translated(
    page: Page, url: str | None, lines: Sequence[str] = (), mirrors: Sequence[Mirror] | None = None
) -> bool:
    """True when the page says it is machine-translated, or its host is a listed
    machine-translation mirror (`lines`: the article's body lines)."""
    mirror = mirror_of(url, mirrors)
    if mirror is not None and mirror.kind == "machine-translation":
        return True
    return says_machine_translated(page, lines) is not None
