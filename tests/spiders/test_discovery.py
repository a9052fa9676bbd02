"""Discovery parsing and candidate filtering, on literal feed and sitemap documents."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from schemas import article_id
from spiders.catalogue import Source
from spiders.discovery import (
    Candidate,
    Candidates,
    Discovered,
    merge_hints,
    parse_feed,
    parse_hint_date,
    parse_sitemap,
    read_skip_file,
)
from spiders.extraction.api import PageHints

BASE = "http://127.0.0.1:8000"

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Ararat Courier</title><link>{BASE}/</link>
<item>
  <title>Council approves &amp; publishes the water plan</title>
  <link>/2024/05/12/water-plan/?utm_source=rss&amp;utm_medium=feed</link>
  <pubDate>Sun, 12 May 2024 08:30:00 +0000</pubDate>
  <dc:creator>Anna Petrosyan</dc:creator>
  <category>Politics</category><category>Water</category><category>Politics</category>
</item>
<item>
  <title>  Second story  </title>
  <link>{BASE}/2024/05/11/second/</link>
  <pubDate>Sat, 11 May 2024 18:00:00 +0400</pubDate>
</item>
<item><title>No link at all</title></item>
</channel></rss>
""".encode()

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Новости</title><id>urn:feed</id><updated>2024-05-12T10:00:00Z</updated>
  <entry>
    <title>Парламент принял бюджет</title>
    <link rel="alternate" href="http://127.0.0.1:8000/news/1.html"/>
    <id>urn:1</id>
    <published>2024-05-12T14:35:00+03:00</published>
    <updated>2024-05-13T09:00:00+03:00</updated>
    <author><name>Иван Петров</name></author><author><name>Анна Смирнова</name></author>
    <category term="Политика"/>
  </entry>
  <entry>
    <title>Only updated</title>
    <link href="http://127.0.0.1:8000/news/2.html"/>
    <id>urn:2</id>
    <updated>2024-05-12T10:00:00Z</updated>
  </entry>
</feed>
""".encode()

INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{BASE}/post-sitemap.xml</loc><lastmod>2024-05-12T10:00:00+00:00</lastmod></sitemap>
  <sitemap><loc>/post-sitemap2.xml.gz</loc></sitemap>
</sitemapindex>
""".encode()

URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>{BASE}/2024/05/12/water-plan/</loc><lastmod>2024-05-12T09:00:00+04:00</lastmod>
    <image:image><image:loc>{BASE}/img/a.jpg</image:loc></image:image></url>
  <url><loc> {BASE}/about/ </loc></url>
</urlset>
""".encode()

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>http://127.0.0.1:8000/news/1.html</loc>
    <news:news>
      <news:publication><news:name>Вести</news:name><news:language>ru</news:language></news:publication>
      <news:publication_date>2024-05-12T14:35:00+03:00</news:publication_date>
      <news:title>Парламент принял бюджет</news:title>
    </news:news>
  </url>
</urlset>
""".encode()


def source(**extra: object) -> Source:
    return Source.model_validate(
        {
            "id": "ararat-courier",
            "name": "Ararat Courier",
            "homepage": f"{BASE}/",
            "country": "AM",
            "languages": ["en"],
            "timezone": "Asia/Yerevan",
            **extra,
        }
    )


def test_rss20_entries_and_hints() -> None:
    result = parse_feed(RSS, f"{BASE}/feed/", "application/rss+xml; charset=utf-8")
    assert result.version == "rss20"
    assert result.problem is None
    assert [e.url for e in result.entries] == [
        f"{BASE}/2024/05/12/water-plan/?utm_source=rss&utm_medium=feed",
        f"{BASE}/2024/05/11/second/",
    ]
    assert result.entries[0].hints == PageHints(
        discovered_via="feed",
        feed_title="Council approves & publishes the water plan",
        feed_published="Sun, 12 May 2024 08:30:00 +0000",
        feed_authors=("Anna Petrosyan",),
        feed_tags=("Politics", "Water"),
    )
    assert result.entries[0].published == datetime(2024, 5, 12, 8, 30, tzinfo=UTC)
    assert result.entries[1].hints == PageHints(
        discovered_via="feed",
        feed_title="Second story",
        feed_published="Sat, 11 May 2024 18:00:00 +0400",
    )
    assert result.entries[1].published == datetime(2024, 5, 11, 14, 0, tzinfo=UTC)


