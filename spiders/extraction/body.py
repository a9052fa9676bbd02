"""Article text: trafilatura finds the content and drops page chrome; we turn its output into
paragraph lines and drop what the rules exclude but it keeps (captions, credit and date
lines, "read also" links, comment-form prompts, the title and standfirst repeated).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from copy import deepcopy

from lxml.etree import _Element
from lxml.html import HtmlElement, fromstring
from trafilatura import bare_extraction
from trafilatura.external import try_readability
from trafilatura.settings import Extractor

from spiders.extraction.body_container import merge_split_containers
from spiders.extraction.body_divs import text_divs
from spiders.extraction.body_header import drop_header_lines, header_block_text
from spiders.extraction.body_links import anchor_texts, drop_link_lines, is_navigation_dump
from spiders.extraction.body_tail import drop_sign_off
from spiders.extraction.page import Page, collapse
from spiders.extraction.vocab import AUTHOR_PREFIX, BOILERPLATE_LINE, READ_ALSO

_CHROME_MARK = "data-newslake-chrome"
_CHROME_XPATH = f".//*[@{_CHROME_MARK}]"
# At most five words and 50 characters, not ending like a sentence (Latin, Armenian,
# CJK full stops).
_HEADING_LIKE = re.compile(r"^(?=.{1,50}$)(?:\S+\s+){0,4}\S+$(?<![.!?…:;»\"”)\]։。！？])")
# A line this long is prose, never a label, caption or prompt.
_SHORT_LINE = 160


def _extractor(url: str | None) -> Extractor:
    return Extractor(
        # fast skips trafilatura's second opinion (readability, jusText) on a clean
        # extraction: on the benchmark it scores higher (0.966 vs 0.963) at about 1.5x speed.
        fast=True,
        output_format="python",
        comments=False,
        tables=True,
        images=False,
        links=False,
        formatting=False,
        url=url,
    )


def _lines(element: _Element) -> Iterator[str]:
    """One line per paragraph-like element; a <br> (lb) inside a paragraph starts a new line,
    since old CMSs separate paragraphs with line breaks."""
    tag = element.tag
    if tag in ("list", "table", "quote", "row") and len(element):
        if tag == "row":
            cells = [collapse(" ".join(cell.itertext())) for cell in element]
            line = " ".join(c for c in cells if c)
            if line:
                yield line
            return
        if element.text and element.text.strip():
            yield collapse(element.text)
        for child in element:
            yield from _lines(child)
            if child.tail and child.tail.strip():
                yield collapse(child.tail)
        return
    pieces: list[str] = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            line = collapse("".join(pieces))
            if line:
                yield line
            pieces = [child.tail or ""]
            continue
        if child.tag in ("list", "table", "quote"):
            line = collapse("".join(pieces))
            if line:
                yield line
            yield from _lines(child)
            pieces = [child.tail or ""]
            continue
        # Inline markup inside a word ("Hel<hi>lo</hi>") must not split it.
        pieces.append("".join(child.itertext()))
        pieces.append(child.tail or "")
    line = collapse("".join(pieces))
    if line:
        yield line


def _trafilatura_lines(tree: HtmlElement, url: str | None) -> list[str]:
    document = bare_extraction(tree, url=url, options=_extractor(url), prune_xpath=[_CHROME_XPATH])
    if document is None or isinstance(document, dict) or document.body is None:
        return []
    body = document.body
    # Loose text sits in .text and .tail of the output's top-level elements.
    lines = [collapse(body.text)] if body.text and body.text.strip() else []
    for element in body:
        lines.extend(_lines(element))
        if element.tail and element.tail.strip():
            lines.append(collapse(element.tail))
    return lines


def _readability_lines(page: Page) -> list[str]:
    """The page's text as readability finds it (the block with the most prose, loose text
    included), read into lines the same way."""
    summary = try_readability(deepcopy(page.tree))
    if not len(summary):
        return []
    wrapper = fromstring("<html><body></body></html>")
    wrapper.find("body").append(summary)
    return _trafilatura_lines(wrapper, page.url)


def raw_paragraphs(page: Page) -> list[str]:
    """trafilatura's content of the page as paragraph lines, without what the page's
    structure shows is not article text (the header block above the text, lists of links);
    the rules' own cleaning (clean_paragraphs) comes after."""
    # Chrome we recognise is marked on the shared tree and pruned from trafilatura's copy.
    for element in page.chrome_elements:
        element.set(_CHROME_MARK, "1")
    tree = merge_split_containers(page)
    divs = text_divs(tree)
    if divs:
        if tree is page.tree:
            paths = [tree.getroottree().getpath(div) for div in divs]
            tree = deepcopy(tree)
            divs = [tree.xpath(path)[0] for path in paths]
        for div in divs:
            div.tag = "p"
    lines = _trafilatura_lines(tree, page.url)
    anchors = anchor_texts(page.body_element)
    if is_navigation_dump(lines, anchors):
        # trafilatura read the menus (the text is loose in a layout block it does not
        # look at); readability scores blocks by their prose.
        lines = _readability_lines(page)
    lines = drop_header_lines(lines, header_block_text(page.h1))
    return drop_link_lines(lines, anchors)


def _key(text: str) -> str:
    return collapse(text).casefold().strip(" .:;,-—–")


def clean_paragraphs(
    lines: Iterable[str],
    *,
    headings: Iterable[str | None] = (),
    captions: Iterable[str | None] = (),
    bylines: Iterable[str | None] = (),
    is_date: Callable[[str], bool] | None = None,
) -> list[str]:
    """Drop the lines the rules exclude from the body.

    Boilerplate lines, "read also" lines and lines that are exactly an image caption or
    credit go wherever they are. The article's header as trafilatura may keep it (the
    `headings` title and subtitle, byline lines naming `bylines`, lines `is_date` calls a
    printed date) goes from the start; bylines and date lines also from the last lines.
    """
    caption_keys = {_key(c) for c in captions if c}
    heading_keys = {_key(h) for h in headings if h}
    byline_keys = [_key(b) for b in bylines if b and len(_key(b)) >= 3]

    def is_byline(line: str) -> bool:
        if len(line) > 100:
            return False
        key = _key(line)
        if key in byline_keys or (AUTHOR_PREFIX.match(line) and len(line) <= 60):
            return True
        return any(b in key for b in byline_keys) and len(line) <= 80

    def is_header(line: str) -> bool:
        return is_byline(line) or (is_date is not None and is_date(line))

    out = [
        line
        for line in lines
        if line
        and _key(line) not in caption_keys
        and not (
            len(line) <= _SHORT_LINE and (BOILERPLATE_LINE.match(line) or READ_ALSO.match(line))
        )
    ]
    while out and (_key(out[0]) in heading_keys or is_header(out[0])):
        out.pop(0)
    # A heading with nothing after it (a sidebar's "Latest news" whose links were dropped) is
    # not article text.
    # The sign-off block, and headings or byline lines left at the end above it.
    size = -1
    while size != len(out):
        size = len(out)
        out = drop_sign_off(out)
        while out and (is_header(out[-1]) or _HEADING_LIKE.match(out[-1])):
            out.pop()
    edge = min(3, len(out))
    return [
        line
        for index, line in enumerate(out)
        if not ((index < edge or index >= len(out) - edge) and is_header(line))
    ]


def join_paragraphs(lines: Iterable[str]) -> str:
    return "\n\n".join(lines)
