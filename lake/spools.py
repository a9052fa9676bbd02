"""A spool a killed crawl left behind, made landable: what it holds up to its last whole write.

The spider writes each row as one JSON line and each fetched page as whole gzip members of the
WARC, flushed at once, page before row (spiders/pipelines.py, spiders/capture.py). A SIGKILL
can still cut the last write short: half a JSON line, half a gzip member. `repair_spool` cuts
those tails off, so the spool lands what was completely written and nothing else; a page whose
row was cut off is not in the lake, so the next crawl fetches it again.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.errors import SpoolError
from schemas.spool import ARTICLES_FILE, RAW_FILE, REJECTS_FILE, STATS_FILE

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SpoolRepair:
    articles: int  # whole article lines kept
    rejects: int  # whole reject lines kept
    cut_bytes: int  # bytes of half-written lines and WARC records cut off
    dropped_rows: int  # rows whose WARC record was cut off (none if the spider kept its order)
    finished: bool  # the crawl got to write its stats.json (it was killed while landing)

    def counts(self) -> dict[str, int]:
        """Counters for the run manifest of a killed crawl's landing."""
        return {
            "discovered": self.articles + self.rejects,
            "fetched": self.articles + self.rejects,
            "spooled": self.articles,
            "rejected": self.rejects,
            "recovered_cut_bytes": self.cut_bytes,
            "recovered_dropped_rows": self.dropped_rows,
        }


def _cut_partial_line(path: Path) -> tuple[int, int]:
    """Truncate `path` after its last newline; (whole lines, bytes cut)."""
    if not path.exists():
        return 0, 0
    size = path.stat().st_size
    lines = 0
    last_newline = -1
    position = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            lines += chunk.count(b"\n")
            found = chunk.rfind(b"\n")
            if found >= 0:
                last_newline = position + found
            position += len(chunk)
    keep = last_newline + 1
    if keep < size:
        os.truncate(path, keep)
    return lines, size - keep


def complete_gzip_length(path: Path) -> int:
    """Bytes of `path` made of whole gzip members (a WARC writes one member per record)."""
    good = 0  # end of the last whole member
    offset = 0  # file offset of the first byte not yet given to a decompressor
    member = zlib.decompressobj(wbits=31)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            data = chunk
            while data:
                try:
                    member.decompress(data)
                except zlib.error:
                    return good
                if not member.eof:
                    offset += len(data)
                    break
                rest = member.unused_data
                offset += len(data) - len(rest)
                good = offset
                member = zlib.decompressobj(wbits=31)
                data = rest
    return good


def _drop_rows_past(path: Path, end: int) -> int:
    """Remove rows whose raw_ref points at or past `end` of the WARC; how many were removed."""
    if not path.exists():
        return 0
    prefix = RAW_FILE + ":"
    dropped = 0
    temporary = path.with_name(path.name + ".repair")
    with open(path, "rb") as source, open(temporary, "wb") as target:
        for number, line in enumerate(source, 1):
            try:
                row = json.loads(line)
            except ValueError:
                raise SpoolError(f"{path}:{number}: not valid JSON") from None
            if not isinstance(row, dict):
                raise SpoolError(f"{path}:{number}: expected a JSON object per line")
            ref = row.get("raw_ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                offset = ref[len(prefix) :]
                if offset.isdigit() and int(offset) >= end:
                    dropped += 1
                    continue
            target.write(line)
    if dropped:
        os.replace(temporary, path)
    else:
        temporary.unlink()
    return dropped


def repair_spool(spool: Path) -> SpoolRepair:
    """Cut the half-written tails a killed crawl left in `spool`, in place.

    Only for a spool whose crawl process is gone: a live crawl is still appending to it.
    """
    spool = Path(spool)
    articles, cut_articles = _cut_partial_line(spool / ARTICLES_FILE)
    rejects, cut_rejects = _cut_partial_line(spool / REJECTS_FILE)
    cut = cut_articles + cut_rejects
    dropped = 0
    raw = spool / RAW_FILE
    if raw.exists():
        size = raw.stat().st_size
        end = complete_gzip_length(raw)
        if end < size:
            os.truncate(raw, end)
            cut += size - end
        dropped = _drop_rows_past(spool / ARTICLES_FILE, end)
        if end == 0:
            raw.unlink()
    return SpoolRepair(
        articles=articles - dropped,
        rejects=rejects,
        cut_bytes=cut,
        dropped_rows=dropped,
        finished=(spool / STATS_FILE).exists(),
    )


def spool_run_id(spool: Path) -> str | None:
    """The run id the spool's rows carry (its first whole line), or None if it has no row."""
    for name in (ARTICLES_FILE, REJECTS_FILE):
        path = Path(spool) / name
        if not path.exists():
            continue
        with open(path, "rb") as fh:
            first = fh.readline()
        if first.endswith(b"\n"):
            try:
                row: Any = json.loads(first)
            except ValueError:
                raise SpoolError(f"{path}:1: not valid JSON") from None
            run_id = row.get("crawl_run_id") if isinstance(row, dict) else None
            if isinstance(run_id, str) and run_id:
                return run_id
            raise SpoolError(f"{path}:1: no crawl_run_id")
    return None
