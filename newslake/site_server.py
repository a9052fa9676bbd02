"""Serve a folder as a news site on 127.0.0.1: the demo's offline outlet and the tests' fixtures.

A site is a folder of files. Text files may contain `{{BASE}}`, replaced by the served base
URL (`http://127.0.0.1:PORT`), so feeds and sitemaps can give absolute links. A directory
serves its `index.html`; the query string is ignored when looking up files, so
`/post/?utm_source=x` serves the same page as `/post/`.

An optional `_site.yaml` gives routes with special behaviour:

    routes:
      /news/1.html:
        content_type: text/html; charset=windows-1251
      /gone: {status: 404}
      /old: {status: 301, location: /new}
      /busy: {status: 429, headers: {Retry-After: "1"}, times: 1}   # then served normally
      /slow: {delay: 0.5}
      /alias: {file: news/1.html}
      /nolastmod: {conditional: false}

A route key containing `*` is a pattern (fnmatch) tried after the exact keys, in file order:
`/trap/*: {file: ok.html}` serves one file at any path under /trap/.

Hostile behaviours, for the crawler's hostile-input tests (nothing of them is stored on disk):

      /huge.html:                     # a body made on the fly: head, `count` items, tail;
        generate: {head: "<html><body>", item: "<p>word</p>", count: 1000000, tail: "</html>"}
                                      # {n} in an item is its number (1..count), {path} in any
                                      # part the request's path, {{BASE}} the base URL
      /bomb.html: {generate: {item: "0000000000", count: 100000}, gzip: true}
                                      # gzip: the body is sent gzipped (Content-Encoding:
                                      # gzip); a megabyte of zeros becomes a kilobyte.
                                      # `gzip: file`: gzip data without Content-Encoding
                                      # (a .gz download); both work on files too
      /trickle.html: {trickle: 0.1}   # one byte every 0.1 s
      /cut.html: {truncate: 100}      # announce the full Content-Length, send 100 bytes, close
      /nolength.html: {content_length: false}   # no Content-Length: the body ends at close
      /fat-header.html: {pad_header: 70000}     # an X-Padding header of that many bytes
      /random.html: {file: random.bin, content_type: text/html}   # any bytes, any label

Every response carries an ETag and a Last-Modified header and answers conditional requests
with 304, unless the route says `conditional: false` (generated bodies never do). Every
request is recorded in `requests` (method, path with query, headers) for tests to assert on.
"""

from __future__ import annotations

import fnmatch
import hashlib
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
}
# A fixed date keeps Last-Modified stable between runs of the same fixture.
FIXED_LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # arrival, for tests of pacing


class _Server(ThreadingHTTPServer):
    # A crawler opens several connections at once; the default backlog of 5 stalls them.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a response (a size cap, a timeout) is not a server error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


