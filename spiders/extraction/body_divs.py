"""Text blocks written as <div> between the paragraphs of an article.

trafilatura reads <p>, headings, lists and quotes inside the content element; a <div> holding
only a line of text (a subheading styled by class, a paragraph some editors emit as a div)
is left out when the paragraphs around it are long enough. A div that holds only inline
content, mostly not a link, and stands between two paragraphs is a paragraph of the text: it
is read as one.
"""

from __future__ import annotations

from lxml.etree import XPath
from lxml.html import HtmlElement

# Inline markup a text div may hold.
_INLINE = frozenset({"a", "span", "b", "strong", "em", "i", "u", "br", "sup", "sub", "mark"})
# A div between paragraphs whose parent holds at least this many <p>.
_MIN_SIBLING_PARAGRAPHS = 3
_CANDIDATES = XPath("//div[preceding-sibling::*[1][self::p] and following-sibling::*[1][self::p]]")


def text_divs(tree: HtmlElement) -> list[HtmlElement]:
    """Divs of only inline content (and some text) standing between two paragraphs, in a block
    of at least _MIN_SIBLING_PARAGRAPHS paragraphs."""
    found = []
    for div in _CANDIDATES(tree):
        if any(
            not isinstance(child.tag, str) or child.tag not in _INLINE
            for child in div.iter()
            if child is not div
        ):
            continue
        text = div.text_content().strip()
        if not text:
            continue
        # Mostly a link: a "read also" teaser between paragraphs, not a paragraph.
        linked = sum(len(a.text_content().strip()) for a in div.iter("a"))
        if linked * 2 >= len(text):
            continue
        parent = div.getparent()
        if parent is None or len(parent.findall("p")) < _MIN_SIBLING_PARAGRAPHS:
            continue
        found.append(div)
    return found
