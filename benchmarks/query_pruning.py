"""Query pruning on a big lake: a one-source one-week query against the full scan (by hand).

    python -m benchmarks.query_pruning [--rows 1000000] [--lake DIR] [--rebuild] [--repeats 3]

The lake: `--sources` outlets (20) x 36 months (2023-01 .. 2025-12) of synthetic normalized
articles (schemas.normalize_article: ids, content hashes and word counts as a crawl makes
them), bodies of 3-8 paragraphs of 30-70 words in each outlet's script (Latin, Cyrillic,
Armenian, Georgian), one crawl run per outlet and month landing that month's articles plus
the previous month's late ones, 2% of the articles re-parsed into a second version by the next
month's run, 1% undated. The first run of every outlet goes through the real landing path
(a spool JSONL handed to lake.writer.land_spool); the other runs are written, for speed, with
the writer's own pieces (article_partition, parquet_bytes, the same keys, build_manifest and
write_manifest). The lake is kept in --lake (default: the temp folder) and reused by later
runs with the same --rows and --sources; --rebuild starts over.

Then each query runs --repeats times (the median is shown; the page cache is warm after the
first round), timed from opening the connection (reading the run manifests) to the result:

  full scan        every article of every outlet: SELECT language, count(*), sum(length(body))
  week, articles   the same aggregate for one outlet and one week, plain SQL on `articles`
  week, versions   the same on `article_versions` (a published_at filter reaches the scan;
                   it counts each version, re-parsed articles twice)
  week, window     connect(source_ids=[outlet], since=, until=) then plain SQL on `articles`

Files opened are counted by lake.datasets.ReadRecordingStore (pyarrow's reads, file by file);
the ratio is the full scan's seconds over the query's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks._common import table, timed
from lake import connect, land_spool, open_store, read_manifests
from lake.datasets import ReadRecordingStore
from lake.manifest import build_manifest, write_manifest
from lake.writer import MAX_ROWS_PER_FILE, parquet_bytes
from schemas import ARTICLE_SCHEMA, article_partition, normalize_article, to_jsonable

MONTHS = [(year, month) for year in (2023, 2024, 2025) for month in range(1, 13)]
EXTRACTOR = "benchmark-synthetic/1"
LATE = 0.03  # share of a month's articles landed by the next month's run
REPARSED = 0.02  # share that get a second version in the next month's run
UNDATED = 0.01
SCRIPTS = {
    "en": "abcdefghijklmnopqrstuvwxyz",
    "ru": "абвгдежзийклмнопрстуфхцчшщыьэюя",
    "hy": "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ",
    "ka": "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
    "az": "abcçdeəfgğhxıijkqlmnoöprsştuüvyz",
}
LANGUAGES = list(SCRIPTS)
WEEK_START = datetime(2024, 6, 10, tzinfo=UTC)
WEEK = timedelta(days=7)


def source_id(index: int) -> str:
    return f"outlet-{index:02d}"


def _vocabulary(rng: random.Random, letters: str) -> list[str]:
    words = ["".join(rng.choices(letters, k=rng.randint(2, 11))) for _ in range(6000)]
    return words[:300] * 20 + words  # frequent words recur, as in prose


def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


class _Outlet:
    """Deterministic synthetic articles of one outlet."""

    def __init__(self, index: int) -> None:
        self.id = source_id(index)
        self.rng = random.Random(index)
        self.language = LANGUAGES[index % len(LANGUAGES)]
        self.words = _vocabulary(self.rng, SCRIPTS[self.language])
        self.authors = [self._text(2).title() for _ in range(40)]
        self.sections = [self._text(1).title() for _ in range(12)]

    def _text(self, words: int) -> str:
        return " ".join(self.rng.choices(self.words, k=words))

    def article(self, n: int, published: datetime | None, run_id: str) -> dict[str, Any]:
        rng = self.rng
        url = f"https://{self.id}.example/{self.language}/news/{n}/"
        fetched = (published or datetime(2023, 1, 1, tzinfo=UTC)) + timedelta(
            minutes=rng.randint(5, 600)
        )
        body = "\n\n".join(
            self._text(rng.randint(30, 70)).capitalize() + "." for _ in range(rng.randint(3, 8))
        )
        return {
            "url": url,
            "canonical_url": url,
            "source_id": self.id,
            "title": self._text(rng.randint(6, 12)).capitalize(),
            "subtitle": self._text(rng.randint(12, 25)) if rng.random() < 0.6 else None,
            "authors": rng.sample(self.authors, rng.randint(1, 2)),
            "published_at": published,
            "published_at_source": "jsonld" if published else "none",
            "published_at_raw": published.isoformat() if published else None,
            "language": self.language,
            "language_declared": self.language,
            "language_detected": self.language,
            "section": rng.choice(self.sections),
            "tags": [self._text(1) for _ in range(rng.randint(1, 4))],
            "body": body,
            "images": [
                {"url": f"{url}img-{i}.jpg", "caption": self._text(8), "credit": None}
                for i in range(rng.randint(0, 2))
            ],
            "fetched_at": fetched,
            "crawl_run_id": run_id,
            "extractor": EXTRACTOR,
            "discovered_via": "sitemap",
            "http_status": 200,
        }


def _run_id(year: int, month: int, outlet: int) -> str:
    end = _month_bounds(year, month)[1]
    return f"{end:%Y%m%dT%H%M%SZ}-bench{outlet:02d}"


def _runs(outlet: _Outlet, index: int, per_month: int) -> Iterator[tuple[str, list[dict]]]:
    """(run id, normalized rows) of each monthly run of one outlet, oldest first."""
    rng = outlet.rng
    carried: list[tuple[int, datetime | None]] = []  # late articles of the previous month
    reparse: list[dict[str, Any]] = []
    n = 0
    for year, month in MONTHS:
        run_id = _run_id(year, month, index)
        start, end = _month_bounds(year, month)
        seconds = int((end - start).total_seconds())
        rows = []
        for number, published in carried:
            rows.append(normalize_article(outlet.article(number, published, run_id)))
        for fields in reparse:  # a re-parse: same page and date, another title
            fields = dict(fields, crawl_run_id=run_id, title=fields["title"] + " (updated)")
            rows.append(normalize_article(fields))
        carried, reparse = [], []
        for _ in range(per_month):
            n += 1
            draw = rng.random()
            published = (
                None if draw < UNDATED else start + timedelta(seconds=rng.randrange(seconds))
            )
            if draw > 1 - LATE:
                carried.append((n, published))
                continue
            fields = outlet.article(n, published, run_id)
            rows.append(normalize_article(fields))
            if rng.random() < REPARSED:
                reparse.append(fields)
        yield run_id, rows


def _land_spool(store: Any, folder: Path, run_id: str, source: str, rows: list[dict]) -> None:
    """The real path: a spool JSONL as the spider writes it, landed by lake.writer."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(to_jsonable(row), ensure_ascii=False) + "\n")
    (folder / "stats.json").write_text(json.dumps({"fetched": len(rows)}), encoding="utf-8")
    land_spool(store, folder, run_id=run_id, source_id=source, extractor=EXTRACTOR)


