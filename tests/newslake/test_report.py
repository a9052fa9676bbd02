"""`newslake health` and `newslake report` as a user runs them; the report opened in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from lxml import html as lxml_html
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lake"))

from health_lake import PATCHY, QUIET, STEADY, build_health_lake

from lake import open_store

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the `newslake` fixture
WINDOW = ("--days", "7", "--until", "2024-04-07")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("health")
    uri = str(root / "lake")
    build_health_lake(open_store(uri), root / "spools")
    return uri


def test_health_exits_1_naming_the_source_and_the_failing_checks(
    newslake: Runner, lake: str
) -> None:
    result = newslake("health", "--lake", lake, *WINDOW)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"below threshold: {PATCHY}: 4 zero-article day(s) (at most 2): 2024-04-04, 2024-04-05,"
        " 2024-04-06, 2024-04-07",
        f"below threshold: {PATCHY}: landed 4 of 11 attempted URLs = 0.36 (at least 0.50)",
        f"below threshold: {PATCHY}: title complete in 2 of 4 articles = 0.50 (at least 0.90)",
        f"below threshold: {PATCHY}: body complete in 3 of 4 articles = 0.75 (at least 0.90)",
        f"below threshold: {PATCHY}: published_at complete in 3 of 4 articles = 0.75"
        " (at least 0.90)",
        f"below threshold: {PATCHY}: language complete in 3 of 4 articles = 0.75 (at least 0.90)",
    ]
    rows: dict[str, list[list[str]]] = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells[0] in (PATCHY, QUIET, STEADY):
            rows.setdefault(cells[0], []).append(cells[1:])
    summary, per_day = rows[PATCHY]
    assert summary[:11] == ["FAIL", "4", "11", "11", "4", "36%", "4", "50%", "75%", "75%", "75%"]
    assert per_day == ["0/0", "2/4", "2/4", "0/3", "0/0", "0/0", "0/0"]
    summary, per_day = rows[STEADY]
    assert summary[:11] == ["ok", "7", "35", "28", "21", "75%", "0"] + ["100%"] * 4
    assert per_day == ["3/5"] * 7

    # One healthy source alone exits 0.
    result = newslake("health", "--lake", lake, *WINDOW, "--source", STEADY)
    assert (result.returncode, result.stderr) == (0, "")


def test_health_json_and_thresholds(newslake: Runner, lake: str, tmp_path: Path) -> None:
    result = newslake("health", "--lake", lake, *WINDOW, "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["failing"] == [PATCHY]
    patchy = next(s for s in data["sources"] if s["source_id"] == PATCHY)
    assert [(d["day"], d["landed"], d["discovered"], d["zero"]) for d in patchy["days"]] == [
        ("2024-04-01", 0, 0, False),
        ("2024-04-02", 2, 4, False),
        ("2024-04-03", 2, 4, False),
        ("2024-04-04", 0, 3, True),
        ("2024-04-05", 0, 0, True),
        ("2024-04-06", 0, 0, True),
        ("2024-04-07", 0, 0, True),
    ]

    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(
        f"sources:\n  {PATCHY}: {{min_completeness: 0.5, max_zero_days: 4,"
        " min_landed_ratio: 0.3}\n",
        "utf-8",
    )
    result = newslake("health", "--lake", lake, *WINDOW, "--thresholds", str(lenient))
    assert (result.returncode, result.stderr) == (0, "")

    # Thresholds for a source the lake does not have: said, not silently ignored.
    typo = tmp_path / "typo.yaml"
    typo.write_text("sources:\n  patchy-new: {max_zero_days: 9}\n", "utf-8")
    result = newslake("health", "--lake", lake, *WINDOW, "--thresholds", str(typo))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"warning: {typo}: thresholds for 'patchy-new', which has no run in the lake (or is not"
        " an active source of the sources file)"
    )


def test_health_bad_input_exits_2(newslake: Runner, lake: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults:\n  max_zero_days: two\n  colour: red\n", "utf-8")
    result = newslake("health", "--lake", lake, "--thresholds", str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{bad}: defaults: field 'max_zero_days': expected a whole number >= 0, got 'two'",
        f"{bad}: defaults: field 'colour': unknown key (expected one of max_zero_days,"
        " min_body_words, min_completeness, min_landed_ratio)",
    ]
    cases = [
        (("--source", "nope"), f"source 'nope' has no run in the lake at {lake}"),
        (("--until", "2024-02-30"), "--until '2024-02-30' is not a date in YYYY-MM-DD form"),
        (("--lake", str(tmp_path / "nowhere")), f"no lake at {tmp_path / 'nowhere'}"),
    ]  # fmt: skip
    for args, message in cases:
        result = newslake("health", "--lake", lake, *args)
        assert result.returncode == 2, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def _chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium package is missing: apt-get install -y chromium (.ci/run does)"
    return path


def _headless(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _texts(element: lxml_html.HtmlElement) -> list[str]:
    return [t.text_content().strip() for t in element.iter("text")]


def test_report_is_self_contained_and_renders_in_chromium(
    newslake: Runner, lake: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = newslake("report", "--out", str(out), "--lake", lake, *WINDOW)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: 3 source(s), 1 below threshold, 2024-04-01 – 2024-04-07" in result.stdout

    # Nothing outside the file: no scripts, stylesheets or images fetched from anywhere.
    page = out.read_text("utf-8")
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//script | //link | //img | //iframe") == []
    refs = [
        value
        for element in tree.iter()
        for name, value in element.attrib.items()
        if name.split(":")[-1] in ("src", "href", "srcset", "data")
    ]
    assert refs and all(str(ref).startswith("#") for ref in refs)
    assert re.findall(r"url\((?!#)", page) == []
    assert "@import" not in page

    # The DOM as Chromium builds it.
    dom = _headless("--dump-dom", out.as_uri(), profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    doc = lxml_html.fromstring(dom.stdout)
    assert doc.findtext(".//title") == "newslake source health 2024-04-01 – 2024-04-07"

    [landed] = doc.xpath("//figure[@id='chart-landed']//svg")
    texts = _texts(landed)
    assert "Articles landed per source per day" in texts
    assert {PATCHY, QUIET, STEADY} <= set(texts)  # the legend
    assert [f"04-0{i}" for i in range(1, 8)] == [t for t in texts if re.fullmatch(r"04-\d\d", t)]
    assert {"0", "1", "2", "3"} <= set(texts)  # y ticks up to STEADY's 3 a day

    [complete] = doc.xpath("//figure[@id='chart-completeness']//svg")
    texts = _texts(complete)
    assert "Field completeness per source" in texts
    assert {"title", "body", "published_at", "language"} <= set(texts)
    # Bar labels, in source order (patchy, quiet, steady) within each field.
    assert [t for t in texts if t.endswith("%")] == [
        "50%", "100%", "100%", "75%", "100%", "100%",
        "75%", "100%", "100%", "75%", "100%", "100%",
    ]  # fmt: skip

    summary = {
        row[0]: row[1:]
        for row in (
            [td.text_content() for td in tr.iter("td")]
            for tr in doc.xpath("//table[@id='summary']/tbody/tr")
        )
    }
    assert summary == {
        PATCHY: ["FAIL", "4", "1", "11", "11", "4", "36%", "4", "50%", "75%", "75%", "75%"],
        QUIET: ["ok", "1", "0", "3", "1", "1", "100%", "1", "100%", "100%", "100%", "100%"],
        STEADY: ["ok", "7", "0", "35", "28", "21", "75%", "0", "100%", "100%", "100%", "100%"],
    }
    rejects = [
        [td.text_content() for td in tr.iter("td")]
        for tr in doc.xpath("//table[@id='rejects']/tbody/tr")
    ]
    assert rejects == [
        [PATCHY, "extract_error", "2"],
        [PATCHY, "http_error", "1"],
        [STEADY, "not_article", "7"],
    ]
    zero = [
        [td.text_content() for td in tr.iter("td")]
        for tr in doc.xpath("//table[@id='zero-days']/tbody/tr")
    ]
    assert zero == [
        [PATCHY, "4", "2024-04-04, 2024-04-05, 2024-04-06, 2024-04-07"],
        [QUIET, "1", "2024-04-07"],
    ]
    zero_cells = doc.xpath("//table[@id='per-day']//td[@class='zero']")
    assert [td.text_content() for td in zero_cells] == ["0/3", "0/0", "0/0", "0/0", "0/0"]

    # The picture: not blank, and the charts' own colours are on it.
    shot = tmp_path / "report.png"
    taken = _headless(
        f"--screenshot={shot}", "--window-size=1200,3000", out.as_uri(), profile=tmp_path / "p2"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20)
    assert colours is not None
    present = {rgb for _, rgb in colours}
    assert len(present) > 100
    # Two sources' lines and markers (patchy blue, quiet red); published_at and language bars.
    for rgb in ((0x09, 0x69, 0xDA), (0xCF, 0x22, 0x2E), (0xBC, 0x4C, 0x00), (0x82, 0x50, 0xDF)):
        assert rgb in present, rgb
    white = max(colours)  # the most frequent colour: the page background
    assert white[1] == (255, 255, 255)
    assert white[0] < 0.95 * pixels.width * pixels.height


def test_python_api_writes_the_same_report(lake: str, tmp_path: Path) -> None:
    from newslake import api

    out = tmp_path / "api.html"
    report = api.health_report(out, lake, days=7, until=date(2024, 4, 7), sources=[QUIET])
    assert [s.source_id for s in report.sources] == [QUIET]
    tree = lxml_html.fromstring(out.read_text("utf-8"))
    assert [td.text_content() for td in tree.xpath("//table[@id='summary']/tbody/tr/td")][:3] == [
        QUIET,
        "ok",
        "1",
    ]
    assert tree.xpath("//figure[@id='chart-landed']//svg")
