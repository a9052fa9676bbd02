"""Article or not: the signals and the figures every rejection reports."""

from __future__ import annotations

import pytest

from spiders.extraction import NotAnArticle, extract_article
from spiders.extraction.body import raw_paragraphs
from spiders.extraction.classify import (
    Teasers,
    check_body,
    check_page,
    page_kind,
    prose_words,
    teasers,
)
from spiders.extraction.page import Page
from spiders.extraction.vocab import LISTING_URL

ARTICLE = (
    "<p>Armenia and Georgia on Sunday signed an agreement to build a hydropower plant on the "
    "Debed river, the first joint energy project of the two neighbours in twenty years.</p>"
    "<p>The plant is to be built downstream of Alaverdi. Construction is expected to take "
    "four years and cost about 140 million dollars, the energy ministries said.</p>"
)


URL = "https://example.am/news/100.html"


def _html(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


def _page(body: str, head: str = "", url: str = URL) -> Page:
    return Page(_html(body, head), url, None)


def _reject(body: str, head: str = "", url: str = URL) -> str:
    with pytest.raises(NotAnArticle) as caught:
        extract_article(_html(body, head), url)
    assert caught.value.reason == "not_article"
    return caught.value.detail


def _accept(body: str, head: str = "", url: str = URL) -> None:
    assert extract_article(_html(body, head), url)["body"]


@pytest.mark.parametrize(
    ("path", "listing"),
    [
        ("/category/politics/", True),
        ("/category/politics/page/2/", True),
        ("/tag/karabakh/", True),
        ("/author/admin/", True),
        ("/rubric/gorod/", True),
        ("/search/?q=border", True),
        ("/?s=border", True),
        ("/page/2/", True),
        ("/news?page=3", True),
        ("/archive/", True),
        ("/archives/480211", False),  # WordPress post-id permalink
        ("/category/news/armenia-georgia-deal/", False),
        ("/news/23074-putin_uklonilsja.html", False),
        ("/index.php?page=news&id=5", False),
        ("/news/view.html?idx=8576&page=1", False),
        ("/2024/05/12/armenia-georgia-hydropower-debed/", False),
        ("/taxonomy/term/4", True),
        ("/taxonomy/term/4?page=1", True),
        ("/2024/09/03/", True),
        ("/en/2024/09/", True),
        ("/node/5242", False),
    ],
)
def test_listing_url_shapes(path: str, listing: bool) -> None:
    assert bool(LISTING_URL.search(path)) is listing


def test_yoast_archives_say_article_in_og_type_but_jsonld_decides() -> None:
    head = (
        '<meta property="og:type" content="article"><script type="application/ld+json">'
        '{"@graph": [{"@type": "CollectionPage", "name": "Politics"}]}</script>'
    )
    kind = page_kind(_page("<h1>Politics</h1>", head))
    assert (kind.article_typed, kind.listing_types) == (False, ("CollectionPage",))
    assert _reject("<h1>Politics</h1>", head) == (
        "JSON-LD declares CollectionPage and no article type; og:type 'article'; "
        "JSON-LD CollectionPage"
    )


def test_an_article_without_any_declaration_passes() -> None:
    _accept(f"<h1>Hydropower deal</h1>{ARTICLE}")


def test_the_url_shape_alone_does_not_reject_a_declared_article() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
    _accept(f"<h1>Deal</h1>{ARTICLE}", head, "https://example.am/tag/energy/")


def test_short_text_figures() -> None:
    page = (
        "<article><h1>Photo of the day</h1><p>Sunset over Lake Sevan.</p>"
        "<img src='a.jpg'></article>"
    )
    assert _reject(page) == (
        "4 words of article text (< 40) in 1 paragraphs; 1 images; no og:type; "
        "no JSON-LD article type"
    )


def test_gallery_without_running_text() -> None:
    figures = "".join(
        f'<figure><img src="/p/{i}.jpg"><figcaption>Novruz celebrations in Baku, photo {i} of '
        f"the series taken on Fountain Square</figcaption></figure>"
        for i in range(8)
    )
    page = _page(
        f'<header><a href="/">Report</a></header><h1>Novruz in Baku</h1>'
        f'<span class="date">20 mart, 2024</span>{figures}'
        '<div class="gallery__share">Paylaş: Facebook</div><footer>© Report 2024</footer>',
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script>',
    )
    assert prose_words(page) == 3
    lines = raw_paragraphs(page)
    words = sum(len(line.split()) for line in lines)
    with pytest.raises(NotAnArticle) as caught:
        check_body(page, check_page(page), lines, words)
    assert caught.value.detail.startswith("no running text: 3 words of prose outside links,")


def test_teaser_list_whose_headlines_the_extractor_dropped() -> None:
    items = "".join(
        f'<div class="item"><a href="/news/{i}.html">Headline number {i} about the regional '
        f"economy today</a><p>Short summary of story {i} with a few more words in it.</p></div>"
        for i in range(1, 7)
    )
    body = f"<h1>News</h1><div class='list'>{items}</div>"
    page = _page(body, url="https://example.am/news/")
    lines = raw_paragraphs(page)
    assert lines == [
        f"Short summary of story {i} with a few more words in it." for i in range(1, 7)
    ]
    assert teasers(page, lines) == Teasers(headlines=6, lines=6, chars=318)
    assert _reject(body, url="https://example.am/news/") == (
        "teaser list: 6 headline links of the page in the text, on 6 of 6 paragraphs "
        "(1.00 >= 0.4), 1.00 of its characters (>= 0.2); 72 words; no og:type; "
        "no JSON-LD article type"
    )


def test_inline_links_do_not_make_an_article_a_teaser_list() -> None:
    paragraphs = "".join(
        f'<p>Officials said on day {i} that <a href="/news/{i}.html">the government will '
        f"raise tariff number {i} next month</a> although talks with the banks continue.</p>"
        for i in range(6)
    )
    page = _page(f"<h1>Tariffs</h1>{paragraphs}")
    assert teasers(page, raw_paragraphs(page)) == Teasers(headlines=0, lines=0, chars=0)
    _accept(f"<h1>Tariffs</h1>{paragraphs}")


def test_cookie_wall() -> None:
    page = (
        "<h1>Before you continue</h1><p>We use cookies and similar technologies to measure "
        "how the site is used and to personalise advertising.</p><p>By clicking Accept all "
        "you consent to the use of cookies for these purposes.</p><p>You can change your "
        "consent at any time in the cookie settings.</p>"
    )
    assert _reject(page).startswith("cookie or consent wall: 3 of 3 paragraphs about cookies")


@pytest.mark.parametrize(
    "title",
    ["Page not found – Ararat Courier", "404 Not Found", "Страница не найдена", "Էջը չի գտնվել"],
)
def test_error_pages_served_as_pages(title: str) -> None:
    page = (
        "<h1>Oops</h1><p>The page you are looking for may have been moved or deleted. Try "
        "the search form or go back to the home page to read the latest news from Armenia, "
        "Georgia and Azerbaijan.</p>"
    )
    assert _reject(page, f"<title>{title}</title>").startswith(
        "error page served as a page: title/h1"
    )


def test_an_error_title_rejects_despite_a_template_og_type_article() -> None:
    page = (
        "<h1>Səhifə tapılmadı</h1><p>Axtardığınız səhifə mövcud deyil və ya silinib. Ola "
        "bilsin ki, ünvanı səhv daxil etmisiniz və ya xəbər başqa bölməyə köçürülüb. Son "
        "xəbərləri oxumaq üçün ana səhifəyə qayıdın.</p>"
    )
    head = '<meta property="og:type" content="article"><title>Səhifə tapılmadı</title>'
    assert _reject(page, head).startswith("error page served as a page: title/h1")


def test_profile_pages() -> None:
    head = '<meta property="og:type" content="profile">'
    assert (
        _reject(f"<h1>Anna</h1>{ARTICLE}", head) == "og:type 'profile': an author or profile page"
    )
