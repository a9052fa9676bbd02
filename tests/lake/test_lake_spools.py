"""A spool cut short by SIGKILL: its half-written tails go, its whole rows land, nothing twice."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from spool_factory import AM, RUN_1, article, reject, write_spool
from warcio.archiveiterator import ArchiveIterator

from lake import SpoolError, land_spool, open_store
from lake.spools import complete_gzip_length, repair_spool, spool_run_id

NAMES = ("am-budget", "am-gas", "am-undated")


def _killed_spool(folder: Path) -> Path:
    """Three whole rows and a reject, then what a kill mid-write leaves: half lines, half a
    gzip member; and no stats.json (the crawl never closed)."""
    spool = write_spool(folder, [article(RUN_1, n) for n in NAMES], [reject(RUN_1, "am-tag")])
    (spool / "stats.json").unlink()
    with open(spool / "articles.jsonl", "ab") as fh:
        fh.write(b'{"url": "https://ararat-courier.am/hy/news/2024/03/16/half')
    with open(spool / "rejects.jsonl", "ab") as fh:
        fh.write(b'{"url": "https://ararat')
    member = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n" + b"x" * 4000)
    with open(spool / "raw.warc.gz", "ab") as fh:
        fh.write(member[: len(member) // 2])
    return spool


def test_repair_cuts_half_written_tails_and_the_spool_lands_its_whole_rows(
    tmp_path: Path,
) -> None:
    spool = _killed_spool(tmp_path / "spool")
    whole_warc = complete_gzip_length(spool / "raw.warc.gz")
    with pytest.raises(SpoolError, match=r"articles\.jsonl:4: not valid JSON"):
        land_spool(open_store(str(tmp_path / "unrepaired")), spool, run_id=RUN_1, source_id=AM)

    repair = repair_spool(spool)
    assert (repair.articles, repair.rejects, repair.dropped_rows, repair.finished) == (
        3,
        1,
        0,
        False,
    )
    assert (spool / "raw.warc.gz").stat().st_size == whole_warc
    assert (spool / "articles.jsonl").read_bytes().endswith(b"\n")
    assert repair_spool(spool).cut_bytes == 0  # idempotent
    with open(spool / "raw.warc.gz", "rb") as fh:
        assert [r.rec_type for r in ArchiveIterator(fh)] == ["response"] * 3

    store = open_store(str(tmp_path / "lake"))
    result = land_spool(store, spool, run_id=RUN_1, source_id=AM, counts=repair.counts())
    assert (result.landed, result.rejected) == (3, 1)
    assert result.counts["discovered"] == 4 and result.counts["spooled"] == 3


def test_rows_pointing_past_the_whole_warc_are_dropped(tmp_path: Path) -> None:
    spool = write_spool(tmp_path / "spool", [article(RUN_1, n) for n in NAMES])
    refs = [json.loads(line)["raw_ref"] for line in (spool / "articles.jsonl").open()]
    third = int(refs[2].split(":")[1])
    with open(spool / "raw.warc.gz", "r+b") as fh:  # cut inside the third capture
        fh.truncate(third + 10)
    repair = repair_spool(spool)
    assert (repair.articles, repair.dropped_rows) == (2, 1)
    assert (spool / "raw.warc.gz").stat().st_size == third
    kept = [json.loads(line)["raw_ref"] for line in (spool / "articles.jsonl").open()]
    assert kept == refs[:2]


def test_a_warc_cut_inside_its_first_record_is_removed(tmp_path: Path) -> None:
    spool = write_spool(tmp_path / "spool", [article(RUN_1, "am-gas")])
    with open(spool / "raw.warc.gz", "r+b") as fh:
        fh.truncate(30)
    repair = repair_spool(spool)
    assert (repair.articles, repair.dropped_rows) == (0, 1)
    assert not (spool / "raw.warc.gz").exists()


def test_spool_run_id_reads_the_first_whole_row(tmp_path: Path) -> None:
    assert spool_run_id(write_spool(tmp_path / "a", [article(RUN_1, "am-gas")])) == RUN_1
    rejects_only = write_spool(tmp_path / "b", [], [reject(RUN_1, "am-tag")])
    assert spool_run_id(rejects_only) == RUN_1
    assert spool_run_id(write_spool(tmp_path / "c", [])) is None
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "articles.jsonl").write_bytes(b'{"url": "half')
    assert spool_run_id(tmp_path / "d") is None
