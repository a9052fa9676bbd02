"""Run one crawl of one source in a subprocess and hand back its spool folder.

Twisted's reactor cannot be restarted inside a process, so every crawl is
`python -m spiders.crawl ...` in a process of its own; a flow can call run_crawl any number of
times. The crawl's log goes to <out_dir>/crawl.log.

Timeouts: the crawl is asked to close itself a little before `timeout` (Scrapy's
CLOSESPIDER_TIMEOUT; it then finishes with finished_reason "closespider_timeout" and keeps
what it wrote). If the process is still running at `timeout` it gets SIGTERM (Scrapy closes
gracefully), a second SIGTERM (Scrapy stops at once), then SIGKILL, TERMINATE_GRACE seconds
apart, and CrawlFailed is raised.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from schemas.spool import (
    ARTICLES_FILE,
    RAW_FILE,
    REJECTS_FILE,
    STATS_FILE,
    VALIDATORS_SEEN_FILE,
)
from spiders import settings as crawl_settings
from spiders.catalogue import Source
from spiders.pipelines import COUNTERS, write_json_atomic

LOG_NAME = "crawl.log"
SOURCE_NAME = "source.json"
_REPO_ROOT = Path(__file__).resolve().parent.parent
TERMINATE_GRACE = 5.0  # seconds between the signals that stop a crawl past its timeout


class CrawlFailed(RuntimeError):
    """The crawl process failed or had to be stopped; the message ends with its log tail."""

    def __init__(
        self, message: str, *, returncode: int | None, log_path: Path, log_tail: str
    ) -> None:
        super().__init__(f"{message}\n--- last lines of {log_path} ---\n{log_tail}")
        self.returncode = returncode
        self.log_path = log_path
        self.log_tail = log_tail


@dataclass(frozen=True)
class CrawlResult:
    out_dir: Path
    stats: dict[str, Any]
    articles_path: Path
    rejects_path: Path
    warc_path: Path | None  # None when no article page was fetched
    returncode: int
    log_path: Path
    # The crawl process's peak resident memory in MB (Linux VmHWM), None if not measured.
    peak_rss_mb: float | None = None


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _soft_timeout(timeout: float, download_timeout: float) -> float | None:
    """When the crawl should close itself, or None when `timeout` leaves no room for that.

    Closing waits for the requests in flight (up to DOWNLOAD_TIMEOUT each), so the crawl is
    asked to close early enough for them to finish before the hard stop.
    """
    margin = max(min(60.0, timeout * 0.1), download_timeout + 5.0)
    soft = timeout - margin
    return soft if soft >= 1.0 else None


def _result(
    out_dir: Path, returncode: int, log_path: Path, peak_rss_mb: float | None = None
) -> CrawlResult:
    stats = json.loads((out_dir / STATS_FILE).read_text("utf-8"))
    warc = out_dir / RAW_FILE
    return CrawlResult(
        out_dir=out_dir,
        stats=stats,
        articles_path=out_dir / ARTICLES_FILE,
        rejects_path=out_dir / REJECTS_FILE,
        warc_path=warc if warc.exists() else None,
        returncode=returncode,
        log_path=log_path,
        peak_rss_mb=peak_rss_mb,
    )


def _skipped(source: Source, out_dir: Path, log_path: Path) -> CrawlResult:
    """An inactive source: nothing is requested, the spool says why."""
    reason = f"skipped: {source.status}"
    for name in (ARTICLES_FILE, REJECTS_FILE):
        (out_dir / name).write_text("", "utf-8")
    (out_dir / RAW_FILE).unlink(missing_ok=True)
    stats: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    stats.update(finished_reason=reason, requests=0, response_bytes=0, problems=[])
    write_json_atomic(out_dir / STATS_FILE, stats)
    log_path.write_text(f"source {source.id} is {source.status}: not crawled\n", "utf-8")
    return _result(out_dir, 0, log_path)


def crawl_command(
    source_file: Path,
    out_dir: Path,
    *,
    run_id: str,
    skip_file: Path | None = None,
    since: date | None = None,
    until: date | None = None,
    settings: Mapping[str, Any] | None = None,
    window: tuple[date, date] | None = None,
    validators_file: Path | None = None,
) -> list[str]:
    """The argv of the crawl subprocess."""
    command = [
        sys.executable,
        "-m",
        "spiders.crawl",
        "--source-json",
        str(source_file),
        "--out",
        str(out_dir),
        "--run-id",
        run_id,
    ]
    if skip_file is not None:
        command += ["--skip-file", str(skip_file)]
    if since is not None:
        command += ["--since", since.isoformat()]
    if until is not None:
        command += ["--until", until.isoformat()]
    if window is not None:
        command += ["--window-since", window[0].isoformat()]
        command += ["--window-until", window[1].isoformat()]
    if validators_file is not None:
        command += ["--validators-file", str(validators_file)]
    if settings:
        command += ["--settings-json", json.dumps(dict(settings))]
    return command


_SECRET_PREFIXES = ("AWS_", "PREFECT_API_KEY")


def run_crawl(
    source: Source,
    out_dir: Path,
    *,
    run_id: str,
    skip_file: Path | None = None,
    since: date | None = None,
    until: date | None = None,
    settings: dict[str, Any] | None = None,
    timeout: float = 3600,
    window: tuple[date, date] | None = None,
    validators_file: Path | None = None,
) -> CrawlResult:
    """Crawl `source` into the spool folder `out_dir`; raises CrawlFailed when the crawl fails.

    `settings` override spiders.settings (JSON-serializable values only). A source whose
    status is not "active" is not crawled: the result's stats say "skipped: <status>".
    `since`/`until` are the days discovery looks for (a backfill chunk); `window` is the
    whole backfill whose publication dates land (default: since..until). `validators_file`
    (scheduled crawls) holds the feeds' and sitemaps' validators for conditional GET.
    """
    if since and until and since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
    if skip_file is not None and not Path(skip_file).is_file():
        raise FileNotFoundError(f"skip file not found: {skip_file}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / LOG_NAME
    # A spool holds one crawl: nothing of an earlier crawl into this folder may pass for ours.
    for stale in (ARTICLES_FILE, REJECTS_FILE, STATS_FILE, RAW_FILE, VALIDATORS_SEEN_FILE):
        (out_dir / stale).unlink(missing_ok=True)
    if source.status != "active":
        return _skipped(source, out_dir, log_path)

    overrides = dict(settings or {})
    # The source alone decides whether private-network addresses may be fetched.
    overrides["NEWSLAKE_ALLOW_PRIVATE_NETWORK"] = source.allow_private_network
    if "CLOSESPIDER_TIMEOUT" not in overrides:
        download_timeout = float(overrides.get("DOWNLOAD_TIMEOUT", crawl_settings.DOWNLOAD_TIMEOUT))
        soft = _soft_timeout(timeout, download_timeout)
        if soft is not None:
            overrides["CLOSESPIDER_TIMEOUT"] = soft
    try:
        json.dumps(overrides)
    except TypeError as exc:
        raise ValueError(f"settings must be JSON-serializable: {exc}") from None

    source_file = out_dir / SOURCE_NAME
    source_file.write_text(source.model_dump_json(indent=2), "utf-8")
    command = crawl_command(
        source_file,
        out_dir,
        run_id=run_id,
        skip_file=Path(skip_file).resolve() if skip_file else None,
        since=since,
        until=until,
        settings=overrides,
        window=window,
        validators_file=Path(validators_file).resolve() if validators_file else None,
    )
    # The crawl talks to websites only: it has no use for storage credentials, so a page that
    # breaks the extractor can never make them show up in its log.
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_PREFIXES)}
    # The crawl imports spiders/ and schemas/ from this checkout even when not pip-installed.
    env["PYTHONPATH"] = os.pathsep.join([str(_REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    peak_rss_mb: float | None = None
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        try:
            returncode: int | None
            returncode, peak_rss_mb = _wait(process, timeout)
            problem = None if returncode == 0 else f"exited with status {returncode}"
        except subprocess.TimeoutExpired:
            _stop(process)
            returncode = process.returncode
            problem = f"timed out after {timeout:g} s and was stopped"
        except BaseException:
            _stop(process)  # e.g. KeyboardInterrupt: never leave a crawl running behind us
            raise
    if problem is None and not (out_dir / STATS_FILE).exists():
        problem = f"exited without writing {STATS_FILE}"
    if problem is not None:
        raise CrawlFailed(
            f"crawl of {source.id} {problem}",
            returncode=returncode,
            log_path=log_path,
            log_tail=log_tail(log_path),
        )
    return _result(out_dir, 0, log_path, peak_rss_mb)


def _high_water_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (Linux VmHWM), in MB; None when unreadable.

    Not wait4's ru_maxrss: Linux carries the forking parent's resident size into the child's
    ru_maxrss across exec, so a crawl started from a large process would seem as large.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float | None]:
    """Wait for the crawl like Popen.wait, watching its peak memory (MB) meanwhile."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    peak: float | None = None
    while True:
        # A high-water mark: reading it every few tens of ms misses at most the last moments.
        seen = _high_water_mb(process.pid)
        if seen is not None:
            peak = max(peak or 0.0, seen)
        returncode = process.poll()
        if returncode is not None:
            return returncode, peak
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise subprocess.TimeoutExpired(process.args, timeout)
        delay = min(delay * 2, remaining, 0.05)
        time.sleep(delay)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Scrapy closes gracefully), SIGTERM again (Scrapy stops at once), SIGKILL."""
    for send in (process.terminate, process.terminate, process.kill):
        if process.poll() is not None:
            return
        send()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=TERMINATE_GRACE)
