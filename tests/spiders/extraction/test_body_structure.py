"""What the page's structure says about trafilatura's lines: split containers, the header
block above the text, lists of links."""

from __future__ import annotations

from lxml.html import fromstring

from spiders.extraction.body import raw_paragraphs
from spiders.extraction.body_container import merge_split_containers
from spiders.extraction.body_header import drop_header_lines, header_block_text
from spiders.extraction.body_links import (
    anchor_texts,
    drop_link_lines,
    is_navigation_dump,
    link_share,
)
from spiders.extraction.page import Page

_PARA = "This sentence is long enough to count as a real paragraph of article text here. "


def _paragraphs(label: str, count: int) -> str:
    return "".join(f"<p>{label} {n}. {_PARA * 2}</p>" for n in range(1, count + 1))


SPLIT = (
    "<html><body><main>"
    "<h1>A split article</h1>"
    f'<div class="article__body">{_paragraphs("First part", 2)}</div>'
    '<div class="newsletter-promo"><p>Sign up for our newsletter today, it is free.</p></div>'
    f'<div class="article__body">{_paragraphs("Second part", 2)}</div>'
    '<div class="article__body"></div>'
    "</main></body></html>"
)


def test_split_containers_are_read_as_one() -> None:
    lines = raw_paragraphs(Page(SPLIT, "https://example.org/a", None))
    assert [line.split(".")[0] for line in lines] == [
        "First part 1",
        "First part 2",
        "Second part 1",
        "Second part 2",
    ]


def test_merge_leaves_the_shared_tree_alone() -> None:
    page = Page(SPLIT, None, None)
    tree = page.tree
    merged = merge_split_containers(page)
    assert merged is not tree
    parts = merged.xpath('//div[@class="article__body"]')
    assert [len(part.findall("p")) for part in parts] == [4, 0, 0]
    assert [len(part.findall("p")) for part in tree.xpath('//div[@class="article__body"]')] == [
        2,
        2,
        0,
    ]


def test_one_container_is_not_copied() -> None:
    page = Page(
        f'<html><body><div class="article__body">{_paragraphs("x", 2)}</div></body></html>',
        None,
        None,
    )
    assert merge_split_containers(page) is page.tree


def test_nested_matches_are_not_parts() -> None:
    page = Page(
        '<html><body><div class="article-body">'
        f'<div class="article-body">{_paragraphs("inner", 2)}</div>'
        "</div></body></html>",
        None,
        None,
    )
    assert merge_split_containers(page) is page.tree


HEADER = (
    '<html><body><div class="page"><header class="article-header">'
    "<h1>Council approves the new budget</h1>"
    '<h2 class="sub-head">Spending rises for schools and roads</h2>'
    '<p class="byline">By Ann Lee</p></header>'
    f'<div class="story">{_paragraphs("Body", 5)}</div></div></body></html>'
)


def test_header_block_is_the_h1_wrapper() -> None:
    page = Page(HEADER, None, None)
    assert header_block_text(page.h1) == (
        "Council approves the new budget Spending rises for schools and roads By Ann Lee"
    )


def test_header_lines_leave_the_start() -> None:
    header = "Council approves the new budget Spending rises for schools and roads By Ann Lee"
    lines = ["Council approves the new budget", "Spending rises for schools and roads", "Body 1."]
    assert drop_header_lines(lines, header) == ["Body 1."]


def test_header_lines_stay_when_the_block_holds_the_text() -> None:
    header = "Title Short text. More."
    assert drop_header_lines(["Short text.", "More."], header) == ["Short text.", "More."]
    # A later line inside the block too: the block is the article, not its header.
    assert drop_header_lines(["Short text.", "Other.", "More."], header) == [
        "Short text.",
        "Other.",
        "More.",
    ]
    assert drop_header_lines(["Body."], "") == ["Body."]


def test_header_lines_in_extraction() -> None:
    lines = raw_paragraphs(Page(HEADER, None, None))
    assert [line.split(".")[0] for line in lines] == [
        "Body 1",
        "Body 2",
        "Body 3",
        "Body 4",
        "Body 5",
    ]


def test_header_block_stops_at_text() -> None:
    page = Page(
        f"<html><body><article><h1>Title here</h1>{_paragraphs('Body', 6)}</article></body></html>",
        None,
        None,
    )
    assert header_block_text(page.h1) == "Title here"
    assert header_block_text(None) == ""


def test_link_share() -> None:
    anchors = ["mysterious death of a coder", "Reuters"]
    assert link_share("The strange life and mysterious death of a coder", anchors) == 27 / 48
    assert link_share("No links here at all", anchors) == 0.0
    assert link_share("", anchors) == 0.0


def test_anchor_texts_skip_short_links() -> None:
    root = fromstring(
        '<div><a href="/a">here</a><a href="/b">A <b>longer</b> headline link</a>'
        '<a href="/c">A longer headline link</a></div>'
    )
    assert anchor_texts(root) == ["A longer headline link"]


def test_link_runs_and_trailing_links_go() -> None:
    anchors = ["First related story title", "Second related story title", "Third one of them"]
    lines = [
        "Article text that is not a link at all, with a sentence.",
        "First related story title",
        "Second related story title",
        "Third one of them",
        "More article text after the list of links, also a sentence.",
        "Second related story title",
    ]
    assert drop_link_lines(lines, anchors) == [lines[0], lines[4]]


def test_short_link_runs_and_urls_stay() -> None:
    anchors = ["First related story title", "https://example.org/report.pdf"]
    lines = [
        "Article text.",
        "First related story title",
        "Article text again.",
        "https://example.org/report.pdf",
    ]
    assert drop_link_lines(lines, anchors) == lines
    # The only line is never dropped.
    assert drop_link_lines(["First related story title"], anchors) == ["First related story title"]


def test_next_story_is_not_a_part() -> None:
    page = Page(
        "<html><body>"
        f'<h1>First story</h1><div class="article-body">{_paragraphs("one", 2)}</div>'
        f'<h1>Next story</h1><div class="article-body">{_paragraphs("two", 2)}</div>'
        "</body></html>",
        None,
        None,
    )
    assert merge_split_containers(page) is page.tree


def test_navigation_dump() -> None:
    menu = " ".join(f"Menu entry number {n}" for n in range(100))
    anchors = [f"Menu entry number {n}" for n in range(100)]
    assert is_navigation_dump([menu], anchors)
    assert is_navigation_dump([menu, "Short text."], anchors)
    assert not is_navigation_dump([menu[:1000]], anchors)
    assert not is_navigation_dump([], anchors)


def test_loose_text_beside_a_menu_dump() -> None:
    menu = "".join(f'<a href="/s{n}">Section link number {n}</a> ' for n in range(120))
    text = "The clinic reported that two of its five cars were broken into overnight. " * 5
    html = (
        f'<html><body><div class="col"><div>{menu}</div></div>'
        f'<div class="col-9"><img src="a.jpg">{text}<br><br></div></body></html>'
    )
    assert raw_paragraphs(Page(html, None, None)) == [text.strip()]


def test_link_lines_making_most_of_the_text_stay() -> None:
    anchors = ["First linked line of text", "Second linked line of text", "Third linked line"]
    lines = ["Intro.", *anchors]
    assert drop_link_lines(lines, anchors) == lines


def test_shouted_link_promos_go() -> None:
    anchors = ["CLICK HERE TO GET THE NEWS APP", "Council budget"]
    lines = [
        "Article text about the council budget.",
        "CLICK HERE TO GET THE NEWS APP",
        "More article text.",
        "NASA",
    ]
    assert drop_link_lines(lines, anchors) == [lines[0], lines[2], lines[3]]
