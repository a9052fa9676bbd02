"""Syndication credits: credit lines in the region's languages and agency datelines."""

from __future__ import annotations

import pytest

from spiders.extraction.page import Page
from spiders.extraction.syndication import Credit, credit_line, find_credit, opening_credit


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
