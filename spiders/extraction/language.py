"""Which language an article is in: what the page declares, what the text is, and the verdict.

The identifier considers only the region's languages plus the source's own ones: fewer
candidates make it faster and keep it from calling short Azerbaijani text Turkmen. Building
a detector is expensive, so one is built per language set and kept for the process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from spiders.extraction.encoding import header
from spiders.extraction.page import Page
from spiders.extraction.vocab import REGION_LANGUAGES

# Fewer letters than this and the text is too short to tell.
MIN_LETTERS = 30
# Enough text to be sure; more only costs time.
SAMPLE_CHARS = 1000
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_CODE = re.compile(r"^[a-z]{2}$")


def candidate_languages(source_languages: Iterable[str] = ()) -> tuple[str, ...]:
    """The region's languages plus the source's, as a sorted tuple (the detector cache key)."""
    return tuple(sorted({*REGION_LANGUAGES, *source_languages}))


@lru_cache(maxsize=16)
def detector(codes: tuple[str, ...]) -> LanguageDetector | None:
    """The lingua detector for these ISO 639-1 codes, built once per set."""
    languages: list[Language] = []
    for code in codes:
        try:
            languages.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except ValueError:
            continue  # a language lingua does not know
    if len(languages) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(text: str, codes: tuple[str, ...]) -> str | None:
    """ISO 639-1 code of `text` among `codes`, or None when the text is too short to tell."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    found = detector(codes)
    if found is None:
        return None
    language = found.detect_language_of(sample)
    return language.iso_code_639_1.name.lower() if language is not None else None


def _code(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().replace("_", "-")[:2].lower()
    return code if _CODE.match(code) else None


def declared_language(page: Page) -> str | None:
    """<html lang>, else og:locale, else the Content-Language header; first two letters."""
    html = page.tree if page.tree.tag == "html" else page.tree.find(".//html")
    candidates = [
        html.get("lang") or html.get("xml:lang") if html is not None else None,
        page.meta_first("og:locale"),
        header(page.headers, "Content-Language"),
    ]
    for value in candidates:
        code = _code(value.split(",")[0] if value else None)
        if code:
            return code
    return None


def choose_language(
    detected: str | None, declared: str | None, source_languages: Iterable[str]
) -> str | None:
    """The detected language when there is one, else the declared one, else the source's
    first language."""
    return detected or declared or next(iter(source_languages), None)
