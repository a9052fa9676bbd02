"""The article's images: the lead image, then the figures of the body, with caption and credit."""

from __future__ import annotations

import re
from typing import Any

from lxml.html import HtmlElement

from spiders.extraction.page import Page, collapse, ld_text, text_of
from spiders.extraction.vocab import CREDIT_LABEL

# Images that illustrate the page, not the article.
_NOT_A_PHOTO = re.compile(
    r"(?:^|[/_.\-])(?:logo|logos|icon|icons|favicon|avatar|avatars|gravatar|sprite|pixel|spacer|"
    r"blank|emoji|emojis|badge|button|share|social|facebook|twitter|whatsapp|telegram|vk|"
    r"placeholder|loader|loading|transparent)(?:$|[/_.\-\d])",
    re.IGNORECASE,
)
_LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-url")
_SMALL = 64
CAPTION_CLASS = re.compile(
    r"caption|legend|(?:photo|image|img|pic|picture|foto)[-_]*(?:desc|text|title|sign|podpis)",
    re.IGNORECASE,
)
_CREDIT_CLASS = re.compile(r"credit|copyright|photographer|source", re.IGNORECASE)
_TRAILING_CREDIT = re.compile(
    rf"(?:^|(?<=[\s.,;!?)]))[\s(\[]*{CREDIT_LABEL}(?:\s+by)?\s*[:՝։\-—–]?\s+(?P<credit>[^:]{{2,120}}?)"
    r"[\s)\]]*$",
    re.IGNORECASE,
)
_LABEL_ONLY = re.compile(rf"^{CREDIT_LABEL}(?:\s+by)?\s*[:՝։\-—–]?\s*", re.IGNORECASE)
_EDGE_PUNCT = " \t/|—–-,;:"


