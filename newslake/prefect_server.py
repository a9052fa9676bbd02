"""A local Prefect server for `newslake serve` when no PREFECT_API_URL is configured.

Prefect's ephemeral API runs flows but has no scheduler ("Cannot schedule flows on an
ephemeral server"), so schedules need a real server: this starts `prefect server start` on
127.0.0.1, waits until its API answers, and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_prefect_server(
    log_path: Path, port: int | None = None, timeout: float = 90
) -> Iterator[str]:
    """Yield the API URL of a Prefect server started for the duration of the block."""
    port = port or free_port()
    api = f"http://127.0.0.1:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PREFECT_API_URL": ""},
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited with {process.returncode}: see {log_path}"
                )
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"prefect server did not answer within {timeout:.0f} s: see {log_path}"
                )
            time.sleep(0.5)
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
