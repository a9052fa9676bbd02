"""The re-parse flow: re-extract one source's raw captures offline and land what changed.

The lake hands over local copies of the source's committed WARC files one at a time, the
spiders' Reparser writes a spool from them with the current extractor, and the lake's writer
lands that spool like a crawl's: versions it already has (same article_id and content_hash)
are dropped, so only articles whose extraction changed get a new version.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flows.runtime import prefect_defaults

prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.states import Completed, State  # noqa: E402

from flows.runs import new_run_id, spool_parent  # noqa: E402
from lake import LakeError, land_spool, open_store  # noqa: E402
from lake.raw import local_copy, raw_captures  # noqa: E402
from spiders.catalogue import Source, load_sources, select_sources  # noqa: E402
from spiders.extraction import EXTRACTOR  # noqa: E402
from spiders.reparse import Reparser  # noqa: E402

# What a re-parse reports, in this order.
COUNTS = ("records", "outside_window", "reextracted", "changed", "unchanged", "rejected")


@dataclass
class ReparseSummary:
    run_id: str
    lake: str
    source_id: str
    since: date | None
    until: date | None
    counts: dict[str, int] = field(default_factory=dict)

    def table(self) -> list[dict[str, Any]]:
        return [{"source": self.source_id} | {c: self.counts.get(c, 0) for c in COUNTS}]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@task(name="reparse-captures")
def reparse_captures(
    lake: str,
    source: Source,
    run_id: str,
    spool: Path,
    since: date | None,
    until: date | None,
) -> dict[str, Any]:
    """Re-extract every committed capture of the source into a spool; returns its stats."""
    store = open_store(lake)
    captures = raw_captures(store, source.id)
    if not captures:
        raise LakeError(f"no raw captures of source {source.id} in {store.uri}")
    reparser = Reparser(source, spool, run_id=run_id, since=since, until=until)
    downloads = Path(tempfile.mkdtemp(prefix=f"newslake-raw-{run_id}-", dir=spool_parent()))
    try:
        for entry in captures:
            with local_copy(store, entry["key"], downloads) as path:
                reparser.add(path, entry["key"])
    finally:
        shutil.rmtree(downloads, ignore_errors=True)
    return reparser.finish()


@task(name="land-reparse", retries=3, retry_delay_seconds=[2, 10, 30])
def land_reparse(
    lake: str, spool: Path, run_id: str, source_id: str, started_at: datetime
) -> dict[str, int]:
    result = land_spool(
        open_store(lake),
        spool,
        run_id=run_id,
        source_id=source_id,
        flow="reparse",
        started_at=started_at,
        extractor=EXTRACTOR,
    )
    return dict(result.counts)


@flow(name="reparse")
def reparse_flow(
    source: str,
    since: date | None = None,
    until: date | None = None,
    sources_file: str | None = None,
    lake: str | None = None,
) -> State:
    """Re-extract `source`'s raw captures with the current extractor, without the network.

    `since`/`until` (inclusive) select articles by publication day in the source's timezone;
    undated articles and pages that are not articles by their capture day.
    """
    if since and until and until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    logger = get_run_logger()
    [entry] = select_sources(load_sources(sources_file), [source])
    lake_uri = open_store(lake).uri
    run_id = new_run_id()
    started_at = datetime.now(UTC)
    spool = Path(tempfile.mkdtemp(prefix=f"newslake-{run_id}-reparse-", dir=spool_parent()))
    stats = reparse_captures(lake_uri, entry, run_id, spool, since, until)
    landed = land_reparse(lake_uri, spool, run_id, entry.id, started_at)
    shutil.rmtree(spool, ignore_errors=True)
    counts = {
        "records": stats["records"],
        "outside_window": stats["outside_window"],
        "reextracted": stats["reextracted"],
        "changed": landed["landed"],
        "unchanged": landed["lake_duplicates"],
        "rejected": landed["rejected"],
    }
    summary = ReparseSummary(run_id, lake_uri, entry.id, since, until, counts)
    logger.info("re-parse %s of %s: %s", run_id, entry.id, counts)
    create_table_artifact(
        key="reparse-counts",
        table=summary.table(),
        description=f"re-parse run {run_id} of {entry.id} in {lake_uri}",
    )
    return Completed(message=f"re-parse {run_id}: {counts['changed']} changed", data=summary)
