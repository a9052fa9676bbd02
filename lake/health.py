"""Per-source health over a window of days: discovered vs landed, completeness, rejects, gaps.

Everything is counted by the day (UTC) its *run* started, read from the `runs` view: a run's
`discovered` and `landed` counters, the article versions it landed (`article_versions` joined
on `crawl_run_id`) and the rejects it wrote (`rejects` joined the same way). Counting by the
run keeps "discovered vs landed" consistent: both come from the same runs, whatever date the
articles carry.

Definitions (README, "Source health"):
- attempted = discovered - skipped_landed - held_back: the URLs a run set out to fetch, i.e.
  what its feeds and sitemaps listed that the lake did not already have, less what it held
  back on purpose (listed outside a backfill's window, or over the per-run article cap).
  landed ratio = landed / attempted over the window (no verdict when nothing was attempted).
- completeness of the versions landed in the window, per field:
    title         not blank, and not shared with another article of the source in the window
                  (a repeated "title" is the site's name or a section heading, not a headline);
    body          at least `min_body_words` words (default 20);
    published_at  not null;
    language      detected in the text or declared by the page (not only the source's
                  fallback language).
- a zero-article day is a day of the window, on or after the source's first run ever, on
  which its runs landed nothing (or it had no run at all).

Thresholds have defaults, overridable per source by a YAML file (load_thresholds).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from lake.errors import LakeError
from lake.manifest import read_manifests
from lake.query import connect
from lake.store import Store, open_store

FIELDS = ("title", "body", "published_at", "language")
DEFAULT_DAYS = 14


class ThresholdsError(LakeError):
    """A thresholds file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Thresholds:
    """What a healthy source reaches over the window."""

    min_completeness: Mapping[str, float] = field(
        default_factory=lambda: dict.fromkeys(FIELDS, 0.9)
    )
    min_body_words: int = 20
    max_zero_days: int = 2
    min_landed_ratio: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_completeness": dict(self.min_completeness),
            "min_body_words": self.min_body_words,
            "max_zero_days": self.max_zero_days,
            "min_landed_ratio": self.min_landed_ratio,
        }


@dataclass(frozen=True)
class ThresholdsConfig:
    """Defaults plus per-source overrides."""

    defaults: Thresholds = field(default_factory=Thresholds)
    sources: Mapping[str, Thresholds] = field(default_factory=dict)

    def for_source(self, source_id: str) -> Thresholds:
        return self.sources.get(source_id, self.defaults)


_KEYS = {f.name for f in fields(Thresholds)}


