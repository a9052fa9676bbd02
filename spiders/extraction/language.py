"""Which language an article is in: what the page declares, what the text is, and the verdict.

The identifier considers only the languages the text can be in: the source's declared
languages plus their close neighbours (vocab.NEIGHBOUR_LANGUAGES), the language the page
declares, and the usual language of the text's script when no candidate is written in it
(a Russian page on an outlet listed as Georgian only). Without a source, the region's
languages. Fewer candidates make it faster and keep it from calling short Azerbaijani text
Turkmen. Building a detector is expensive, so one is built per language set and kept.

The verdict is reconciled with the declared language: when the identifier's confidence in
the declared one is within RECONCILE_MARGIN of its best guess (short or mixed text of two
close languages), the page's own word is taken.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from spiders.extraction.encoding import header
from spiders.extraction.page import Page
from spiders.extraction.vocab import NEIGHBOUR_LANGUAGES, REGION_LANGUAGES, SCRIPT_LANGUAGES

# Fewer letters than this and the text is too short to tell.
MIN_LETTERS = 30
# Enough text to be sure; more only costs time.
SAMPLE_CHARS = 1000
# The declared language wins when the identifier is this close to preferring it.
RECONCILE_MARGIN = 0.2
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_CODE = re.compile(r"^[a-z]{2}$")
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"})


def _script_of_language(code: str) -> str:
    if code == "hy":
        return "armenian"
    if code == "ka":
        return "georgian"
    return "cyrillic" if code in _CYRILLIC_LANGUAGES else "latin"


def text_script(text: str) -> str | None:
    """The script most letters of `text` are written in (armenian, georgian, cyrillic, latin),
    or None for another script or no letters."""
    counts: Counter[str] = Counter()
    for char in text[:SAMPLE_CHARS]:
        if char.isalpha():
            name = unicodedata.name(char, "").split(" ", 1)[0].lower()
            if name in SCRIPT_LANGUAGES:
                counts[name] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def candidate_languages(
    source_languages: Iterable[str] = (), declared: str | None = None, text: str = ""
) -> tuple[str, ...]:
    """The languages `text` may be in, as a sorted tuple (the detector cache key): the
    source's languages and their close neighbours, the declared one, and the language of the
    text's script if none of those is written in it; the region's languages without a
    source. English joins a set that would otherwise hold one language."""
    own = list(source_languages)
    if not own:
        return tuple(sorted({*REGION_LANGUAGES, *([declared] if declared else [])}))
    codes = {*own, *(n for code in own for n in NEIGHBOUR_LANGUAGES.get(code, ()))}
    if declared:
        codes.add(declared)
    script = text_script(text) if text else None
    if script is not None and not any(_script_of_language(c) == script for c in codes):
        codes.add(SCRIPT_LANGUAGES[script])
    if len(codes) < 2:
        codes.add("en" if "en" not in codes else "ru")
    return tuple(sorted(codes))


@lru_cache(maxsize=32)
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


def detect_language(text: str, codes: tuple[str, ...], declared: str | None = None) -> str | None:
    """ISO 639-1 code of `text` among `codes`, or None when the text is too short to tell;
    `declared` wins when the identifier is within RECONCILE_MARGIN of preferring it."""
    sample = text[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    found = detector(codes)
    if found is None:
        return None
    values = found.compute_language_confidence_values(sample)
    if not values or values[0].value <= 0:
        return None
    best = values[0]
    if declared and declared != best.language.iso_code_639_1.name.lower():
        for value in values:
            if value.language.iso_code_639_1.name.lower() == declared:
                if value.value >= best.value - RECONCILE_MARGIN:
                    return declared
                break
    return best.language.iso_code_639_1.name.lower()


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
