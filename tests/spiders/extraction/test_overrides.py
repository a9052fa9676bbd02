"""Per-source selector overrides: dated entries replace generic values where they match."""

from __future__ import annotations

from datetime import UTC, datetime

from spiders.catalogue import parse_sources
from spiders.extraction import extract_article

SOURCE = parse_sources(
    """\
sources:
  - id: odd-layout
    name: Odd Layout
    homepage: https://odd.example/
    country: AM
    languages: [en]
    timezone: Asia/Yerevan
    overrides:
      - since: 2024-01-01
        selectors:
          title: "div.hdr span.t::text"
          authors: ".who b"
          published: ".when::text"
          body: "div.txt"
          body_exclude: [".promo"]
          section: ".crumbs a:last-child::text"
          tags: ".kw a::text"
          subtitle: ".missing-lead"
""",
    "test",
)[0]

LINES = [
    "The city council approved the budget for the new tram depot on Tuesday evening after a"
    " long debate about its location near the river and the cost of moving the old bus yard.",
    "Council members said the depot would hold forty trams and open in two years, while the"
    " opposition asked for an independent audit of the construction contract and its price.",
    "Residents of the district collected signatures against the plan last spring, and the"
    " mayor promised that a park would be built on the land left free by the bus yard.",
]
PAGE = f"""<html lang="en"><head><title>Odd Layout</title></head><body>
<div class="hdr"><span class="t">Tram depot approved</span></div>
<div class="crumbs"><a href="/">Home</a> <a href="/city/">City</a></div>
<div class="who">By <b>Anna Petrosyan</b> and <b>Levon Hakobyan</b></div>
<div class="when">12.03.2024 14:35</div>
<div class="txt"><p>{LINES[0]}</p><div class="promo"><p>Subscribe to our newsletter now</p></div>
<p>{LINES[1]}</p><ul><li><p>{LINES[2]}</p></li></ul></div>
<div class="kw"><a href="/t/1">trams</a><a href="/t/2">budget</a><a href="/t/1">trams</a></div>
</body></html>"""


def _extract(fetched: datetime) -> dict[str, object]:
    return extract_article(PAGE, "https://odd.example/news/1", source=SOURCE, fetched_at=fetched)


def test_overrides_replace_the_generic_fields() -> None:
    result = _extract(datetime(2024, 3, 12, 12, 0, tzinfo=UTC))
    assert result["title"] == "Tram depot approved"
    assert result["authors"] == ["Anna Petrosyan", "Levon Hakobyan"]
    assert result["published_at"] == datetime(2024, 3, 12, 10, 35, tzinfo=UTC)
    assert (result["published_at_source"], result["published_at_raw"]) == (
        "text",
        "12.03.2024 14:35",
    )
    assert result["body"] == "\n\n".join(LINES)
    assert result["section"] == "City"
    assert result["tags"] == ["trams", "budget"]
    # A selector that matches nothing leaves the generic value.
    assert result["subtitle"] is None


def test_an_override_dated_after_the_capture_does_not_apply() -> None:
    result = _extract(datetime(2023, 6, 1, tzinfo=UTC))
    assert result["title"] == "Odd Layout"
    assert result["authors"] == []
