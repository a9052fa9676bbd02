"""Body cleaning, captions and credits, and the descriptive fields, one rule at a time."""

from __future__ import annotations

import pytest

from spiders.extraction.body import clean_paragraphs
from spiders.extraction.images import article_images, caption_and_credit, split_credit
from spiders.extraction.metadata import (
    authors,
    canonical,
    strip_site_name,
    subtitle,
    tags,
    translations,
)
from spiders.extraction.page import Page


def _page(body: str, head: str = "", url: str = "https://example.am/news/1.html") -> Page:
    return Page(f"<html><head>{head}</head><body>{body}</body></html>", url, None)


def test_clean_paragraphs() -> None:
    lines = [
        "Armenia and Georgia sign a hydropower deal",  # the title, repeated
        "The plant will be built on the Debed.",  # the standfirst, repeated
        "By Anna Hakobyan",
        "12 May 2024, 14:35",
        "First paragraph of the article.",
        "The Debed river near Alaverdi. Photo: Artur Avakov",  # a figure caption
        "Read also: Georgia raises its export tariff",
        "Share this:",
        "Second paragraph of the article.",
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Related posts",  # a heading with nothing after it
    ]
    kept = clean_paragraphs(
        lines,
        headings=[
            "Armenia and Georgia sign a hydropower deal",
            "The plant will be built on the Debed.",
        ],
        captions=["The Debed river near Alaverdi. Photo: Artur Avakov"],
        bylines=["Anna Hakobyan"],
        is_date=lambda line: line == "12 May 2024, 14:35",
    )
    assert kept == ["First paragraph of the article.", "Second paragraph of the article."]


def test_headings_are_only_dropped_where_they_open_the_body() -> None:
    lines = ["Intro paragraph.", "Financing", "The plan needs money."]
    assert clean_paragraphs(lines, headings=["Financing"]) == lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Artsakh children remember soldiers who died in the war with Azerbaijan. "
            "Photo: Artur Avakov",
            (
                "Artsakh children remember soldiers who died in the war with Azerbaijan.",
                "Artur Avakov",
            ),
        ),
        (
            "Самолёт в аэропорту «Звартноц». Фото: Давид Галстян",
            ("Самолёт в аэропорту «Звартноц».", "Давид Галстян"),
        ),
        (
            "Գյումրու օդանավակայանը, արխիվ: Լուսանկարը՝ Սարգիս Խառազյան",
            ("Գյումրու օդանավակայանը, արխիվ", "Սարգիս Խառազյան"),
        ),
        (
            "Sharambeyan street. Photo by Lusine Sargsyan",
            ("Sharambeyan street.", "Lusine Sargsyan"),
        ),
        ("Fəvvarələr meydanı. Foto: Report", ("Fəvvarələr meydanı.", "Report")),
        ("ელექტროავტობუსი. ფოტო: ნინო ბერიძე", ("ელექტროავტობუსი.", "ნინო ბერიძე")),
        ("Photographers at work in the newsroom", ("Photographers at work in the newsroom", None)),
        (
            "Structure of electricity production, %",
            ("Structure of electricity production, %", None),
        ),
    ],
)
def test_split_credit(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_credit(text) == expected


def test_credit_elements_inside_the_caption() -> None:
    page = _page(
        "<figure><img src='a.jpg'><figcaption>Containers at the port. "
        "<span class='credit'>Photo: Port of Baku</span></figcaption></figure>"
        "<figure><img src='b.jpg'><figcaption>Lake Sevan <small>Լուսանկարը՝ Էրիկ Գրիգորյան"
        "</small></figcaption></figure>"
    )
    captions = page.tree.findall(".//figcaption")
    assert caption_and_credit(captions[0]) == ("Containers at the port.", "Port of Baku")
    assert caption_and_credit(captions[1]) == ("Lake Sevan", "Էրիկ Գրիգորյան")


def test_images_lead_first_deduplicated_without_icons() -> None:
    page = _page(
        '<div class="entry-content">'
        '<img src="/img/logo.png" width="200" height="50">'
        '<figure><img src="/uploads/a.jpg"><figcaption>A. Photo: Xavier</figcaption></figure>'
        '<img src="data:image/gif;base64,R0lGOD" data-src="/uploads/b.jpg" width="600">'
        '<img src="/uploads/tracker.gif" width="1" height="1">'
        '<img src="/uploads/a.jpg">'
        '<div class="share"><img src="/uploads/share-fb.png"></div>'
        "<p>Text of the article.</p></div>",
        '<meta property="og:image" content="https://example.am/uploads/b.jpg">',
    )
    images, texts = article_images(page)
    assert images == [
        {"url": "https://example.am/uploads/b.jpg", "caption": None, "credit": None},
        {"url": "https://example.am/uploads/a.jpg", "caption": "A.", "credit": "Xavier"},
    ]
    assert "A. Photo: Xavier" in texts


def test_a_photo_without_caption_does_not_take_the_next_photos_caption() -> None:
    page = _page(
        '<div class="entry-content"><p><img src="/img/lead.jpg" width="800"></p>'
        "<p>Text of the article.</p>"
        '<figure class="wp-caption"><img src="/img/hall.jpg" width="800">'
        '<figcaption class="wp-caption-text">The hall. Photo: Nino B.</figcaption></figure>'
        "</div>"
    )
    images, _ = article_images(page)
    assert images == [
        {"url": "https://example.am/img/lead.jpg", "caption": None, "credit": None},
        {"url": "https://example.am/img/hall.jpg", "caption": "The hall.", "credit": "Nino B"},
    ]


def test_title_site_suffix() -> None:
    names = {"araratcourier", "newsam"}
    assert strip_site_name("Deal signed - Ararat Courier", names) == "Deal signed"
    assert strip_site_name("Deal signed | NEWS.am", names) == "Deal signed"
    assert (
        strip_site_name("Armenia - Georgia deal signed", names) == "Armenia - Georgia deal signed"
    )


def test_subtitle_classes_and_jsonld_fallback() -> None:
    page = _page('<h1>T</h1><p class="news-detail__lead">Restrictions start on July 1.</p>')
    assert subtitle(page) == "Restrictions start on July 1."
    page = _page(
        "<h1>T</h1><p>Text.</p>",
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"alternativeHeadline": "Second headline here"}</script>',
    )
    assert subtitle(page) == "Second headline here"
    assert subtitle(_page('<div class="lead-image"><img src="a.jpg"></div><p>Text.</p>')) is None


