"""Re-parse raw captures: WARC records back into rows, with the current extractor, offline.

The crawl stores every fetched article page as a WARC response record (spiders/capture.py),
followed by a metadata record with the exact fetch time, the URL as discovery listed it and
the feed or sitemap hints. Reading them back gives extraction the same inputs it had during
the crawl, so an unchanged extractor rebuilds the same rows (same content_hash) and only a
changed one produces new versions. Captures written before the metadata record existed are
re-parsed with the WARC-Date as fetch time and without hints.

Output is an ordinary spool folder (schemas.spool) that the lake lands like a crawl's; each
row's raw_ref points at the record it came from, in the lake's own key.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from schemas import REJECT_REASONS, normalize_reject, to_jsonable
from schemas.spool import ARTICLES_FILE, REJECTS_FILE, STATS_FILE
from spiders.canonical import strip_tracking
from spiders.capture import METADATA_TYPE
from spiders.catalogue import Source
from spiders.extraction import NotAnArticle, PageHints
from spiders.pipelines import write_json_atomic
from spiders.rows import fetched_row

log = logging.getLogger(__name__)

# Counters of a re-parse, in the spool's stats.json (then the run manifest's counts).
COUNTERS = ("records", "outside_window", "reextracted", "articles", "rejected")


@dataclass(frozen=True)
class Capture:
    """One captured page: the response record and what its metadata record adds."""

    offset: int  # of the response record in its WARC file
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    captured_at: datetime  # WARC-Date (whole seconds)
    fetched_at: datetime  # exact, from the metadata record when there is one
    discovered_url: str | None = None
    hints: PageHints | None = None


def _date(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _hints(data: Any) -> PageHints | None:
    if not isinstance(data, dict):
        return None
    known = {f.name for f in dataclasses.fields(PageHints)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    return PageHints(**values)


def _with_metadata(capture: Capture, payload: bytes) -> Capture:
    try:
        info = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("unreadable metadata record for %s: ignored", capture.url)
        return capture
    return dataclasses.replace(
        capture,
        fetched_at=_date(info.get("fetched_at")) or capture.fetched_at,
        discovered_url=info.get("discovered_url"),
        hints=_hints(info.get("hints")),
    )


def read_captures(handle: BinaryIO) -> Iterator[Capture]:
    """Every response record of a WARC stream, with its metadata record when present."""
    records = ArchiveIterator(handle)
    pending: Capture | None = None
    pending_id: str | None = None
    for record in records:
        kind = record.rec_type
        if kind == "response":
            if pending is not None:
                yield pending
            http = record.http_headers
            headers = {}
            for name in ("Content-Type", "Content-Language"):
                value = http.get_header(name) if http else None
                if value:
                    headers[name] = value
            captured = _date(record.rec_headers.get_header("WARC-Date")) or datetime.now(UTC)
            # The body first: asking for the offset reads the record to its end.
            body = record.content_stream().read()
            pending = Capture(
                offset=records.get_record_offset(),
                url=record.rec_headers.get_header("WARC-Target-URI"),
                status=int(http.get_statuscode()) if http else 0,
                headers=headers,
                body=body,
                captured_at=captured,
                fetched_at=captured,
            )
            pending_id = record.rec_headers.get_header("WARC-Record-ID")
        elif (
            kind == "metadata"
            and pending is not None
            and record.rec_headers.get_header("WARC-Concurrent-To") == pending_id
            and (record.rec_headers.get_header("Content-Type") or "").startswith(METADATA_TYPE)
        ):
            yield _with_metadata(pending, record.content_stream().read())
            pending, pending_id = None, None
    if pending is not None:
        yield pending


class Reparser:
    """Re-extracts the captures of WARC files into one spool folder for one source.

    The window [since, until] (days in the source's timezone, both optional and inclusive)
    applies to the re-extracted article's publication date; an undated article, and a page
    that is not an article, are placed by their capture date.
    """

    def __init__(
        self,
        source: Source,
        spool: Path,
        *,
        run_id: str,
        since: date | None = None,
        until: date | None = None,
    ) -> None:
        self.source = source
        self.spool = Path(spool)
        self.run_id = run_id
        self.since = since
        self.until = until
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.spool.mkdir(parents=True, exist_ok=True)
        for name in (ARTICLES_FILE, REJECTS_FILE):
            (self.spool / name).touch()

    def _in_window(self, moment: datetime) -> bool:
        day = moment.astimezone(self.source.zone).date()
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def add(self, warc: Path, raw_key: str) -> None:
        """Re-parse every capture of `warc`; rows get raw_ref "<raw_key>:<record offset>"."""
        with (
            open(warc, "rb") as handle,
            open(self.spool / ARTICLES_FILE, "a", encoding="utf-8") as articles,
            open(self.spool / REJECTS_FILE, "a", encoding="utf-8") as rejects,
        ):
            for capture in read_captures(handle):
                self.counts["records"] += 1
                row, reject = self._extract(capture, f"{raw_key}:{capture.offset}")
                placed = row.get("published_at") if row else None
                if not self._in_window(placed or capture.fetched_at):
                    self.counts["outside_window"] += 1
                    continue
                self.counts["reextracted"] += 1
                if row is not None:
                    self.counts["articles"] += 1
                    articles.write(json.dumps(to_jsonable(row), ensure_ascii=False) + "\n")
                elif reject is not None:
                    self.counts["rejected"] += 1
                    rejects.write(json.dumps(to_jsonable(reject), ensure_ascii=False) + "\n")

    def _extract(
        self, capture: Capture, raw_ref: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The row, or the reject, the spider would build from this response today."""
        url = capture.discovered_url or capture.url
        headers = dict(capture.headers)
        headers.setdefault("Content-Type", "text/html")
        try:
            row = fetched_row(
                capture.body,
                strip_tracking(capture.url),
                source=self.source,
                run_id=self.run_id,
                fetched_at=capture.fetched_at,
                headers=headers,
                hints=capture.hints,
                http_status=capture.status,
                raw_ref=raw_ref,
                discovered_url=capture.discovered_url,
            )
        except NotAnArticle as exc:
            return None, self._reject(capture, url, exc.reason, exc.detail)
        return row, None

    def _reject(self, capture: Capture, url: str, reason: str, detail: str) -> dict[str, Any]:
        if reason not in REJECT_REASONS:
            detail, reason = f"unknown reject reason {reason!r}: {detail}", "extract_error"
        return normalize_reject(
            {
                "url": url,
                "source_id": self.source.id,
                "reason": reason,
                "detail": f"re-parse of the capture of {capture.captured_at:%Y-%m-%d}: {detail}",
                "http_status": capture.status,
                "rejected_at": datetime.now(UTC),
                "crawl_run_id": self.run_id,
                "discovered_via": capture.hints.discovered_via if capture.hints else None,
            }
        )

    def finish(self) -> dict[str, Any]:
        """Write the spool's stats.json and return it. Nothing was fetched or discovered."""
        stats: dict[str, Any] = {
            "discovered": 0,
            "fetched": 0,
            **self.counts,
            "finished_reason": "finished",
        }
        write_json_atomic(self.spool / STATS_FILE, stats)
        return stats
