"""Text divs between paragraphs are read as paragraphs."""

from __future__ import annotations

from spiders.extraction.body import raw_paragraphs
from spiders.extraction.body_divs import text_divs
from spiders.extraction.page import Page

_PARA = "A sentence long enough to be a real paragraph of the article text on this page. " * 2


def _page(middle: str) -> Page:
    return Page(
        "<html><body><h1>Tariffs explained</h1><div class='article-body'>"
        f"<p>One. {_PARA}</p><p>Two. {_PARA}</p>{middle}<p>Three. {_PARA}</p></div></body></html>",
        None,
        None,
    )


def test_subheading_div_is_read() -> None:
    page = _page("<div class='subheadline'>Who pays the <b>cost</b> of a tariff?</div>")
    assert [div.get("class") for div in text_divs(page.tree)] == ["subheadline"]
    lines = raw_paragraphs(page)
    assert lines[2] == "Who pays the cost of a tariff?"
    assert len(lines) == 4
    # The shared tree keeps its div.
    assert page.tree.find(".//div[@class='subheadline']") is not None


def test_block_divs_and_empty_divs_stay_out() -> None:
    assert text_divs(_page("<div class='ad'><div>Advert</div></div>").tree) == []
    assert text_divs(_page("<div class='spacer'> </div>").tree) == []
    assert text_divs(_page("<div><img src='a.jpg'></div>").tree) == []


def test_read_also_teaser_div_stays_out() -> None:
    teaser = (
        "<div class='read-also'><span>Read also</span>"
        "<a href='/kura'>Why the Kura river is running dry</a></div>"
    )
    assert text_divs(_page(teaser).tree) == []
