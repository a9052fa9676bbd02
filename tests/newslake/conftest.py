from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

# The installed console script, as users run it. (`python -m` would put the working folder
# first on sys.path, where a ./lake data folder shadows the lake package.)
NEWSLAKE = shutil.which("newslake") or "newslake-is-not-installed: run pip install -e ."

Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def newslake() -> Runner:
    """Run `newslake ARGS...` in its own process; returns the completed process (text)."""

    def run(
        *args: str,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NEWSLAKE, *args],
            input=stdin.decode() if stdin else None,
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            timeout=240,
        )

    return run
