"""Backfills and incremental crawls, run for real (Prefect, subprocess crawls, the lake) against
the wp-backfill fixture: a WordPress outlet with posts from 30 April to 11 May 2024, a REST
API, dated archives with pagination, a sitemap with lastmod and an Atom feed."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from flows.backfill import BackfillSummary, backfill_flow
from flows.crawl import RunSummary, crawl_flow
from lake import connect, open_store
from lake.backfill import finished_days
from newslake import api

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
FIXTURE = Path(__file__).parent.parent / "fixtures" / "sites" / "wp-backfill"
SOURCE = "wp-backfill"
SINCE, UNTIL = date(2024, 5, 1), date(2024, 5, 10)

_spec = importlib.util.spec_from_file_location("wp_site", FIXTURE / "wp_site.py")
assert _spec and _spec.loader
wp_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wp_site)

# Published (UTC) inside 1-10 May 2024: what a backfill of that window lands. Two of them are
# dated by their URL on another day: Mestia (6 May 01:30 in Tbilisi, 5 May in UTC) and
# Ozurgeti (URL 11 May, 10 May 22:00 UTC).
IN_WINDOW = [
    "2024/05/01/kutaisi-airport-new-routes/",
    "2024/05/02/tbilisi-metro-fare-review/",
    "2024/05/03/rustavi-steel-exports-rise/",
    "2024/05/03/gori-orchards-frost-damage/",
    "2024/05/03/zugdidi-bridge-repairs-finish/",
    "2024/05/05/telavi-wine-festival-dates/",
    "2024/05/06/mestia-night-flights-trial/",
    "2024/05/07/poti-ferry-timetable/",
    "2024/05/08/borjomi-park-trail-reopens/",
    "2024/05/09/akhaltsikhe-fortress-tickets/",
    "2024/05/10/senaki-rail-yard-upgrade/",
    "2024/05/11/ozurgeti-tea-cooperative/",
]
# Fetched because their listing dates sit at the window's edge or inside it, and rejected by
# their own date: 30 April, 11 May, and a correction dated 4 May in its URL and lastmod that
# was first published on 28 April.
OUTSIDE = [
    "2024/04/30/batumi-port-tender-reopens/",
    "2024/05/11/kobuleti-beach-season-opens/",
    "2024/05/04/eu-monitors-report-correction/",
]
ALL_ARTICLES = [
    *IN_WINDOW,
    *OUTSIDE,
]


@dataclass
class Site:
    server: Any
    root: Path
    sources_file: Path

    @property
    def base(self) -> str:
        return str(self.server.base_url)

    def urls(self, paths: list[str]) -> list[str]:
        return sorted(f"{self.base}/{p}" for p in paths)

    def article_requests(self) -> Counter[str]:
        """How many times each article page was requested."""
        wanted = {"/" + p for p in ALL_ARTICLES}
        return Counter(p for p in self.server.paths() if urlsplit(p).path in wanted)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A private copy of the fixture site (tests may edit it), served on loopback."""
    root = tmp_path / "site"
    shutil.copytree(FIXTURE / "site", root)
    server = wp_site.WordPressSite(root).start()
    text = (FIXTURE / "sources.yaml").read_text("utf-8").replace("{{BASE}}", server.base_url)
    sources = tmp_path / "sources.yaml"
    sources.write_text(text, "utf-8")
    yield Site(server, root, sources)
    server.stop()


def backfill(site: Site, lake: str, **kwargs: Any) -> BackfillSummary:
    state = backfill_flow(
        source=SOURCE,
        since=SINCE,
        until=UNTIL,
        sources_file=str(site.sources_file),
        lake=lake,
        settings=FAST,
        return_state=True,
        **kwargs,
    )
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, BackfillSummary)
    return summary