def _ratio(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


def _completeness(value: Any, base: Thresholds, at: str, problems: list[str]) -> dict[str, float]:
    """One ratio for every field, or a mapping of some fields to their ratios."""
    if not isinstance(value, dict):
        return dict.fromkeys(FIELDS, _ratio(value))
    merged = dict(base.min_completeness)
    for name, ratio in value.items():
        if name not in FIELDS:
            problems.append(f"{at}: unknown field {name!r} (expected {', '.join(FIELDS)})")
            continue
        try:
            merged[name] = _ratio(ratio)
        except ValueError as exc:
            problems.append(f"{at}: {name}: {exc}")
    return merged


def _parse_thresholds(
    data: Any, base: Thresholds, where: str, problems: list[str]
) -> Thresholds | None:
    """`base` with the keys of the mapping `data` applied; problems appended one per line."""
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a mapping of thresholds, got {type(data).__name__}")
        return None
    changes: dict[str, Any] = {}
    for key, value in data.items():
        at = f"{where}: field {key!r}"
        if key not in _KEYS:
            problems.append(f"{at}: unknown key (expected one of {', '.join(sorted(_KEYS))})")
            continue
        try:
            if key == "min_completeness":
                changes[key] = _completeness(value, base, at, problems)
            elif key in ("min_body_words", "max_zero_days"):
                changes[key] = _count(value)
            else:
                changes[key] = _ratio(value)
        except ValueError as exc:
            problems.append(f"{at}: {exc}")
    return replace(base, **changes)


def parse_thresholds(data: Any, where: str = "thresholds") -> ThresholdsConfig:
    """Thresholds from a loaded YAML document:

    ```yaml
    defaults:                      # optional; anything left out keeps the built-in default
      min_completeness: 0.9        # one ratio for every field, or {title: 0.9, body: 0.8, ...}
      min_body_words: 20
      max_zero_days: 2
      min_landed_ratio: 0.5
    sources:                       # optional; per-source overrides of the defaults
      civil-ge: {max_zero_days: 4, min_completeness: {published_at: 0.5}}
    ```
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ThresholdsError([f"{where}: expected a mapping with 'defaults' and/or 'sources'"])
    problems: list[str] = [
        f"{where}: {key!r}: unknown key (expected 'defaults' or 'sources')"
        for key in data
        if key not in ("defaults", "sources")
    ]
    given = data.get("defaults")
    defaults = _parse_thresholds(
        {} if given is None else given, Thresholds(), f"{where}: defaults", problems
    )
    defaults = defaults or Thresholds()
    per_source: dict[str, Thresholds] = {}
    sources = data.get("sources")
    if sources is None:
        sources = {}
    if not isinstance(sources, dict):
        problems.append(f"{where}: sources: expected a mapping of source id to thresholds")
        sources = {}
    for source_id, overrides in sources.items():
        parsed = _parse_thresholds(
            overrides if overrides is not None else {},
            defaults,
            f"{where}: sources.{source_id}",
            problems,
        )
        if parsed is not None:
            per_source[str(source_id)] = parsed
    if problems:
        raise ThresholdsError(problems)
    return ThresholdsConfig(defaults, per_source)


def load_thresholds(path: str | os.PathLike[str] | None) -> ThresholdsConfig:
    """The thresholds of a YAML file (the defaults when `path` is None)."""
    if path is None:
        return ThresholdsConfig()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdsError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ThresholdsError([f"{path}: not valid YAML{at}: {problem}"]) from None
    return parse_thresholds(data, str(path))


@dataclass
class DayHealth:
    """One source on one day (by the day its runs started, UTC)."""

    day: date
    runs: int = 0
    failed_runs: int = 0
    discovered: int = 0
    skipped_landed: int = 0
    held_back: int = 0  # out of a backfill's window, or over the per-run cap
    landed: int = 0
    rejected: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    versions: int = 0  # article versions of the day's runs found in the lake
    complete: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    zero: bool = False

    @property
    def attempted(self) -> int:
        return max(self.discovered - self.skipped_landed - self.held_back, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "discovered": self.discovered,
            "skipped_landed": self.skipped_landed,
            "held_back": self.held_back,
            "attempted": self.attempted,
            "landed": self.landed,
            "rejected": self.rejected,
            "rejects": dict(self.rejects),
            "versions": self.versions,
            "complete": dict(self.complete),
            "zero": self.zero,
        }


@dataclass
class Check:
    """One threshold check; `value` is None when there is nothing to measure (then it passes)."""

    name: str  # zero_days | landed_ratio | completeness.<field>
    value: float | int | None
    limit: float | int
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "ok": self.ok,
            "detail": self.detail,
        }


@dataclass
class SourceHealth:
    source_id: str
    days: list[DayHealth]
    thresholds: Thresholds
    first_run: date | None
    checks: list[Check] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(d, name)) for d in self.days)

    @property
    def rejects(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for day in self.days:
            for reason, n in day.rejects.items():
                totals[reason] = totals.get(reason, 0) + n
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def zero_days(self) -> list[date]:
        return [d.day for d in self.days if d.zero]

    @property
    def landed_ratio(self) -> float | None:
        attempted = self.total("attempted")
        return self.total("landed") / attempted if attempted else None

    @property
    def completeness(self) -> dict[str, float | None]:
        versions = self.total("versions")
        if not versions:
            return dict.fromkeys(FIELDS)
        return {f: sum(d.complete[f] for d in self.days) / versions for f in FIELDS}

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "ok": self.ok,
            "first_run": self.first_run.isoformat() if self.first_run else None,
            "runs": self.total("runs"),
            "failed_runs": self.total("failed_runs"),
            "discovered": self.total("discovered"),
            "skipped_landed": self.total("skipped_landed"),
            "held_back": self.total("held_back"),
            "attempted": self.total("attempted"),
            "landed": self.total("landed"),
            "rejected": self.total("rejected"),
            "landed_ratio": self.landed_ratio,
            "completeness": self.completeness,
            "rejects": self.rejects,
            "zero_days": [d.isoformat() for d in self.zero_days],
            "thresholds": self.thresholds.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "days": [d.to_dict() for d in self.days],
        }


@dataclass
class HealthReport:
    lake: str
    since: date
    until: date
    sources: list[SourceHealth]
    # Per-source thresholds naming a source the report does not judge (a typo, or a source
    # left out by the selection): said, not silently ignored.
    unused_thresholds: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[SourceHealth]:
        return [s for s in self.sources if not s.ok]

    @property
    def days(self) -> list[date]:
        return _window(self.since, self.until)

    def problems(self) -> list[str]:
        """One line per failing check: '<source>: <what>'."""
        return [f"{s.source_id}: {c.detail}" for s in self.sources for c in s.failing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lake": self.lake,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "ok": not self.failing,
            "failing": [s.source_id for s in self.failing],
            "problems": self.problems(),
            "unused_thresholds": list(self.unused_thresholds),
            "sources": [s.to_dict() for s in self.sources],
        }


def _window(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


_RUN_DAYS = """
CREATE TEMP VIEW _health_runs AS
SELECT r.source_id, r.run_id, r.status,
       CAST(coalesce(r.started_at, r.finished_at) AS DATE) AS day,
       coalesce(r.discovered, 0) AS discovered,
       coalesce(r.skipped_landed, 0) AS skipped_landed,
       coalesce(h.held_back, 0) AS held_back,
       coalesce(r.landed, 0) AS landed,
       coalesce(r.rejected, 0) AS rejected
FROM runs AS r
LEFT JOIN _health_held_back AS h ON h.run_id = r.run_id AND h.source_id = r.source_id
"""

_RUNS_SQL = """
SELECT source_id, day, count(*), count(*) FILTER (WHERE status = 'failed'),
       sum(discovered), sum(skipped_landed), sum(held_back), sum(landed), sum(rejected)
FROM _health_runs WHERE day BETWEEN $since AND $until
GROUP BY ALL
"""

# Counters of candidates a run deliberately did not request: listed outside a backfill's
# window, or over the per-run article cap (requested by a later run). The runs view has no
# column for them, so they are read from the manifests.
HELD_BACK = ("out_of_window_hint", "capped")


def _held_back(manifests: Iterable[Mapping[str, Any]]) -> pa.Table:
    rows = [
        (
            m["run_id"],
            m["source_id"],
            sum(int((m.get("counts") or {}).get(c) or 0) for c in HELD_BACK),
        )
        for m in manifests
    ]
    return pa.table(
        {
            "run_id": [r[0] for r in rows],
            "source_id": [r[1] for r in rows],
            "held_back": [r[2] for r in rows],
        },
        schema=pa.schema(
            [("run_id", pa.string()), ("source_id", pa.string()), ("held_back", pa.int64())]
        ),
    )


_FIRST_RUN_SQL = "SELECT source_id, min(day) FROM _health_runs GROUP BY ALL"

_REJECTS_SQL = """
SELECT j.source_id, r.day, j.reason, count(*)
FROM rejects AS j
JOIN _health_runs AS r ON j.crawl_run_id = r.run_id AND j.source_id = r.source_id
WHERE r.day BETWEEN $since AND $until
GROUP BY ALL
"""

_VERSIONS_SQL = """
WITH v AS (
    SELECT a.source_id, r.day, a.article_id, a.title, a.word_count, a.published_at,
           a.language_detected, a.language_declared
    FROM article_versions AS a
    JOIN _health_runs AS r ON a.crawl_run_id = r.run_id AND a.source_id = r.source_id
    WHERE r.status = 'committed' AND r.day BETWEEN $since AND $until
),
titles AS (
    SELECT source_id, title, count(DISTINCT article_id) AS articles FROM v GROUP BY ALL
)
SELECT v.source_id, v.day, count(*),
       count(*) FILTER (WHERE length(trim(v.title)) > 0 AND t.articles = 1),
       count(*) FILTER (WHERE v.word_count >= b.min_words),
       count(*) FILTER (WHERE v.published_at IS NOT NULL),
       count(*) FILTER (WHERE v.language_detected IS NOT NULL
                           OR v.language_declared IS NOT NULL)
FROM v
JOIN titles AS t ON t.source_id = v.source_id AND t.title = v.title
JOIN _health_body AS b ON b.source_id = v.source_id
GROUP BY ALL
"""


def _checks(source: SourceHealth) -> list[Check]:
    limits = source.thresholds
    checks: list[Check] = []
    zero = source.zero_days
    shown = ", ".join(d.isoformat() for d in zero[:5]) + (", …" if len(zero) > 5 else "")
    checks.append(
        Check(
            "zero_days",
            len(zero),
            limits.max_zero_days,
            len(zero) <= limits.max_zero_days,
            f"{len(zero)} zero-article day(s) (at most {limits.max_zero_days})"
            + (f": {shown}" if zero else ""),
        )
    )
    ratio = source.landed_ratio
    landed, attempted = source.total("landed"), source.total("attempted")
    checks.append(
        Check(
            "landed_ratio",
            ratio,
            limits.min_landed_ratio,
            ratio is None or ratio >= limits.min_landed_ratio,
            "nothing attempted"
            if ratio is None
            else f"landed {landed} of {attempted} attempted URLs = {ratio:.2f}"
            f" (at least {limits.min_landed_ratio:.2f})",
        )
    )
    versions = source.total("versions")
    for name, value in source.completeness.items():
        limit = limits.min_completeness[name]
        checks.append(
            Check(
                f"completeness.{name}",
                value,
                limit,
                value is None or value >= limit,
                f"no article landed to measure {name}"
                if value is None
                else f"{name} complete in {sum(d.complete[name] for d in source.days)} of"
                f" {versions} articles = {value:.2f} (at least {limit:.2f})",
            )
        )
    return checks


def compute_health(
    lake: str | os.PathLike[str] | Store | None = None,
    *,
    days: int = DEFAULT_DAYS,
    until: date | None = None,
    source_ids: Iterable[str] | None = None,
    thresholds: ThresholdsConfig | None = None,
) -> HealthReport:
    """Health of each source over the `days` days ending `until` (default: today, UTC).

    Without `source_ids`, every source with a run manifest in the lake; with them, exactly
    those (a source with no run at all then shows every day as a zero-article day).
    """
    if days < 1:
        raise LakeError(f"days {days}: expected at least 1")
    store = lake if isinstance(lake, Store) else open_store(lake)
    config = thresholds or ThresholdsConfig()
    last = until or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    wanted = list(dict.fromkeys(source_ids)) if source_ids is not None else None
    params = {"since": first, "until": last}

    # The runs view has no held-back counters, so the manifests are read here and handed to
    # connect(): one read, and the views and those counters describe the same runs.
    manifests = read_manifests(store, source_ids=wanted)
    con = connect(store, source_ids=wanted, manifests=manifests)
    try:
        con.register("_health_held_back", _held_back(manifests))
        con.execute(_RUN_DAYS)
        first_runs = {sid: day for sid, day in con.execute(_FIRST_RUN_SQL).fetchall()}
        ids = wanted if wanted is not None else sorted(first_runs)
        body = pa.table(
            {
                "source_id": ids,
                "min_words": [config.for_source(i).min_body_words for i in ids],
            },
            schema=pa.schema([("source_id", pa.string()), ("min_words", pa.int64())]),
        )
        con.register("_health_body", body)
        grid = {sid: {d: DayHealth(d) for d in _window(first, last)} for sid in ids}
        for sid, day, runs, failed, disc, skipped, held, landed, rejected in con.execute(
            _RUNS_SQL, params
        ).fetchall():
            cell = grid[sid][day]
            cell.runs, cell.failed_runs = int(runs), int(failed)
            cell.discovered, cell.skipped_landed = int(disc), int(skipped)
            cell.held_back = int(held)
            cell.landed, cell.rejected = int(landed), int(rejected)
        for sid, day, reason, n in con.execute(_REJECTS_SQL, params).fetchall():
            grid[sid][day].rejects[reason] = int(n)
        for sid, day, versions, *ok in con.execute(_VERSIONS_SQL, params).fetchall():
            cell = grid[sid][day]
            cell.versions = int(versions)
            cell.complete = {f: int(n) for f, n in zip(FIELDS, ok, strict=True)}
    finally:
        con.close()

    report = HealthReport(
        str(store.uri), first, last, [], [sid for sid in config.sources if sid not in ids]
    )
    for sid in ids:
        started = first_runs.get(sid)
        cells = [grid[sid][d] for d in _window(first, last)]
        for cell in cells:
            cell.rejects = dict(sorted(cell.rejects.items()))
            cell.zero = cell.landed == 0 and (started is None or cell.day >= started)
        source = SourceHealth(sid, cells, config.for_source(sid), started)
        source.checks = _checks(source)
        report.sources.append(source)
    return report


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def to_markdown(report: HealthReport) -> str:
    """The report as Markdown (the Prefect artifact): verdicts, days, rejects, failing checks."""
    lines = [
        f"# Source health {report.since} – {report.until}",
        "",
        f"Lake `{report.lake}`: {len(report.sources)} source(s),"
        f" {len(report.failing)} below threshold.",
        "",
        "| source | verdict | runs | discovered | attempted | landed | landed ratio | zero days"
        " | title | body | published_at | language |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in report.sources:
        c = s.completeness
        lines.append(
            f"| {s.source_id} | {'ok' if s.ok else '**FAIL**'} | {s.total('runs')}"
            f" | {s.total('discovered')} | {s.total('attempted')} | {s.total('landed')}"
            f" | {_pct(s.landed_ratio)} | {len(s.zero_days)}"
            + "".join(f" | {_pct(c[f])}" for f in FIELDS)
            + " |"
        )
    if report.failing:
        lines += ["", "## Below threshold", ""]
        lines += [f"- {p}" for p in report.problems()]
    lines += ["", "## Landed / discovered per day", ""]
    days = report.days
    lines.append("| source | " + " | ".join(d.strftime("%m-%d") for d in days) + " |")
    lines.append("|---|" + "--:|" * len(days))
    for s in report.sources:
        cells = [
            f"**{d.landed}/{d.discovered}**" if d.zero else f"{d.landed}/{d.discovered}"
            for d in s.days
        ]
        lines.append(f"| {s.source_id} | " + " | ".join(cells) + " |")
    lines += ["", "Bold: a zero-article day.", "", "## Reject reasons", ""]
    rejects = [(s.source_id, r, n) for s in report.sources for r, n in s.rejects.items()]
    if rejects:
        lines += ["| source | reason | rejects |", "|---|---|--:|"]
        lines += [f"| {sid} | {reason} | {n} |" for sid, reason, n in rejects]
    else:
        lines.append("No rejects in the window.")
    return "\n".join(lines) + "\n"
