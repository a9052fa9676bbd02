"""Lines made of links: lists of other articles that trafilatura keeps with the text.

trafilatura drops link-dense blocks, but a "more stories" list inside the article container,
or a teaser whose headline and summary are one link, comes through as ordinary lines. A line
is measured by how much of it is the text of some link on the page (links of fewer than
_MIN_ANCHOR characters are not counted: "here", "Reuters" and one-word links inside a
sentence say nothing about the line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml.html import HtmlElement

from spiders.extraction.page import collapse

_MIN_ANCHOR = 12
# A line at least this much link text is a link line.
LINK_LINE_SHARE = 0.6
# This many link lines in a row are a list of links, wherever it stands.
LINK_RUN = 3
# A "line" this long that is this much link text is a page's navigation read as one
# paragraph (menus, archive lists): not an article's text.
DUMP_LINE = 1500
DUMP_SHARE = 1 / 3
# A promo set in capitals ("CLICK HERE TO GET THE APP", a shouted related headline) that is
# all link is never article text; a capitalised link inside text is rarer than a promo.
PROMO_SHARE = 0.9
_URL_LIKE = re.compile(r"^(?:https?://|www\.)\S+$")


def anchor_texts(root: HtmlElement) -> list[str]:
    """Distinct texts of the links under `root`, at least _MIN_ANCHOR characters, longest
    first."""
    found: set[str] = set()
    for anchor in root.iter("a"):
        raw = anchor.text_content()
        if len(raw) < _MIN_ANCHOR:  # collapsing only shortens it
            continue
        text = collapse(raw)
        if len(text) >= _MIN_ANCHOR:
            found.add(text)
    return sorted(found, key=len, reverse=True)


def link_share(line: str, anchors: Sequence[str]) -> float:
    """Share of `line`'s characters that belong to link texts."""
    covered = bytearray(len(line))
    for anchor in anchors:
        if len(anchor) > len(line):
            continue
        start = line.find(anchor)
        while start >= 0:
            covered[start : start + len(anchor)] = b"\1" * len(anchor)
            start = line.find(anchor, start + len(anchor))
    return covered.count(1) / len(line) if line else 0.0


def _shouted(line: str) -> bool:
    """Three words or more, set in capitals."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(line.split()) >= 3 and bool(letters) and all(ch.isupper() for ch in letters)


def drop_link_lines(lines: list[str], anchors: Sequence[str]) -> list[str]:
    """`lines` without the link lists: runs of LINK_RUN or more link lines, and the link
    lines that end the text. A bare URL printed as its own link is article text (a source
    list), not a teaser."""
    if not anchors or not lines:
        return lines
    # Most links of a page are not in its text: one pass over the whole text finds the few
    # that are.
    text = "\n".join(lines)
    anchors = [anchor for anchor in anchors if anchor in text]
    shares = [0.0 if _URL_LIKE.match(line) else link_share(line, anchors) for line in lines]
    is_link = [share >= LINK_LINE_SHARE for share in shares]
    drop = [False] * len(lines)
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and is_link[end]:
            end += 1
        if end - index >= LINK_RUN:
            drop[index:end] = [True] * (end - index)
        index = max(end, index + 1)
    for position, (line, share) in enumerate(zip(lines, shares, strict=True)):
        if share >= PROMO_SHARE and _shouted(line):
            drop[position] = True
    end = len(lines)
    while end > 1 and is_link[end - 1]:
        end -= 1
        drop[end] = True
    kept = [line for line, dropped in zip(lines, drop, strict=True) if not dropped]
    # Links making up most of the text are the article's own (a link-rich post), not a list
    # beside it.
    if sum(len(line) for line in kept) * 2 < sum(len(line) for line in lines):
        return lines
    return kept


def is_navigation_dump(lines: Sequence[str], anchors: Sequence[str]) -> bool:
    """True when most of the text is in navigation dumps (DUMP_LINE characters or more, at
    least DUMP_SHARE link text)."""
    total = sum(len(line) for line in lines)
    if not any(len(line) >= DUMP_LINE for line in lines):
        return False
    dumped = sum(
        len(line)
        for line in lines
        if len(line) >= DUMP_LINE and link_share(line, anchors) >= DUMP_SHARE
    )
    return total > 0 and dumped * 2 > total
