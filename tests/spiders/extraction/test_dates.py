"""Reading the region's printed dates into UTC, and choosing which date of a page to trust."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from spiders.extraction import PageHints
from spiders.extraction.dates import (
    _dateparser_languages,
    context,
    is_date_line,
    parse_date,
    parse_yearless,
    published_date,
)
from spiders.extraction.page import Page
from spiders.extraction.vocab import MONTHS_TO_ENGLISH

NOW = "2026-07-09T00:00:00Z"


def _parse(raw: str, zone: str, languages: tuple[str, ...] = (), now: str = NOW) -> str | None:
    ctx = context(ZoneInfo(zone), languages, datetime.fromisoformat(now.replace("Z", "+00:00")))
    value = parse_date(raw, ctx)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# raw text, source timezone, source languages, expected UTC (None: not a usable date)
TABLE = [
    # ISO 8601: an offset wins; none means local time; a date alone is local midnight
    ("2024-05-12T14:35:00+04:00", "Europe/Moscow", (), "2024-05-12T10:35:00Z"),
    ("2024-05-12 09:58:42Z", "Asia/Yerevan", (), "2024-05-12T09:58:42Z"),
    ("2024-05-12T10:00:00.000+0400", "UTC", (), "2024-05-12T06:00:00Z"),
    ("2024-05-12T14:35:00", "Europe/Moscow", (), "2024-05-12T11:35:00Z"),
    ("2024-05-12", "Asia/Tbilisi", (), "2024-05-11T20:00:00Z"),
    ("2024-07-01 12:00", "Europe/Berlin", (), "2024-07-01T10:00:00Z"),
    ("2024-01-15 12:00", "Europe/Berlin", (), "2024-01-15T11:00:00Z"),
    # RFC 822 (feeds): a printed zone is used, a missing one means local time
    ("Sun, 12 May 2024 08:30:00 +0000", "Asia/Baku", (), "2024-05-12T08:30:00Z"),
    ("Sun, 12 May 2024 08:30:00 -0000", "Asia/Baku", (), "2024-05-12T08:30:00Z"),
    ("Mon, 13 May 2024 07:15:00 +0100", "UTC", (), "2024-05-13T06:15:00Z"),
    ("Sun, 12 May 2024 08:30:00 GMT", "Asia/Baku", (), "2024-05-12T08:30:00Z"),
    ("12 May 2024 08:30:00", "Asia/Baku", (), "2024-05-12T04:30:00Z"),
    # numeric, day first
    ("23:07, 17.05.2020", "Asia/Yerevan", ("hy", "ru", "en"), "2020-05-17T19:07:00Z"),
    ("12.05.2024 09:10", "Asia/Yerevan", ("ru",), "2024-05-12T05:10:00Z"),
    ("08.07.2026 [10:28]", "Asia/Baku", ("az",), "2026-07-08T06:28:00Z"),
    ("2024/05/09", "Asia/Yerevan", (), "2024-05-08T20:00:00Z"),
    # Russian: genitive months, abbreviations, "г.", labels around the date
    ("30 июня 2021", "Europe/Moscow", ("ru",), "2021-06-29T21:00:00Z"),
    ("30 июня 2021, 18:47", "Europe/Moscow", ("ru",), "2021-06-30T15:47:00Z"),
    ("30 ИЮНЯ 2021", "Europe/Moscow", ("ru",), "2021-06-29T21:00:00Z"),
    ("30-го июня 2021 г.", "Europe/Moscow", ("ru",), "2021-06-29T21:00:00Z"),
    ("25 мар. 2024 г.", "Asia/Yerevan", ("ru",), "2024-03-24T20:00:00Z"),
    ("Опубликовано: 12 мая 2024, 14:35", "Europe/Moscow", ("ru",), "2024-05-12T11:35:00Z"),
    # Armenian: Eastern genitive and nominative, upper case, Western spellings (Beirut DST)
    ("հունիսի 30, 2021", "Asia/Yerevan", ("hy",), "2021-06-29T20:00:00Z"),
    ("հունիսի 30, 2021 14:35", "Asia/Yerevan", ("hy",), "2021-06-30T10:35:00Z"),
    ("30 հունիսի 2021 14:35", "Asia/Yerevan", ("hy",), "2021-06-30T10:35:00Z"),
    ("ՀՈՒՆԻՍԻ 30, 2021", "Asia/Yerevan", ("hy",), "2021-06-29T20:00:00Z"),
    ("Ապրիլի 5, 2022", "Asia/Yerevan", ("hy",), "2022-04-04T20:00:00Z"),
    ("Յունիսի 30, 2021", "Asia/Beirut", ("hy",), "2021-06-29T21:00:00Z"),
    ("Յունուար 5, 2022", "Asia/Beirut", ("hy",), "2022-01-04T22:00:00Z"),
    # Azerbaijani
    ("01 dekabr, 2024 23:43", "Asia/Baku", ("az",), "2024-12-01T19:43:00Z"),
    ("20 mart, 2024 15:10", "Asia/Baku", ("az",), "2024-03-20T11:10:00Z"),
    # Georgian: nominative, dative, genitive after "year-genitive"
    ("12 მაისი, 2024", "Asia/Tbilisi", ("ka",), "2024-05-11T20:00:00Z"),
    ("12 მაისს, 2024", "Asia/Tbilisi", ("ka",), "2024-05-11T20:00:00Z"),
    ("2024 წლის 12 მაისის 14:00", "Asia/Tbilisi", ("ka",), "2024-05-12T10:00:00Z"),
    # English formats of the region's agencies
    ("15:58, 21 March, 2022", "Asia/Yerevan", ("en",), "2022-03-21T11:58:00Z"),
    ("Friday, January 12 2024 14:13", "Asia/Yerevan", ("ru", "en"), "2024-01-12T10:13:00Z"),
    ("21 July 2025 14:01 (UTC+04:00)", "Europe/London", ("en",), "2025-07-21T10:01:00Z"),
    ("14:35 GMT, 12 May 2024", "Asia/Yerevan", ("en",), "2024-05-12T14:35:00Z"),
    ("Posted on May 12, 2024 by admin", "UTC", ("en",), "2024-05-12T00:00:00Z"),
    # relative to the fetch time, in the source's zone
    ("2 hours ago", "UTC", ("en",), "2026-07-08T22:00:00Z"),
    ("5 dəqiqə əvvəl", "Asia/Baku", ("az",), "2026-07-08T23:55:00Z"),
    ("dünən 10:15", "Asia/Baku", ("az",), "2026-07-08T06:15:00Z"),
    ("сегодня, 09:40", "Europe/Moscow", ("ru",), "2026-07-09T06:40:00Z"),
    # not dates, or not plausible ones: before 1990, more than a day after the fetch
    ("Просмотров: 1284", "UTC", ("ru",), None),
    ("", "UTC", (), None),
    ("1970-01-01T00:00:00+00:00", "UTC", (), None),
    ("2099-01-01", "UTC", (), None),
    ("2026-07-10T06:00:00Z", "UTC", (), None),
    ("2026-07-09T23:00:00Z", "UTC", (), "2026-07-09T23:00:00Z"),
]


@pytest.mark.parametrize(("raw", "zone", "languages", "expected"), TABLE)
def test_parse_date(raw: str, zone: str, languages: tuple[str, ...], expected: str | None) -> None:
    assert _parse(raw, zone, languages) == expected


def test_relative_dates_count_from_the_fetch_time_in_local_time() -> None:
    # 09:00 UTC is 12:00 in Moscow: "yesterday at 10:15" is the 24th, 10:15 Moscow time.
    assert _parse("вчера в 10:15", "Europe/Moscow", ("ru",), "2024-06-25T09:00:00Z") == (
        "2024-06-24T07:15:00Z"
    )
    assert _parse("2 saat əvvəl", "Asia/Baku", ("az",), "2024-03-15T10:00:00Z") == (
        "2024-03-15T08:00:00Z"
    )


@pytest.mark.parametrize(("spelling", "english"), sorted(MONTHS_TO_ENGLISH.items()))
def test_every_month_spelling_is_read(spelling: str, english: str) -> None:
    month = datetime.strptime(english, "%B").month
    assert _parse(f"5 {spelling} 2021", "UTC") == f"2021-{month:02d}-05T00:00:00Z"
    assert _parse(f"{spelling} 5, 2021", "UTC") == f"2021-{month:02d}-05T00:00:00Z"


def test_dateparser_always_gets_an_explicit_language_list() -> None:
    assert _dateparser_languages(("hy", "ru")) == ("hy", "ru", "en")
    # A code dateparser does not know is dropped rather than failing every parse.
    assert _dateparser_languages(("xx",)) == ("en",)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12 мая 2024, 14:35", True),
        ("Posted on May 12, 2024", True),
        ("Friday, January 12 2024 14:13", True),
        ("On 12 May 2024 the parliament voted to ratify the agreement.", False),
        ("The 60-megawatt plant is to be built downstream of Alaverdi.", False),
    ],
)
def test_date_lines(line: str, expected: bool) -> None:
    ctx = context(ZoneInfo("UTC"), ("ru", "en"), datetime(2026, 1, 1, tzinfo=UTC))
    assert is_date_line(line, ctx) is expected


def _dated(html: str, url: str = "https://example.am/news/1.html", **hints: str):
    ctx = context(ZoneInfo("Asia/Yerevan"), ("hy", "ru", "en"), datetime(2024, 6, 1, tzinfo=UTC))
    page = Page(f"<html><body>{html}</body></html>", url, None)
    return published_date(page, ctx, PageHints(**hints) if hints else None)


def test_precedence_skips_an_implausible_jsonld_date() -> None:
    dated = _dated(
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "1970-01-01T00:00:00Z"}</script>'
        '<meta property="article:published_time" content="2024-05-12T11:48:00+04:00">'
        '<h1>Title</h1><time datetime="2024-05-10T10:00:00+04:00">May 10</time>'
    )
    assert (dated.source, dated.raw) == ("meta", "2024-05-12T11:48:00+04:00")


def test_time_in_comments_is_not_the_publication_date() -> None:
    dated = _dated(
        '<h1>Title</h1><div class="entry-meta"><time class="entry-date published"'
        ' datetime="2024-05-12T14:35:00+04:00">May 12</time><time class="updated"'
        ' datetime="2024-05-13T09:00:00+04:00">May 13</time></div>'
        '<div id="comments"><time datetime="2024-05-11T08:00:00+04:00">May 11</time></div>'
    )
    assert (dated.source, dated.raw) == ("time", "2024-05-12T14:35:00+04:00")


def test_visible_date_nearest_the_headline_wins_and_is_kept_verbatim() -> None:
    dated = _dated(
        '<div class="top-bar"><span class="date">01.06.2024</span></div>'
        + "<p>menu</p>" * 30
        + '<h1>Headline</h1><div class="news-info"><span class="news-date">12 мая 2024,'
        ' 14:35</span> | <a href="/r/">Город</a> | Просмотров: 12</div><p>Text.</p>'
    )
    assert (dated.source, dated.raw) == ("text", "12 мая 2024, 14:35")
    assert dated.at == datetime(2024, 5, 12, 10, 35, tzinfo=UTC)


def test_feed_then_sitemap_then_url_then_none() -> None:
    feed = _dated(
        "<h1>T</h1><p>No date here.</p>",
        feed_published="Sun, 12 May 2024 08:30:00 +0000",
        sitemap_published="2024-05-11T00:00:00Z",
    )
    assert (feed.source, feed.raw) == ("feed", "Sun, 12 May 2024 08:30:00 +0000")
    sitemap = _dated(
        "<h1>T</h1>", sitemap_published="not a date", sitemap_lastmod="2024-05-11T09:00:00Z"
    )
    assert (sitemap.source, sitemap.raw) == ("sitemap", "2024-05-11T09:00:00Z")
    url = _dated("<h1>T</h1>", url="https://example.am/2024/05/09/slug/")
    assert (url.source, url.raw, url.at) == (
        "url",
        "2024/05/09",
        datetime(2024, 5, 8, 20, 0, tzinfo=UTC),
    )
    none = _dated("<h1>T</h1>")
    assert (none.at, none.source, none.raw) == (None, "none", None)


def test_the_date_floor_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(ZoneInfo("UTC"), (), datetime(2026, 7, 9, tzinfo=UTC))
    assert ctx.floor == datetime(1990, 1, 1, tzinfo=UTC)
    assert parse_date("1995-03-01T10:00:00Z", ctx) is not None
    monkeypatch.setenv("NEWSLAKE_DATE_FLOOR", "2000-01-01")
    later = context(ZoneInfo("UTC"), (), datetime(2026, 7, 9, tzinfo=UTC))
    assert later.floor == datetime(2000, 1, 1, tzinfo=UTC)
    assert parse_date("1995-03-01T10:00:00Z", later) is None
    # an explicit floor beats the setting
    explicit = context(ZoneInfo("UTC"), (), datetime(2026, 7, 9, tzinfo=UTC), floor="1991-06-01")
    assert parse_date("1995-03-01T10:00:00Z", explicit) is not None
    monkeypatch.setenv("NEWSLAKE_DATE_FLOOR", "last year")
    with pytest.raises(ValueError, match="NEWSLAKE_DATE_FLOOR"):
        context(ZoneInfo("UTC"), (), datetime(2026, 7, 9, tzinfo=UTC))


def test_a_date_below_the_floor_falls_back_to_the_next_source() -> None:
    ctx = context(
        ZoneInfo("Asia/Yerevan"), ("en",), datetime(2024, 6, 1, tzinfo=UTC), floor="2010-01-01"
    )
    page = Page(
        '<html><head><meta property="article:published_time" content="2008-05-12T10:00:00Z">'
        '</head><body><h1>T</h1><time datetime="2024-05-12T14:35:00+04:00">12 May</time>'
        "</body></html>",
        "https://example.am/news/1.html",
        None,
    )
    dated = published_date(page, ctx, None)
    assert (dated.source, dated.raw) == ("time", "2024-05-12T14:35:00+04:00")


@pytest.mark.parametrize(
    ("raw", "anchor", "expected"),
    [
        # the year is the one that puts the date at or before the anchor (plus a day's slack)
        ("STEPANAKERT, JUNE 23", "2024-07-01T00:00:00Z", "2024-06-22T20:00:00Z"),
        ("YEREVAN, DECEMBER 31", "2024-01-02T08:00:00Z", "2023-12-30T20:00:00Z"),
        ("23 июня, 14:30", "2024-01-02T08:00:00Z", "2023-06-23T10:30:00Z"),
        ("հունիսի 23", "2024-07-01T00:00:00Z", "2024-06-22T20:00:00Z"),
        ("14:35, 1 января", "2024-01-02T08:00:00Z", "2024-01-01T10:35:00Z"),
        # not a yearless date: a year is printed, no month, or no day
        ("June 23, 2021", "2024-07-01T00:00:00Z", None),
        ("Просмотров: 12", "2024-07-01T00:00:00Z", None),
        ("Section 12", "2024-07-01T00:00:00Z", None),
    ],
)
def test_yearless_dates_take_the_year_of_the_anchor(
    raw: str, anchor: str, expected: str | None
) -> None:
    at = datetime.fromisoformat(anchor.replace("Z", "+00:00"))
    ctx = context(ZoneInfo("Asia/Yerevan"), ("hy", "ru", "en"), datetime(2026, 1, 1, tzinfo=UTC))
    value = parse_yearless(raw, ctx, at)
    assert (value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None) == expected


def test_a_yearless_dateline_is_resolved_against_the_feed_then_the_fetch_date() -> None:
    opening = ["STEPANAKERT, JUNE 23, ARTSAKHPRESS-ARMENPRESS: The president met the minister."]
    html = f"<h1>Title</h1><p>{opening[0]}</p>"
    ctx = context(ZoneInfo("Asia/Yerevan"), ("hy", "ru", "en"), datetime(2024, 6, 1, tzinfo=UTC))
    page = Page(f"<html><body>{html}</body></html>", "https://artsakhpress.am/eng/news/1", None)
    # the fetch date (June 1 2024) puts June 23 in 2023 ...
    fetched = published_date(page, ctx, None, opening)
    assert (fetched.source, fetched.raw, fetched.at) == (
        "text",
        "STEPANAKERT, JUNE 23",
        datetime(2023, 6, 22, 20, 0, tzinfo=UTC),
    )
    # ... the feed entry's date (visible text still ranks above the feed) in 2019
    feed = published_date(
        page, ctx, PageHints(feed_published="Sun, 23 Jun 2019 10:00:00 +0000"), opening
    )
    assert (feed.source, feed.at) == ("text", datetime(2019, 6, 22, 20, 0, tzinfo=UTC))


def test_a_header_date_without_a_year_is_read() -> None:
    dated = _dated(
        '<h1>Headline</h1><div class="news-info"><span class="news-date">14:35, 23 мая</span>'
        "</div><p>Text.</p>",
        feed_published="Thu, 23 May 2024 10:40:00 +0000",
    )
    assert (dated.source, dated.raw, dated.at) == (
        "text",
        "14:35, 23 мая",
        datetime(2024, 5, 23, 10, 35, tzinfo=UTC),
    )


def test_rdfa_and_microdata_dates_count_as_meta() -> None:
    # Drupal 7 prints the date in the US order; its RDFa attribute has the real one.
    drupal = _dated(
        '<h1>T</h1><div class="meta submitted"><span property="dc:date dc:created"'
        ' content="2019-03-12T14:20:00+03:00">Вт, 03/12/2019 - 14:20</span></div><p>Text.</p>'
        '<div id="comments"><span property="dc:date dc:created"'
        ' content="2019-03-13T10:00:00+03:00">comment</span></div>'
    )
    assert (drupal.source, drupal.raw) == ("meta", "2019-03-12T14:20:00+03:00")
    micro = _dated(
        '<h1>T</h1><span itemprop="datePublished" content="2024-05-12T09:00:00+04:00">12 May</span>'
    )
    assert (micro.source, micro.at) == ("meta", datetime(2024, 5, 12, 5, 0, tzinfo=UTC))


def test_the_year_less_date_nearest_the_headline_wins() -> None:
    dated = _dated(
        '<div class="top"><span class="date">01 июня</span></div>'
        + "<p>menu</p>" * 20
        + '<h1>Headline</h1><div class="news-info"><span class="news-date">14:35, 23 мая</span>'
        "</div><p>Text.</p>",
    )
    assert (dated.source, dated.raw, dated.at) == (
        "text",
        "14:35, 23 мая",
        datetime(2024, 5, 23, 10, 35, tzinfo=UTC),
    )


def test_a_sources_founding_date_is_its_floor() -> None:
    from spiders.catalogue import parse_sources
    from spiders.extraction import extract_article

    [source] = parse_sources(
        "sources:\n  - {id: young, name: Young, homepage: 'https://young.example/', country: AM,"
        " languages: [en], timezone: Asia/Yerevan, date_floor: 2015-03-01}\n",
        "test",
    )
    text = " ".join(["The regional council met on Monday to discuss the new water tariffs."] * 5)
    html = (
        '<html lang="en"><head><meta property="article:published_time"'
        ' content="2012-05-12T10:00:00Z"></head><body><article><h1>Council meets</h1>'
        f'<time datetime="2024-05-12T14:35:00+04:00">12 May 2024</time><p>{text}</p>'
        "</article></body></html>"
    )
    fetched = datetime(2024, 6, 1, tzinfo=UTC)
    young = extract_article(html, "https://young.example/a/1", source=source, fetched_at=fetched)
    assert (young["published_at"], young["published_at_source"]) == (
        datetime(2024, 5, 12, 10, 35, tzinfo=UTC),
        "time",
    )
    anyone = extract_article(html, "https://young.example/a/1", fetched_at=fetched)
    assert anyone["published_at"] == datetime(2012, 5, 12, 10, 0, tzinfo=UTC)