def test_atom_entries_and_hints() -> None:
    result = parse_feed(ATOM, f"{BASE}/atom.xml", "application/atom+xml")
    assert result.version == "atom10"
    assert [e.url for e in result.entries] == [f"{BASE}/news/1.html", f"{BASE}/news/2.html"]
    first, second = result.entries
    assert first.hints == PageHints(
        discovered_via="feed",
        feed_title="Парламент принял бюджет",
        feed_published="2024-05-12T14:35:00+03:00",
        feed_authors=("Иван Петров", "Анна Смирнова"),
        feed_tags=("Политика",),
    )
    assert first.published == datetime(2024, 5, 12, 11, 35, tzinfo=UTC)
    # <updated> is not a publication date: the hint stays empty rather than guess.
    assert second.hints.feed_published is None
    assert second.published is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b"<!doctype html><html><head><title>News</title></head><body><p>Hi</p></body></html>",
            "text/html; charset=utf-8",
        ),
        (b"", "text/html"),
        (b'{"items": []}', "application/json"),
    ],
)
def test_html_or_other_served_as_feed_is_not_a_feed(body: bytes, content_type: str) -> None:
    result = parse_feed(body, f"{BASE}/feed/", content_type)
    assert result.problem == "feed_not_a_feed"
    assert result.entries == []
    assert result.detail is not None and result.detail.startswith("not an RSS or Atom")
    assert content_type in result.detail


def test_feed_without_entries_is_not_trusted() -> None:
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    result = parse_feed(empty, f"{BASE}/feed/")
    assert (result.version, result.problem, result.entries) == ("rss20", "feed_empty", [])


def test_sitemap_index_children() -> None:
    result = parse_sitemap(INDEX, f"{BASE}/sitemap_index.xml")
    assert result.kind == "sitemapindex"
    assert result.entries == []
    assert result.children == [
        (f"{BASE}/post-sitemap.xml", datetime(2024, 5, 12, 10, 0, tzinfo=UTC)),
        (f"{BASE}/post-sitemap2.xml.gz", None),
    ]


def test_urlset_entries() -> None:
    result = parse_sitemap(URLSET, f"{BASE}/post-sitemap.xml")
    assert (result.kind, result.children, result.problem) == ("urlset", [], None)
    assert result.entries == [
        Discovered(
            url=f"{BASE}/2024/05/12/water-plan/",
            hints=PageHints(discovered_via="sitemap", sitemap_lastmod="2024-05-12T09:00:00+04:00"),
            lastmod=datetime(2024, 5, 12, 5, 0, tzinfo=UTC),
        ),
        Discovered(url=f"{BASE}/about/", hints=PageHints(discovered_via="sitemap")),
    ]


def test_google_news_sitemap_gzipped() -> None:
    result = parse_sitemap(gzip.compress(NEWS), f"{BASE}/news-sitemap.xml.gz")
    assert result.kind == "urlset"
    assert result.entries == [
        Discovered(
            url=f"{BASE}/news/1.html",
            hints=PageHints(
                discovered_via="sitemap",
                sitemap_published="2024-05-12T14:35:00+03:00",
                sitemap_title="Парламент принял бюджет",
                sitemap_language="ru",
            ),
            published=datetime(2024, 5, 12, 11, 35, tzinfo=UTC),
        )
    ]


def test_gzip_sitemap_over_the_size_cap() -> None:
    result = parse_sitemap(gzip.compress(NEWS), f"{BASE}/news.xml.gz", max_size=200)
    assert (result.kind, result.problem) == (None, "sitemap_too_large")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html><body>Not found</body></html>", "the document's root is <html>"),
        (b"", "not XML"),
        (b"\x1f\x8b\x08garbage", "broken gzip data"),
    ],
)
def test_not_a_sitemap(body: bytes, detail: str) -> None:
    result = parse_sitemap(body, f"{BASE}/sitemap.xml")
    assert (result.kind, result.problem) == (None, "sitemap_not_a_sitemap")
    assert result.detail is not None and detail in result.detail


def test_hint_dates() -> None:
    assert parse_hint_date("Sun, 12 May 2024 08:30:00 +0000") == datetime(
        2024, 5, 12, 8, 30, tzinfo=UTC
    )
    assert parse_hint_date("2024-05-12") == datetime(2024, 5, 12, tzinfo=UTC)
    assert parse_hint_date("2024-05-12T10:00:00Z") == datetime(2024, 5, 12, 10, tzinfo=UTC)
    assert parse_hint_date("12 мая 2024") is None
    assert parse_hint_date(None) is None


