"""A fault-injecting HTTP proxy between boto3 (and pyarrow) and the S3 test server.

Real sockets on 127.0.0.1: clients point AWS_ENDPOINT_URL at the proxy, which forwards each
request to the upstream server on a fresh connection and relays the answer, unless a rule
matches the request. A rule picks requests by method, key pattern (a regex searched in the
object key, bucket excluded) and create-only header, fires from the `nth` matching request
for `count` requests (None: for ever) and then does one of:

  status        answer `status` with an S3 error body, without forwarding (503 SlowDown...)
  status+forward  forward (the object IS written), then answer `status` instead: a lie
  hang          read the request (and with `forward`, pass it on), answer nothing for
                `seconds` (past the client's read timeout) or until `release` is set, then
                reset
  reset         reset the connection (RST): `phase` "request" (after half the request body:
                a reset mid-upload), "before" (request read, not forwarded), "after" (forwarded,
                then reset: the write happened, the answer is lost), "body" (half the
                response body sent, then reset)
  trickle       forward, then send the answer `chunk` bytes every `interval` seconds
  cut_body      forward only the first `keep` share of the request body (Content-Length
                adjusted), as a broken middlebox would, and relay the answer

`proxy.log` records (method, key, fault name or None, status sent or None) per request.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "expect"}
_ERRORS = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
    412: ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
}


@dataclass
class Rule:
    fault: str
    method: str | None = None
    key: str | None = None
    create_only: bool | None = None  # match only requests with (True) / without If-None-Match
    nth: int = 1
    count: int | None = 1
    status: int = 503
    forward: bool = False
    phase: str = "before"
    seconds: float = 30.0
    chunk: int = 256
    interval: float = 0.02
    keep: float = 0.5
    release: threading.Event | None = None  # ends a hang early when set
    seen: int = 0
    fired: int = 0
    # Set when it first fires (a hang: once it has forwarded, if it does, and stalls).
    hit: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        faults = ("status", "hang", "reset", "trickle", "cut_body")
        if self.fault not in faults:
            raise ValueError(f"fault {self.fault!r}: expected one of {faults}")
        if self.fault == "reset" and self.phase not in ("request", "before", "after", "body"):
            raise ValueError(f"reset phase {self.phase!r}")

    def matches(self, method: str, key: str, create_only: bool) -> bool:
        if self.method is not None and method != self.method:
            return False
        if self.key is not None and not re.search(self.key, key):
            return False
        return self.create_only is None or self.create_only == create_only

    def fires(self) -> bool:
        """Count a matching request; True if this one gets the fault."""
        self.seen += 1
        if self.seen < self.nth:
            return False
        if self.count is not None and self.seen >= self.nth + self.count:
            return False
        self.fired += 1
        if self.fault != "hang":  # a hang is "hit" once it has forwarded and stalls
            self.hit.set()
        return True


@dataclass
class Upstream:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:port of the S3 server
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, str | None, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        parts = urlsplit(self.upstream)
        self._up_host, self._up_port = parts.hostname or "127.0.0.1", parts.port or 80

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, fault: str, **kwargs: Any) -> Rule:
        rule = Rule(fault, **kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def requests(self, method: str | None = None, key: str | None = None) -> list[str]:
        """Keys of the logged requests, optionally of one method and key pattern."""
        with self._lock:
            return [
                k
                for m, k, _, _ in self.log
                if (method is None or m == method) and (key is None or re.search(key, k))
            ]

    def _pick(self, method: str, key: str, create_only: bool) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, key, create_only) and rule.fires():
                    return rule
        return None

    def _record(self, method: str, key: str, fault: str | None, status: int | None) -> None:
        with self._lock:
            self.log.append((method, key, fault, status))

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # ends hangs
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> Upstream:
        conn = http.client.HTTPConnection(self._up_host, self._up_port, timeout=60)
        try:
            sent = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
            sent = [(k, v) for k, v in sent if k.lower() != "content-length"]
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in sent:
                conn.putheader(k, v)
            if body or method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            return Upstream(resp.status, resp.reason, resp.getheaders(), data)
        finally:
            conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _key(self) -> str:
        # Path-style requests: /<bucket>/<key>?query; the key is what rules match.
        path = unquote(urlsplit(self.path).path)
        parts = path.lstrip("/").split("/", 1)
        return parts[1] if len(parts) == 2 else ""

    def _read_body(self, limit: int | None = None) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length if limit is None else min(limit, length))

    def _reset(self) -> None:
        """Abort the connection with a TCP RST, as a crashed server or middlebox would."""
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        for stream in (self.rfile, self.wfile):
            with contextlib.suppress(OSError):
                stream.close()
        sock.close()
        # The server flushes and closes these after the handler: give it harmless ones.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()

    def _send(self, up: Upstream, *, trickle: Rule | None = None, cut: bool = False) -> None:
        head = [f"HTTP/1.1 {up.status} {up.reason}\r\n"]
        body = b"" if self.command == "HEAD" else up.body
        for k, v in up.headers:
            lower = k.lower()
            if lower in _HOP_BY_HOP or (lower == "content-length" and self.command != "HEAD"):
                continue
            head.append(f"{k}: {v}\r\n")
        if self.command != "HEAD":
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + body
        if cut:
            self.wfile.write(data[: len(data) - max(1, len(body) // 2)])
            self.wfile.flush()
            time.sleep(0.05)
            self._reset()
            return
        if trickle is None:
            self.wfile.write(data)
            return
        for i in range(0, len(data), trickle.chunk):
            self.wfile.write(data[i : i + trickle.chunk])
            self.wfile.flush()
            if self.owner._stop.wait(trickle.interval):
                return

    def _error(self, status: int) -> Upstream:
        code, message = _ERRORS.get(status, ("InternalError", "Injected fault"))
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
        ).encode()
        return Upstream(
            status,
            http.client.responses.get(status, "Error"),
            [
                ("Content-Type", "application/xml"),
                ("x-amz-request-id", "fault-proxy"),
            ],
            body,
        )

    def _handle(self) -> None:
        proxy = self.owner
        method, key = self.command, self._key()
        create_only = self.headers.get("If-None-Match", "").strip() == "*"
        rule = proxy._pick(method, key, create_only)
        headers = list(self.headers.items())
        if rule is not None and rule.fault == "reset" and rule.phase == "request":
            length = int(self.headers.get("Content-Length") or 0)
            self._read_body(limit=length // 2)
            proxy._record(method, key, "reset", None)
            self._reset()
            return
        body = self._read_body()
        fault = rule.fault if rule else None
        if rule is None:
            up = proxy.forward(method, self.path, headers, body)
            proxy._record(method, key, None, up.status)
            self._send(up)
            return
        if rule.fault == "status":
            if rule.forward:
                proxy.forward(method, self.path, headers, body)
            proxy._record(method, key, fault, rule.status)
            self._send(self._error(rule.status))
            return
        if rule.fault == "hang":
            if rule.forward:
                proxy.forward(method, self.path, headers, body)
            proxy._record(method, key, fault, None)
            rule.hit.set()
            deadline = time.monotonic() + rule.seconds
            while time.monotonic() < deadline and not proxy._stop.wait(0.05):
                if rule.release is not None and rule.release.is_set():
                    break
            self._reset()
            return
        if rule.fault == "reset" and rule.phase == "before":
            proxy._record(method, key, fault, None)
            self._reset()
            return
        if rule.fault == "cut_body":
            body = body[: int(len(body) * rule.keep)]
        up = proxy.forward(method, self.path, headers, body)
        proxy._record(method, key, fault, up.status)
        if rule.fault == "reset" and rule.phase == "after":
            self._reset()
        elif rule.fault == "reset":  # phase "body"
            self._send(up, cut=True)
        elif rule.fault == "trickle":
            self._send(up, trickle=rule)
        else:
            self._send(up)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle
