"""Extraction in worker processes, so one crawl uses every core.

A crawl is one Scrapy process whose reactor runs on one core; extraction (parsing, trafilatura,
dates, language) is most of its CPU. With NEWSLAKE_EXTRACT_WORKERS > 1 the spider hands each
fetched page (bytes, URL, headers, hints: plain picklable values) to a pool of that many
worker processes and awaits the outcome, a row or a reject, while the reactor goes on
downloading. 0 or 1 extracts in the crawl process itself, as before. Both run the same
function, extract_page, so a page gives the same row either way.

The workers are forked from the crawl process once, when the spider opens (before any
connection exists): they inherit the imported extractor and the source, and start at once.
Each runs one page at a time over its own pipe, so when one dies (a crash in a C library, the
kernel's OOM killer) or overruns NEWSLAKE_EXTRACT_TIMEOUT (then it is killed), exactly that
page becomes an `extract_error` reject, a new worker takes its place and the crawl goes on.
Workers die with the crawl process (PR_SET_PDEATHSIG on Linux), even when it is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from spiders.catalogue import Source
from spiders.extraction.api import NotAnArticle, PageHints
from spiders.rows import fetched_row

logger = logging.getLogger(__name__)

# ("row", row, None) or ("reject", reason, detail)
Outcome = tuple[str, Any, Any]

_PR_SET_PDEATHSIG = 1
STOP_GRACE = 5.0  # seconds a worker has to exit when the pool closes


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class PageJob:
    """One fetched page and what its row needs besides the source and run id."""

    body: bytes
    url: str
    headers: dict[str, str]
    hints: PageHints | None
    fetched_at: datetime
    http_status: int
    raw_ref: str | None
    discovered_url: str


def extract_page(source: Source, run_id: str, job: PageJob) -> Outcome:
    """The row of `job`'s page, or why it is a reject (fetched_row turns crashes into one)."""
    try:
        row = fetched_row(
            job.body,
            job.url,
            source=source,
            run_id=run_id,
            fetched_at=job.fetched_at,
            headers=job.headers,
            hints=job.hints,
            http_status=job.http_status,
            raw_ref=job.raw_ref,
            discovered_url=job.discovered_url,
        )
    except NotAnArticle as exc:
        return ("reject", exc.reason, exc.detail)
    return ("row", row, None)


_WARMUP_TEXT = (
    "The regional council met on Sunday to discuss the new water plan for the valley, and "
    "residents of the three villages asked for a public hearing before the vote. "
)


def _warmup_job(source: Source) -> PageJob:
    """A small article page on the source's home host, for extraction to load its models."""
    url = f"{str(source.homepage).rstrip('/')}/newslake-warm-up/"
    paragraphs = "".join(f"<p>{_WARMUP_TEXT * 2}</p>" for _ in range(4))
    body = (
        "<!DOCTYPE html><html><head><title>Water plan</title>"
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-05-12T08:30:00+04:00">'
        f"</head><body><article><h1>Water plan</h1>{paragraphs}</article></body></html>"
    ).encode()
    return PageJob(
        body=body,
        url=url,
        headers={"Content-Type": "text/html; charset=utf-8"},
        hints=None,
        fetched_at=datetime.now(UTC),
        http_status=200,
        raw_ref=None,
        discovered_url=url,
    )


class _WorkerLost(Exception):
    """The worker died or was stopped while extracting a page."""


def _die_with_parent(parent_pid: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe's EOF still ends the worker
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


def _worker_main(conn: Connection, source: Source, run_id: str, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    # Forked from the reactor's process: its signal handlers and the asyncio wake-up fd are
    # not ours. The crawl process decides when workers stop.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        outcome = extract_page(source, run_id, job)
        try:
            conn.send(outcome)
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception as exc:  # e.g. a row that does not pickle
            conn.send(("reject", "extract_error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, context: Any, source: Source, run_id: str) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main,
            args=(child, source, run_id, os.getpid()),
            name="newslake-extract",
            daemon=True,
        )
        self.process.start()
        child.close()  # ours is closed: the worker's death reads as EOF

    def run(self, job: PageJob, timeout: float | None) -> Outcome:
        try:
            self.conn.send(job)
            if not self.conn.poll(timeout):
                self.kill()
                raise _WorkerLost(
                    f"extraction took longer than {timeout:g} s (NEWSLAKE_EXTRACT_TIMEOUT); "
                    "its worker process was stopped"
                )
            outcome: Outcome = self.conn.recv()
            return outcome
        except (EOFError, OSError) as exc:
            self.process.join(STOP_GRACE)
            raise _WorkerLost(f"the extraction worker process died ({self._death()})") from exc

    def _death(self) -> str:
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.join(STOP_GRACE)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(STOP_GRACE)
        if self.process.is_alive():
            self.kill()
        self.conn.close()


class ExtractionPool:
    """`workers` processes extracting pages for one crawl of `source`; close() when done."""

    def __init__(
        self, source: Source, run_id: str, workers: int, timeout: float | None = None
    ) -> None:
        if workers < 2:
            raise ValueError(f"an extraction pool needs 2 workers or more, not {workers}")
        self.source = source
        self.run_id = run_id
        self.workers = workers
        self.timeout = timeout if timeout and timeout > 0 else None
        self.restarts = 0
        self._context = multiprocessing.get_context("fork")
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._busy: set[int] = set()  # pids of the workers extracting a page now
        self._lock = threading.Lock()
        # Warm the extractor here first: the workers (and any replacement, forked later)
        # inherit its loaded models and caches, shared until written, instead of each loading
        # them on its first page, which would count against the timeout.
        extract_page(source, run_id, _warmup_job(source))
        for _ in range(workers):
            self._add_worker()
        # One thread per worker carries pages to it and waits; the reactor never blocks.
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="newslake-extract")
        self._closed = False

    def _add_worker(self) -> None:
        worker = _Worker(self._context, self.source, self.run_id)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _run(self, job: PageJob) -> Outcome:
        worker = self._idle.get()
        pid = worker.process.pid or 0
        with self._lock:
            self._busy.add(pid)
        try:
            outcome = worker.run(job, self.timeout)
        except _WorkerLost as exc:
            logger.error("Extraction of %s failed: %s", job.url, exc)
            with self._lock:
                self._busy.discard(pid)
                self._all.remove(worker)
                self.restarts += 1
            worker.conn.close()
            if not self._closed:
                self._add_worker()
            return ("reject", "extract_error", str(exc))
        with self._lock:
            self._busy.discard(pid)
        self._idle.put(worker)
        return outcome

    async def extract(self, job: PageJob) -> Outcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, job)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def busy_pids(self) -> list[int]:
        """The workers extracting a page at this moment."""
        with self._lock:
            return sorted(self._busy)

    def close(self) -> None:
        """Stop the workers (pages in flight are finished first)."""
        if self._closed:
            return
        self._closed = True
        self._threads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            worker.stop()