def landed_urls(lake: str) -> list[str]:
    rows = connect(lake).execute("SELECT canonical_url FROM articles ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def listing_days(site: Site) -> set[date]:
    """The days whose archive pages or REST API queries were requested."""
    days: set[date] = set()
    for path in site.server.paths():
        parts = urlsplit(path)
        if parts.path == "/wp-json/wp/v2/posts":
            days.add(date.fromisoformat(parse_qs(parts.query)["after"][0][:10]) + timedelta(1))
        segments = parts.path.strip("/").split("/")
        if (
            len(segments) in (3, 5)
            and segments[0] == "2024"
            and all(s.isdigit() for s in segments[:3])
        ):
            days.add(date(*map(int, segments[:3])))
    return days


def test_a_backfill_cut_short_resumes_and_lands_exactly_the_window_once(
    site: Site, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    first = backfill(site, lake, max_days=4)
    assert [(d.day, d.status) for d in first.days] == [(f"2024-05-0{n}", "ok") for n in range(1, 5)]
    assert landed_urls(lake) == site.urls(IN_WINDOW[:5])  # 1-3 May; 4 May has none
    requested_first = site.article_requests()
    markers = finished_days(open_store(lake), SOURCE, SINCE, UNTIL)
    assert sorted(markers) == [SINCE + timedelta(n) for n in range(4)]
    paths = site.server.paths()
    # Archive pagination: 3 May has three posts, two per page; page 3 is the 404 that ends it.
    assert [p for p in paths if p.startswith("/2024/05/03/page/")] == [
        "/2024/05/03/page/2/",
        "/2024/05/03/page/3/",
    ]
    # The REST API pages too: the query around 3 May finds four posts, two per page.
    api_pages = [
        parse_qs(urlsplit(p).query)["page"][0]
        for p in paths
        if p.startswith("/wp-json/wp/v2/posts") and "after=2024-05-02" in p
    ]
    assert api_pages == ["1", "2"]

    # The rest of the window, through the public API with a progress callback.
    site.server.clear()
    seen: list[tuple[date, str, int, int]] = []
    state = api.backfill(
        SOURCE,
        SINCE,
        UNTIL,
        sources_file=site.sources_file,
        lake=lake,
        settings=FAST,
        on_day=lambda day, status, counts, done, total: seen.append((day, status, done, total)),
    )
    assert state.is_completed(), state.message
    assert seen == [
        *((SINCE + timedelta(n), "finished earlier", n + 1, 10) for n in range(4)),
        *((SINCE + timedelta(n), "ok", n + 1, 10) for n in range(4, 10)),
    ]
    # The finished days were not listed again, and no article was fetched twice, though
    # feeds, sitemaps, the API and the archives list most of them several times.
    assert listing_days(site) == {SINCE + timedelta(n) for n in range(4, 10)}
    assert not set(site.article_requests()) & set(requested_first)
    assert requested_first + site.article_requests() == Counter({"/" + p: 1 for p in ALL_ARTICLES})
    # The archive of 7 May failed three times: its day was retried by its task and finished;
    # what the failed attempt landed counts for the day.
    assert site.server.paths().count("/2024/05/07/") == 4
    days = {d.day: d for d in state.result().days}
    assert (days["2024-05-07"].status, days["2024-05-07"].counts["landed"]) == ("ok", 1)

    # Exactly the articles published in the window landed, once; those fetched on the
    # strength of a listing date and published outside it are rejects saying so.
    assert landed_urls(lake) == site.urls(IN_WINDOW)
    versions = connect(lake).execute("SELECT count(*) FROM article_versions").fetchone()
    assert versions == (len(IN_WINDOW),)
    rejects = connect(lake).execute("SELECT url, reason FROM rejects ORDER BY 1").fetchall()
    assert rejects == [(u, "outside_window") for u in site.urls(OUTSIDE)]
    detail = (
        connect(lake).execute("SELECT detail FROM rejects WHERE url LIKE '%correction%'").fetchone()
    )
    assert detail == (
        "published 2024-04-28T06:00:00Z, outside the window 2024-05-01..2024-05-10 (UTC days)",
    )
    with get_client(sync_client=True) as client:
        progress = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"backfill-{SOURCE}"])),
            sort=ArtifactSort.CREATED_DESC,
        )
    # Newest first: the second run ended at 100 %, the first stopped at 4 days of 10.
    assert [(a.type, a.data) for a in progress][:2] == [("progress", 100), ("progress", 40)]

    # The same window once more: every day is finished, nothing is requested.
    site.server.clear()
    again = backfill(site, lake)
    assert {d.status for d in again.days} == {"finished earlier"}
    assert site.server.paths() == []


def test_without_a_declared_api_the_backfill_probes_for_one(site: Site, tmp_path: Path) -> None:
    text = site.sources_file.read_text("utf-8")
    undeclared = text.split("    wordpress_api:")[0]
    site.sources_file.write_text(undeclared, "utf-8")
    lake = str(tmp_path / "lake")
    state = backfill_flow(
        source=SOURCE,
        since=date(2024, 5, 3),
        until=date(2024, 5, 3),
        sources_file=str(site.sources_file),
        lake=lake,
        settings=FAST,
        return_state=True,
    )
    assert state.is_completed(), state.message
    [day] = state.result().days
    assert (day.counts["wp_api_pages"], day.counts["wp_api_unavailable"]) == (2, 0)
    assert landed_urls(lake) == site.urls(IN_WINDOW[2:5])
    outside = connect(lake).execute("SELECT url FROM rejects WHERE reason = 'outside_window'")
    # Sitemap entries dated only by a lastmod within a day before or two days after the day
    # are fetched, and rejected by their own date (7 May and later are not fetched at all).
    assert sorted(r[0] for r in outside.fetchall()) == site.urls(
        [IN_WINDOW[1], *IN_WINDOW[5:7], "2024/05/04/eu-monitors-report-correction/"]
    )

    # Being outside a backfill's window says nothing lasting about a page: a scheduled crawl
    # fetches and lands those pages like any other.
    site.server.clear()
    counts = crawl(site, lake)
    assert (counts["landed"], counts["skipped_landed"]) == (len(ALL_ARTICLES) - 3, 3)
    assert landed_urls(lake) == site.urls(ALL_ARTICLES)


