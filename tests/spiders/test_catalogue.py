from __future__ import annotations

from pathlib import Path

import pytest

from spiders.catalogue import SourcesError, load_sources, parse_sources, select_sources

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


def test_bundled_catalogue_validates_and_every_outlet_has_a_way_in() -> None:
    sources = load_sources()
    assert [s.id for s in sources] == [
        "news-am",
        "hetq",
        "civilnet",
        "trend",
        "report-az",
        "civil-ge",
        "netgazeti",
        "jamnews",
        "oc-media",
    ]
    for source in sources:
        assert source.feeds or source.sitemaps, source.id
        assert all(e.confidence in ("high", "medium") for e in [*source.feeds, *source.sitemaps])