def test_merge_hints_feed_wins_sitemap_fills_gaps() -> None:
    feed = PageHints(discovered_via="feed", feed_title="Feed title", feed_published="x")
    sitemap = PageHints(
        discovered_via="sitemap",
        sitemap_lastmod="2024-05-12",
        sitemap_title="News title",
        sitemap_published="2024-05-12T10:00:00Z",
    )
    merged = PageHints(
        discovered_via="feed",
        feed_title="Feed title",
        feed_published="x",
        sitemap_lastmod="2024-05-12",
        sitemap_title="News title",
        sitemap_published="2024-05-12T10:00:00Z",
    )
    assert merge_hints(feed, sitemap) == merged
    assert merge_hints(sitemap, feed) == merged


def test_candidates_canonicalize_dedupe_and_count() -> None:
    candidates = Candidates(
        source(allowed_domains=["cdn.example.am"], exclude_url_patterns=[r"/tag/"])
    )
    feed = parse_feed(RSS, f"{BASE}/feed/").entries
    sitemap = parse_sitemap(URLSET, f"{BASE}/post-sitemap.xml").entries
    extra = [
        Discovered(f"{BASE}/tag/politics/", PageHints("sitemap")),
        Discovered("https://other.example.com/story", PageHints("sitemap")),
        Discovered("https://other.example.com/story#top", PageHints("sitemap")),
        Discovered("mailto:desk@example.am", PageHints("feed")),
        Discovered("http://[broken/x", PageHints("feed")),
        Discovered("http://news.cdn.example.am/a?b=2&a=1", PageHints("sitemap")),
    ]
    for found in [*feed, *sitemap, *extra]:
        candidates.add(found)
    chosen = candidates.select()
    assert [c.url for c in chosen] == [
        f"{BASE}/2024/05/12/water-plan/",
        f"{BASE}/2024/05/11/second/",
        f"{BASE}/about/",
        "http://news.cdn.example.am/a?a=1&b=2",
    ]
    # The water-plan story was in the feed (utm link) and the sitemap: one candidate, merged.
    assert chosen[0].hints.discovered_via == "feed"
    assert chosen[0].hints.feed_title == "Council approves & publishes the water plan"
    assert chosen[0].hints.sitemap_lastmod == "2024-05-12T09:00:00+04:00"
    assert dict(candidates.counts) == {"discovered": 4, "offsite": 1, "excluded": 3}


def test_article_url_patterns_keep_only_matches() -> None:
    candidates = Candidates(source(article_url_patterns=[r"/\d{4}/\d{2}/\d{2}/"]))
    for found in parse_sitemap(URLSET, f"{BASE}/s.xml").entries:
        candidates.add(found)
    assert [c.url for c in candidates.select()] == [f"{BASE}/2024/05/12/water-plan/"]
    assert candidates.counts["excluded"] == 1


def test_skip_keys_and_date_window() -> None:
    landed = f"{BASE}/2024/05/11/second/"
    candidates = Candidates(
        source(), skip={article_id(landed)}, since=date(2024, 5, 12), until=date(2024, 5, 12)
    )
    for found in [
        *parse_feed(RSS, f"{BASE}/feed/").entries,
        Discovered(f"{BASE}/old/", PageHints("sitemap"), lastmod=datetime(2024, 5, 1, tzinfo=UTC)),
        Discovered(f"{BASE}/late/", PageHints("feed"), published=datetime(2024, 6, 1, tzinfo=UTC)),
        # Modified after the window but maybe published in it: kept.
        Discovered(
            f"{BASE}/edited/", PageHints("sitemap"), lastmod=datetime(2024, 6, 1, tzinfo=UTC)
        ),
        # Within the one-day margin of a local date: kept.
        Discovered(
            f"{BASE}/edge/", PageHints("feed"), published=datetime(2024, 5, 11, 21, tzinfo=UTC)
        ),
        Discovered(f"{BASE}/undated/", PageHints("sitemap")),
    ]:
        candidates.add(found)
    chosen = candidates.select()
    assert chosen == [
        Candidate(f"{BASE}/2024/05/12/water-plan/", chosen[0].hints),
        Candidate(f"{BASE}/edited/", PageHints("sitemap")),
        Candidate(f"{BASE}/edge/", PageHints("feed")),
        Candidate(f"{BASE}/undated/", PageHints("sitemap")),
    ]
    assert candidates.counts["skipped_landed"] == 1
    assert candidates.counts["out_of_window_hint"] == 2
    assert candidates.counts["discovered"] == 7


def test_read_skip_file(tmp_path: Path) -> None:
    path = tmp_path / "skip.txt"
    path.write_text(
        "# landed\nabc\n\n  def  \nghi\t2024-05-12T10:00:00Z\ndef\t2024-05-12T10:00:00Z\n",
        "utf-8",
    )
    assert read_skip_file(str(path)) == {
        "abc": None,
        "def": None,  # listed bare too (a lasting reject): skipped whatever the listing says
        "ghi": datetime(2024, 5, 12, 10, tzinfo=UTC),
    }
    assert read_skip_file(None) == {}


