"""Per-source selector overrides from the catalogue (`overrides:` in a source's YAML).

They exist for the few layouts the generic extractor misses; each entry is dated by capture
date, so after a redesign the old entry keeps parsing old raw captures. A selector that matches
nothing leaves the generic value in place: a half-broken override degrades to the generic
extractor instead of emptying a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement
from parsel import Selector

from spiders.catalogue import Override, Selectors, Source
from spiders.extraction import dates
from spiders.extraction.page import Page, collapse

# The block elements whose text makes the body's lines inside an override's container.
_LINE_TAGS = ("p", "h2", "h3", "h4", "h5", "li", "blockquote", "pre")
FIELDS = ("title", "subtitle", "authors", "published", "modified", "body", "section", "tags")


def selectors_for(source: Source | None, url: str | None, fetched_at: datetime) -> Selectors:
    """One Selectors, merged from the applicable entries: the first entry setting a field wins."""
    if source is None or not source.overrides:
        return Selectors()
    entries: Sequence[Override] = source.overrides_for(url, fetched_at)
    merged: dict[str, Any] = {}
    for entry in entries:
        for name, value in entry.selectors.model_dump(exclude_defaults=True).items():
            merged.setdefault(name, value)
    return Selectors.model_validate(merged)


def _texts(page: Page, css: str) -> list[str]:
    selected = Selector(root=page.tree, type="html").css(css)
    out: list[str] = []
    for item in selected:
        value = item.root if isinstance(item.root, str) else item.xpath("string()").get()
        text = collapse(value)
        if text and text not in out:
            out.append(text)
    return out


def _first(page: Page, css: str | None) -> str | None:
    if css is None:
        return None
    found = _texts(page, css)
    return found[0] if found else None


def body_lines(page: Page, selectors: Selectors) -> list[str] | None:
    """The body's lines from the override's container, or None when it matches nothing."""
    if selectors.body is None:
        return None
    root = Selector(root=page.tree, type="html")
    containers = [c.root for c in root.css(selectors.body) if isinstance(c.root, HtmlElement)]
    if not containers:
        return None
    excluded: set[HtmlElement] = set()
    for css in selectors.body_exclude:
        excluded.update(c.root for c in root.css(css) if isinstance(c.root, HtmlElement))
    lines: list[str] = []
    for container in containers:
        for element in container.iter(*_LINE_TAGS):
            # A line inside another line element (a <p> in an <li>) is read with its parent.
            if any(a in excluded or a.tag in _LINE_TAGS for a in _ancestors(element, container)):
                continue
            if element in excluded:
                continue
            text = collapse(element.text_content())
            if text:
                lines.append(text)
    return lines or None


def _ancestors(element: HtmlElement, stop: HtmlElement) -> list[HtmlElement]:
    out: list[HtmlElement] = []
    parent = element.getparent()
    while parent is not None and parent is not stop:
        out.append(parent)
        parent = parent.getparent()
    return out


def apply_fields(
    result: dict[str, Any], page: Page, selectors: Selectors, ctx: dates.DateContext
) -> dict[str, Any]:
    """Replace the fields (other than body) that a selector finds on the page."""
    for name in ("title", "subtitle", "section"):
        value = _first(page, getattr(selectors, name))
        if value is not None:
            result[name] = value
    for name in ("authors", "tags"):
        css = getattr(selectors, name)
        found = _texts(page, css) if css else []
        if found:
            result[name] = found
    raw = _first(page, selectors.published)
    published = dates.parse_date(raw, ctx) if raw else None
    if published is not None:
        result.update(published_at=published, published_at_source="text", published_at_raw=raw)
    modified = dates.parse_date(_first(page, selectors.modified), ctx)
    if modified is not None:
        result["modified_at"] = modified
    return result
