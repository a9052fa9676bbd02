"""WARC capture: records written one page at a time read back at their raw_ref offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scrapy.http import HtmlResponse, Request
from warcio.archiveiterator import ArchiveIterator

from spiders.capture import WarcCapture, read_record


def page(url: str, body: bytes, **headers: str) -> HtmlResponse:
    request = Request(url, headers={"User-Agent": "newslake-test"})
    return HtmlResponse(
        url,
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8", **headers},
        body=body,
        request=request,
    )


def test_offsets_round_trip(tmp_path: Path) -> None:
    capture = WarcCapture(tmp_path / "raw.warc.gz")
    pages = [
        page(f"http://127.0.0.1:8000/news/{i}/?a=1", f"<p>Статья {i}</p>".encode() * (i * 50 + 1))
        for i in range(4)
    ]
    refs = [capture.write(p, datetime(2024, 5, 12, 10, i, tzinfo=UTC)) for i, p in enumerate(pages)]
    capture.close()

    assert refs[0] == "raw.warc.gz:0"
    assert len(set(refs)) == 4
    for response, ref in zip(pages, refs, strict=True):
        uri, status, body = read_record(tmp_path, ref)
        assert (uri, status, body) == (response.url, 200, response.body)

    with open(tmp_path / "raw.warc.gz", "rb") as handle:
        records = [
            (
                r.rec_type,
                r.rec_headers.get_header("WARC-Target-URI"),
                r.rec_headers.get_header("WARC-Date"),
            )
            for r in ArchiveIterator(handle)
        ]
    assert [r[0] for r in records] == ["response", "request", "metadata"] * 4
    assert records[3] == ("response", "http://127.0.0.1:8000/news/1/?a=1", "2024-05-12T10:01:00Z")
    assert capture.records == 12


def test_decoded_body_is_stored_with_consistent_headers(tmp_path: Path) -> None:
    capture = WarcCapture(tmp_path / "raw.warc.gz")
    response = page("http://127.0.0.1:8000/a/", b"<p>plain</p>", **{"Content-Encoding": "gzip"})
    ref = capture.write(response)
    capture.close()
    with open(tmp_path / "raw.warc.gz", "rb") as handle:
        handle.seek(int(ref.rsplit(":", 1)[1]))
        record = next(iter(ArchiveIterator(handle)))
        assert record.http_headers.get_header("Content-Encoding") is None
        assert record.http_headers.get_header("X-Newslake-Original-Content-Encoding") == "gzip"
        assert record.http_headers.get_header("Content-Length") == str(len(b"<p>plain</p>"))
        assert record.content_stream().read() == b"<p>plain</p>"


def test_no_file_until_the_first_page(tmp_path: Path) -> None:
    capture = WarcCapture(tmp_path / "raw.warc.gz")
    capture.close()
    assert not (tmp_path / "raw.warc.gz").exists()
