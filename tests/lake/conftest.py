"""Lake test fixtures: every storage test runs on a local folder and on the S3 test server."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["local", "s3"])
def lake_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty lake: a folder, or a new bucket on the moto server."""
    if request.param == "local":
        return str(tmp_path / "lake")
    uri: str = request.getfixturevalue("s3_lake")
    return uri
