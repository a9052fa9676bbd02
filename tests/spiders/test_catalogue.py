from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from spiders.catalogue import (
    SourcesError,
    find_mirror,
    load_catalogue,
    load_sources,
    parse_sources,
    select_sources,
)

GOOD = """\
sources:
  - id: ararat-courier          # the DESIGN.md example
    name: Ararat Courier
    homepage: https://example.am/
    country: AM
    languages: [en, ru]
    timezone: Asia/Yerevan
    feeds: [https://example.am/feed/]
    sitemaps: [https://example.am/sitemap_index.xml]
"""

ENTRY = """\
  - id: {id}
    name: Second
    homepage: {homepage}
    country: GE
    languages: [ka]
    timezone: Asia/Tbilisi
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, "utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(SourcesError) as caught:
        load_sources(path)
    return caught.value.problems


def test_design_example_loads(tmp_path: Path) -> None:
    [source] = load_sources(write(tmp_path, GOOD))
    assert source.id == "ararat-courier"
    assert [f.url for f in source.feeds] == ["https://example.am/feed/"]
    assert source.domains == ["example.am"]
    assert source.owns("https://www.example.am/news/1") is True
    assert source.owns("https://example.am.evil.com/") is False
    assert str(source.zone) == "Asia/Yerevan"


def test_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "    colour: red\n")
    assert problems(path) == [
        f"{path}: sources[0] (id 'ararat-courier'): field 'colour': unknown key"
    ]


def test_bad_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + ENTRY.format(id="Bad_Id", homepage="https://ge.example/"))
    assert problems(path) == [
        f"{path}: sources[1] (id 'Bad_Id'): field 'id': 'Bad_Id' is not a valid id: use lowercase"
        " letters, digits and single hyphens ([a-z0-9-]+, at most 64 characters)"
    ]


def test_bad_url(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + ENTRY.format(id="second", homepage="htp:/ge.example"))
    assert problems(path) == [
        f"{path}: sources[1] (id 'second'): field 'homepage': not an absolute http(s) URL:"
        " 'htp:/ge.example'"
    ]


def test_bad_feed_url_names_the_list_item(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("[https://example.am/feed/]", "[https://example.am/feed/, 'feed.xml']"),
    )
    assert problems(path) == [
        f"{path}: sources[0] (id 'ararat-courier'): field 'feeds[1].url': not an absolute"
        " http(s) URL: 'feed.xml'"
    ]


def test_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + ENTRY.format(id="ararat-courier", homepage="https://ge.example/"))
    assert problems(path) == [
        f"{path}: sources[1] (id 'ararat-courier'): field 'id': duplicate of sources[0]"
    ]


def test_credentials_in_url_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("https://example.am/feed/", "https://u:hunter2@example.am/feed/")
    )
    [problem] = problems(path)
    assert "feeds[0].url" in problem and "credentials" in problem
    assert "hunter2" not in problem


def test_missing_required_key_and_bad_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    timezone: Asia/Yerevan\n", ""))
    assert problems(path) == [
        f"{path}: sources[0] (id 'ararat-courier'): field 'timezone': required key is missing"
    ]
    path = write(tmp_path, "sources:\n  - id: [unclosed\n")
    [problem] = problems(path)
    assert problem.startswith(f"{path}: not valid YAML at line 3")


def test_top_level_shape(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- id: x\n")) == [
        f"{tmp_path / 'sources.yaml'}: expected a mapping with a 'sources' list at the top"
    ]
    assert problems(write(tmp_path, GOOD + "extra: 1\n")) == [
        f"{tmp_path / 'sources.yaml'}: top level: key 'extra': unknown key"
    ]


def test_duplicate_across_files_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, "utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, "utf-8")
    assert problems(tmp_path) == [
        f"{tmp_path / 'b.yaml'}: source 'ararat-courier': field 'id': duplicate of the one in"
        f" {tmp_path / 'a.yaml'}"
    ]
    assert problems(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}: no such sources file or folder"
    ]


def test_select_sources() -> None:
    sources = parse_sources(GOOD, "inline")
    assert select_sources(sources, None) == sources
    assert select_sources(sources, ["ararat-courier", "ararat-courier"]) == sources
    with pytest.raises(SourcesError, match="unknown source id 'nope' \\(known: ararat-courier\\)"):
        select_sources(sources, ["nope"])


def test_bundled_catalogue_validates_and_every_active_outlet_has_a_way_in() -> None:
    sources = load_sources()
    assert len({s.id for s in sources}) == len(sources)
    for source in sources:
        if source.status != "active":
            continue
        endpoints = [*source.feeds, *source.sitemaps]
        assert endpoints, f"{source.id}: no feed or sitemap"
        # A dead endpoint alone is no way in; it may stay listed beside a working one.
        assert any(e.confidence != "dead" for e in endpoints), source.id


EXTENDED = """\
sources:
  - id: civil-ge
    name: Civil Georgia
    homepage: https://civil.ge/
    country: GE
    languages: [en, ka]
    timezone: Asia/Tbilisi
    editions:
      - {language: ka, url: https://civil.ge/ka/}
    archives:
      - url: https://civil.ge/archives/date/{yyyy}/{mm}/{dd}/
        pagination: page/{n}/
        max_pages: 5
        confidence: guess
    wordpress_api: {url: https://civil.ge/wp-json/wp/v2/posts, confidence: guess}
    overrides:
      - until: 2023-01-01
        selectors: {title: "h1.old-title::text"}
      - since: 2023-01-01
        url_pattern: '/archives/\\d+'
        selectors: {title: "h1.entry-title::text", body_exclude: [".related"]}
  - id: artsakhpress
    name: Artsakhpress
    homepage: https://artsakhpress.am/
    country: NK
    languages: [hy]
    timezone: Asia/Yerevan
    status: defunct
    status_note: offline since January 2024
    wayback: {url_prefix: artsakhpress.am/, from: "2010", to: 2023-12-31}
mirrors:
  - {host: mirror.example, kind: machine-translation, copies: [civil-ge]}
"""


def test_extended_fields_load(tmp_path: Path) -> None:
    path = tmp_path / "ge.yaml"
    path.write_text(EXTENDED, encoding="utf-8")
    catalogue = load_catalogue(path)
    civil, artsakh = catalogue.sources
    assert civil.editions[0].url == "https://civil.ge/ka/"
    archive = civil.archives[0]
    assert archive.page_url(date(2024, 3, 5), 1) == "https://civil.ge/archives/date/2024/03/05/"
    assert archive.page_url(date(2024, 3, 5), 3) == (
        "https://civil.ge/archives/date/2024/03/05/page/3/"
    )
    assert civil.wordpress_api is not None and civil.wordpress_api.confidence == "guess"
    old = civil.overrides_for("https://civil.ge/archives/1", datetime(2022, 5, 1, tzinfo=UTC))
    new = civil.overrides_for("https://civil.ge/archives/1", datetime(2024, 5, 1, tzinfo=UTC))
    assert [o.selectors.title for o in old] == ["h1.old-title::text"]
    assert [o.selectors.title for o in new] == ["h1.entry-title::text"]
    assert civil.overrides_for("https://civil.ge/ka/", datetime(2024, 5, 1, tzinfo=UTC)) == []
    assert artsakh.wayback is not None
    assert (artsakh.wayback.from_, artsakh.wayback.to) == ("2010", "2023-12-31")
    mirror = find_mirror(catalogue.mirrors, "https://news.mirror.example/a")
    assert mirror is not None and mirror.copies == ["civil-ge"]
    assert find_mirror(catalogue.mirrors, "https://civil.ge/a") is None


@pytest.mark.parametrize(
    ("fragment", "problem"),
    [
        (
            "archives: [{url: 'https://x.am/{yyyy}/{week}/'}]",
            "field 'archives[0].url': unknown placeholder {week}: use {yyyy}, {mm} and {dd}",
        ),
        (
            "archives: [{url: 'https://x.am/{yyyy}/', pagination: 'page/'}]",
            "field 'archives[0].pagination': pagination needs the page number placeholder {n}",
        ),
        (
            "overrides: [{selectors: {title: 'h1[['}}]",
            "field 'overrides[0].selectors.title': not a CSS selector: 'h1[['",
        ),
        (
            "overrides: [{selectors: {headline: h1}}]",
            "field 'overrides[0].selectors.headline': unknown key",
        ),
        (
            "wayback: {url_prefix: x.am/, to: last year}",
            "field 'wayback.to': expected YYYY, YYYY-MM or YYYY-MM-DD, got 'last year'",
        ),
    ],
)
def test_extended_field_errors(tmp_path: Path, fragment: str, problem: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        ENTRY.format(id="x-am", homepage="https://x.am/") + f"    {fragment}\n", encoding="utf-8"
    )
    path.write_text("sources:\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SourcesError) as caught:
        load_catalogue(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{path}: sources[0] (id 'x-am'): {problem}")


def test_mirror_copies_must_name_known_sources(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "sources:\n"
        + ENTRY.format(id="x-am", homepage="https://x.am/")
        + "mirrors:\n  - {host: copy.example, kind: content-farm, copies: [y-am]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SourcesError) as caught:
        load_catalogue(path)
    assert caught.value.problems == [
        "mirror 'copy.example': field 'copies': unknown source id 'y-am'"
    ]
