"""Loading extraction fixture cases (tests/fixtures/pages and tests/fixtures/sites/*/expected).

The format is described in the fixture-format brief: one JSON file per page, the HTML beside
it (path relative to the folder holding the nearest sources.yaml), `{{BASE}}` replaced by
one base URL everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from spiders.catalogue import Source, load_sources, parse_sources
from spiders.extraction import PageHints

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DISCOVERY_FILE = "discovery.json"
BASE = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Case:
    path: Path
    html: bytes
    url: str | None
    source: Source | None
    headers: dict[str, str]
    hints: PageHints | None
    fetched_at: datetime
    expected: dict[str, Any] | None
    reject: str | None

    @property
    def name(self) -> str:
        return str(self.path.relative_to(FIXTURES).with_suffix(""))


def case_files() -> list[Path]:
    pages = sorted((FIXTURES / "pages").glob("*.json"))
    sites = sorted(FIXTURES.glob("sites/*/expected/*.json"))
    # Catalogue outlets: real URLs, the source from the bundled catalogue, no sources.yaml.
    outlets = sorted(p for p in FIXTURES.glob("sources/*/*.json") if p.name != DISCOVERY_FILE)
    return pages + sites + outlets


def _substitute(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("{{BASE}}", BASE)
    if isinstance(value, list):
        return [_substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v) for k, v in value.items()}
    return value


def _sources_file(folder: Path) -> Path | None:
    """The nearest sources.yaml up to tests/fixtures; None means the bundled catalogue."""
    for candidate in (folder, *folder.parents):
        if (candidate / "sources.yaml").exists():
            return candidate / "sources.yaml"
        if candidate == FIXTURES:
            break
    return None


@cache
def bundled_sources() -> dict[str, Source]:
    return {source.id: source for source in load_sources()}


@cache
def _sources(path: Path) -> dict[str, Source]:
    text = path.read_text(encoding="utf-8").replace("{{BASE}}", BASE)
    return {source.id: source for source in parse_sources(text, str(path))}


def _hints(data: dict[str, Any] | None) -> PageHints | None:
    if data is None:
        return None
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return PageHints(**fields)


def load_case(path: Path) -> Case:
    data = json.loads(path.read_text(encoding="utf-8"))
    sources_file = _sources_file(path.parent)
    root = sources_file.parent if sources_file else path.parent
    html = (root / data["page"]).read_bytes().replace(b"{{BASE}}", BASE.encode())
    known = _sources(sources_file) if sources_file else bundled_sources()
    source = known[data["source"]] if data.get("source") else None
    headers = {"Content-Type": data["content_type"]} if data.get("content_type") else {}
    fetched = datetime.fromisoformat(data["fetched_at"].replace("Z", "+00:00"))
    return Case(
        path=path,
        html=html,
        url=_substitute(data.get("url")),
        source=source,
        headers=headers,
        hints=_hints(data.get("hints")),
        fetched_at=fetched,
        expected=_substitute(data["expected"]) if "expected" in data else None,
        reject=data.get("reject"),
    )
