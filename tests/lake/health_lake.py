"""A lake with known health: three sources, a week of daily runs, landed through the writer.

Window: the 7 days 2024-04-01 .. 2024-04-07 (`until=UNTIL, days=7`).

- STEADY lands 3 complete articles every day of the window (discovered 5, 1 already landed,
  so 4 attempted, and 1 `not_article` reject a day); one more run before the window
  (2024-03-25) must not count. Healthy.
- PATCHY starts on 2024-04-02 (so 04-01 is not a zero day): 04-02 lands 2 articles, 04-03
  lands 2, 04-04 runs and lands nothing (2 `extract_error` rejects, 1 `http_error`), then no
  run until the window ends: zero days 04-04 .. 04-07 (4). Of its 4 articles, one has no date,
  one a 5-word body, one no detected or declared language, and two share the title "Patchy
  News" (the site's name, picked up instead of a headline). A failed run on 04-03 too.
- QUIET has one run on 2024-04-06: 3 discovered, 2 of them over the per-run cap (held back),
  1 attempted and landed, complete; 04-07 has no run: one zero day, within the default limit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from spool_factory import EXTRACTOR, write_spool

from lake import Store, land_spool, write_failed_manifest
from schemas import normalize_article, normalize_reject

STEADY = "steady-times"
PATCHY = "patchy-news"
QUIET = "quiet-gazette"
UNTIL = date(2024, 4, 7)
SINCE = date(2024, 4, 1)

LONG_BODY = " ".join(f"word{i}" for i in range(40))


def _run_id(day: date, suffix: str) -> str:
    return day.strftime("%Y%m%dT060000Z-") + suffix


def _started(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


def _article(source: str, run_id: str, day: date, n: int, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "url": f"https://{source}.example/{day.isoformat()}/story-{n}/",
        "canonical_url": f"https://{source}.example/{day.isoformat()}/story-{n}/",
        "source_id": source,
        "title": f"{source} story {n} of {day.isoformat()}",
        "published_at": _started(day) - timedelta(hours=n),
        "published_at_source": "jsonld",
        "language": "en",
        "language_detected": "en",
        "language_declared": "en",
        "body": LONG_BODY,
        "fetched_at": _started(day) + timedelta(minutes=n),
        "crawl_run_id": run_id,
        "extractor": EXTRACTOR,
        "discovered_via": "feed",
        "http_status": 200,
    }
    fields.update(overrides)
    return normalize_article(fields)


def _reject(source: str, run_id: str, day: date, n: int, reason: str) -> dict[str, Any]:
    return normalize_reject(
        {
            "url": f"https://{source}.example/{day.isoformat()}/page-{n}/",
            "source_id": source,
            "reason": reason,
            "detail": reason,
            "rejected_at": _started(day) + timedelta(minutes=30 + n),
            "crawl_run_id": run_id,
        }
    )


def _land(
    store: Store,
    tmp: Path,
    source: str,
    day: date,
    suffix: str,
    articles: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
    discovered: int,
    skipped: int,
    capped: int = 0,
) -> None:
    run_id = _run_id(day, suffix)
    stats = {
        "discovered": discovered,
        "skipped_landed": skipped,
        "fetched": len(articles) + len(rejects),
        "rejected": len(rejects),
        "duplicates": 0,
        "capped": capped,
        "finished_reason": "finished",
    }
    spool = write_spool(tmp / f"{source}-{run_id}", articles, rejects, stats=stats, warc=False)
    land_spool(
        store, spool, run_id=run_id, source_id=source, started_at=_started(day), extractor=EXTRACTOR
    )


def build_health_lake(store: Store, tmp: Path) -> None:
    # STEADY: one run before the window, then every day of it.
    for offset in range(-7, 7):
        if -7 < offset < 0:
            continue
        day = SINCE + timedelta(days=offset)
        run_id = _run_id(day, "aaaaaa")
        _land(
            store,
            tmp,
            STEADY,
            day,
            "aaaaaa",
            [_article(STEADY, run_id, day, n) for n in range(3)],
            [_reject(STEADY, run_id, day, 0, "not_article")],
            discovered=5,
            skipped=1,
        )

    # PATCHY
    day = date(2024, 4, 2)
    run_id = _run_id(day, "bbbbbb")
    _land(
        store,
        tmp,
        PATCHY,
        day,
        "bbbbbb",
        [
            _article(PATCHY, run_id, day, 0, published_at=None, published_at_source="none"),
            _article(PATCHY, run_id, day, 1, body="Only five words in here."),
        ],
        [],
        discovered=4,
        skipped=0,
    )
    day = date(2024, 4, 3)
    run_id = _run_id(day, "bbbbbb")
    _land(
        store,
        tmp,
        PATCHY,
        day,
        "bbbbbb",
        [
            _article(
                PATCHY,
                run_id,
                day,
                0,
                title="Patchy News",
                language_detected=None,
                language_declared=None,
            ),
            _article(PATCHY, run_id, day, 1, title="Patchy News"),
        ],
        [],
        discovered=4,
        skipped=0,
    )
    write_failed_manifest(
        store,
        _run_id(day, "cccccc"),
        PATCHY,
        "ConnectionError: the outlet did not answer",
        started_at=_started(day) + timedelta(hours=6),
        finished_at=_started(day) + timedelta(hours=6, minutes=1),
    )
    day = date(2024, 4, 4)
    run_id = _run_id(day, "bbbbbb")
    _land(
        store,
        tmp,
        PATCHY,
        day,
        "bbbbbb",
        [],
        [
            _reject(PATCHY, run_id, day, 0, "extract_error"),
            _reject(PATCHY, run_id, day, 1, "extract_error"),
            _reject(PATCHY, run_id, day, 2, "http_error"),
        ],
        discovered=3,
        skipped=0,
    )

    # QUIET
    day = date(2024, 4, 6)
    run_id = _run_id(day, "dddddd")
    _land(store, tmp, QUIET, day, "dddddd", [_article(QUIET, run_id, day, 0)], [], 3, 0, capped=2)
