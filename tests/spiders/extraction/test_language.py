"""Declared and detected language, and which one an article gets."""

from __future__ import annotations

import pytest

from spiders.extraction.language import (
    candidate_languages,
    choose_language,
    declared_language,
    detect_language,
    detector,
    text_script,
)
from spiders.extraction.page import Page

REGION = candidate_languages()

TEXTS = {
    "hy": "Կառավարությունն այսօր հավանություն տվեց Գյումրու օդանավակայանի նոր տերմինալի "
    "կառուցման նախագծին։",
    "ka": "თბილისის მერიამ ქალაქისთვის 150 ახალი ელექტროავტობუსის შეძენის შესახებ "
    "ხელშეკრულება გააფორმა.",
    "az": "Bakıda yeni metro stansiyasının tikintisinə başlanılıb. Bu barədə Bakı "
    "Metropoliteni məlumat verib.",
    "ru": "Мэрия Еревана с 1 июля запретит въезд грузовиков массой более 10 тонн в центр "
    "города в дневное время.",
    "en": "Armenia will allow foreign citizens to apply for electronic visas at all land "
    "border crossings by the end of the year.",
    "tr": "Türkiye ile Ermenistan arasındaki sınır kapısının yeniden açılması için "
    "görüşmeler devam ediyor.",
    "uk": "Уряд України ухвалив рішення про відновлення залізничного сполучення між "
    "двома містами наступного тижня.",
}


@pytest.mark.parametrize(("code", "text"), sorted(TEXTS.items()))
def test_detects_the_region_languages(code: str, text: str) -> None:
    assert detect_language(text, REGION) == code


@pytest.mark.parametrize("text", ["", "Новости", "12:35, 17.05.2020", "Share this: Facebook X"])
def test_too_short_to_tell(text: str) -> None:
    assert detect_language(text, REGION) is None


def test_a_source_language_joins_the_candidates() -> None:
    kazakh = "Қазақстан үкіметі жаңа теміржол желісінің құрылысын бастауға шешім қабылдады."
    assert "kk" not in REGION
    assert detect_language(kazakh, candidate_languages(["kk"])) == "kk"


@pytest.mark.parametrize(
    ("source", "declared", "text", "expected"),
    [
        # without a source: the region's languages (and the declared one)
        ([], None, "", REGION),
        ([], "kk", "", tuple(sorted({*REGION, "kk"}))),
        # the source's languages and their close neighbours
        (["ru"], None, TEXTS["ru"], ("be", "ru", "uk")),
        (["az", "ru", "en"], None, TEXTS["az"], ("az", "be", "en", "ru", "tr", "uk")),
        # a single language gets English beside it
        (["ka"], None, TEXTS["ka"], ("en", "ka")),
        (["hy"], "hy", TEXTS["hy"], ("en", "hy")),
        # the declared language joins
        (["en"], "ru", TEXTS["en"], ("en", "ru")),
        # a text in a script none of them is written in brings that script's language
        (["ka"], "ka", TEXTS["ru"], ("ka", "ru")),
        (["en"], None, TEXTS["hy"], ("en", "hy")),
    ],
)
def test_candidates_are_the_source_languages_and_close_neighbours(
    source: list[str], declared: str | None, text: str, expected: tuple[str, ...]
) -> None:
    assert candidate_languages(source, declared, text) == expected


def test_restricted_candidates_still_find_the_text_language() -> None:
    # A Russian page on an outlet listed as Georgian only, declaring ka in its template.
    assert detect_language(TEXTS["ru"], candidate_languages(["ka"], "ka", TEXTS["ru"]), "ka") == (
        "ru"
    )
    # A Turkish page on an Azerbaijani outlet: Turkish is a close neighbour.
    assert detect_language(TEXTS["tr"], candidate_languages(["az"], "az", TEXTS["tr"])) == "tr"


def test_the_declared_language_settles_a_close_call() -> None:
    # Azerbaijani and Turkish share most of a short sentence: the page's word decides, while
    # a clear verdict against the declaration stands.
    short = "Prezident yeni qanun layihəsini imzalayıb, qanun martda qüvvəyə minəcək."
    codes = candidate_languages(["az"], "az", short)
    assert detect_language(short, codes, "az") == "az"
    assert detect_language(TEXTS["ru"], candidate_languages(["en"], "en", TEXTS["ru"]), "en") == (
        "ru"
    )
    assert text_script(TEXTS["hy"]) == "armenian" and text_script("12:30") is None


def test_the_detector_is_built_once_per_language_set() -> None:
    assert detector(REGION) is detector(candidate_languages([]))
    assert detector(REGION) is not detector(candidate_languages(["kk"]))


@pytest.mark.parametrize(
    ("head", "html_lang", "headers", "expected"),
    [
        ("", ' lang="en-US"', None, "en"),
        ("", ' lang="HY"', None, "hy"),
        ('<meta property="og:locale" content="ru_RU">', "", None, "ru"),
        ('<meta property="og:locale" content="ru_RU">', ' lang="az"', None, "az"),
        ("", "", {"Content-Language": "ka-GE, en"}, "ka"),
        ("", ' lang=""', {"content-language": "hy"}, "hy"),
        ("", "", None, None),
        ("", ' lang="x-default"', None, None),
    ],
)
def test_declared_language(
    head: str, html_lang: str, headers: dict[str, str] | None, expected: str | None
) -> None:
    page = Page(f"<html{html_lang}><head>{head}</head><body><p>x</p></body></html>", None, headers)
    assert declared_language(page) == expected


@pytest.mark.parametrize(
    ("detected", "declared", "source", "expected"),
    [
        ("ru", "en", ["en"], "ru"),  # the text is Russian whatever the template says
        (None, "en", ["ru"], "en"),
        (None, None, ["hy", "ru"], "hy"),
        (None, None, [], None),
    ],
)
def test_choose_language(
    detected: str | None, declared: str | None, source: list[str], expected: str | None
) -> None:
    assert choose_language(detected, declared, source) == expected
