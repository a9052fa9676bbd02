"""One schema row from a fetched page: extraction plus the crawl's own fields."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from schemas import InvalidRow, normalize_article
from spiders.catalogue import Source
from spiders.extraction import EXTRACTOR, NotAnArticle, PageHints, extract_article

logger = logging.getLogger(__name__)

# The documents a crawl extracts; any other declared Content-Type is a not_html reject.
HTML_TYPES = ("text/html", "application/xhtml+xml")


def adhoc_source_id(url: str | None) -> str:
    """A stable source id for a page outside the catalogue: its host, as [a-z0-9-]+."""
    host = (urlsplit(url).hostname or "") if url else ""
    slug = re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-")
    return slug or "unknown"


def build_row(
    html: str | bytes,
    url: str | None,
    *,
    source: Source | None,
    run_id: str,
    fetched_at: datetime | None = None,
    headers: Mapping[str, str] | None = None,
    hints: PageHints | None = None,
    http_status: int | None = None,
    raw_ref: str | None = None,
    discovered_url: str | None = None,
) -> dict[str, Any]:
    """Extract and normalize one page; NotAnArticle (with a reject reason) when it cannot land."""
    fetched = fetched_at or datetime.now(UTC)
    fields = extract_article(
        html, url, source=source, headers=headers, hints=hints, fetched_at=fetched
    )
    canonical = fields.pop("canonical_url", None) or url
    if canonical is None:
        digest = hashlib.sha256(html if isinstance(html, bytes) else html.encode()).hexdigest()
        canonical = f"urn:sha256:{digest[:32]}"
    fields.update(
        url=url or canonical,
        canonical_url=canonical,
        source_id=source.id if source else adhoc_source_id(canonical),
        fetched_at=fetched,
        crawl_run_id=run_id,
        raw_ref=raw_ref,
        extractor=EXTRACTOR,
        discovered_via=hints.discovered_via if hints else None,
        http_status=http_status,
        discovered_url=discovered_url,
    )
    try:
        return normalize_article(fields)
    except InvalidRow as exc:
        raise NotAnArticle("invalid", str(exc)) from exc


def fetched_row(
    body: bytes, url: str, *, headers: Mapping[str, str], **fields: Any
) -> dict[str, Any]:
    """build_row for a fetched response, as the crawl and a re-parse both need it.

    A Content-Type that is not HTML raises NotAnArticle("not_html") before extraction, and an
    extractor crash (logged with its traceback) NotAnArticle("extract_error"), so one broken
    page becomes a reject, never a failed crawl.
    """
    content_type = headers.get("Content-Type")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in HTML_TYPES:
        raise NotAnArticle("not_html", f"Content-Type {content_type}")
    try:
        return build_row(body, url, headers=headers, **fields)
    except NotAnArticle:
        raise
    except Exception as exc:
        logger.exception("Extraction failed on %s", url)
        raise NotAnArticle("extract_error", f"{type(exc).__name__}: {exc}") from exc
