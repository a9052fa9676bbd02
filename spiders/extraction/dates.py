"""Publication dates: reading the region's date formats, and choosing which date to trust.

`parse_date` turns one printed date into UTC. ISO 8601, RFC 822 and numeric DD.MM.YYYY are
read directly; dates with month names and relative dates ("вчера в 10:15") go to dateparser,
always with an explicit language list (it is about a thousand times slower without one).
Month names dateparser does not know (Western Armenian, Georgian genitive) are rewritten in
English first. A value without an offset is wall-clock time in the source's timezone.

`published_date` walks the sources in the order of the fixture rules and returns the first
one that gives a plausible date, with the exact string it came from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from functools import lru_cache

import dateparser
from lxml.etree import XPath
from lxml.html import HtmlElement

from spiders.extraction.api import PageHints
from spiders.extraction.page import Page, collapse, short_text
from spiders.extraction.vocab import (
    AZ_DAY_WORD,
    AZ_DAY_WORDS,
    AZ_RELATIVE,
    AZ_RELATIVE_UNITS,
    DATE_CLASS_WORDS,
    DATE_NOISE,
    MONTH_WORD,
    MONTHS_TO_ENGLISH,
    RELATIVE_HINT,
)

# Sanity bounds of a publication date. Nothing is published before the floor (default
# 1990-01-01, before the region's first news sites; NEWSLAKE_DATE_FLOOR=YYYY-MM-DD sets
# another, e.g. for an archive of older scans) nor more than FUTURE_SLACK after the page was
# fetched (a clock or timezone mistake of the site); a date outside them is rejected and the
# next source in the precedence is tried.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
FLOOR_ENV = "NEWSLAKE_DATE_FLOOR"


def date_floor(value: str | date | datetime | None = None) -> datetime:
    """The earliest plausible publication time: `value`, else $NEWSLAKE_DATE_FLOOR, else
    EARLIEST. A date is taken as midnight UTC. A malformed setting is an error, not ignored."""
    if value is None:
        value = os.environ.get(FLOOR_ENV) or None
        if value is None:
            return EARLIEST
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(
                f"{FLOOR_ENV}/date floor {value!r} is not a date (YYYY-MM-DD)"
            ) from exc
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Meta tags carrying the publication date, most specific first.
META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "dc.date.issued",
    "dcterms.issued",
    "pubdate",
    "publishdate",
    "publish_date",
    "date",
    "datepublished",
)
META_MODIFIED = ("article:modified_time",)

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3,9}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?P<zone>\s*(?:[+-]\d{4}|[A-Z]{1,5}))?$"
)
_OFFSET = re.compile(
    r"\(?\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*\)?"
    r"|(?<=\d)\s*([+-])(\d{2}):?(\d{2})(?!\d)",
    re.IGNORECASE,
)
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])")
_DMY_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")
_YMD_NUMERIC = re.compile(r"(?<!\d)(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?![\d])")
_WORD = r"([^\W\d_]{3,}\.?)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th|-?го|-?е|-ին|-ի|-ը|-i|-ı|-u|-ü)?"
_TEXT_DMY = re.compile(rf"(?<!\d){_DAY}\s+{_WORD},?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_TEXT_MDY = re.compile(rf"{_WORD}\s+{_DAY},?\s+(\d{{4}})(?!\d)", re.IGNORECASE)
_TEXT_YDM = re.compile(rf"(?<!\d)(\d{{4}}),?\s+{_DAY}\s+{_WORD}", re.IGNORECASE)
# A day and a month without a year ("JUNE 23", "23 июня", "հունիսի 23"), after month names
# were rewritten in English; dateparser then checks that the word is a month.
_TEXT_DM = re.compile(rf"(?<!\d){_DAY}\s+{_WORD}", re.IGNORECASE)
_TEXT_MD = re.compile(rf"{_WORD}\s+{_DAY}(?![\d:.])", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# An agency dateline opening the text: "STEPANAKERT, JUNE 23, ARTSAKHPRESS-ARMENPRESS:",
# "YEREVAN, MARCH 21, ARMENPRESS.", "BAKU, July 8, 2024, AZERTAC." (the city, then the date).
_DATELINE = re.compile(
    r"^[A-ZА-ЯЁԱ-Ֆ][\w .'-]{1,40},\s+(?:[^\W\d_]+\.?\s+\d{1,2}|\d{1,2}\s+[^\W\d_]+\.?)"
    r"(?:,?\s+\d{4})?(?=\s*[,.:]|\s+[-—–])"
)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])(?:/|$)")
# A short text that could be a date: worth handing to the parser.
_DATE_LIKE = re.compile(
    rf"{_DMY_NUMERIC.pattern}|{_YMD_NUMERIC.pattern}|\d{{1,2}}\s+[^\W\d_]{{3,}}\.?,?\s+\d{{4}}|"
    rf"[^\W\d_]{{3,}}\s+\d{{1,2}},?\s+\d{{4}}|{RELATIVE_HINT.pattern}",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_NOT_PUBLISHED = re.compile(r"updated|modified|edited|changed", re.IGNORECASE)


@dataclass(frozen=True)
class DateContext:
    """What reading a date needs: the source's zone and languages, and "now" (fetch time)."""

    zone: tzinfo
    languages: tuple[str, ...]
    now: datetime
    floor: datetime = EARLIEST

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Dated:
    at: datetime | None
    source: str
    raw: str | None