def _dimension(value: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", value or "")
    return int(match.group(1)) if match else None


def _src(img: HtmlElement) -> str | None:
    src = (img.get("src") or "").strip()
    if not src or src.startswith("data:") or re.search(r"lazy|blank|placeholder", src, re.I):
        for attr in _LAZY_ATTRS:
            if img.get(attr):
                return img.get(attr)
        srcset = img.get("data-srcset") or img.get("srcset")
        if srcset:
            return srcset.split(",")[0].strip().split(" ")[0]
    return src or None


def _is_photo(url: str, img: HtmlElement | None) -> bool:
    path = url.split("?")[0]
    if _NOT_A_PHOTO.search(path) or path.lower().endswith((".svg", ".ico")):
        return False
    if img is not None:
        width, height = _dimension(img.get("width")), _dimension(img.get("height"))
        if (width is not None and width <= _SMALL) or (height is not None and height <= _SMALL):
            return False
    return True


def split_credit(text: str) -> tuple[str | None, str | None]:
    """("Caption. Photo: X") -> ("Caption.", "X")."""
    text = collapse(text)
    match = _TRAILING_CREDIT.search(text)
    if not match:
        return text or None, None
    caption = text[: match.start()].strip(_EDGE_PUNCT)
    return caption or None, match.group("credit").strip(_EDGE_PUNCT + ".") or None


def _clean_credit(text: str) -> str | None:
    return _LABEL_ONLY.sub("", collapse(text)).strip(_EDGE_PUNCT) or None


def caption_and_credit(caption: HtmlElement) -> tuple[str | None, str | None]:
    """Caption text without its credit, and the credit (`.credit`, `.copyright`, <small>, or a
    trailing "Photo: X")."""
    credits = [
        element
        for element in caption.iter()
        if element is not caption
        and (element.tag == "small" or _CREDIT_CLASS.search(element.get("class") or ""))
    ]
    if not credits:
        return split_credit(text_of(caption))
    credit = _clean_credit(" ".join(text_of(element) for element in credits))
    skipped = set(credits)
    pieces: list[str] = []

    def walk(element: HtmlElement) -> None:
        if element in skipped:
            return
        if element.text:
            pieces.append(element.text)
        for child in element:
            if child not in skipped:
                walk(child)
            if child.tail:
                pieces.append(child.tail)

    walk(caption)
    text = collapse(" ".join(pieces)).strip(_EDGE_PUNCT)
    if not text:
        return None, credit
    rest, trailing = split_credit(text)
    return rest, credit or trailing


def _caption_element(img: HtmlElement) -> HtmlElement | None:
    figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
    if figure is not None:
        found = figure.find(".//figcaption")
        if found is not None:
            return found
    # Older markup: <div class="wp-caption"><img><p class="wp-caption-text">...</p></div>.
    holder = img.getparent()
    for _level in range(3):
        if holder is None:
            break
        if holder.tag == "a":
            holder = holder.getparent()
            continue
        # A block holding other images holds their captions too: climbing further would
        # give a caption-less thumbnail the caption of the next photo.
        if any(other is not img for other in holder.iter("img")):
            break
        for element in holder.iter():
            if element is img or element.tag in ("img", "a", "picture", "source"):
                continue
            if (
                CAPTION_CLASS.search(element.get("class") or "")
                and text_of(element)
                and img not in set(element.iter())
            ):
                return element
        holder = holder.getparent()
    return None


def _image(url: str, caption: str | None, credit: str | None) -> dict[str, str | None]:
    return {"url": url, "caption": caption, "credit": credit}


def _lead(page: Page) -> dict[str, str | None] | None:
    for value in page.jsonld_values("image"):
        value = page.resolve(value)
        first: Any = value[0] if isinstance(value, list) and value else value
        first = page.resolve(first)
        url: str | None = None
        caption: str | None = None
        if isinstance(first, str):
            url = first
        elif isinstance(first, dict):
            raw = first.get("url") or first.get("contentUrl")
            url = raw if isinstance(raw, str) else ld_text(raw)
            caption = ld_text(first.get("caption"))
        absolute = page.absolute(url)
        if absolute and _is_photo(absolute, None):
            text, credit = split_credit(caption) if caption else (None, None)
            return _image(absolute, text, credit)
    for key in ("og:image", "og:image:url", "og:image:secure_url"):
        absolute = page.absolute(page.meta_first(key))
        if absolute and _is_photo(absolute, None):
            return _image(absolute, None, None)
    return None


def _shown(page: Page, url: str) -> dict[str, str | None] | None:
    """The lead image where the page shows it outside the body (a cover figure above the
    text), with that figure's caption and credit."""
    for img in page.body_element.iter("img"):
        if page.absolute(_src(img)) == url and not page.in_chrome(img):
            holder = _caption_element(img)
            if holder is not None:
                caption, credit = caption_and_credit(holder)
                return _image(url, caption, credit)
    return None


def _body_images(page: Page) -> tuple[list[dict[str, str | None]], list[str]]:
    """Images inside the article container, and the full texts of their captions."""
    container = page.container
    if container is None:
        return [], []
    found: list[dict[str, str | None]] = []
    texts: list[str] = []
    for img in container.iter("img"):
        absolute = page.absolute(_src(img))
        if not absolute or not _is_photo(absolute, img) or page.in_chrome(img):
            continue
        holder = _caption_element(img)
        caption, credit = caption_and_credit(holder) if holder is not None else (None, None)
        if holder is not None:
            texts.append(text_of(holder))
        found.append(_image(absolute, caption, credit))
    return found, texts


def article_images(page: Page) -> tuple[list[dict[str, str | None]], list[str]]:
    """Lead image first, then the body's images in order, de-duplicated by URL; and every
    caption and credit text seen (to keep them out of the body)."""
    body, texts = _body_images(page)
    lead = _lead(page)
    out: list[dict[str, str | None]] = []
    seen: set[str] = set()
    if lead is not None:
        # The lead image shown in the body: its figure's caption is the page's own.
        twin = next((image for image in body if image["url"] == lead["url"]), None)
        if twin is None and lead["caption"] is None:
            twin = _shown(page, str(lead["url"]))
        if twin is not None and (twin["caption"] or twin["credit"]):
            lead = twin
        out.append(lead)
        seen.add(str(lead["url"]))
    for image in body:
        if image["url"] not in seen:
            seen.add(str(image["url"]))
            out.append(image)
    for image in out:
        texts.extend(value for value in (image["caption"], image["credit"]) if value)
    return out, texts
