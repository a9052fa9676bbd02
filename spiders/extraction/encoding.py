"""Bytes to text the way a browser would, and refusal of responses that are not HTML."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode

from spiders.extraction.api import NotAnArticle

# Content types a page can be served with and still be an HTML document.
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
# Magic numbers of formats that are sometimes served with a text/html header.
_BINARY_MAGIC = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xd0\xcf\x11\xe0", "legacy Office document"),
    (b"RIFF", "RIFF media"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
# More undecodable bytes than this in a page declared UTF-8: the declaration is wrong.
_MAX_REPLACEMENTS = 8
# Encodings worth guessing between for this region when nothing declares one.
_REGION_ENCODINGS = ["utf_8", "cp1251", "koi8_r", "cp1254", "iso8859_5", "cp1252"]


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _guess(data: bytes) -> str | None:
    # Valid UTF-8 is almost never an accident; otherwise let charset_normalizer choose among
    # the region's legacy code pages (cp1251 for old Russian-language CMSs).
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000], cp_isolation=_REGION_ENCODINGS).best()
    return best.encoding if best else None


def _refuse_binary(sample: bytes | str, content_type: str | None) -> None:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _HTML_TYPES and not mime.endswith("+xml"):
        raise NotAnArticle("not_html", f"served as {mime!r}, not an HTML document")
    head = sample[:16].lstrip() if isinstance(sample, bytes) else sample[:16].lstrip().encode()
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise NotAnArticle("not_html", f"the response is a {what} (starts with {magic!r})")
    text = sample[:4096]
    controls = (
        sum(1 for b in text if b < 9 or 13 < b < 32)
        if isinstance(text, bytes)
        else len(_CONTROL.findall(text))
    )
    if text and controls > len(text) * 0.02:
        raise NotAnArticle(
            "not_html",
            f"{controls} control bytes in the first {len(text)} bytes: binary data, not HTML",
        )


def to_text(html: str | bytes, headers: Mapping[str, str] | None = None) -> str:
    """The page as text; bytes are decoded from, in order, the BOM, the Content-Type charset,
    the <meta charset>/http-equiv declaration, then detection (w3lib's browser-like chain).

    Raises NotAnArticle("not_html") for responses that are not HTML (PDF, images, binaries).
    """
    content_type = header(headers, "Content-Type")
    _refuse_binary(html, content_type)
    if isinstance(html, str):
        return html
    encoding, text = html_to_unicode(content_type, html, auto_detect_fun=_guess)
    if html.isascii():
        return text
    # Old CMSs declare one charset and send another; when the bytes contradict the
    # declaration, the bytes win. Non-ASCII text that is valid UTF-8 is UTF-8 (a legacy code
    # page almost never yields valid UTF-8 by accident); a "UTF-8" page that is not is guessed.
    declared = codecs.lookup(encoding).name
    if not declared.startswith(("utf-8", "utf-16", "utf-32")):
        try:
            return html.decode("utf-8")
        except UnicodeDecodeError:
            return text
    if declared == "utf-8" and text.count("\ufffd") > _MAX_REPLACEMENTS:
        guess = _guess(html)
        if guess and codecs.lookup(guess).name != "utf-8":
            return html.decode(guess, errors="replace")
    return text
