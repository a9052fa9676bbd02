"""Raw capture: every fetched article page as WARC records, written before extraction.

One gzip-per-record WARC file per crawl (`<spool>/raw.warc.gz`). Each page is a `response`
record followed by the `request` record that fetched it; a row's `raw_ref` is
"raw.warc.gz:<offset of the response record>", so a reader can seek there and read one record.

The body stored is the one the spider parsed: Scrapy has already removed any
Content-Encoding, so that header is dropped (kept as X-Newslake-Original-Content-Encoding)
and Content-Length is set to the stored length, keeping the record readable by any WARC tool.

A `metadata` record (application/json, WARC-Concurrent-To the response) follows with what the
page's extraction used besides the response: the exact fetch time, the URL as discovery listed
it and the feed or sitemap hints. Re-parsing (spiders/reparse.py) reads it back, so the same
extractor on the same capture gives the same row.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from scrapy.http import Response
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
# Where the spider keeps a candidate's hints and listed URL in request meta (the same keys as
# spiders.news_spider.HINTS and CANDIDATE, which import this module; a test ties them).
META_HINTS = "newslake_hints"
META_CANDIDATE = "newslake_candidate"
METADATA_TYPE = "application/json"


def capture_metadata(response: Response, fetched_at: datetime) -> dict[str, object]:
    """What extraction used besides the response itself, as stored in the metadata record."""
    meta = response.meta if response.request is not None else {}
    hints = meta.get(META_HINTS)
    return {
        "fetched_at": fetched_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "discovered_url": meta.get(META_CANDIDATE),
        # Shallow: the hints hold only strings and tuples of strings; asdict()'s recursive
        # deep copy cost 1.5 ms a page in the crawl process (under cProfile).
        "hints": (
            {field.name: getattr(hints, field.name) for field in dataclasses.fields(hints)}
            if dataclasses.is_dataclass(hints) and not isinstance(hints, type)
            else None
        ),
    }


def _header_pairs(headers: object) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, values in headers.items():  # type: ignore[attr-defined]
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for value in values:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            pairs.append((name, text))
    return pairs


def _warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WarcCapture:
    """Appends request/response record pairs to one WARC file; opened on first write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records = 0
        self.bytes_written = 0
        self._file: BinaryIO | None = None
        self._lock = threading.Lock()

    def write(self, response: Response, fetched_at: datetime | None = None) -> str:
        """Store `response` (and its request); returns the raw_ref of the response record."""
        moment = fetched_at or datetime.now(UTC)
        request = response.request
        buffer = BytesIO()
        writer = WARCWriter(buffer, gzip=True)

        headers = []
        original_encoding = None
        for name, value in _header_pairs(response.headers):
            if name.lower() == "content-encoding":
                original_encoding = value
            if name.lower() not in _DROPPED_HEADERS:
                headers.append((name, value))
        if original_encoding:
            headers.append(("X-Newslake-Original-Content-Encoding", original_encoding))
        headers.append(("Content-Length", str(len(response.body))))
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        protocol = response.protocol or "HTTP/1.1"
        http_headers = StatusAndHeaders(f"{response.status} {phrase}", headers, protocol=protocol)
        warc_headers = {"WARC-Date": _warc_date(moment)}
        if response.ip_address is not None:
            warc_headers["WARC-IP-Address"] = str(response.ip_address)
        record = writer.create_warc_record(
            response.url,
            "response",
            payload=BytesIO(response.body),
            length=len(response.body),
            http_headers=http_headers,
            warc_headers_dict=warc_headers,
        )
        writer.write_record(record)

        if request is not None:
            parts = urlsplit(request.url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            request_headers = _header_pairs(request.headers)
            if not any(name.lower() == "host" for name, _ in request_headers):
                request_headers.insert(0, ("Host", parts.netloc))
            request_record = writer.create_warc_record(
                request.url,
                "request",
                payload=BytesIO(request.body or b""),
                length=len(request.body or b""),
                http_headers=StatusAndHeaders(
                    f"{request.method} {target} HTTP/1.1", request_headers, is_http_request=True
                ),
                warc_headers_dict={
                    "WARC-Date": _warc_date(moment),
                    "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID"),
                },
            )
            writer.write_record(request_record)

        info = json.dumps(capture_metadata(response, moment), ensure_ascii=False).encode("utf-8")
        metadata_record = writer.create_warc_record(
            response.url,
            "metadata",
            payload=BytesIO(info),
            length=len(info),
            warc_content_type=METADATA_TYPE,
            warc_headers_dict={
                "WARC-Date": _warc_date(moment),
                "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(metadata_record)

        data = buffer.getvalue()
        # One write per page under a lock, so records never interleave and offsets stay exact.
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the crawl
            offset = self._file.tell()
            self._file.write(data)
            self._file.flush()
            self.records += 3 if request is not None else 2
            self.bytes_written += len(data)
        return f"{self.path.name}:{offset}"

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_record(spool: Path, raw_ref: str) -> tuple[str, int, bytes]:
    """(target URI, HTTP status, body) of the response record `raw_ref` points to."""
    name, _, offset = raw_ref.rpartition(":")
    with open(Path(spool) / name, "rb") as handle:
        handle.seek(int(offset))
        for record in ArchiveIterator(handle):
            if record.rec_type != "response":
                raise ValueError(f"{raw_ref}: a {record.rec_type!r} record, not a response")
            uri = record.rec_headers.get_header("WARC-Target-URI")
            status = int(record.http_headers.get_statuscode()) if record.http_headers else 0
            return uri, status, record.content_stream().read()
    raise ValueError(f"{raw_ref}: no WARC record at that offset")
