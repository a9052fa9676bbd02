"""Syndication credits: credit lines in the region's languages and agency datelines."""

from __future__ import annotations

import pytest

from spiders.catalogue import Mirror
from spiders.extraction.metadata import credits_itself, site_names
from spiders.extraction.page import Page
from spiders.extraction.syndication import (
    Credit,
    credit_at_end,
    credit_line,
    drop_notices,
    find_credit,
    machine_translated,
    opening_credit,
    says_machine_translated,
)


@pytest.mark.parametrize(
    ("line", "outlet"),
    [
        ("Источник www.mk.ru", "www.mk.ru"),
        ("Источник: www.mk.ru", "www.mk.ru"),
        ("Источник: https://www.mk.ru/politics/2021/06/30/putin.html", "www.mk.ru"),
        ("Первоисточник: ТАСС", "ТАСС"),
        ("Source: Reuters", "Reuters"),
        ("Source: www.mk.ru", "www.mk.ru"),
        ("(Source: Interfax)", "Interfax"),
        ("Աղբյուր՝ news.am", "news.am"),
        ("Աղբյուրը՝ Armenpress", "Armenpress"),
        ("Mənbə: report.az", "report.az"),
        ("Mənbə: Trend", "Trend"),
        ("წყარო: civil.ge", "civil.ge"),
        ("Source: NEWS.am", "news.am"),
        # sentences that start like a credit are not one
        ("Sources say the minister will resign next week.", None),
        ("Источник в правительстве сообщил, что решение уже принято.", None),
        ("Source of the problem, experts say, is the old pipeline network.", None),
        ("The source: an interview with the deputy minister.", None),
        ("Источник: " + "очень длинная строка " * 10, None),
    ],
)
def test_credit_lines(line: str, outlet: str | None) -> None:
    assert credit_line(line) == outlet


@pytest.mark.parametrize(
    ("paragraph", "outlet"),
    [
        ("YEREVAN, MARCH 21, ARMENPRESS. Armenia will allow foreign citizens...", "ARMENPRESS"),
        ("STEPANAKERT, JUNE 23, ARTSAKHPRESS-ARMENPRESS: Water supply has been...", "ARMENPRESS"),
        ("ARTSAKHPRESS: The President of Artsakh received...", "ARTSAKHPRESS"),
        ("YEREVAN, DECEMBER 3, 2019, ARMENPRESS. The government approved...", "ARMENPRESS"),
        ("Gyumri will host a festival in August, news.am informs.", "news.am"),
        ("ԵՐԵՎԱՆ, ՀՈՒՆԻՍԻ 23, ԱՐՄԵՆՊՐԵՍ: Կառավարությունը հավանություն է տվել...", "ԱՐՄԵՆՊՐԵՍ"),
        ("ЕРЕВАН, 23 июня. /АРМЕНПРЕСС/. В Араратской области...", "АРМЕНПРЕСС"),
        ("Baku, July 8, AZERTAC", "AZERTAC"),
        ("UPDATE: the meeting was postponed until Friday.", None),
        ("Yerevan, 12 May: the weather will be sunny, forecasters say.", None),
        ("Armenia and Georgia signed an agreement on Sunday.", None),
    ],
)
def test_opening_credits(paragraph: str, outlet: str | None) -> None:
    assert opening_credit(paragraph) == outlet


def test_a_credit_line_is_found_at_the_end_and_marked_for_removal() -> None:
    lines = ["First paragraph.", "Second paragraph.", "Third one.", "Источник www.mk.ru"]
    assert find_credit(lines) == Credit("www.mk.ru", 3)


def test_a_dateline_credits_without_removing_its_paragraph() -> None:
    lines = ["YEREVAN, MARCH 21, ARMENPRESS. Armenia will allow...", "More text."]
    assert find_credit(lines) == Credit("ARMENPRESS", None)


def test_a_dateline_paragraph_of_its_own_is_the_credit_line() -> None:
    lines = ["Baku, July 8, AZERTAC", "Azerbaijani and Georgian customs officials met."]
    assert find_credit(lines) == Credit("AZERTAC", 0)


def test_a_credit_line_the_cleaning_dropped_is_found_among_the_raw_lines() -> None:
    assert credit_at_end(["Text.", "More text.", "Источник: ИА REGNUM"]) == Credit(
        "ИА REGNUM", None
    )
    assert credit_at_end(["Text.", "More text."]) is None


def test_a_credit_line_wins_over_a_dateline() -> None:
    lines = ["YEREVAN, MARCH 21, ARMENPRESS. Text.", "More.", "Source: Reuters"]
    assert find_credit(lines) == Credit("Reuters", 2)


def test_a_credit_outside_the_extracted_text_is_found_in_the_article() -> None:
    page = Page(
        '<html><body><div class="entry-content"><p>Article text.</p>'
        '<div class="news-source">Источник: <a href="https://www.kommersant.ru/">'
        "www.kommersant.ru</a></div></div></body></html>",
        "https://example.ru/news/1/",
        None,
    )
    assert find_credit(["Article text."], page) == Credit("www.kommersant.ru", None)