@dataclass
class SiteServer:
    """A fixture site on loopback; use as a context manager or call start()/stop()."""

    root: Path
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _routes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _hits: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _gzipped: dict[str, bytes] = field(default_factory=dict)  # generated bodies, compressed

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the site server is not running")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> SiteServer:
        config = self.root / "_site.yaml"
        if config.exists():
            self._routes = dict(
                (yaml.safe_load(config.read_text("utf-8")) or {}).get("routes") or {}
            )
        handler = type("Handler", (_Handler,), {"site": self})
        self._server = _Server((self.host, self.port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def paths(self) -> list[str]:
        """Paths (with query) requested so far, in order."""
        with self._lock:
            return [r.path for r in self.requests]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._hits.clear()

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            path = urlsplit(request.path).path
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    def route(self, path: str) -> dict[str, Any]:
        """The route of `path`: its exact key, else the first pattern matching it."""
        if path in self._routes:
            return self._routes[path]
        for key, route in self._routes.items():
            if "*" in key and fnmatch.fnmatchcase(path, key):
                return route
        return {}

    def generated(self, spec: dict[str, Any], path: str) -> tuple[Iterator[bytes], int]:
        """A generated body as chunks, and its length, without holding it in memory."""
        base = self.base_url

        def fill(text: str) -> str:
            return text.replace("{{BASE}}", base).replace("{path}", path)

        head = fill(str(spec.get("head", ""))).encode("utf-8")
        tail = fill(str(spec.get("tail", ""))).encode("utf-8")
        item = fill(str(spec.get("item", "")))
        count = int(spec.get("count", 0))
        numbered = "{n}" in item
        if numbered:
            length = (
                len(head)
                + len(tail)
                + sum(len(item.replace("{n}", str(n + 1)).encode("utf-8")) for n in range(count))
            )
        else:
            length = len(head) + len(tail) + len(item.encode("utf-8")) * count

        def chunks() -> Iterator[bytes]:
            yield head
            if numbered:
                batch: list[str] = []
                for n in range(1, count + 1):
                    batch.append(item.replace("{n}", str(n)))
                    if len(batch) == 1000:
                        yield "".join(batch).encode("utf-8")
                        batch = []
                yield "".join(batch).encode("utf-8")
            else:
                encoded = item.encode("utf-8")
                per_block = max(1, 65536 // max(1, len(encoded)))
                left = count
                while left > 0:
                    take = min(per_block, left)
                    yield encoded * take
                    left -= take
            yield tail

        return chunks(), length

    def gzipped(self, key: str, chunks: Iterator[bytes]) -> bytes:
        """The gzip of a generated body, made once per path (small: bombs compress well)."""
        with self._lock:
            cached = self._gzipped.get(key)
        if cached is None:
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            cached = b"".join([*(packer.compress(c) for c in chunks), packer.flush()])
            with self._lock:
                self._gzipped[key] = cached
        return cached

    def resolve(self, path: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        candidate = (self.root / relative).resolve()
        root = self.root.resolve()
        if root != candidate and root not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file() or candidate.name == "_site.yaml":
            return None
        return candidate

    def render(self, file: Path) -> bytes:
        data = file.read_bytes()
        if file.suffix in (".html", ".htm", ".xml", ".rss", ".atom", ".txt", ".json"):
            data = data.replace(b"{{BASE}}", self.base_url.encode("ascii"))
        return data


class _Handler(BaseHTTPRequestHandler):
    site: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests`
        return

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        site = self.site
        hit = site._record(RecordedRequest(self.command, self.path, dict(self.headers.items())))
        path = urlsplit(self.path).path
        route = site.route(path)
        if route.get("delay"):
            time.sleep(float(route["delay"]))
        times = route.get("times")
        special = "status" in route and (times is None or hit <= int(times))
        headers = {str(k): str(v) for k, v in (route.get("headers") or {}).items()}
        if route.get("pad_header"):
            headers["X-Padding"] = "a" * int(route["pad_header"])
        if special and int(route["status"]) >= 300:
            status = int(route["status"])
            if "location" in route:
                location = str(route["location"]).replace("{{BASE}}", site.base_url)
                headers["Location"] = location
            page = f"<html><body><h1>{status} {HTTPStatus(status).phrase}</h1></body></html>"
            self._send(status, page.encode(), "text/html; charset=utf-8", headers, send_body)
            return
        status = int(route["status"]) if special else 200
        if "generate" in route:
            chunks, length = site.generated(dict(route["generate"]), path)
            content_type = route.get("content_type") or "text/html; charset=utf-8"
            if route.get("gzip"):
                body = site.gzipped(path, chunks)
                if route["gzip"] != "file":
                    headers["Content-Encoding"] = "gzip"
                self._send(status, body, content_type, headers, send_body, route)
            else:
                self._send(status, chunks, content_type, headers, send_body, route, length)
            return
        file = site.resolve(route.get("file", path))
        if file is None:
            missing = b"<html><head><title>Not found</title></head><body><h1>404</h1></body></html>"
            self._send(404, missing, "text/html; charset=utf-8", {}, send_body)
            return
        data = site.render(file)
        content_type = route.get("content_type") or CONTENT_TYPES.get(
            file.suffix, "application/octet-stream"
        )
        if route.get("gzip"):
            data = zlib.compress(data, 9, wbits=31) if data else data
            if route["gzip"] != "file":
                headers["Content-Encoding"] = "gzip"
        if route.get("conditional", True):
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            headers.setdefault("ETag", etag)
            headers.setdefault("Last-Modified", FIXED_LAST_MODIFIED)
            if self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers
                and self.headers.get("If-Modified-Since") == FIXED_LAST_MODIFIED
            ):
                self._send(304, b"", None, headers, send_body=False)
                return
        self._send(status, data, content_type, headers, send_body, route)

    def _send(
        self,
        status: int,
        body: bytes | Iterator[bytes],
        content_type: str | None,
        headers: dict[str, str],
        send_body: bool,
        route: dict[str, Any] | None = None,
        length: int | None = None,
    ) -> None:
        route = route or {}
        chunks: Iterator[bytes] = iter([body]) if isinstance(body, bytes) else body
        if isinstance(body, bytes):
            length = len(body)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        if route.get("content_length", True):
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not send_body:
            return
        budget = int(route["truncate"]) if "truncate" in route else None
        trickle = float(route.get("trickle") or 0)
        try:
            for chunk in chunks:
                if budget is not None:
                    chunk = chunk[:budget]
                    budget -= len(chunk)
                if trickle:
                    for index in range(len(chunk)):
                        self.wfile.write(chunk[index : index + 1])
                        self.wfile.flush()
                        time.sleep(trickle)
                elif chunk:
                    self.wfile.write(chunk)
                if budget == 0:
                    break
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a size cap, a timeout)
            return
        if budget is not None:
            self.close_connection = True  # the rest never comes: end the connection