@lru_cache(maxsize=64)
def _dateparser_languages(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The languages dateparser knows, plus English (month names we rewrite are English)."""
    usable: list[str] = []
    for code in (*languages, "en"):
        if code in usable:
            continue
        try:
            dateparser.parse("2020-01-01", languages=[code])
        except ValueError:
            continue
        usable.append(code)
    return tuple(usable)


def _localize(naive: datetime, zone: tzinfo) -> datetime:
    return naive.replace(tzinfo=zone) if naive.tzinfo is None else naive


def plausible(value: datetime, now: datetime, floor: datetime = EARLIEST) -> bool:
    """Not before the floor and not more than FUTURE_SLACK after the page was fetched."""
    return floor <= value <= now + FUTURE_SLACK


def _offset(text: str) -> tuple[tzinfo | None, str]:
    """An explicit UTC offset printed in `text` ("(UTC+04:00)", "GMT", "+0300"), and the text
    without it."""
    match = _OFFSET.search(text)
    if not match:
        return None, text
    sign, hours, minutes = match.group(1) or match.group(4), match.group(2), match.group(3)
    if match.group(5):
        hours, minutes = match.group(5), match.group(6)
    delta = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    zone = timezone(-delta if sign == "-" else delta)
    return zone, (text[: match.start()] + " " + text[match.end() :]).strip()


def _time_of(text: str) -> tuple[int, int, int] | None:
    match = _TIME.search(text)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def _numeric(text: str) -> datetime | None:
    match = _DMY_NUMERIC.search(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        rest = text[: match.start()] + " " + text[match.end() :]
    else:
        match = _YMD_NUMERIC.search(text)
        if not match:
            return None
        year, month, day = (int(g) for g in match.groups())
        rest = text[: match.start()] + " " + text[match.end() :]
    clock = _time_of(rest) or (0, 0, 0)
    try:
        return datetime(year, month, day, *clock)
    except ValueError:
        return None


def _english_months(text: str) -> str:
    text = MONTH_WORD.sub(lambda m: MONTHS_TO_ENGLISH[m.group(1).lower()], text)
    text = AZ_RELATIVE.sub(
        lambda m: f"{m.group(1)} {AZ_RELATIVE_UNITS[m.group(2).lower()]} ago", text
    )
    return AZ_DAY_WORD.sub(lambda m: AZ_DAY_WORDS[m.group(1).lower()], text)


def _dateparser(text: str, ctx: DateContext) -> datetime | None:
    return dateparser.parse(
        text,
        languages=list(_dateparser_languages(ctx.languages)),
        settings={
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": ctx.local_now,
            # Zones are applied with zoneinfo below, which knows historical offsets.
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": False,
        },
    )


def _textual(text: str, ctx: DateContext) -> datetime | None:
    text = DATE_NOISE.sub(" ", _english_months(text))
    for pattern, order in ((_TEXT_DMY, "dmy"), (_TEXT_MDY, "mdy"), (_TEXT_YDM, "ydm")):
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups(), strict=True))
            rest = text[: match.start()] + " " + text[match.end() :]
            clock = _time_of(rest)
            phrase = f"{parts['d']} {parts['m']} {parts['y']}"
            if clock:
                phrase += f" {clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}"
            parsed = _dateparser(phrase, ctx)
            if parsed is not None:
                return parsed
    if RELATIVE_HINT.search(text):
        return _dateparser(collapse(text), ctx)
    return None


def _rfc822(text: str, zoned: bool) -> datetime | None:
    fields = parsedate_tz(text)
    if fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    # parsedate_tz says 0 for a missing zone too: only a printed zone makes it UTC-based.
    offset = fields[9] or 0
    return naive.replace(tzinfo=timezone(timedelta(seconds=offset))) if zoned else naive


def parse_date(raw: str | None, ctx: DateContext) -> datetime | None:
    """`raw` as an aware UTC datetime, or None when it is not a date or not plausible."""
    text = collapse(raw)
    if not text or len(text) > 200:
        return None
    parsed: datetime | None = None
    if _ISO.match(text):
        try:
            parsed = datetime.fromisoformat(text.replace(",", "."))
        except ValueError:
            parsed = None
    rfc822 = _RFC822.match(text) if parsed is None else None
    if rfc822 is not None:
        parsed = _rfc822(text, zoned=rfc822.group("zone") is not None)
    if parsed is None:
        zone, rest = _offset(text)
        found = _numeric(rest) or _textual(rest, ctx)
        if found is not None:
            parsed = (
                found.replace(tzinfo=zone) if zone is not None and found.tzinfo is None else found
            )
    if parsed is None:
        return None
    value = _localize(parsed, ctx.zone).astimezone(UTC)
    return value if plausible(value, ctx.now, ctx.floor) else None


# --- where the date is on a page --------------------------------------------------------


def _time_elements(page: Page) -> Iterator[str]:
    """datetime attributes of <time> elements of the article header, publication first."""
    marked: list[str] = []
    others: list[str] = []
    for element in page.body_element.iter("time"):
        value = element.get("datetime")
        if not value or not value.strip() or page.in_chrome(element):
            continue
        marks = f"{element.get('class') or ''} {element.get('itemprop') or ''}"
        if _NOT_PUBLISHED.search(marks) and not re.search("publish", marks, re.IGNORECASE):
            continue
        if element.get("pubdate") is not None or re.search(
            r"publish|datePublished|entry-date|pubdate", marks, re.IGNORECASE
        ):
            marked.append(value.strip())
        else:
            others.append(value.strip())
    yield from marked
    yield from others


_DATE_MARK = re.compile("|".join(DATE_CLASS_WORDS), re.IGNORECASE)
_SHORT_TEXTS_XPATH = XPath(
    ".//text()[string-length(normalize-space()) > 5 and string-length(normalize-space()) <= 60]"
)


def _text_elements(page: Page) -> Iterator[str]:
    """Visible date texts near the headline: elements marked as dates, then short date-like
    texts, nearest to the <h1> first (in document order, which minified pages keep too)."""
    body = page.body_element
    order = {element: index for index, element in enumerate(body.iter())}
    anchor = order.get(page.h1, 0) if page.h1 is not None else 0
    marked: dict[HtmlElement, str] = {}
    candidates_marked = [element for element, marks in page.classed if _DATE_MARK.search(marks)]
    for element in sorted({*candidates_marked, *body.iter("time")}, key=order.__getitem__):
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if element.tag in ("script", "style", "a", "h1") or _NOT_PUBLISHED.search(marks):
            continue
        text = short_text(element, 100)
        if _usable(text) and not page.in_chrome(element):
            marked[element] = text
    # The tightest element wins ("<span class=date>" inside "<div class=info>" with views and
    # rubric), unless only its marked parent adds the time of day.
    for element in list(marked):
        has_time = bool(_TIME.search(marked[element]))
        for parent in element.iterancestors():
            if parent in marked and (has_time or not _TIME.search(marked[parent])):
                del marked[parent]
    candidates = [
        (0, abs(order[element] - anchor), order[element], text) for element, text in marked.items()
    ]
    accepted = set(marked)
    for piece in _SHORT_TEXTS_XPATH(body):
        text = collapse(piece)
        if not _usable(text):
            continue
        owner = piece.getparent()
        if owner is not None and piece.is_tail:
            owner = owner.getparent()
        if owner is None or owner.tag in ("script", "style", "a", "h1", "title"):
            continue
        if owner in accepted or accepted.intersection(owner.iterancestors()):
            continue
        if not page.in_chrome(owner):
            candidates.append((1, abs(order[owner] - anchor), order[owner], text))
    for *_order, text in sorted(candidates)[:12]:
        yield text


def _usable(text: str) -> bool:
    return 6 <= len(text) <= 100 and bool(_DIGIT.search(text)) and bool(_DATE_LIKE.search(text))


# RDFa and microdata on elements other than <meta>: Drupal's
# <span property="dc:date dc:created" content="2019-03-12T14:20:00+03:00">, schema.org
# <span itemprop="datePublished" content="...">.
_ANNOTATED = XPath(".//*[@content and (@property or @itemprop)][not(self::meta)]")
_PUBLISHED_TERMS = frozenset(
    {"dc:date", "dc:created", "dc:issued", "dcterms:created", "dcterms:issued", "datepublished"}
)


def _annotated_dates(page: Page) -> Iterator[str]:
    for element in _ANNOTATED(page.body_element):
        terms = f"{element.get('property') or ''} {element.get('itemprop') or ''}".lower().split()
        if _PUBLISHED_TERMS.intersection(terms) and not page.in_chrome(element):
            yield (element.get("content") or "").strip()


def _published_candidates(page: Page, hints: PageHints | None) -> Iterator[tuple[str, str]]:
    """Complete dates (with a year) from the page's structured data (JSON-LD, meta tags, RDFa
    and microdata attributes), <time> and visible header, in rule order."""
    for value in page.jsonld_values("datePublished"):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                yield "jsonld", item.strip()
    for key in META_PUBLISHED:
        for value in page.meta.get(key, []):
            yield "meta", value
    for value in _annotated_dates(page):
        yield "meta", value
    for value in _time_elements(page):
        yield "time", value
    for value in _text_elements(page):
        yield "text", value


def _listing_candidates(page: Page, hints: PageHints | None) -> Iterator[tuple[str, str]]:
    """What discovery and the URL say, after everything the page itself prints."""
    if hints is not None:
        if hints.feed_published:
            yield "feed", hints.feed_published.strip()
        for value in (hints.sitemap_published, hints.sitemap_lastmod):
            if value:
                yield "sitemap", value.strip()
    if page.url:
        match = _URL_DATE.search(page.url.split("?")[0])
        if match:
            yield "url", "/".join(match.groups())


# A month name among the words of a yearless text (after the region's month names were
# rewritten in English): only then is dateparser asked.
_MONTHISH = re.compile(
    r"(?<!\w)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|январ|феврал|март|апрел|ма[йя]|"
    r"июн|июл|август|сентябр|октябр|ноябр|декабр|янв|фев|мар|апр|авг|сен|окт|ноя|дек)",
    re.IGNORECASE,
)


def parse_yearless(raw: str | None, ctx: DateContext, anchor: datetime) -> datetime | None:
    """A day and month printed without a year ("JUNE 23", "23 июня, 14:30", "հունիսի 23"):
    the latest such date that is not after `anchor` (the feed entry's date, else the sitemap's,
    else the fetch time) by more than FUTURE_SLACK; None when `raw` holds no such date."""
    text = collapse(raw)
    if not text or len(text) > 120 or _YEAR.search(text):
        return None
    text = DATE_NOISE.sub(" ", _english_months(text))
    if not _MONTHISH.search(text):
        return None
    limit = anchor + FUTURE_SLACK
    local_year = anchor.astimezone(ctx.zone).year
    for pattern, order in ((_TEXT_DM, "dm"), (_TEXT_MD, "md")):
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups(), strict=True))
            if not _MONTHISH.match(parts["m"]):
                continue
            clock = _time_of(text[: match.start()] + " " + text[match.end() :])
            suffix = f" {clock[0]:02d}:{clock[1]:02d}:{clock[2]:02d}" if clock else ""
            for year in (local_year + 1, local_year, local_year - 1):
                parsed = _dateparser(f"{parts['d']} {parts['m']} {year}{suffix}", ctx)
                if parsed is None:
                    break  # not a month after all
                value = _localize(parsed.replace(tzinfo=None), ctx.zone).astimezone(UTC)
                if value <= limit and plausible(value, ctx.now, ctx.floor):
                    return value
    return None


def _yearless_texts(page: Page) -> list[str]:
    """Short texts of date-marked elements that print a day and month but no year, nearest
    to the headline first."""
    found: list[HtmlElement] = []
    for element, marks in page.classed:
        if not _DATE_MARK.search(marks) or element.tag in ("script", "style", "a", "h1"):
            continue
        if _NOT_PUBLISHED.search(marks):
            continue
        text = short_text(element, 60)
        if text and _DIGIT.search(text) and not _YEAR.search(text) and not page.in_chrome(element):
            found.append(element)
    if not found:
        return []
    order = {element: index for index, element in enumerate(page.body_element.iter())}
    anchor = order.get(page.h1, 0) if page.h1 is not None else 0
    found.sort(key=lambda element: (abs(order[element] - anchor), order[element]))
    return [short_text(element, 60) for element in found[:6]]


def dateline(text: str) -> str | None:
    """The city and date of an agency dateline opening `text` ("STEPANAKERT, JUNE 23")."""
    match = _DATELINE.match(text)
    return match.group(0) if match else None


def published_date(
    page: Page, ctx: DateContext, hints: PageHints | None, opening: Sequence[str] = ()
) -> Dated:
    """The first usable publication date in rule order, its source and its raw text.

    jsonld > meta > time > text (a complete date in the header) > text (a day and month
    without a year, in the header or the dateline opening `opening`, the body's first
    paragraphs; the year comes from the feed or sitemap date, else the fetch time) > feed >
    sitemap > url. A date outside the sanity bounds is passed over for the next one.
    """
    for source, raw in _published_candidates(page, hints):
        value = parse_date(raw, ctx)
        if value is not None:
            return Dated(value, source, raw)
    listing = list(_listing_candidates(page, hints))
    lines = [found for found in map(dateline, opening[:2]) if found]
    yearless = [*_yearless_texts(page), *lines]
    if yearless:
        anchor = next(
            (
                value
                for source, raw in listing
                if source in ("feed", "sitemap")
                for value in [parse_date(raw, ctx)]
                if value is not None
            ),
            ctx.now,
        )
        for raw in yearless:
            value = parse_yearless(raw, ctx, anchor) or (
                parse_date(raw, ctx) if raw in lines else None
            )
            if value is not None:
                return Dated(value, "text", raw)
    for source, raw in listing:
        value = parse_date(raw, ctx)
        if value is not None:
            return Dated(value, source, raw)
    return Dated(None, "none", None)


def modified_date(page: Page, ctx: DateContext) -> datetime | None:
    """JSON-LD dateModified, else the article:modified_time meta, else None."""
    candidates: list[str] = []
    for value in page.jsonld_values("dateModified"):
        candidates.extend(
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
        )
    for key in META_MODIFIED:
        candidates.extend(page.meta.get(key, []))
    for raw in candidates:
        value = parse_date(raw, ctx)
        if value is not None:
            return value
    return None


_NUMBERS = re.compile(r"\d+(?:[:./-]\d+)*")
_LETTERS = re.compile(r"[^\W\d_]")


def is_date_line(line: str, ctx: DateContext) -> bool:
    """True for a line that is a printed date ("12 мая 2024, 14:35", "Posted on May 12,
    2024"), with at most a few words besides the date itself."""
    if len(line) > 80 or not _DIGIT.search(line) or not _DATE_LIKE.search(line):
        return False
    words = [w for w in _NUMBERS.sub(" ", line).split() if _LETTERS.search(w)]
    return len(words) <= 4 and parse_date(line, ctx) is not None


def context(
    zone: tzinfo,
    languages: Sequence[str],
    now: datetime,
    floor: str | date | datetime | None = None,
) -> DateContext:
    """`floor` defaults to $NEWSLAKE_DATE_FLOOR, else EARLIEST (see date_floor)."""
    return DateContext(
        zone=zone, languages=tuple(languages), now=now.astimezone(UTC), floor=date_floor(floor)
    )