def test_a_site_without_the_api_falls_back_to_feeds_and_sitemaps(
    fixture_site: Callable[..., Any], tmp_path: Path
) -> None:
    wp = fixture_site("wp-en")
    lake = str(tmp_path / "lake")
    state = backfill_flow(
        source="wp-en",
        since=date(2024, 5, 10),
        until=date(2024, 5, 10),
        sources_file=str(wp.sources_file),
        lake=lake,
        settings=FAST,
        return_state=True,
    )
    assert state.is_completed(), state.message
    [day] = state.result().days
    assert (day.counts["wp_api_unavailable"], day.counts["wp_api_pages"]) == (1, 0)
    assert [p for p in wp.server.paths() if p.startswith("/wp-json/")] == [
        "/wp-json/wp/v2/posts?after=2024-05-09T00%3A00%3A00&before=2024-05-12T00%3A00%3A00"
        "&per_page=100&page=1&_fields=link%2Cdate_gmt%2Cmodified_gmt&orderby=date&order=asc"
    ]
    assert landed_urls(lake) == [f"{wp.base}/2024/05/10/gyumri-kumayri-restoration-grants/"]


def crawl(site: Site, lake: str) -> dict[str, Any]:
    state = crawl_flow(
        sources_file=str(site.sources_file), lake=lake, settings=FAST, return_state=True
    )
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, RunSummary)
    [outcome] = summary.sources
    return outcome.counts


def test_a_scheduled_crawl_of_an_unchanged_site_gets_304s_and_fetches_no_article(
    site: Site, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    first = crawl(site, lake)
    assert first["landed"] == len(ALL_ARTICLES)

    site.server.clear()
    second = crawl(site, lake)
    assert (second["landed"], second["fetched"], second["not_modified"]) == (0, 0, 3)
    conditional = sorted(
        (r.path, "If-None-Match" in r.headers, "If-Modified-Since" in r.headers)
        for r in site.server.requests
    )
    assert conditional == [
        ("/feed/", True, True),
        ("/post-sitemap.xml", True, True),  # the unchanged index's child, asked too
        ("/robots.txt", False, False),
        ("/sitemap_index.xml", True, True),
    ]
    assert site.article_requests() == Counter()

    # The feed now says one article was updated after it landed, and the page did change:
    # exactly that article is fetched again, and lands as a new version.
    slug = "2024/05/09/akhaltsikhe-fortress-tickets/"
    feed = site.root / "feed" / "index.xml"
    updated = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = feed.read_text("utf-8")
    entry_start = text.index(f"{{{{BASE}}}}/{slug}</id>")
    entry_end = text.index("</entry>", entry_start)
    entry = text[entry_start:entry_end]
    old_updated = entry.split("<updated>")[1].split("</updated>")[0]
    entry = entry.replace(f"<updated>{old_updated}</updated>", f"<updated>{updated}</updated>")
    feed.write_text(text[:entry_start] + entry + text[entry_end:], "utf-8")
    page = site.root / slug / "index.html"
    page.write_text(
        page.read_text("utf-8").replace(
            "</div>\n</article>",
            "<p>Update: the ticket office stays open until October.</p>\n</div>\n</article>",
        ),
        "utf-8",
    )
    site.server.clear()
    third = crawl(site, lake)
    assert (third["refetched_changed"], third["landed"], third["not_modified"]) == (1, 1, 2)
    assert site.article_requests() == Counter({"/" + slug: 1})
    versions = (
        connect(lake)
        .execute(
            "SELECT count(*) FROM article_versions WHERE canonical_url = ?", [f"{site.base}/{slug}"]
        )
        .fetchone()
    )
    assert versions == (2,)
    kept = json.loads(open_store(lake).get(f"state/source_id={SOURCE}/validators.json"))
    assert sorted(kept) == sorted(
        f"{site.base}{p}" for p in ("/feed/", "/sitemap_index.xml", "/post-sitemap.xml")
    )
