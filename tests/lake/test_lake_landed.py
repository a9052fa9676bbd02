from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from spool_factory import (
    AM,
    GE,
    RUN_1,
    RUN_2,
    CrashBeforeCommit,
    article,
    land_run_1,
    ts,
    write_spool,
)

from lake import land_spool, landed_keys, open_store, write_skip_file
from schemas import article_id, normalize_reject


def test_landed_keys(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    assert landed_keys(store, AM) == set()
    land_run_1(store, tmp_path)
    expected = {
        (article(RUN_1, n)["article_id"], article(RUN_1, n)["content_hash"])
        for n in ("am-budget", "am-gas", "am-undated")
    }
    assert landed_keys(store, AM) == expected
    ge = article(RUN_1, "ge-port")
    assert landed_keys(store, GE) == {(ge["article_id"], ge["content_hash"])}
    assert landed_keys(store, "no-such-source") == set()

    edited = article(RUN_2, "am-gas", title="Цены на газ останутся прежними до 2025 года")
    land_spool(store, write_spool(tmp_path / "s2", [edited]), run_id=RUN_2, source_id=AM)
    assert landed_keys(store, AM) == expected | {(edited["article_id"], edited["content_hash"])}


def test_skip_file_lists_url_and_canonical_ids_with_their_fetch_time(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    budget = article_id("https://ararat-courier.am/hy/news/2024/03/15/budget/")
    # Fetched as ?amp=1, canonical without it: both are known.
    gas = [
        article_id("https://ararat-courier.am/ru/news/gas-prices/?amp=1"),
        article_id("https://ararat-courier.am/ru/news/gas-prices/"),
    ]
    letters = article_id("https://ararat-courier.am/en/opinion/letters/")

    def lines(gas_fetched: str) -> str:
        times = {budget: "2024-04-01T06:01:00Z", letters: "2024-04-01T06:03:00Z"}
        times |= dict.fromkeys(gas, gas_fetched)
        return "".join(f"{i}\t{times[i]}\n" for i in sorted(times))

    path = tmp_path / "spool-next" / "skip.txt"
    assert write_skip_file(store, AM, path) == 4
    assert path.read_text(encoding="utf-8") == lines("2024-04-01T06:02:00Z")

    # A new version of a landed article adds no new id, only a later fetch time; the file is
    # rewritten in place.
    edited = article(RUN_2, "am-gas", body="Новый текст.", fetched_at=ts("2024-04-02T06:00:00Z"))
    land_spool(store, write_spool(tmp_path / "s2", [edited]), run_id=RUN_2, source_id=AM)
    assert write_skip_file(store, AM, path) == 4
    assert path.read_text(encoding="utf-8") == lines("2024-04-02T06:00:00Z")
    assert sorted(p.name for p in path.parent.iterdir()) == ["skip.txt"]


def test_skip_file_of_an_empty_source_is_empty(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    land_run_1(store, tmp_path)
    path = tmp_path / "skip.txt"
    assert write_skip_file(store, "no-such-source", path) == 0
    assert path.read_text(encoding="utf-8") == ""


def test_uncommitted_rows_are_not_landed(lake_uri: str, tmp_path: Path) -> None:
    store = open_store(lake_uri)
    spool = write_spool(tmp_path / "spool", [article(RUN_1, "ge-port")])
    with pytest.raises(KeyboardInterrupt):
        land_spool(CrashBeforeCommit(store), spool, run_id=RUN_1, source_id=GE)
    assert any(k.startswith("articles/") for k in store.list())
    assert landed_keys(store, GE) == set()
    assert write_skip_file(store, GE, tmp_path / "skip.txt") == 0


def test_skip_file_adds_listed_urls_and_recent_lasting_rejects(
    lake_uri: str, tmp_path: Path
) -> None:
    store = open_store(lake_uri)
    now = datetime.now(UTC)
    # Listed as ?p=77 in the feed, redirected to its slug: both URLs are known afterwards.
    redirected = article(
        RUN_1,
        "am-budget",
        discovered_url="https://ararat-courier.am/?p=77",
        fetched_at=now - timedelta(hours=1),
    )

    def rejected(path: str, reason: str, days_ago: float) -> dict[str, object]:
        return normalize_reject(
            {
                "url": f"https://ararat-courier.am/{path}",
                "source_id": AM,
                "reason": reason,
                "http_status": 200 if reason == "not_article" else 404,
                "rejected_at": now - timedelta(days=days_ago),
                "crawl_run_id": RUN_1,
            }
        )

    rejects = [
        rejected("tag/budget/", "not_article", 1),  # lasting and recent: skipped
        rejected("gone/", "http_error", 1),  # may come back: fetched again
        rejected("tag/old/", "not_article", 8),  # too old: tried again
    ]
    spool = write_spool(tmp_path / "spool", [redirected], rejects)
    land_spool(store, spool, run_id=RUN_1, source_id=AM)
    path = tmp_path / "skip.txt"
    fetched = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    expected = [
        f"{article_id('https://ararat-courier.am/hy/news/2024/03/15/budget/')}\t{fetched}",
        f"{article_id('https://ararat-courier.am/?p=77')}\t{fetched}",
        article_id("https://ararat-courier.am/tag/budget/"),  # bare: skipped whatever happens
    ]
    assert write_skip_file(store, AM, path) == 3
    assert path.read_text(encoding="utf-8") == "".join(f"{i}\n" for i in sorted(expected))

    # Ids the caller adds (a backfill's already-fetched URLs) are bare too, and win.
    extra = article_id("https://ararat-courier.am/?p=77")
    assert write_skip_file(store, AM, path, extra=[extra, "f" * 32]) == 4
    assert path.read_text(encoding="utf-8").splitlines() == sorted(
        [expected[0], extra, expected[2], "f" * 32]
    )
