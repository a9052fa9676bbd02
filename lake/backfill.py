"""Backfill progress in the lake: one create-only marker per finished day chunk.

`backfills/source_id=<id>/<since>_<until>/<day>.json` is written after the day's landing has
committed (its manifest exists), so a killed backfill, run again with the same window, skips
the days that have a marker. A marker also lists the article ids of every URL the chunk
fetched (landed or rejected), so later days of the same window do not fetch them again: a
sitemap entry without a usable date is a candidate for every day, and is fetched once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from lake.errors import AlreadyExists, LakeError
from lake.manifest import check_segment
from lake.store import Store
from schemas import article_id, to_jsonable
from schemas.spool import ARTICLES_FILE, REJECTS_FILE

PREFIX = "backfills/"
Marker = dict[str, Any]


def window_prefix(source_id: str, since: date, until: date) -> str:
    check_segment("source_id", source_id)
    return f"{PREFIX}source_id={source_id}/{since.isoformat()}_{until.isoformat()}/"


def marker_key(source_id: str, since: date, until: date, day: date) -> str:
    return f"{window_prefix(source_id, since, until)}{day.isoformat()}.json"


def finished_days(store: Store, source_id: str, since: date, until: date) -> dict[date, Marker]:
    """The markers of the window's finished days, by day."""
    keys = list(store.list(window_prefix(source_id, since, until)))
    found: dict[date, Marker] = {}
    for key, data in store.get_many(keys):
        try:
            marker = json.loads(data)
            day = date.fromisoformat(marker["day"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise LakeError(f"{key}: not a backfill marker") from None
        found[day] = marker
    return found


def fetched_ids(markers: Iterable[Mapping[str, Any]]) -> set[str]:
    """Article ids of the URLs the finished days of a window fetched."""
    return {i for m in markers for i in m.get("fetched_ids", [])}


def spool_fetched_ids(spool: Path) -> set[str]:
    """Article ids of every URL a crawl's spool says was fetched (rows and rejects)."""
    ids: set[str] = set()
    for name, columns in (
        (ARTICLES_FILE, ("url", "canonical_url", "discovered_url")),
        (REJECTS_FILE, ("url",)),
    ):
        path = Path(spool) / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    ids.update(article_id(row[c]) for c in columns if row.get(c))
    return ids


def mark_day_finished(
    store: Store,
    source_id: str,
    since: date,
    until: date,
    day: date,
    *,
    run_id: str,
    counts: Mapping[str, int],
    fetched: Iterable[str] = (),
) -> Marker:
    """Record that `day` of the window is done (create-only; an existing marker is kept)."""
    if not since <= day <= until:
        raise LakeError(f"day {day} is outside the window {since}..{until}")
    marker = {
        "source_id": source_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "day": day.isoformat(),
        "run_id": check_segment("run_id", run_id),
        "finished_at": to_jsonable({"t": datetime.now(UTC)})["t"],
        "counts": dict(counts),
        "fetched_ids": sorted(set(fetched)),
    }
    key = marker_key(source_id, since, until, day)
    try:
        store.put(key, json.dumps(marker, indent=1).encode("utf-8"), if_absent=True)
    except AlreadyExists:
        existing: Marker = json.loads(store.get(key))
        return existing
    return marker
