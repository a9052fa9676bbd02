"""One parsed page shared by every extraction step.

The HTML is parsed once (with trafilatura's own parser settings, so its extractor can reuse
the tree); JSON-LD, meta tags, links and the article container are computed on first use
and kept.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from extruct.jsonld import JsonLdExtractor
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura import load_html
from trafilatura.xpaths import BODY_XPATH

from spiders.extraction.api import NotAnArticle
from spiders.extraction.vocab import (
    CLASS_WORDS,
    PRUNE_CLASS_WORDS_ANYWHERE,
    PRUNE_CLASS_WORDS_LEADING,
)

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "SatiricalArticle",
        "LiveBlogPosting",
        "Report",
        "TechArticle",
        "ScholarlyArticle",
        "SocialMediaPosting",
    }
)
LISTING_TYPES = frozenset({"CollectionPage", "SearchResultsPage", "ProfilePage", "ItemList"})
_JSONLD = JsonLdExtractor()

_SPACE = re.compile(r"\s+")
_NO_TEXT_TAGS = frozenset({"script", "style", "noscript", "template"})
# Regions of a page that never hold the article's own date, byline or images.
_CHROME_TAGS = frozenset({"nav", "footer", "aside", "form", "menu", "noscript", "template"})
# Words that start a class or id token of such a region ("jp-relatedposts", "sharedaddy",
# "comments-area", "adsbygoogle"); "commentary" is an article.
_CHROME_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:comment(?!ary)|respond|related|sidebar|footer|menu|nav(?!y)|breadcrumb|"
    r"share|sharing|social|newsletter|subscribe|promo|advert|ads|banner|popular|most-read|"
    r"recommended|teaser|more-news|latest|author-box|author-bio|tags|tag-list|cookie|aside|"
    r"newsfeed|news-feed|lenta)",
    re.IGNORECASE,
)
# A prune word as a class word (see vocab.PRUNE_CLASS_WORDS_*).
_PRUNE_TOKEN = re.compile(
    r"(?:^|\s|[-_])(?:"
    + "|".join(PRUNE_CLASS_WORDS_ANYWHERE).replace("comment", "comment(?!ary)")
    + r")|(?:^|\s|\b[a-z]{1,3}[-_])(?:"
    + "|".join(PRUNE_CLASS_WORDS_LEADING)
    + r")",
    re.IGNORECASE,
)
_CLASSED = XPath(".//*[@class or @id]")


def _every_match(expression: XPath) -> XPath:
    """`expression` without a final "[1]" (first match among siblings only): the first
    element it finds is the same, and an article split in sibling blocks is found whole."""
    path = expression.path.rstrip()
    if path.endswith("[1]") and not path.endswith(")[1]"):
        return XPath(path[: -len("[1]")], namespaces={"re": "http://exslt.org/regular-expressions"})
    return expression


# trafilatura's content expressions (tried in order, the first that finds something wins),
# each giving every element it finds.
CONTENT_XPATH = [_every_match(expression) for expression in BODY_XPATH]
# A block holding this many long paragraphs is content whatever its class says.
_LONG_PARAGRAPHS = 3


def _holds_content(element: HtmlElement) -> bool:
    paragraphs = element.findall(".//p")
    if len(paragraphs) < _LONG_PARAGRAPHS:
        return False
    return sum(1 for p in paragraphs if len(text_of(p)) > 150) >= _LONG_PARAGRAPHS


def collapse(text: str | None) -> str:
    """Whitespace runs (including non-breaking spaces) as one space, trimmed."""
    return _SPACE.sub(" ", text or "").strip()


def iter_text(element: HtmlElement) -> Iterator[str]:
    """Text pieces of an element in order, without script and style contents."""
    tag = element.tag
    if not isinstance(tag, str) or tag in _NO_TEXT_TAGS:
        return
    if element.text:
        yield element.text
    for child in element:
        yield from iter_text(child)
        if child.tail:
            yield child.tail


def has_text(element: HtmlElement) -> bool:
    return any(piece.strip() for piece in iter_text(element))


def text_of(element: HtmlElement) -> str:
    """Visible text of an element, pieces joined by spaces (so <span>a</span><span>b</span>
    gives "a b"), whitespace collapsed."""
    return collapse(" ".join(iter_text(element)))


def short_text(element: HtmlElement, limit: int) -> str:
    """text_of(element) when it is at most `limit` characters, else "" (without reading a
    large container's whole text)."""
    pieces: list[str] = []
    size = 0
    for piece in iter_text(element):
        size += len(piece.strip()) + 1
        if size > limit * 2 + 40:
            return ""
        pieces.append(piece)
    text = collapse(" ".join(pieces))
    return text if len(text) <= limit else ""


def type_names(node: Mapping[str, Any]) -> set[str]:
    """schema.org type names of a JSON-LD node ("schema:NewsArticle" -> "NewsArticle")."""
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", v)[-1] for v in values if isinstance(v, str) and v}


def ld_text(value: Any) -> str | None:
    """A JSON-LD string value as plain text (CMSs often leave entities escaped in it)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    return collapse(htmllib.unescape(value)) or None


def in_chrome(element: HtmlElement, keep: frozenset[HtmlElement] = frozenset()) -> bool:
    """True inside navigation, footers, sidebars, comments, related and share blocks.

    Ancestors in `keep` (those of the article itself) are not judged: a body or a layout
    wrapper with class "has-sidebar" still holds the article.
    """
    node: HtmlElement | None = element
    while node is not None and node.tag not in ("body", "html"):
        if node not in keep:
            tag = node.tag if isinstance(node.tag, str) else ""
            if tag in _CHROME_TAGS:
                return True
            marks = f"{node.get('class') or ''} {node.get('id') or ''}"
            if marks.strip() and _CHROME_TOKEN.search(marks):
                return True
        node = node.getparent()
    return False


# A table holding these is page layout (old CMS templates), not data.
_LAYOUT_TABLE = XPath("boolean(.//table | .//h1 | .//h2 | .//form | .//td[count(.//p) >= 2])")
_TABLE_PARTS = XPath(
    "./thead | ./tbody | ./tfoot | ./tr | ./*/tr | ./tr/td | ./tr/th | ./*/tr/td | ./*/tr/th"
)


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn layout tables into divs, as reader modes do.

    trafilatura reads every <table> as data and renders a page laid out in a table (common in
    old Russian-language CMSs) as one big table of navigation, sidebars and text together.
    """
    for table in list(tree.iter("table")):
        if table.tag == "table" and _LAYOUT_TABLE(table):
            for part in _TABLE_PARTS(table):
                part.tag = "div"
            table.tag = "div"


class Page:
    """A parsed HTML page and what every extraction step reads from it."""

    def __init__(self, text: str, url: str | None, headers: Mapping[str, str] | None) -> None:
        tree = load_html(text)
        if tree is None or (tree.find(".//body") is None and len(tree) < 2):
            raise NotAnArticle("not_html", "the document does not parse as HTML")
        _unwrap_layout_tables(tree)
        self.tree: HtmlElement = tree
        self.url = url
        self.headers = headers or {}

    # --- URLs ---------------------------------------------------------------------------

    @cached_property
    def base(self) -> str | None:
        base = self.tree.find(".//base[@href]")
        href = base.get("href") if base is not None else None
        if href and self.url:
            return urljoin(self.url, href.strip())
        return href.strip() if href else self.url

    def absolute(self, href: str | None) -> str | None:
        """`href` resolved against the page (None for empty, script, data and mail links)."""
        if not href:
            return None
        href = href.strip()
        if not href or href.startswith(("javascript:", "data:", "mailto:", "tel:", "#")):
            return None
        resolved = urljoin(self.base, href) if self.base else href
        parts = urlsplit(resolved)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return resolved

    @cached_property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "") if self.url else ""

    # --- head ---------------------------------------------------------------------------

    @cached_property
    def meta(self) -> dict[str, list[str]]:
        """<meta> contents by lowercased property / name / itemprop / http-equiv, page order."""
        found: dict[str, list[str]] = {}
        for element in self.tree.iter("meta"):
            content = element.get("content")
            if content is None or not content.strip():
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = element.get(attr)
                if key:
                    found.setdefault(key.strip().lower(), []).append(content.strip())
        return found

    def meta_first(self, *keys: str) -> str | None:
        for key in keys:
            values = self.meta.get(key)
            if values:
                return values[0]
        return None

    @cached_property
    def link_elements(self) -> list[tuple[frozenset[str], HtmlElement]]:
        """<link> elements with their rel tokens, page order."""
        out = []
        for element in self.tree.iter("link"):
            rel = frozenset((element.get("rel") or "").lower().split())
            if rel:
                out.append((rel, element))
        return out

    @cached_property
    def title_tag(self) -> str | None:
        element = self.tree.find(".//title")
        return collapse(element.text_content()) or None if element is not None else None

    @cached_property
    def h1(self) -> HtmlElement | None:
        """The article's <h1>: the first one outside page chrome (logos are often an h1)."""
        first = None
        for element in self.tree.iter("h1"):
            if not text_of(element):
                continue
            if first is None:
                first = element
            if not in_chrome(element):
                return element
        return first

    # --- JSON-LD ------------------------------------------------------------------------

    @cached_property
    def jsonld_nodes(self) -> list[dict[str, Any]]:
        """Every JSON-LD object with a type or an id, depth-first in page order.

        Top-level lists and @graph are flattened; nested typed objects (a WebPage's
        mainEntity, an article's image) are listed after their parent. A script that does not
        parse is skipped, not fatal.
        """
        nodes: list[dict[str, Any]] = []

        def walk(value: Any, depth: int) -> None:
            if depth > 8:
                return
            if isinstance(value, list):
                for item in value:
                    walk(item, depth + 1)
            elif isinstance(value, dict):
                if "@type" in value or "@id" in value:
                    nodes.append(value)
                for key, item in value.items():
                    if isinstance(item, dict | list) and key != "@context":
                        walk(item, depth + 1)

        for script in self.tree.iterfind(".//script[@type]"):
            if (script.get("type") or "").strip().lower() != "application/ld+json":
                continue
            try:
                items = _JSONLD.extract_items(script)
            except Exception:  # malformed JSON-LD is common and must not be fatal
                continue
            walk(items, 0)
        return nodes

    @cached_property
    def jsonld_by_id(self) -> dict[str, dict[str, Any]]:
        """Nodes by @id, merged, so references like {"@id": "#author"} can be followed."""
        index: dict[str, dict[str, Any]] = {}
        for node in self.jsonld_nodes:
            key = node.get("@id")
            if isinstance(key, str):
                index.setdefault(key, {}).update({k: v for k, v in node.items() if v})
        return index

    def resolve(self, value: Any) -> Any:
        """Follow a JSON-LD reference ({"@id": ...} without other data) to its node."""
        if isinstance(value, dict) and isinstance(value.get("@id"), str):
            target = self.jsonld_by_id.get(value["@id"])
            if target is not None and len(value) <= 2:
                return {**target, **value}
        return value

    @cached_property
    def jsonld_types(self) -> set[str]:
        types: set[str] = set()
        for node in self.jsonld_nodes:
            types |= type_names(node)
        return types

    @cached_property
    def article_node(self) -> dict[str, Any] | None:
        """The first JSON-LD node typed as an article (NewsArticle, BlogPosting, ...)."""
        for node in self.jsonld_nodes:
            if type_names(node) & ARTICLE_TYPES:
                return node
        return None

    def jsonld_values(self, key: str) -> Iterator[Any]:
        """`key` of the article node first, then of the other nodes, in page order."""
        article = self.article_node
        if article is not None and article.get(key):
            yield article[key]
        for node in self.jsonld_nodes:
            if node is not article and node.get(key) and not type_names(node) & LISTING_TYPES:
                yield node[key]

    @cached_property
    def publisher_names(self) -> set[str]:
        """Names the page gives its publisher (JSON-LD publisher, Organization, og:site_name)."""
        names: set[str] = set()
        for node in self.jsonld_nodes:
            publisher = self.resolve(node.get("publisher"))
            for candidate in publisher if isinstance(publisher, list) else [publisher]:
                if isinstance(candidate, dict):
                    name = ld_text(self.resolve(candidate).get("name"))
                    if name:
                        names.add(name.casefold())
            if type_names(node) & {"Organization", "NewsMediaOrganization", "WebSite"}:
                name = ld_text(node.get("name"))
                if name:
                    names.add(name.casefold())
        site = self.meta_first("og:site_name")
        if site:
            names.add(collapse(site).casefold())
        return names

    # --- body ---------------------------------------------------------------------------

    @cached_property
    def classed(self) -> list[tuple[HtmlElement, str]]:
        """Elements of the body whose class or id holds a word some step looks for
        (vocab.CLASS_WORDS), with "class id" as one string, in page order.

        One XPath pass and one regex per element; the steps then test their own words on
        this short list, which is far faster than XPath contains() tests or a pass each.
        """
        found = []
        for element in _CLASSED(self.body_element):
            marks = f"{element.get('class') or ''} {element.get('id') or ''}"
            if CLASS_WORDS.search(marks.lower()):
                found.append((element, marks))
        return found

    @cached_property
    def article_path(self) -> frozenset[HtmlElement]:
        """The <h1> and the article container with their ancestors: the article's own path."""
        path: set[HtmlElement] = set()
        for element in (self.h1, self.container):
            if element is not None:
                path.add(element)
                path.update(element.iterancestors())
        return frozenset(path)

    def in_chrome(self, element: HtmlElement) -> bool:
        """in_chrome() that never judges the article's own ancestors."""
        return in_chrome(element, self.article_path)

    @cached_property
    def chrome_elements(self) -> list[HtmlElement]:
        """Blocks whose class or id names page chrome (related, share, comments, sidebars...),
        outside the article's own path and without long paragraphs of their own."""
        found: list[HtmlElement] = []
        for element, marks in self.classed:
            if (
                _PRUNE_TOKEN.search(marks)
                and element not in self.article_path
                and element.tag not in ("body", "html")
                and not _holds_content(element)
            ):
                found.append(element)
        return found

    @cached_property
    def body_element(self) -> HtmlElement:
        body = self.tree.find(".//body")
        return body if body is not None else self.tree

    def content_matches(self, index: int) -> list[HtmlElement]:
        """Every element CONTENT_XPATH[index] finds, document order (evaluated once)."""
        found = self._content_matches.get(index)
        if found is None:
            found = [e for e in CONTENT_XPATH[index](self.tree) if isinstance(e, HtmlElement)]
            self._content_matches[index] = found
        return found

    @cached_property
    def _content_matches(self) -> dict[int, list[HtmlElement]]:
        return {}

    @cached_property
    def container(self) -> HtmlElement | None:
        """The article's content element, found the way trafilatura looks for it."""
        for index in range(len(CONTENT_XPATH)):
            for element in self.content_matches(index):
                if has_text(element):
                    return element
        return None