def _write_run(store: Any, run_id: str, source: str, rows: list[dict]) -> None:
    """The bulk path: the writer's partitioning, file format, keys and manifest."""
    partitions: dict[tuple[tuple[str, str], ...], list[dict]] = {}
    for row in rows:
        partitions.setdefault(tuple(article_partition(row).items()), []).append(row)
    files, part = [], 0
    for pkey in sorted(partitions):
        chunk = partitions[pkey]
        for offset in range(0, len(chunk), MAX_ROWS_PER_FILE):
            data = pa.Table.from_pylist(
                chunk[offset : offset + MAX_ROWS_PER_FILE], schema=ARTICLE_SCHEMA
            ).sort_by([("published_at", "ascending"), ("article_id", "ascending")])
            body = parquet_bytes(data)
            folder = "/".join(f"{k}={v}" for k, v in pkey)
            key = f"articles/{folder}/part-{run_id}-{part}.parquet"
            part += 1
            store.put(key, body)
            files.append(
                {
                    "key": key,
                    "dataset": "articles",
                    "rows": data.num_rows,
                    "bytes": len(body),
                    "partition": dict(pkey),
                }
            )
    started = datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    manifest = build_manifest(
        run_id=run_id,
        source_id=source,
        flow="crawl",
        status="committed",
        started_at=started,
        finished_at=started + timedelta(minutes=5),
        extractor=EXTRACTOR,
        counts={"fetched": len(rows), "landed": len(rows)},
        files=files,
    )
    write_manifest(store, manifest)


def _build_outlet(job: tuple[str, int, int, str]) -> tuple[int, int, int]:
    """Land all runs of one outlet; returns (rows, rows through land_spool, runs)."""
    lake, index, per_month, spools = job
    store = open_store(lake)
    outlet = _Outlet(index)
    total = real = runs = 0
    for run_id, rows in _runs(outlet, index, per_month):
        if runs == 0:
            _land_spool(store, Path(spools) / run_id / outlet.id, run_id, outlet.id, rows)
            real += len(rows)
        else:
            _write_run(store, run_id, outlet.id, rows)
        total += len(rows)
        runs += 1
    return total, real, runs


