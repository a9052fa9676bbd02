"""Declared and detected language, and which one an article gets."""

from __future__ import annotations

import pytest

from spiders.extraction.language import (
    candidate_languages,
    choose_language,
    declared_language,
    detect_language,
    detector,
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
    assert candidate_languages(["ru", "kk"]) == (*sorted({*REGION, "kk"}),)


def test_the_detector_is_built_once_per_language_set() -> None:
    assert detector(REGION) is detector(candidate_languages(["hy", "ru"]))
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
