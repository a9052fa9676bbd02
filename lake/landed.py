"""What a source already has in the lake: versions for the writer, URL ids for the spider."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from lake.datasets import open_dataset
from lake.manifest import Manifest, read_manifests
from lake.store import Store
from schemas import article_id


def _batches(
    store: Store,
    source_id: str,
    name: str,
    columns: list[str],
    *,
    where: ds.Expression | None = None,
    manifests: list[Manifest] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Batches of one source's committed rows of dataset `name` ("articles" or "rejects")."""
    if manifests is None:
        manifests = read_manifests(store, source_ids=[source_id])
    dataset = open_dataset(store, manifests, name, source_ids=[source_id])
    wanted = ds.field("source_id") == source_id
    yield from dataset.to_batches(
        columns=columns, filter=wanted if where is None else wanted & where
    )


def landed_keys(store: Store, source_id: str) -> set[tuple[str, str]]:
    """(article_id, content_hash) of every committed version of `source_id`'s articles."""
    keys: set[tuple[str, str]] = set()
    for batch in _batches(store, source_id, "articles", ["article_id", "content_hash"]):
        ids = batch.column("article_id").to_pylist()
        hashes = batch.column("content_hash").to_pylist()
        keys.update(zip(ids, hashes, strict=True))
    return keys


URL_COLUMNS = ["url", "canonical_url", "discovered_url"]
# Rejects that a refetch would only repeat: skipped for a while, then tried again (a page
# can change, robots.txt too).
STICKY_REJECTS = ("not_article", "not_html", "robots_disallowed", "offsite")
STICKY_FOR = timedelta(days=7)


def landed_url_ids(
    store: Store, source_id: str, *, manifests: list[Manifest] | None = None
) -> set[str]:
    """article_id of every URL a landed row of `source_id` was fetched, listed or known by."""
    ids: set[str] = set()
    for batch in _batches(store, source_id, "articles", URL_COLUMNS, manifests=manifests):
        for column in URL_COLUMNS:
            ids.update(article_id(u) for u in batch.column(column).to_pylist() if u)
    return ids


def landed_url_times(
    store: Store, source_id: str, *, manifests: list[Manifest] | None = None
) -> dict[str, datetime]:
    """article_id of every URL of a landed row -> when its latest landed version was fetched."""
    times: dict[str, datetime] = {}
    columns = [*URL_COLUMNS, "fetched_at"]
    for batch in _batches(store, source_id, "articles", columns, manifests=manifests):
        fetched = batch.column("fetched_at").to_pylist()
        for column in URL_COLUMNS:
            for url, at in zip(batch.column(column).to_pylist(), fetched, strict=True):
                if not url:
                    continue
                key = article_id(url)
                if key not in times or at > times[key]:
                    times[key] = at
    return times


def recently_rejected_url_ids(
    store: Store,
    source_id: str,
    *,
    now: datetime | None = None,
    manifests: list[Manifest] | None = None,
) -> set[str]:
    """article_id of URLs rejected for a lasting reason (a tag page) in the last STICKY_FOR."""
    since = (now or datetime.now(UTC)) - STICKY_FOR
    lasting = ds.field("reason").isin(list(STICKY_REJECTS)) & (
        ds.field("rejected_at") >= pa.scalar(since, type=pa.timestamp("us", tz="UTC"))
    )
    ids: set[str] = set()
    for batch in _batches(store, source_id, "rejects", ["url"], where=lasting, manifests=manifests):
        ids.update(article_id(u) for u in batch.column("url").to_pylist())
    return ids


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_skip_file(store: Store, source_id: str, path: Path, *, extra: Iterable[str] = ()) -> int:
    """Write the spider's skip list (one article id per line, sorted); returns how many ids.

    It holds the landed articles' URLs, each with a tab and the time its latest version was
    fetched (so a listing saying the page changed since can have it refetched), and, bare,
    the URLs recently rejected for a lasting reason and the `extra` ids, so a scheduled run
    fetches none of them again.
    """
    manifests = read_manifests(store, source_ids=[source_id])  # once, for both datasets
    times = landed_url_times(store, source_id, manifests=manifests)
    bare = recently_rejected_url_ids(store, source_id, manifests=manifests) | set(extra)
    lines = sorted([f"{i}\t{_iso(at)}" for i, at in times.items() if i not in bare] + list(bare))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, so a crawl never starts from a half-written list.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".skip-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(f"{line}\n" for line in lines)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(lines)
