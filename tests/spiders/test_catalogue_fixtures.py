"""Every outlet of the bundled catalogue against its offline fixtures (tests/fixtures/sources/).

Extraction of each page case is compared field by field in extraction/test_cases.py (the cases
join the others there); this file checks the catalogue side: each active outlet has fixtures for
every language it declares, its feeds or sitemaps parse to exactly the listed URLs, and the
pages are ones its discovery would find.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spiders.catalogue import Source, find_mirror, load_catalogue
from spiders.discovery import parse_feed, parse_sitemap

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
CATALOGUE = load_catalogue()
SOURCES = CATALOGUE.sources
ACTIVE = [s for s in SOURCES if s.status == "active"]


def _cases(source: Source) -> list[dict[str, Any]]:
    folder = FIXTURES / source.id
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.glob("*.json"))
        if p.name != "discovery.json"
    ]


def _discovery(source: Source) -> list[dict[str, Any]]:
    path = FIXTURES / source.id / "discovery.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{path}: expected a list of endpoint fixtures"
    return data


def _discovered(source: Source, item: dict[str, Any]) -> list[str]:
    body = (FIXTURES / source.id / item["file"]).read_bytes()
    endpoint = item["endpoint"]
    if endpoint in {e.url for e in source.feeds}:
        feed = parse_feed(body, endpoint, item.get("content_type"))
        assert feed.problem is None, f"{item['file']}: {feed.problem}: {feed.detail}"
        return [entry.url for entry in feed.entries]
    sitemap = parse_sitemap(body, endpoint)
    assert sitemap.problem is None, f"{item['file']}: {sitemap.problem}: {sitemap.detail}"
    if sitemap.kind == "sitemapindex":
        return [url for url, _ in sitemap.children]
    return [entry.url for entry in sitemap.entries]


def test_the_catalogue_covers_the_region() -> None:
    countries = Counter(s.country for s in SOURCES)
    assert len(SOURCES) >= 25
    assert all(countries[c] >= 1 for c in ("AM", "AZ", "GE"))


@pytest.mark.parametrize("source", ACTIVE, ids=[s.id for s in ACTIVE])
def test_active_outlet_fixtures(source: Source) -> None:
    cases = _cases(source)
    assert cases, f"tests/fixtures/sources/{source.id}/ holds no page case"
    for case in cases:
        assert case["source"] == source.id
        assert source.owns(case["url"]), f"{case['url']} is not on {source.domains}"
    languages = Counter(c["expected"]["language"] for c in cases if "expected" in c)
    for language in source.languages:
        assert languages[language] >= 2, f"{language}: {languages[language]} article page(s)"

    endpoints = _discovery(source)
    assert endpoints, f"tests/fixtures/sources/{source.id}/discovery.json lists no feed or sitemap"
    declared = {e.url for e in (*source.feeds, *source.sitemaps)}
    found: set[str] = set()
    for item in endpoints:
        assert item["endpoint"] in declared, f"{item['endpoint']} is not in the catalogue entry"
        urls = _discovered(source, item)
        assert urls == item["expected"]
        found.update(urls)
    for case in cases:
        assert case["url"] in found, f"{case['url']} is in no feed or sitemap fixture"


@pytest.mark.parametrize(
    "source",
    [s for s in SOURCES if s.status != "active"],
    ids=[s.id for s in SOURCES if s.status != "active"],
)
def test_inactive_outlets_say_why(source: Source) -> None:
    assert source.status_note, f"{source.id} is {source.status} without a status_note"
    if source.status == "defunct" and source.country == "NK":
        assert source.wayback is not None, "a defunct Artsakh outlet needs a wayback strategy"


def test_mirrors_are_not_sources() -> None:
    for mirror in CATALOGUE.mirrors:
        owners = [s.id for s in SOURCES if s.owns(f"https://{mirror.host}/")]
        assert owners == [], f"mirror {mirror.host} is also a source: {owners}"
        assert find_mirror(CATALOGUE.mirrors, f"https://www.{mirror.host}/x") == mirror
