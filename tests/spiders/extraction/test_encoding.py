"""Decoding fetched bytes, and refusing responses that are not HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spiders.extraction import NotAnArticle, extract_article
from spiders.extraction.encoding import to_text

TITLE = "Путин уклонился от ответа о безопасности жителей Карабаха"
TEXT = (
    "Во время прямой линии президенту России задали вопрос о безопасности жителей Карабаха "
    "после ухода российских миротворцев. Владимир Путин ушёл от прямого ответа и напомнил о "
    "договорённостях, достигнутых в ноябре прошлого года. Согласно трёхстороннему заявлению, "
    "российские миротворцы на пять лет размещаются вдоль линии соприкосновения."
)


def _page(head: str = "") -> str:
    return (
        f"<html><head>{head}<title>{TITLE}</title></head>"
        f"<body><h1>{TITLE}</h1><p>{TEXT}</p></body></html>"
    )


def test_charset_from_the_content_type_header() -> None:
    data = _page().encode("cp1251")
    assert TITLE in to_text(data, {"content-type": "text/html; charset=windows-1251"})


def test_charset_from_meta_http_equiv_when_the_header_has_none() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    data = _page(head).encode("cp1251")
    assert TITLE in to_text(data, {"Content-Type": "text/html"})


def test_charset_from_meta_charset() -> None:
    data = _page('<meta charset="koi8-r">').encode("koi8_r")
    assert TITLE in to_text(data, None)


def test_undeclared_windows_1251_is_detected() -> None:
    assert TITLE in to_text(_page().encode("cp1251"), None)


def test_undeclared_utf8() -> None:
    assert TITLE in to_text(_page().encode("utf-8"), {})


def test_a_byte_order_mark_wins_over_a_wrong_header() -> None:
    # As in browsers (and w3lib): the BOM is the strongest evidence of the encoding.
    data = b"\xef\xbb\xbf" + _page().encode("utf-8")
    text = to_text(data, {"Content-Type": "text/html; charset=windows-1251"})
    assert TITLE in text and not text.startswith("\ufeff")


def test_text_is_used_as_it_is() -> None:
    page = _page('<meta charset="windows-1251">')
    assert to_text(page, {"Content-Type": "text/html; charset=windows-1251"}) == page


def test_a_windows_1251_page_extracts_cleanly() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    result = extract_article(
        _page(head).encode("cp1251"),
        "https://example.ru/news/1.html",
        headers={"Content-Type": "text/html; charset=windows-1251"},
        fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert result["title"] == TITLE
    assert result["body"] == TEXT
    assert result["language"] == "ru"


@pytest.mark.parametrize(
    ("data", "headers", "detail"),
    [
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", {"Content-Type": "application/pdf"}, "pdf"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", {"Content-Type": "text/html"}, "PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", {"Content-Type": "image/jpeg"}, "image/jpeg"),
        (b"PK\x03\x04\x14\x00\x06\x00", None, "ZIP archive"),
        (bytes(range(256)) * 4, None, "control bytes"),
        ("%PDF-1.4 as text", None, "PDF document"),
    ],
)
def test_non_html_is_refused(
    data: bytes | str, headers: dict[str, str] | None, detail: str
) -> None:
    with pytest.raises(NotAnArticle) as caught:
        extract_article(data, "https://example.am/file", headers=headers)
    assert caught.value.reason == "not_html"
    assert detail in caught.value.detail
