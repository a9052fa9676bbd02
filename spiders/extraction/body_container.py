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
from trafilatura.xpaths import BODY_XPATH

from spiders.extraction.page import has_text

# A later part with less text than this is a stub (an empty "truncation" block), not text.
_MIN_PART_CHARS = 200


def _every_match(expression: XPath) -> XPath:
    """The expression without its final "[1]" (the first match among siblings), so sibling
    parts are found too."""
    path = expression.path.rstrip()
    if path.endswith("[1]") and not path.endswith(")[1]"):
        return XPath(path[: -len("[1]")], namespaces={"re": "http://exslt.org/regular-expressions"})
    return expression


_EXPRESSIONS = [_every_match(expression) for expression in BODY_XPATH]
_H1_BEFORE = XPath("count(preceding::h1)")


def _parts(tree: HtmlElement) -> list[HtmlElement]:
    """The container trafilatura would read first and the later blocks of the same tag and
    class, outside it and outside each other, in document order ([] when there are none)."""
    for expression in _EXPRESSIONS:
        found = [e for e in expression(tree) if isinstance(e, HtmlElement)]
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


def merge_split_containers(tree: HtmlElement) -> HtmlElement:
    """`tree` itself when the article container is in one piece, else a copy whose first
    container holds the children of every part (the shared tree is never changed)."""
    if not _parts(tree):
        return tree
    copy = deepcopy(tree)
    first, *rest = _parts(copy)
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