def test_no_credit() -> None:
    assert find_credit(["Just text.", "More text."]) is None
    assert find_credit([]) is None


# --- machine translation -----------------------------------------------------------------

LONG = "<p>" + "The committee discussed the budget of the water agency at length. " * 4 + "</p>"


@pytest.mark.parametrize(
    "notice",
    [
        "This article was machine translated from Russian.",
        "This article has been automatically translated. Read the original in Armenian.",
        "Translated by Google Translate",
        "Перевод выполнен автоматически.",
        "Внимание: машинный перевод. Оригинал на армянском языке.",
        "Xəbər avtomatik tərcümə edilib.",
        "Այս հոդվածը մեքենայական թարգմանություն է։",
        "სტატია ავტომატურად ითარგმნა.",
        "Bu haber otomatik çeviri ile hazırlanmıştır.",
    ],
)
def test_a_notice_says_the_page_is_machine_translated(notice: str) -> None:
    page = Page(
        f'<html><body><h1>T</h1><div class="mt-note">{notice}</div>{LONG}</body></html>',
        "https://example.am/news/1",
        None,
    )
    assert says_machine_translated(page) == f"notice: {notice!r}"
    assert machine_translated(page, page.url, mirrors=())


def test_other_signs_of_a_machine_translation() -> None:
    proxy = Page(f"<html><body>{LONG}</body></html>", "https://news-am.translate.goog/x", None)
    saved = Page(f'<html class="translated-ltr"><body>{LONG}</body></html>', None, None)
    software = Page(
        '<html><body><script type="application/ld+json">{"@type": "NewsArticle", "translator":'
        ' {"@type": "SoftwareApplication", "name": "DeepL"}}</script>' + LONG + "</body></html>",
        None,
        None,
    )
    for page in (proxy, saved, software):
        assert says_machine_translated(page)


def test_mentioning_machine_translation_is_not_a_notice() -> None:
    # A paragraph in the middle of an article about translation software, and a long one.
    lines = [
        "Yerevan startups presented new products on Monday.",
        "The fair drew 3,000 visitors.",
        "One of them offers machine translation for Armenian.",
        "Its founders said investors were interested.",
        "The fair ends on Friday.",
        "Entry is free.",
        "Tickets are not needed.",
    ]
    html = "".join(f"<p>{line}</p>" for line in lines)
    page = Page(f"<html><body><h1>T</h1>{html}</body></html>", None, None)
    assert says_machine_translated(page, lines) is None
    assert drop_notices(lines) == lines
    long = "Машинный перевод " + "улучшился за последние годы, говорят разработчики. " * 6
    page = Page(f"<html><body><h1>T</h1><p>{long}</p></body></html>", None, None)
    assert says_machine_translated(page, [long]) is None
    # A short news item about translation software is an article too.
    brief = [
        "Google has added Armenian to its translation service.",
        "Users can now get an automatic translation of web pages into Armenian.",
        "The company said the quality will improve over time.",
    ]
    page = Page(
        "<html><body>" + "".join(f"<p>{b}</p>" for b in brief) + "</body></html>", None, None
    )
    assert says_machine_translated(page, brief) is None
    assert drop_notices(brief) == brief
    # At an edge of the body, the notice is dropped from the text.
    edged = ["Перевод выполнен автоматически.", *lines]
    assert drop_notices(edged) == lines


def test_a_listed_machine_translation_mirror_is_flagged() -> None:
    mirrors = [
        Mirror(host="farm.example", kind="machine-translation"),
        Mirror(host="aggregator.example", kind="aggregator"),
    ]
    page = Page(f"<html><body><h1>T</h1>{LONG}</body></html>", None, None)
    assert machine_translated(page, "https://www.farm.example/a", mirrors=mirrors)
    assert not machine_translated(page, "https://aggregator.example/a", mirrors=mirrors)
    assert not machine_translated(page, "https://civil.ge/a", mirrors=mirrors)


@pytest.mark.parametrize(
    ("outlet", "own"),
    [("ԱՐՄԵՆՊՐԵՍ", True), ("АРМЕНПРЕСС", True), ("ARMENPRESS", True), ("news.am", False)],
)
def test_an_outlet_crediting_itself_in_another_script(outlet: str, own: bool) -> None:
    page = Page(
        '<html><head><meta property="og:site_name" content="Armenpress"></head><body></body>'
        "</html>",
        "https://armenpress.am/hy/article/1",
        None,
    )
    assert credits_itself(outlet, site_names(page, None)) is own
    azertac = Page("<html><body></body></html>", "https://azertag.az/en/xeber/1", None)
    assert credits_itself("AZERTAC", site_names(azertac, "AZƏRTAC"))


def test_a_notice_running_over_inline_markup() -> None:
    page = Page(
        "<html><body><h1>T</h1><p class='note'>Перевод выполнен <em>автоматически</em>.</p>"
        f"{LONG}</body></html>",
        None,
        None,
    )
    assert says_machine_translated(page) == "notice: 'Перевод выполнен автоматически .'"
    upper = Page(
        f"<html><body><p>MACHINE TRANSLATED FROM RUSSIAN</p>{LONG}</body></html>", None, None
    )
    assert says_machine_translated(upper)
