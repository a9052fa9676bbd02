"""The article header that trafilatura reads as text.

When the content element trafilatura picks holds the header too, the text starts with the
title as the page prints it (often not the JSON-LD headline or og:title word for word), the
deck under it, a kicker, the byline or the date line. These all sit in the block that wraps
the <h1>: the largest ancestor of the <h1> with little text besides the title's. Lines at the
start of the text that this block holds are the header, not the article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml.html import HtmlElement

from spiders.extraction.page import short_text, text_of

# The header block holds at most this many characters besides the title: a deck, a byline,
# a date, labels. A block with more holds article text.
HEADER_EXTRA = 600
# Lines read before the article starts, at most.
MAX_HEADER_LINES = 4
_SPACE = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACE.sub("", text).casefold()


def header_block_text(h1: HtmlElement | None) -> str:
    """Text of the largest ancestor of `h1` (itself included) holding at most HEADER_EXTRA
    characters more than the title ("" without an h1)."""
    if h1 is None:
        return ""
    title = text_of(h1)
    if not title:
        return ""
    text = title
    for parent in h1.iterancestors():
        if parent.tag in ("body", "html"):
            break
        wider = short_text(parent, len(title) + HEADER_EXTRA)
        if not wider:
            break
        text = wider
    return text


def drop_header_lines(lines: Sequence[str], header: str) -> list[str]:
    """`lines` without the first ones when the header block holds them and none of the
    lines after them (a short article wholly inside the block is kept as it is)."""
    if not header:
        return list(lines)
    block = _key(header)

    def inside(line: str) -> bool:
        # A line longer than the block cannot be in it (most of the article's paragraphs).
        return len(line) <= len(header) and _key(line) in block

    start = 0
    while start < len(lines) and start <= MAX_HEADER_LINES and inside(lines[start]):
        start += 1
    if start in (0, len(lines)) or start > MAX_HEADER_LINES:
        return list(lines)
    if any(inside(line) for line in lines[start:]):
        return list(lines)
    return list(lines[start:])