def build(lake: Path, rows: int, sources: int, workers: int) -> dict[str, Any]:
    per_month = max(1, round(rows / sources / len(MONTHS)))
    with tempfile.TemporaryDirectory(prefix="bench-spools-") as spools:
        jobs = [(str(lake), i, per_month, spools) for i in range(sources)]
        with timed() as t, multiprocessing.Pool(workers) as pool:
            done = pool.map(_build_outlet, jobs, chunksize=1)
    return {
        "rows": sum(d[0] for d in done),
        "rows_real_path": sum(d[1] for d in done),
        "runs": sum(d[2] for d in done),
        "runs_real_path": sources,
        "seconds": round(t.seconds, 1),
        "per_month": per_month,
        "sources": sources,
    }


AGGREGATE = "SELECT language, count(*) AS n, sum(length(body)) AS chars FROM {view}"
WHERE_WEEK = (
    " WHERE source_id = '{source}' AND published_at >= TIMESTAMPTZ '{t0}'"
    " AND published_at < TIMESTAMPTZ '{t1}'"
)


def _measure(
    store: ReadRecordingStore, sql: str, repeats: int, **window: Any
) -> tuple[float, int, list[Any]]:
    """(median seconds, distinct files opened, result) of connect + query."""
    times, opened, result = [], 0, []
    for _ in range(repeats):
        store.reset()
        with timed() as t:
            con = connect(store, **window)
            result = con.execute(sql + " GROUP BY 1 ORDER BY 1").fetchall()
            con.close()
        times.append(t.seconds)
        opened = len(set(store.opened))
    return statistics.median(times), opened, result


def measure(lake: Path, source: str, repeats: int) -> list[list[Any]]:
    store = ReadRecordingStore(open_store(str(lake)))
    manifests = read_manifests(store)
    all_files = {f["key"] for m in manifests for f in m["files"] if f["dataset"] == "articles"}
    source_files = {k for k in all_files if k.startswith(f"articles/source_id={source}/")}
    week = WHERE_WEEK.format(
        source=source, t0=WEEK_START.isoformat(), t1=(WEEK_START + WEEK).isoformat()
    )
    variants = [
        ("full scan", AGGREGATE.format(view="articles"), {}),
        ("week, articles", AGGREGATE.format(view="articles") + week, {}),
        ("week, versions", AGGREGATE.format(view="article_versions") + week, {}),
        (
            "week, window",
            AGGREGATE.format(view="articles") + week,
            {"source_ids": [source], "since": WEEK_START, "until": WEEK_START + WEEK},
        ),
    ]
    rows, baseline = [], 0.0
    results = {}
    for name, sql, window in variants:
        seconds, opened, result = _measure(store, sql, repeats, **window)
        results[name] = result
        baseline = baseline or seconds
        matched = sum(r[1] for r in result)
        rows.append([name, matched, opened, seconds, baseline / seconds])
    # article_versions also counts the second versions of re-parsed articles.
    if results["week, articles"] != results["week, window"]:
        raise SystemExit(f"the week's queries disagree: {results}")
    print(
        f"lake: {len(all_files)} article files, {len(source_files)} of {source};"
        f" week {WEEK_START:%Y-%m-%d} + 7 days; median of {repeats}"
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.query_pruning",
        description="One-source one-week query vs the full scan on a big synthetic lake.",
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="articles (default 1e6)")
    parser.add_argument("--sources", type=int, default=20, help="outlets (default 20)")
    parser.add_argument("--lake", type=Path, help="lake folder (default: in the temp folder)")
    parser.add_argument("--rebuild", action="store_true", help="build the lake again")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each query (median)")
    parser.add_argument("--workers", type=int, default=2, help="processes building the lake")
    parser.add_argument("--source", default=source_id(7), help="the outlet of the week query")
    args = parser.parse_args(argv)

    lake = args.lake or Path(tempfile.gettempdir()) / f"newslake-bench-query-{args.rows}"
    marker = lake.with_name(lake.name + ".built.json")
    built = json.loads(marker.read_text()) if marker.exists() and not args.rebuild else None
    if built and (built["requested"], built["sources"]) != (args.rows, args.sources):
        built = None
    if built is None:
        if lake.exists():
            import shutil

            shutil.rmtree(lake)
        lake.mkdir(parents=True)
        print(f"building {args.rows} rows into {lake} ...", file=sys.stderr, flush=True)
        built = build(lake, args.rows, args.sources, args.workers) | {"requested": args.rows}
        marker.write_text(json.dumps(built))
    print(
        f"lake {lake}: {built['rows']} rows, {built['sources']} outlets x {len(MONTHS)} months,"
        f" {built['runs']} runs ({built['runs_real_path']} runs, {built['rows_real_path']} rows"
        f" through land_spool; the rest with the writer's functions), built in"
        f" {built['seconds']} s"
    )
    rows = measure(lake, args.source, args.repeats)
    print(table(["query", "rows", "files opened", "seconds", "× faster"], rows))


if __name__ == "__main__":
    main()
