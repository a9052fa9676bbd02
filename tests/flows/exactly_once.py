"""SIGKILL `newslake crawl` / `newslake backfill` at random points, rerun, check exactly once.

A synthetic WordPress outlet of 1,000 articles (newslake.synthetic_site, 40 a day over 25
days) is served on 127.0.0.1. The real command runs as a user would run it, in a process group
of its own (the CLI, Prefect and the crawl subprocess), and the whole group is killed with
SIGKILL at points drawn by a seeded random generator, in three phases:

- `crawl`: once the run's spool holds k article lines (k random);
- `landing`: as soon as a data file without a manifest appears in the lake (the run's own
  landing, or the landing of a killed run's spool that the run does first);
- `committed`: as soon as the run's manifest is in the lake (for a backfill: a day's
  manifest, before the day's marker), before the run cleans up or saves its validators.

After each kill the command runs again; after the last one it runs to its end. Then the lake
must hold each of the site's articles exactly once: in the `articles` and `article_versions`
views, and in the raw Parquet files the committed manifests list; every killed run either
committed before the kill or was landed from its spool by the next run (`recovered` in its
manifest's details), exactly the runs observed at the kills; no spool folder is left; the
orphan files of the killed landings are invisible, and the vacuum deletes them.

Used by tests/flows/test_exactly_once.py (five kills each) and, for longer runs, by hand:

    python tests/flows/exactly_once.py [--kills 20] [--seed N] [--backfill] [--server] [--keep DIR]

By hand the commands use Prefect's ephemeral API, as a user's would (`--server` starts one
Prefect server for all of them, which is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pyarrow.parquet as pq  # noqa: E402

from lake import connect, open_store, read_manifests  # noqa: E402
from lake.backfill import finished_days  # noqa: E402
from lake.compact import vacuum_source  # noqa: E402
from lake.lease import lease_key  # noqa: E402
from lake.manifest import committed_entries  # noqa: E402
from newslake.site_server import SiteServer  # noqa: E402
from newslake.synthetic_site import write_site  # noqa: E402
from schemas import article_id  # noqa: E402

SOURCE = "synthetic-news"
ARTICLES = 1000
PER_DAY = 40
SINCE = date(2024, 1, 1)
UNTIL = SINCE + timedelta(days=ARTICLES // PER_DAY - 1)  # 25 days
PHASES = ("crawl", "landing", "committed")
# Loopback fixture: no politeness delay, eight requests in flight.
FAST = (
    "AUTOTHROTTLE_ENABLED=false",
    "DOWNLOAD_DELAY=0",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "NEWSLAKE_RETRY_BACKOFF=0",
)
POLL = 0.002  # seconds between looks at the spool and the lake
RUN_TIMEOUT = 240.0


@dataclass
class Kill:
    number: int
    planned: str  # crawl | landing | committed
    target: str  # k lines, a day...
    run_id: str | None = None  # the killed invocation's run
    observed: str = ""  # what the lake and the spool showed right after the kill
    seconds: float = 0.0
    committed: set[str] = field(default_factory=set)  # its runs with a manifest at the kill

    def line(self) -> str:
        return (
            f"kill {self.number}: planned {self.planned} ({self.target}), run {self.run_id},"
            f" after {self.seconds:.1f} s: {self.observed}"
        )


@dataclass
class Outcome:
    seed: int
    kills: list[Kill]
    recovered: set[str]
    figures: dict[str, Any] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"seed {self.seed} (NEWSLAKE_KILL_SEED={self.seed} reproduces the kill points)"]
        lines += [k.line() for k in self.kills]
        lines += [f"{name}: {value}" for name, value in self.figures.items()]
        return "\n".join(lines)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


class _LineCounter:
    """Whole lines of a growing file, reading only what was appended since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.count = 0

    def __call__(self) -> int:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return self.count
        self.offset += len(data)
        self.count += data.count(b"\n")
        return self.count


