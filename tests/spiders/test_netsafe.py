"""Network safety: no private-network address without the source's consent, no credentials or
path tricks through the catalogue."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from newslake.site_server import SiteServer
from spiders.catalogue import Source
from spiders.netsafe import address_kind, refusal
from spiders.probe import check_sources
from spiders.runner import run_crawl

WP_EN = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "wp-en" / "site"
HOSTILE_OK = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "site" / "ok" / "1.html"
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "NEWSLAKE_RETRY_BACKOFF": 0}
NEWSLAKE = shutil.which("newslake") or "newslake-is-not-installed: run pip install -e ."
REFUSED = "a loopback address; the source does not set allow_private_network: true"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("240.0.0.1", "private"),  # reserved, and Python counts it private
        ("::1", "loopback"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
        ("::127.0.0.1", "IPv4-mapped loopback"),  # the deprecated IPv4-compatible form
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
        ("::ffff:93.184.216.34", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_refusal_names_the_host_and_the_address() -> None:
    assert refusal("news.example", "127.0.0.1") == (
        "refused: news.example resolves to 127.0.0.1, a loopback address; the source does not"
        " set allow_private_network: true"
    )
    assert refusal("::1", "::1") == f"refused: [::1], {REFUSED}"
    assert refusal("news.example", "93.184.216.34") is None


def _source(base: str, **extra: Any) -> Source:
    return Source.model_validate(
        {
            "id": "wp-en",
            "name": "Ararat Courier",
            "homepage": base + "/",
            "country": "AM",
            "languages": ["en"],
            "timezone": "Asia/Yerevan",
            "feeds": [base + "/feed/"],
            "sitemaps": [base + "/sitemap_index.xml"],
            **extra,
        }
    )


def test_a_source_without_the_flag_fetches_nothing_from_loopback(tmp_path: Path) -> None:
    with SiteServer(WP_EN) as site:
        base = site.base_url
        # A crawl setting cannot widen what the source allows: the runner sets it from the source.
        settings = {**FAST, "NEWSLAKE_ALLOW_PRIVATE_NETWORK": True}
        result = run_crawl(_source(base), tmp_path / "spool", run_id="r", settings=settings)
        assert site.requests == []
    assert result.stats["finished_reason"] == "finished"
    assert result.stats["discovered"] == 0
    assert result.stats["feed_errors"] == 1
    assert result.stats["sitemap_errors"] == 1
    assert result.stats["problems"] == [
        f"feed {base}/feed/: offsite: {base}/feed/: refused: 127.0.0.1, {REFUSED}",
        f"sitemap {base}/sitemap_index.xml: offsite: {base}/sitemap_index.xml: refused:"
        f" 127.0.0.1, {REFUSED}",
    ]


def test_a_host_name_resolving_to_loopback_is_refused(tmp_path: Path) -> None:
    with SiteServer(WP_EN) as site:
        base = site.base_url.replace("127.0.0.1", "localhost")
        result = run_crawl(_source(base), tmp_path / "spool", run_id="r", settings=FAST)
        assert site.requests == []
    assert result.stats["problems"] == [
        f"feed {base}/feed/: offsite: {base}/feed/: refused: localhost resolves to 127.0.0.1,"
        f" {REFUSED}",
        f"sitemap {base}/sitemap_index.xml: offsite: {base}/sitemap_index.xml: refused:"
        f" localhost resolves to 127.0.0.1, {REFUSED}",
    ]


def test_an_ipv6_loopback_literal_is_refused(tmp_path: Path) -> None:
    base = "http://[::1]:9"  # nothing listens there: a connection attempt would fail otherwise
    source = _source(base)
    result = run_crawl(source, tmp_path / "spool", run_id="r", settings=FAST)
    assert result.stats["problems"] == [
        f"feed {base}/feed/: offsite: {base}/feed/: refused: [::1], {REFUSED}",
        f"sitemap {base}/sitemap_index.xml: offsite: {base}/sitemap_index.xml: refused: [::1],"
        f" {REFUSED}",
    ]


def test_with_the_flag_the_same_site_is_crawled(tmp_path: Path) -> None:
    with SiteServer(WP_EN) as site:
        base = site.base_url.replace("127.0.0.1", "localhost")
        source = _source(base, allow_private_network=True, feeds=[base + "/feed/"], sitemaps=[])
        result = run_crawl(source, tmp_path / "spool", run_id="r", settings=FAST)
        assert "/feed/" in site.paths()
    assert result.stats["feeds_fetched"] == 1
    assert result.stats["feed_errors"] == 0


def _newslake(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [NEWSLAKE, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_credentials_in_a_source_url_are_refused_without_echoing_them(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {id: leaky, name: Leaky, homepage: 'https://ed:hunter2-secret@leaky.example/',"
        " country: null, languages: [en], timezone: UTC,"
        " feeds: ['ftp://ed:hunter2-secret@leaky.example/feed/']}\n",
        "utf-8",
    )
    result = _newslake("sources", "validate", "--sources-file", str(sources), cwd=tmp_path)
    assert result.returncode == 2
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert (
        f"{sources}: sources[0] (id 'leaky'): field 'homepage': URL carries credentials; keep"
        " secrets out of the sources file"
    ) in result.stderr
    assert (
        f"{sources}: sources[0] (id 'leaky'): field 'feeds[0].url': not an absolute http(s) URL:"
        " 'ftp://ed:***@leaky.example/feed/'"
    ) in result.stderr


@pytest.mark.parametrize("bad_id", ["../../etc", "a/b", ".."])
def test_a_path_traversal_source_id_never_reaches_the_lake(tmp_path: Path, bad_id: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - {{id: '{bad_id}', name: X, homepage: 'https://x.example/',"
        " country: null, languages: [en], timezone: UTC}\n",
        "utf-8",
    )
    lake = work / "lake"
    result = _newslake("crawl", "--sources-file", str(sources), "--lake", str(lake), cwd=work)
    assert result.returncode == 2
    assert (
        f"{sources}: sources[0] (id '{bad_id}'): field 'id': '{bad_id}' is not a valid id"
    ) in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sources.yaml", "work"]


def test_sources_check_probes_no_private_address_without_the_flag() -> None:
    with SiteServer(WP_EN) as site:
        base = site.base_url
        refused = check_sources([_source(base)], timeout=10)
        assert site.requests == []
        allowed = check_sources([_source(base, allow_private_network=True)], timeout=10)
    assert [(c.kind, c.robots, c.status, c.problem) for c in refused] == [
        ("feed", "unknown", None, f"fetch failed: refused: 127.0.0.1, {REFUSED}"),
        ("sitemap", "unknown", None, f"fetch failed: refused: 127.0.0.1, {REFUSED}"),
    ]
    assert [(c.kind, c.robots, c.status, c.ok) for c in allowed] == [
        ("feed", "allowed", 200, True),
        ("sitemap", "allowed", 200, True),
    ]


def test_a_robots_txt_redirect_to_another_host_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "robots.txt").write_text("User-agent: *\nDisallow: /\n", "utf-8")
    site_root = tmp_path / "site"
    site_root.mkdir()
    (site_root / "a.html").write_bytes((HOSTILE_OK).read_bytes())
    (site_root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{BASE}}/a.html</loc></url></urlset>",
        "utf-8",
    )
    with SiteServer(tmp_path / "other") as other:
        # Another host (localhost, not 127.0.0.1) on another port: off the source's hosts.
        location = other.base_url.replace("127.0.0.1", "localhost") + "/robots.txt"
        (site_root / "_site.yaml").write_text(
            f"routes:\n  /robots.txt: {{status: 301, location: '{location}'}}\n", "utf-8"
        )
        with SiteServer(site_root) as site:
            source = _source(
                site.base_url,
                allow_private_network=True,
                feeds=[],
                sitemaps=[site.base_url + "/sitemap.xml"],
            )
            result = run_crawl(source, tmp_path / "spool", run_id="r", settings=FAST)
            assert site.paths() == ["/robots.txt", "/sitemap.xml", "/a.html"]
        assert other.paths() == []
    # robots.txt could not be read on the source's host, so nothing is disallowed.
    assert result.stats["spooled"] == 1
