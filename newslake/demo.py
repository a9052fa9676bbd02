"""`newslake demo`: crawl the bundled offline outlet through the real flow into a local lake."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newslake.site_server import SiteServer

DEMO_SITE = Path(__file__).parent / "demo_site"
# A fixed port keeps the demo's URLs, and so its article ids, the same from run to run: a
# second `newslake demo` then shows that nothing new lands.
DEMO_PORT = 8765

# Loopback answers in microseconds: politeness delays meant for real outlets would only
# slow the demo down. AutoThrottle stays on and adapts from this start.
DEMO_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_START_DELAY": 0.05,
    "AUTOTHROTTLE_MAX_DELAY": 1.0,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
}

SAMPLE_QUERY = (
    "SELECT source_id, strftime(published_at, '%Y-%m-%d %H:%M') AS published_utc, language,"
    " title, word_count FROM articles ORDER BY published_at DESC LIMIT 8"
)


@dataclass
class DemoSite:
    server: SiteServer
    sources_file: Path
    fixed_port: bool


def start_demo_site(workdir: Path) -> DemoSite:
    """Serve the bundled site on 127.0.0.1 and write its sources file with the live address."""
    fixed = True
    try:
        server = SiteServer(DEMO_SITE / "site", port=DEMO_PORT).start()
    except OSError:  # the port is taken: any free port works, only the ids change
        fixed = False
        server = SiteServer(DEMO_SITE / "site").start()
    text = (DEMO_SITE / "sources.yaml").read_text("utf-8").replace("{{BASE}}", server.base_url)
    sources_file = workdir / "demo-sources.yaml"
    sources_file.write_text(text, "utf-8")
    return DemoSite(server, sources_file, fixed)


def demo_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="newslake-demo-"))