def test_authors() -> None:
    jsonld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        '{"@type": "NewsArticle", "author": [{"@id": "#p1"}, {"@type": "Organization", '
        '"name": "CivilNet"}], "publisher": {"@id": "#org"}},'
        '{"@type": "Person", "@id": "#p1", "name": "Ani Balayan"},'
        '{"@type": "Organization", "@id": "#org", "name": "CivilNet"}]}</script>'
    )
    assert authors(_page("<h1>T</h1>", jsonld)) == ["Ani Balayan"]
    byline = '<div class="byline">By Anna Hakobyan and Karen Mkrtchyan | May 12</div>'
    assert authors(_page(byline)) == ["Anna Hakobyan", "Karen Mkrtchyan"]
    assert authors(_page('<div class="author">Автор: Карен Мкртчян</div>')) == ["Карен Мкртчян"]
    assert authors(_page('<span class="post-author">Հեղինակ՝ Անի Բալայան</span>')) == [
        "Անի Բալայան"
    ]
    assert authors(_page("<p>x</p>", '<meta name="author" content="Anna Hakobyan">')) == [
        "Anna Hakobyan"
    ]
    assert authors(_page("<p>x</p>")) == []


def test_tags_precedence() -> None:
    head = (
        '<meta property="article:tag" content="Gyumri">'
        '<meta property="article:tag" content="roads">'
    )
    links = '<a rel="tag" href="/t/a">energy</a><a rel="category tag" href="/c/e">Economy</a>'
    assert tags(_page(links, head)) == ["Gyumri", "roads"]
    keywords = (
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "keywords": "a, b, a"}</script>'
    )
    assert tags(_page(links, keywords)) == ["a", "b"]
    assert tags(_page(links)) == ["energy"]


def test_translations() -> None:
    head = (
        '<link rel="alternate" hreflang="hy" href="https://example.am/news/1.html">'
        '<link rel="alternate" hreflang="ru-RU" href="/ru/news/2.html">'
        '<link rel="alternate" hreflang="x-default" href="https://example.am/">'
        '<link rel="alternate" hreflang="en" href="https://example.am/en/news/3.html?utm_source=x">'
        '<link rel="alternate" type="application/rss+xml" href="/rss/">'
    )
    page = _page("<p>x</p>", head)
    assert translations(page, [page.url]) == [
        {"language": "ru", "url": "https://example.am/ru/news/2.html"},
        {"language": "en", "url": "https://example.am/en/news/3.html?utm_source=x"},
    ]


@pytest.mark.parametrize(
    ("url", "head", "expected"),
    [
        (  # the page's own canonical, tracking parameters dropped
            "https://example.am/news/1.html?utm_source=x",
            '<link rel="canonical" href="/news/1.html?utm_medium=feed">',
            "https://example.am/news/1.html",
        ),
        (  # a template pointing every article at the front page: not the identity
            "https://example.am/news/1.html",
            '<link rel="canonical" href="https://example.am/">'
            '<meta property="og:url" content="https://example.am/news/1.html">',
            "https://example.am/news/1.html",
        ),
        (  # same, with no og:url to fall back on: the fetched URL
            "https://example.am/news/2.html?fbclid=1",
            '<link rel="canonical" href="https://example.am">',
            "https://example.am/news/2.html",
        ),
        (  # the front page itself may say so
            "https://example.am/?utm_source=x",
            '<link rel="canonical" href="https://example.am/">',
            "https://example.am/",
        ),
    ],
)
def test_canonical(url: str, head: str, expected: str) -> None:
    assert canonical(_page("<p>x</p>", head, url)) == expected
