"""Article containers split in several parts.

trafilatura reads the first element its content expressions (trafilatura.xpaths.BODY_XPATH)
find. Many templates cut the article text into several sibling blocks of one class, with ads,
newsletter boxes or related links between them ("article__body" chunks): the first block
alone is then a fraction of the article. Here the later parts are moved into the first one,
so the whole text is read in order and what stood between the parts is left out.
"""

from __future__ import annotations

from copy import deepcopy

from lxml.etree import XPath
from lxml.html import HtmlElement

from spiders.extraction.page import CONTENT_XPATH, Page, has_text

# A later part with less text than this is a stub (an empty "truncation" block), not text.
_MIN_PART_CHARS = 200
_H1_BEFORE = XPath("count(preceding::h1)")


def split_parts(page: Page) -> list[HtmlElement]:
    """The container trafilatura reads first and the later blocks of the same tag and class,
    outside it and outside each other, in document order ([] when there are none)."""
    for index in range(len(CONTENT_XPATH)):
        found = page.content_matches(index)
        if not found:
            continue
        first = found[0]
        # An h1 between two parts starts another article (pages that append the next story).
        headings = _H1_BEFORE(first)
        signature = (first.tag, first.get("class"))
        parts = [first]
        for element in found[1:]:
            if (element.tag, element.get("class")) != signature:
                continue
            if any(p in element.iterancestors() or element in p.iterancestors() for p in parts):
                continue
            if _H1_BEFORE(element) != headings:
                break
            if has_text(element) and len(element.text_content().strip()) >= _MIN_PART_CHARS:
                parts.append(element)
        return parts if len(parts) > 1 else []
    return []


def merge_split_containers(page: Page) -> HtmlElement:
    """The page's tree when the article container is in one piece, else a copy whose first
    container holds the children of every part (the shared tree is never changed)."""
    parts = split_parts(page)
    if not parts:
        return page.tree
    root = page.tree.getroottree()
    paths = [root.getpath(part) for part in parts]
    copy = deepcopy(page.tree)
    first, *rest = (copy.xpath(path)[0] for path in paths)
    for part in rest:
        if part.text and part.text.strip():
            # Loose text at the start of a part becomes a paragraph of its own.
            paragraph = first.makeelement("p", {})
            paragraph.text = part.text
            first.append(paragraph)
        for child in list(part):
            first.append(child)
        part.text = None  # the emptied part stays, so the text after it (its tail) does too
    return copy