def _group_alive(pgid: int) -> list[int]:
    """Processes of group `pgid` still running (zombies are finished, only not reaped)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


def _run_id_of(root: Path) -> str:
    # newslake-<run_id>-<mkdtemp suffix, which has no '-'>
    return root.name.removeprefix("newslake-").rsplit("-", 1)[0]


def _file_run_id(name: str) -> str | None:
    """The run id in a data file's name: part-<run_id>-<n>.parquet or <run_id>.warc.gz."""
    if name.startswith("part-") and name.endswith(".parquet"):
        return name.removeprefix("part-").removesuffix(".parquet").rsplit("-", 1)[0]
    if name.endswith(".warc.gz"):
        return name.removesuffix(".warc.gz")
    return None


class KillHarness:
    """The site, the lake and the spool folder of one kill test; runs and kills the CLI."""

    def __init__(
        self,
        work: Path,
        *,
        seed: int,
        prefect_api: str | None,
        articles: int = ARTICLES,
        log: Callable[[str], None] = print,
    ) -> None:
        self.work = Path(work)
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log
        self.articles = articles
        site = write_site(self.work / "site", articles, per_day=PER_DAY, source_id=SOURCE)
        self.server = SiteServer(site.site_dir).start()
        self.urls = site.urls(self.server.base_url)
        self.sources = self.work / "sources.yaml"
        text = site.sources_file.read_text("utf-8").replace("{{BASE}}", self.server.base_url)
        self.sources.write_text(text, "utf-8")
        self.lake = self.work / "lake"
        self.spools = self.work / "spool"
        self.spools.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["NEWSLAKE_SPOOL_DIR"] = str(self.spools)
        env["NEWSLAKE_DEBUG"] = "1"
        env.pop("PREFECT_API_URL", None)
        if prefect_api:
            env["PREFECT_API_URL"] = prefect_api
        else:  # the ephemeral API, in a Prefect home of this test's own
            env["PREFECT_HOME"] = str(self.work / "prefect-home")
        self.env = env
        self.invocations = 0

    def close(self) -> None:
        self.server.stop()

    # -- the command --------------------------------------------------------------------

    def command(self, backfill: bool) -> list[str]:
        script = shutil.which("newslake")
        head = (
            [script] if script else [sys.executable, "-c", "from newslake.cli import main; main()"]
        )
        if backfill:
            what = ["backfill", "--source", SOURCE, "--since", str(SINCE), "--until", str(UNTIL)]
        else:
            what = ["crawl"]
        options = [a for s in FAST for a in ("--setting", s)]
        return [
            *head,
            *what,
            "--sources-file",
            str(self.sources),
            "--lake",
            str(self.lake),
            *options,
        ]

    def _start(self, backfill: bool) -> tuple[subprocess.Popen[bytes], Path]:
        self.invocations += 1
        log_path = self.work / f"{'backfill' if backfill else 'crawl'}-{self.invocations}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                self.command(backfill),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,  # its own process group: the CLI, Prefect, the crawl
            )
        return process, log_path

    def _roots(self) -> set[Path]:
        return set(self.spools.glob("newslake-*"))

    def _kill_group(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while alive := _group_alive(process.pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"processes {alive} of the killed group outlived SIGKILL")
            time.sleep(0.05)

    def _watch(
        self,
        process: subprocess.Popen[bytes],
        log_path: Path,
        trigger: Callable[[str | None], str | None],
        planned: str,
    ) -> tuple[str | None, str]:
        """Poll until `trigger(run_id)` says why to kill, then SIGKILL the group."""
        before = self._roots()
        started = time.monotonic()
        run_id: str | None = None
        while True:
            if run_id is None:
                new = self._roots() - before
                if new:
                    run_id = _run_id_of(max(new))
            why = trigger(run_id)
            if why is not None:
                self._kill_group(process)
                return run_id, why
            if process.poll() is not None:
                tail = log_path.read_text("utf-8", errors="replace")[-3000:]
                raise AssertionError(
                    f"seed {self.seed}: the run ended (exit {process.returncode}) before the"
                    f" planned kill point ({planned}); log {log_path}:\n{tail}"
                )
            if time.monotonic() - started > RUN_TIMEOUT:
                self._kill_group(process)
                raise AssertionError(f"seed {self.seed}: no kill point ({planned}) in time")
            time.sleep(POLL)

    def run_to_end(self, backfill: bool) -> tuple[str, float]:
        process, log_path = self._start(backfill)
        started = time.monotonic()
        try:
            process.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill_group(process)
            raise AssertionError(f"seed {self.seed}: the final run did not end") from None
        output = log_path.read_text("utf-8", errors="replace")
        if process.returncode != 0:
            raise AssertionError(
                f"seed {self.seed}: the final run exited {process.returncode}:\n{output[-4000:]}"
            )
        return output, time.monotonic() - started

    # -- what the lake and the spools show -------------------------------------------------

    def manifest_path(self, run_id: str) -> Path:
        return self.lake / "runs" / run_id / f"{SOURCE}.json"

    def uncommitted(self, prefix: str = "") -> dict[tuple[str, int], str]:
        """Data files in the lake that no manifest commits (yet): (path, inode) -> run id.

        The inode tells a file written anew (a landing writes by rename) from one a killed
        landing left: a recovery rewrites the same names.
        """
        found = {}
        folders = [self.lake / "raw" / f"source_id={SOURCE}"]
        articles = self.lake / "articles" / f"source_id={SOURCE}"
        if articles.is_dir():
            folders += [p for p in articles.iterdir() if p.is_dir()]
        for folder in folders:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                run = _file_run_id(entry.name)
                if run and run.startswith(prefix) and not self.manifest_path(run).exists():
                    try:
                        found[(entry.path, entry.inode())] = run
                    except OSError:
                        continue
        return found

    def landing_trigger(self, prefix: str = "") -> Callable[[], str | None]:
        """Fires when a landing writes a data file that no manifest commits yet."""
        left = set(self.uncommitted(prefix))  # by killed landings before this run

        def fired() -> str | None:
            new = {run for key, run in self.uncommitted(prefix).items() if key not in left}
            return f"uncommitted files of {', '.join(sorted(new))}" if new else None

        return fired

    def pending_lines(self) -> int:
        """Article lines in spools that killed runs left (the next run lands them first)."""
        return sum(_lines(p) for p in self.spools.glob("newslake-*/*/articles.jsonl"))

    def landed_ids(self) -> set[str]:
        store = open_store(str(self.lake))
        ids: set[str] = set()
        manifests = read_manifests(store, source_ids=[SOURCE])
        for entry in committed_entries(manifests, "articles"):
            table = pq.read_table(self.lake / entry["key"], columns=["article_id"])
            ids.update(table.column("article_id").to_pylist())
        return ids

    def spooled_unlanded(self, root: Path) -> dict[str, int]:
        """For a killed run's root: run id -> whole article lines, of spools with no manifest."""
        out = {}
        for spool in root.iterdir() if root.exists() else []:
            articles = spool / "articles.jsonl"
            if not articles.exists():
                continue
            with open(articles, "rb") as fh:
                first = fh.readline()
            if not first.endswith(b"\n"):
                continue
            run = json.loads(first)["crawl_run_id"]
            if not self.manifest_path(run).exists():
                out[run] = _lines(articles)
        return out

    # -- the kill sequences ----------------------------------------------------------------

    def plan(self, kills: int) -> list[str]:
        """Every phase at least once, the rest drawn at random."""
        phases = list(PHASES) + self.rng.choices(PHASES, k=max(kills - len(PHASES), 0))
        return phases[:kills]

    def crawl_kills(self, kills: int) -> Outcome:
        # A crawl holds the whole site: phases in the order a crawl goes through them, since a
        # landing or a commit leaves nothing for a later kill to interrupt mid-crawl.
        phases = sorted(self.plan(kills), key=PHASES.index)
        done: list[Kill] = []
        recovered: set[str] = set()
        for number, phase in enumerate(phases, 1):
            left = self.articles - len(self.landed_ids()) - self.pending_lines()
            k = self.rng.randint(1, max(1, left // 3))
            kill = Kill(number, phase, f"{k} lines" if phase == "crawl" else "")
            landing = self.landing_trigger()
            process, log_path = self._start(backfill=False)
            started = time.monotonic()
            spool_lines: dict[str, _LineCounter] = {}

            def trigger(
                run_id: str | None,
                phase: str = phase,
                k: int = k,
                spool_lines: dict[str, _LineCounter] = spool_lines,
                landing: Callable[[], str | None] = landing,
            ) -> str | None:
                if run_id is None:
                    return None
                if phase == "crawl":
                    roots = [r for r in self._roots() if _run_id_of(r) == run_id]
                    if not roots:
                        return None
                    counter = spool_lines.setdefault(
                        run_id, _LineCounter(roots[0] / SOURCE / "articles.jsonl")
                    )
                    return f"{counter()} lines spooled" if counter() >= k else None
                if phase == "landing":
                    return landing()
                return "manifest committed" if self.manifest_path(run_id).exists() else None

            kill.run_id, why = self._watch(process, log_path, trigger, phase)
            kill.seconds = time.monotonic() - started
            kill.observed = self._observe(kill, why, recovered)
            self.log(kill.line())
            done.append(kill)
        return Outcome(self.seed, done, recovered)

    def backfill_kills(self, kills: int) -> Outcome:
        phases = self.plan(kills)
        self.rng.shuffle(phases)
        days = sorted(self.rng.sample(range((UNTIL - SINCE).days + 1), kills))
        done: list[Kill] = []
        recovered: set[str] = set()
        for number, (phase, offset) in enumerate(zip(phases, days, strict=True), 1):
            day = SINCE + timedelta(days=offset)
            k = self.rng.randint(1, PER_DAY - 5)
            target = f"day {day}" + (f", {k} lines" if phase == "crawl" else "")
            kill = Kill(number, phase, target)
            landing = self.landing_trigger()
            process, log_path = self._start(backfill=True)
            started = time.monotonic()
            counters: dict[Path, _LineCounter] = {}

            def trigger(
                run_id: str | None,
                phase: str = phase,
                day: date = day,
                k: int = k,
                counters: dict[Path, _LineCounter] = counters,
                landing: Callable[[], str | None] = landing,
            ) -> str | None:
                if run_id is None:
                    return None
                prefix = f"{run_id}-{day:%Y%m%d}-"
                if phase == "crawl":
                    spools = [r / day.isoformat() for r in self._roots() if _run_id_of(r) == run_id]
                    if not spools:
                        return None
                    counter = counters.setdefault(
                        spools[0], _LineCounter(spools[0] / "articles.jsonl")
                    )
                    return f"{counter()} lines spooled" if counter() >= k else None
                if phase == "landing":
                    why = landing()
                    return why if why and prefix in why else None
                runs = self.lake / "runs"
                committed = [p.name for p in runs.glob(f"{prefix}*")] if runs.exists() else []
                if any(self.manifest_path(r).exists() for r in committed):
                    return f"manifest of {committed[0]} committed"
                return None

            kill.run_id, why = self._watch(process, log_path, trigger, phase)
            kill.seconds = time.monotonic() - started
            kill.observed = self._observe(kill, why, recovered)
            marker = self.lake / "backfills" / f"source_id={SOURCE}" / f"{SINCE}_{UNTIL}"
            if phase == "committed":
                marked = (marker / f"{day}.json").exists()
                kill.observed += ", day marker " + ("written already" if marked else "not written")
            self.log(kill.line())
            done.append(kill)
        return Outcome(self.seed, done, recovered)

    def _observe(self, kill: Kill, why: str, recovered: set[str]) -> str:
        """After a kill: which runs' spools hold rows no manifest commits (to be recovered)."""
        run_id = kill.run_id
        runs = self.lake / "runs"
        if run_id is not None and runs.exists():
            kill.committed = {
                p.name for p in runs.glob(f"{run_id}*") if self.manifest_path(p.name).exists()
            }
        roots = [r for r in self._roots() if run_id is not None and _run_id_of(r) == run_id]
        waiting = {}
        for root in roots:
            waiting.update(self.spooled_unlanded(root))
        recovered.update(waiting)
        left = ", ".join(f"{r} ({n} lines)" for r, n in sorted(waiting.items()))
        return f"{why}; spooled, not committed: {left or 'nothing'}"

    # -- the verdict -------------------------------------------------------------------------

    def check(self, outcome: Outcome, *, backfill: bool) -> None:
        """Assert exactly once from the views and from the committed raw Parquet files."""
        seed = f"seed {self.seed}"
        expected_urls = set(self.urls)
        expected_ids = {article_id(u) for u in self.urls}
        con = connect(str(self.lake))
        per_url = dict(con.execute("SELECT url, count(*) FROM articles GROUP BY url").fetchall())
        lost = sorted(expected_urls - set(per_url))
        extra = sorted(set(per_url) - expected_urls)
        twice = sorted(u for u, n in per_url.items() if n != 1)
        assert (lost, extra, twice) == ([], [], []), (
            f"{seed}: articles view {lost=} {extra=} {twice=}"
        )
        versions = con.execute(
            "SELECT count(*), count(DISTINCT article_id),"
            " count(DISTINCT (article_id, content_hash)) FROM article_versions"
        ).fetchone()
        assert versions == (self.articles,) * 3, f"{seed}: article_versions {versions}"
        runs = con.execute(
            "SELECT run_id, status, landed, flow FROM runs ORDER BY started_at, run_id"
        ).fetchall()
        con.close()

        # The raw Parquet files the committed manifests list: each version in one row only.
        store = open_store(str(self.lake))
        manifests = read_manifests(store, source_ids=[SOURCE])
        rows: Counter[tuple[str, str]] = Counter()
        files = committed_entries(manifests, "articles")
        for entry in files:
            table = pq.read_table(self.lake / entry["key"], columns=["article_id", "content_hash"])
            rows.update(
                zip(
                    table.column("article_id").to_pylist(),
                    table.column("content_hash").to_pylist(),
                    strict=True,
                )
            )
        repeated = {key: n for key, n in rows.items() if n > 1}
        assert repeated == {}, f"{seed}: versions in more than one committed row: {repeated}"
        assert {a for a, _ in rows} == expected_ids, f"{seed}: committed Parquet ids differ"
        assert sum(rows.values()) == self.articles

        # Runs: all committed; the recovered ones exactly those whose spool the kills left.
        assert [r for r in runs if r[1] != "committed"] == [], f"{seed}: {runs}"
        assert sum(r[2] for r in runs) == self.articles, f"{seed}: landed per run {runs}"
        flagged = {m["run_id"] for m in manifests if m.get("details", {}).get("recovered")}
        assert flagged == outcome.recovered, f"{seed}: recovered {flagged} != {outcome.recovered}"
        # A killed run commits nothing after its kill, except what a later run recovered.
        for kill in outcome.kills:
            assert kill.run_id is not None
            mine = {m["run_id"] for m in manifests if m["run_id"].startswith(kill.run_id)}
            expected = kill.committed | {r for r in outcome.recovered if r.startswith(kill.run_id)}
            assert mine == expected, f"{seed}: kill {kill.number}: runs {mine} != {expected}"
        flows = {r[3] for r in runs}
        assert flows == {"backfill" if backfill else "crawl"}, f"{seed}: flows {flows}"

        if backfill:
            marked = sorted(finished_days(store, SOURCE, SINCE, UNTIL))
            every_day = [SINCE + timedelta(days=n) for n in range((UNTIL - SINCE).days + 1)]
            assert marked == every_day, f"{seed}: day markers {marked}"

        # Nothing left behind: no spool folder, no lease; killed landings' files invisible,
        # then vacuumed (grace 0: nothing is landing now).
        assert list(self.spools.iterdir()) == [], (
            f"{seed}: spools left {list(self.spools.iterdir())}"
        )
        assert not store.exists(lease_key(SOURCE)), f"{seed}: lease left behind"
        listed = {e["key"] for m in manifests for e in m["files"]}
        on_disk = {
            k
            for d in ("articles", "rejects", "raw")
            for k in store.list(f"{d}/source_id={SOURCE}/")
        }
        orphans = sorted(on_disk - listed)
        vacuumed = vacuum_source(store, SOURCE, grace=timedelta(0), now=datetime.now(UTC))
        assert sorted(vacuumed.orphans_deleted) == orphans, f"{seed}: vacuum {vacuumed}"
        con = connect(str(self.lake))
        after = con.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
        con.close()
        assert after == (self.articles, self.articles), f"{seed}: after the vacuum {after}"

        requested = Counter(
            urlsplit(p).path for p in self.server.paths() if urlsplit(p).path.startswith("/news/")
        )
        outcome.figures.update(
            {
                "runs (manifests)": len(runs),
                "recovered runs": len(flagged),
                "committed article files": len(files),
                "orphan files of killed landings (vacuumed)": len(orphans),
                "article requests": sum(requested.values()),
                "article pages requested more than once": sum(
                    1 for n in requested.values() if n > 1
                ),
            }
        )


def run(
    work: Path,
    *,
    backfill: bool,
    kills: int,
    seed: int,
    prefect_api: str | None,
    log: Callable[[str], None] = print,
) -> Outcome:
    """Kill `kills` times, run to the end, check; returns the outcome (raises on a failure)."""
    harness = KillHarness(work, seed=seed, prefect_api=prefect_api, log=log)
    try:
        started = time.monotonic()
        outcome = harness.backfill_kills(kills) if backfill else harness.crawl_kills(kills)
        _, final_seconds = harness.run_to_end(backfill)
        harness.check(outcome, backfill=backfill)
        outcome.figures["final run"] = f"{final_seconds:.0f} s"
        outcome.figures["total"] = f"{time.monotonic() - started:.0f} s"
        return outcome
    finally:
        harness.close()


def seed_from_env() -> int:
    text = os.environ.get("NEWSLAKE_KILL_SEED")
    return int(text) if text else random.SystemRandom().randrange(2**31)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--backfill", action="store_true", help="kill a backfill, not a crawl")
    parser.add_argument("--server", action="store_true", help="one Prefect server for all runs")
    parser.add_argument("--keep", type=Path, help="folder for the site, lake and logs (kept)")
    args = parser.parse_args()
    if args.kills < len(PHASES):
        parser.error(f"--kills must be at least {len(PHASES)} (one per phase)")
    seed = args.seed if args.seed is not None else seed_from_env()
    work = args.keep or Path(tempfile.mkdtemp(prefix="newslake-kills-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"seed {seed}; work folder {work}", flush=True)

    def log(text: str) -> None:
        print(text, flush=True)

    def go(api: str | None) -> Outcome:
        return run(
            work, backfill=args.backfill, kills=args.kills, seed=seed, prefect_api=api, log=log
        )

    if args.server:
        from newslake.prefect_server import local_prefect_server

        with local_prefect_server(work / "prefect-server.log") as api:
            outcome = go(api)
    else:
        outcome = go(None)
    print(outcome.report())
    print("exactly once: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