def test_a_landed_url_whose_listing_says_it_changed_is_fetched_again() -> None:
    landed_at = datetime(2024, 5, 12, 10, tzinfo=UTC)
    urls = [f"{BASE}/2024/05/12/{n}/" for n in ("same", "changed", "rejected", "no-date")]
    skip = {article_id(urls[0]): landed_at, article_id(urls[1]): landed_at}
    skip |= {article_id(urls[2]): None, article_id(urls[3]): landed_at}
    candidates = Candidates(source(), skip=skip)
    for url, lastmod in zip(
        urls,
        [landed_at, landed_at.replace(hour=11), landed_at.replace(hour=11), None],
        strict=True,
    ):
        candidates.add(Discovered(url, PageHints("sitemap"), lastmod=lastmod))
    assert [c.url for c in candidates.select()] == [urls[1]]
    assert (candidates.counts["skipped_landed"], candidates.counts["refetched_changed"]) == (3, 1)


ATOM_UPDATED = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2024-05-13T09:00:00Z</updated>
<entry><title>Edited</title><id>urn:1</id><link href="/2024/05/12/edited/"/>
<published>2024-05-12T08:00:00Z</published><updated>2024-05-13T09:00:00Z</updated></entry>
<entry><title>Untouched</title><id>urn:2</id><link href="/2024/05/12/untouched/"/>
<published>2024-05-12T07:00:00Z</published><updated>2024-05-12T07:00:00Z</updated></entry>
</feed>"""


def test_an_atom_entry_updated_after_publication_carries_it_as_lastmod() -> None:
    entries = parse_feed(ATOM_UPDATED, f"{BASE}/feed.atom").entries
    assert [(e.url, e.published, e.lastmod) for e in entries] == [
        (
            f"{BASE}/2024/05/12/edited/",
            datetime(2024, 5, 12, 8, tzinfo=UTC),
            datetime(2024, 5, 13, 9, tzinfo=UTC),
        ),
        (f"{BASE}/2024/05/12/untouched/", datetime(2024, 5, 12, 7, tzinfo=UTC), None),
    ]


def test_a_backfill_takes_an_entry_modified_long_after_the_window_for_a_later_article() -> None:
    def lastmod(day: int) -> Discovered:
        return Discovered(
            f"{BASE}/n/{day}/", PageHints("sitemap"), lastmod=datetime(2024, 5, day, 9, tzinfo=UTC)
        )

    window = {"since": date(2024, 5, 12), "until": date(2024, 5, 12)}
    slack = Candidates(source(), **window, lastmod_slack=timedelta(days=2))
    anytime = Candidates(source(), **window)
    for day in (10, 11, 13, 14, 15, 16):
        slack.add(lastmod(day))
        anytime.add(lastmod(day))
    # A day of margin before; after the window's end (13 May 00:00), the day of margin and
    # two days of slack: up to 16 May 00:00.
    assert [c.url for c in slack.select()] == [f"{BASE}/n/{d}/" for d in (11, 13, 14, 15)]
    assert [c.url for c in anytime.select()] == [f"{BASE}/n/{d}/" for d in (11, 13, 14, 15, 16)]
    # A sitemap file modified later still lists the window's pages: no slack for it.
    assert not slack.outside_window(None, datetime(2024, 6, 1, tzinfo=UTC), article=False)


def test_a_backfill_chunk_owns_the_entries_of_its_days() -> None:
    candidates = Candidates(
        source(), since=date(2024, 5, 1), until=date(2024, 5, 10), chunk=(date(2024, 5, 3),) * 2
    )
    for url, published, lastmod in [
        ("p3", datetime(2024, 5, 3, 23, tzinfo=UTC), None),  # its UTC day
        ("p4", datetime(2024, 5, 4, 1, tzinfo=UTC), None),  # the next chunk's
        ("m3", None, datetime(2024, 5, 3, 9, tzinfo=UTC)),
        ("late", None, datetime(2024, 5, 11, 9, tzinfo=UTC)),  # the last day's
        ("undated", None, None),  # the first day's
    ]:
        candidates.add(Discovered(f"{BASE}/{url}/", PageHints("sitemap"), published, lastmod))
    assert [c.url for c in candidates.select()] == [f"{BASE}/p3/", f"{BASE}/m3/"]
    assert candidates.counts["out_of_window_hint"] == 3
