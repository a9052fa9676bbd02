"""The `newslake` command: parse arguments, call the public API, print results.

Exit codes: 0 success, 1 a run failed, 2 bad input (arguments, sources file, lake URI, SQL),
3 `extract` was given a page that is not an article.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from spiders.catalogue import Source, SourcesError, load_sources, select_sources

app = typer.Typer(
    name="newslake",
    help="Crawl regional news outlets into a Parquet lake and query it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
sources_app = typer.Typer(
    help="List, validate and check the source catalogue.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")

out = Console()
err = Console(stderr=True)

SourcesFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--sources-file", help="A sources YAML file or folder (default: the bundled catalogue)."
    ),
]
LakeOpt = Annotated[
    str | None,
    typer.Option(
        "--lake",
        help="Lake folder, file:// or s3://bucket/prefix (default: $NEWSLAKE_LAKE or ./lake).",
    ),
]


SettingOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--setting",
        metavar="KEY=VALUE",
        help="A Scrapy or newslake crawl setting for this run, e.g. DOWNLOAD_DELAY=0; repeatable.",
    ),
]


def _crawl_settings(texts: list[str] | None) -> dict[str, Any] | None:
    from newslake.crawl_settings import parse_settings

    try:
        return parse_settings(texts)
    except ValueError as exc:
        _fail(str(exc), 2)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _sources_problem(exc: SourcesError) -> NoReturn:
    for problem in exc.problems:
        err.print(problem, highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(2)


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date in YYYY-MM-DD form", 2)


def _print_run(state: Any) -> int:
    """Print a flow's per-source counts; the exit code says whether every source succeeded."""
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException) or not hasattr(summary, "table"):
        _fail(f"the run failed: {state.message or summary}", 1)
    rows = summary.table()
    table = Table(title=f"run {summary.run_id} → {summary.lake}")
    for column in ("source", "status", "discovered", "fetched", "landed", "rejected"):
        table.add_column(column, justify="right" if column not in ("source", "status") else "left")
    for row in rows:
        table.add_row(
            *(
                str(row[c])
                for c in ("source", "status", "discovered", "fetched", "landed", "rejected")
            )
        )
    out.print(table)
    for row in rows:
        if row.get("error"):
            err.print(f"{row['source']}: {row['error']}", markup=False, soft_wrap=True)
    return 0 if state.is_completed() else 1


def _sources(sources_file: Path | None, source_ids: list[str] | None = None) -> list[Source]:
    """The catalogue's sources (those named, when ids are given); exit 2 naming each problem."""
    try:
        return select_sources(load_sources(sources_file), source_ids)
    except SourcesError as exc:
        _sources_problem(exc)


def _check_inputs(
    sources_file: Path | None, source_ids: list[str] | None, lake: str | None
) -> None:
    """Fail fast, before Prefect starts, on a bad sources file, unknown ids or lake URI."""
    from lake import LakeError, open_store

    _sources(sources_file, source_ids)
    try:
        open_store(lake)
    except LakeError as exc:
        _fail(str(exc), 2)


def _guard_lake(call: Any) -> Any:
    """Run an API call; bad input exits 2, anything else exits 1 with one line, not a trace."""
    from lake import LakeError

    try:
        return call()
    except LakeError as exc:
        _fail(str(exc), 2)
    except SourcesError as exc:
        _sources_problem(exc)
    except Exception as exc:
        if os.environ.get("NEWSLAKE_DEBUG"):
            raise
        _fail(f"{type(exc).__name__}: {exc} (set NEWSLAKE_DEBUG=1 for the traceback)", 1)


@app.command()
def demo(lake: LakeOpt = None) -> None:
    """Serve the bundled offline outlet on 127.0.0.1, crawl it into the lake, show what landed."""
    from newslake import api
    from newslake.demo import DEMO_SETTINGS, SAMPLE_QUERY, demo_workdir, start_demo_site

    site = start_demo_site(demo_workdir())
    try:
        out.print(f"Serving the demo outlet at {site.server.base_url}")
        if not site.fixed_port:
            err.print("port 8765 is busy: article ids of this run differ from earlier demos")
        state = _guard_lake(
            lambda: api.crawl(sources_file=site.sources_file, lake=lake, settings=DEMO_SETTINGS)
        )
    finally:
        site.server.stop()
        shutil.rmtree(site.sources_file.parent, ignore_errors=True)
    code = _print_run(state)
    out.print(f'\n$ newslake query "{SAMPLE_QUERY}"')
    sys.stdout.write(api.query(SAMPLE_QUERY, lake, width=out.width))
    raise typer.Exit(code)


@app.command()
def crawl(
    sources_file: SourcesFileOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Source id; repeat for several (default: all)."),
    ] = None,
    lake: LakeOpt = None,
    setting: SettingOpt = None,
    fanout: Annotated[
        bool,
        typer.Option(
            "--fanout",
            help="One flow run per source on the work pool's workers (needs PREFECT_API_URL).",
        ),
    ] = False,
) -> None:
    """Crawl the sources' feeds and sitemaps and land new articles."""
    from newslake import api

    settings = _crawl_settings(setting)
    _check_inputs(sources_file, source, lake)
    if fanout and not os.environ.get("PREFECT_API_URL"):
        _fail(
            "--fanout needs a Prefect server whose work pool has workers: set PREFECT_API_URL "
            "(see infra/work-pools.md)",
            2,
        )
    if fanout:
        state = _guard_lake(lambda: _crawl_fanout(sources_file, source, lake, settings))
    else:
        state = _guard_lake(
            lambda: api.crawl(
                sources_file=sources_file, sources=source, lake=lake, settings=settings
            )
        )
    raise typer.Exit(_print_run(state))


def _crawl_fanout(
    sources_file: Path | None,
    sources: list[str] | None,
    lake: str | None,
    settings: dict[str, Any] | None,
) -> Any:
    """The fan-out parent, run here; its children run on the workers of the server's pool."""
    from flows.fanout import crawl_fanout_flow

    return crawl_fanout_flow(
        sources_file=str(sources_file) if sources_file else None,
        sources=sources,
        lake=lake,
        settings=settings,
        return_state=True,
    )


@app.command()
def backfill(
    source: Annotated[str, typer.Option("--source", help="Source id.")],
    since: Annotated[str, typer.Option("--since", help="First publication day, YYYY-MM-DD.")],
    until: Annotated[str, typer.Option("--until", help="Last publication day, YYYY-MM-DD.")],
    sources_file: SourcesFileOpt = None,
    lake: LakeOpt = None,
    setting: SettingOpt = None,
) -> None:
    """Land the articles of one source published in a date window."""
    from newslake import api

    settings = _crawl_settings(setting)
    first, last = _parse_day(since, "--since"), _parse_day(until, "--until")
    if last < first:
        _fail(f"--until {until} is before --since {since}", 2)
    _check_inputs(sources_file, [source], lake)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        console=err,
        transient=False,
    )
    days = progress.add_task(f"backfill {source}", total=(last - first).days + 1, last="")

    def on_day(day: date, status: str, counts: dict[str, int], done: int, total: int) -> None:
        note = f"{day} {status}, landed {counts.get('landed', 0)}"
        progress.update(days, completed=done, total=total, last=note)

    with progress:
        state = _guard_lake(
            lambda: api.backfill(
                source,
                first,
                last,
                sources_file=sources_file,
                lake=lake,
                settings=settings,
                on_day=on_day,
            )
        )
    raise typer.Exit(_print_run(state))


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="A saved HTML page, or - for standard input.")],
    url: Annotated[
        str | None, typer.Option("--url", help="The URL the page was fetched from.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source id (timezone, languages).")
    ] = None,
    sources_file: SourcesFileOpt = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="The HTTP Content-Type, for its charset.")
    ] = None,
) -> None:
    """Print the normalized row of one saved page as JSON; exit 3 if it is not an article."""
    from newslake import api
    from schemas import to_jsonable
    from spiders.extraction import NotAnArticle

    if str(file) == "-":
        html = sys.stdin.buffer.read()
    else:
        try:
            html = file.read_bytes()
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror or exc}", 2)
    page_url = url or (None if str(file) == "-" else file.resolve().as_uri())
    try:
        row = api.extract(
            html, page_url, source=source, sources_file=sources_file, content_type=content_type
        )
    except SourcesError as exc:
        _sources_problem(exc)
    except NotAnArticle as exc:
        err.print(f"not an article ({exc.reason}): {exc.detail}", markup=False, soft_wrap=True)
        raise typer.Exit(3) from None
    sys.stdout.write(json.dumps(to_jsonable(row), ensure_ascii=False, indent=2) + "\n")


@app.command()
def query(
    sql: Annotated[
        str, typer.Argument(help="SQL over the views articles, article_versions, rejects, runs.")
    ],
    lake: LakeOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Only this source's runs and files (repeatable)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only articles published from this day on, YYYY-MM-DD."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only articles published up to this day, YYYY-MM-DD."),
    ] = None,
) -> None:
    """Run SQL over the lake with DuckDB.

    --source, --since and --until narrow the snapshot before the SQL runs, so only the files
    of those sources and publication months are opened: `articles` then holds the latest of
    each article's versions published in the window.
    """
    from lake import LakeError, resolve_uri
    from newslake import api

    first = _parse_day(since, "--since") if since else None
    last = _parse_day(until, "--until") if until else None
    if first and last and last < first:
        _fail(f"--until {until} is before --since {since}", 2)
    try:
        where = resolve_uri(lake)
    except LakeError as exc:
        _fail(str(exc), 2)
    if where.kind == "local" and where.path is not None and not where.path.exists():
        # Almost always a mistyped --lake or a run from another folder: say so, not "0 rows".
        _fail(
            f"no lake at {where.path}: the folder does not exist (use --lake or NEWSLAKE_LAKE)", 2
        )
    text = _guard_lake(
        lambda: api.query(
            sql, lake, fmt.value, width=out.width, sources=source or None, since=first, until=last
        )
    )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _lake_store(lake: str | None) -> Any:
    """The lake's store; exit 2 on a bad URI or a local folder that does not exist."""
    from lake import LakeError, open_store

    try:
        store = open_store(lake)
    except LakeError as exc:
        _fail(str(exc), 2)
    path = getattr(store, "root", None)
    if path is not None and not path.exists():
        _fail(f"no lake at {path}: the folder does not exist (use --lake or NEWSLAKE_LAKE)", 2)
    return store


def _lake_sources(store: Any, source_ids: list[str] | None) -> list[str]:
    """Sources with runs in the lake (those asked for); exit 2 naming any the lake lacks."""
    from lake.compact import lake_source_ids

    known = _guard_lake(lambda: lake_source_ids(store))
    missing = [s for s in source_ids or [] if s not in known]
    if missing:
        _fail(f"no runs of source(s) {', '.join(missing)} in {store.uri}", 2)
    return list(source_ids) if source_ids else known


@app.command()
def compact(
    lake: LakeOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Source id; repeat for several (default: all in the lake)."),
    ] = None,
    target_mb: Annotated[
        float, typer.Option("--target-mb", help="Size of the merged files, in MB.")
    ] = 128.0,
    no_vacuum: Annotated[
        bool, typer.Option("--no-vacuum", help="Keep replaced files (no vacuum step).")
    ] = False,
) -> None:
    """Merge each partition's small files into files of about --target-mb; queries see no change.

    Files replaced more than 24 hours ago (by an earlier compaction) are then deleted.
    """
    from newslake import api

    if not target_mb > 0:
        _fail(f"--target-mb {target_mb}: must be positive", 2)
    store = _lake_store(lake)
    sources = _lake_sources(store, source)
    state = _guard_lake(
        lambda: api.compact(
            lake=store.uri, sources=sources, target_mb=target_mb, vacuum=not no_vacuum
        )
    )
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException) or not hasattr(summary, "table"):
        _fail(f"the compaction failed: {state.message or summary}", 1)
    columns = (
        "partitions",
        "files_replaced",
        "files_written",
        "rows",
        "duplicates_dropped",
        "deleted_replaced",
        "deleted_orphans",
    )
    table = Table(title=f"compaction of {summary.lake}")
    table.add_column("source")
    table.add_column("status")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    rows = summary.table()
    for row in rows:
        table.add_row(row["source"], row["status"], *(str(row.get(c, "—")) for c in columns))
    out.print(table)
    for row in rows:
        if row.get("error"):
            err.print(f"{row['source']}: {row['error']}", markup=False, soft_wrap=True)
    raise typer.Exit(0 if state.is_completed() else 1)


@app.command()
def reparse(
    source: Annotated[str, typer.Option("--source", help="Source id.")],
    since: Annotated[
        str | None, typer.Option("--since", help="First publication day, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last publication day, YYYY-MM-DD.")
    ] = None,
    sources_file: SourcesFileOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Re-extract a source's raw captures with the current extractor, without the network.

    A new version lands only where the extracted row changed. --since/--until select articles
    by publication day (undated articles, and pages that are not articles, by capture day).
    """
    from lake.raw import raw_captures
    from newslake import api

    first = _parse_day(since, "--since") if since else None
    last = _parse_day(until, "--until") if until else None
    if first and last and last < first:
        _fail(f"--until {until} is before --since {since}", 2)
    _sources(sources_file, [source])
    store = _lake_store(lake)
    if not _guard_lake(lambda: raw_captures(store, source)):
        _fail(f"no raw captures of source {source} in {store.uri}", 2)
    state = _guard_lake(
        lambda: api.reparse(source, first, last, sources_file=sources_file, lake=store.uri)
    )
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException) or not hasattr(summary, "table"):
        _fail(f"the re-parse failed: {state.message or summary}", 1)
    from flows.reparse import COUNTS

    table = Table(title=f"re-parse {summary.run_id} → {summary.lake}")
    table.add_column("source")
    for column in COUNTS:
        table.add_column(column.replace("_", " "), justify="right")
    for row in summary.table():
        table.add_row(row["source"], *(str(row[c]) for c in COUNTS))
    out.print(table)
    raise typer.Exit(0 if state.is_completed() else 1)


@sources_app.command("list")
def sources_list(
    sources_file: SourcesFileOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """List the sources of the catalogue."""
    sources = _sources(sources_file)
    if fmt is Format.json:
        data = [s.model_dump(mode="json") for s in sources]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt is Format.csv:
        _fail("sources list supports --format table or json", 2)
    table = Table(title=f"{len(sources)} source(s)")
    for column in ("id", "name", "country", "languages", "status", "feeds", "sitemaps"):
        table.add_column(column)
    for s in sources:
        table.add_row(
            s.id,
            s.name,
            s.country or "",
            ",".join(s.languages),
            s.status,
            str(len(s.feeds)),
            str(len(s.sitemaps)),
        )
    out.print(table)


@sources_app.command("validate")
def sources_validate(sources_file: SourcesFileOpt = None) -> None:
    """Validate a sources file; every problem names the file, the entry and the field."""
    sources = _sources(sources_file)
    where = sources_file or "the bundled catalogue"
    out.print(f"{where}: {len(sources)} source(s), all valid", highlight=False)


@sources_app.command("check")
def sources_check(
    sources_file: SourcesFileOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Source id; repeat for several (default: all)."),
    ] = None,
    report: Annotated[Path, typer.Option("--out", help="Where to write the JSON report.")] = Path(
        "sources-check.json"
    ),
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 20.0,
) -> None:
    """Probe every feed and sitemap: robots.txt verdict, status, type, items, newest item."""
    from spiders.probe import check_sources

    sources = _sources(sources_file, source)
    with err.status(f"probing the endpoints of {len(sources)} source(s)…"):
        checks = check_sources(sources, timeout=timeout)
    table = Table(title=f"{len(checks)} endpoint(s) of {len(sources)} source(s)")
    for column in (
        "source",
        "kind",
        "url",
        "robots",
        "status",
        "type",
        "items",
        "newest",
        "problem",
    ):
        table.add_column(column, overflow="fold")
    for c in checks:
        table.add_row(
            c.source_id,
            c.kind,
            c.url,
            c.robots,
            str(c.status or "—"),
            (c.content_type or "—").split(";")[0],
            "—" if c.items is None else str(c.items),
            c.newest or "—",
            "[green]ok[/green]" if c.ok else f"[red]{c.problem}[/red]",
        )
    out.print(table)
    report.write_text(
        json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    broken = sum(not c.ok for c in checks)
    out.print(f"{len(checks) - broken} ok, {broken} with problems; report: {report}")


@app.command()
def serve(
    sources_file: SourcesFileOpt = None,
    lake: LakeOpt = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Serve only this deployment (repeatable); default: all."),
    ] = None,
    deployments_file: Annotated[
        Path | None,
        typer.Option("--deployments", help="Deployments file (default: infra/prefect.yaml)."),
    ] = None,
) -> None:
    """Run the schedules of infra/prefect.yaml in this process (Ctrl-C stops).

    With PREFECT_API_URL set, the deployments live on that server; without it, a local Prefect
    server is started on 127.0.0.1 for as long as this runs (its log: ./prefect-server.log).
    --lake and --sources-file replace those parameters in every deployment that has them.
    """
    from flows.deployments import (
        DEPLOYMENTS_FILE,
        DeploymentsError,
        load_deployments,
        runner_deployments,
    )

    _check_inputs(sources_file, None, lake)
    try:
        specs = load_deployments(deployments_file or DEPLOYMENTS_FILE)
        names = [spec.name for spec in specs]
        unknown = [name for name in only or [] if name not in names]
        if unknown:
            _fail(f"unknown deployment {unknown[0]!r} (known: {', '.join(names)})", 2)
        chosen = [spec for spec in specs if not only or spec.name in only]
        overrides = {
            "lake": lake,
            "sources_file": str(sources_file.resolve()) if sources_file else None,
        }
        deployments = runner_deployments(chosen, overrides)
    except DeploymentsError as exc:
        _fail(str(exc), 2)
    if os.environ.get("PREFECT_API_URL"):
        _serve(deployments)
        return
    from newslake.prefect_server import local_prefect_server

    log = Path("prefect-server.log").resolve()
    err.print(f"starting a local Prefect server (log: {log})…")
    with local_prefect_server(log) as api:
        os.environ["PREFECT_API_URL"] = api
        out.print(f"Prefect server at {api.removesuffix('/api')}: its UI shows the runs")
        _serve(deployments)


def _serve(deployments: list[Any]) -> None:
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, print_starting_message=True)


class HealthFormat(StrEnum):
    table = "table"
    json = "json"


DaysOpt = Annotated[
    int, typer.Option("--days", min=1, help="Days in the window, ending --until (default 14).")
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Last day of the window, YYYY-MM-DD (default: today, UTC)."),
]
HealthSourceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        help="Source id; repeat for several (default: the active sources of --sources-file,"
        " else every source with a run in the lake).",
    ),
]
ThresholdsOpt = Annotated[
    Path | None,
    typer.Option("--thresholds", help="A thresholds YAML file (defaults + per-source overrides)."),
]


def _health_report(
    lake: str | None,
    days: int,
    until: str | None,
    source: list[str] | None,
    sources_file: Path | None,
    thresholds: Path | None,
) -> Any:
    """Compute the health report; bad input (thresholds, lake, ids, dates) exits 2."""
    from lake import LakeError, resolve_uri
    from lake.health import ThresholdsError, load_thresholds
    from newslake import api

    last = _parse_day(until, "--until") if until else None
    try:
        where = resolve_uri(lake)
    except LakeError as exc:
        _fail(str(exc), 2)
    if where.kind == "local" and where.path is not None and not where.path.exists():
        _fail(
            f"no lake at {where.path}: the folder does not exist (use --lake or NEWSLAKE_LAKE)", 2
        )
    try:
        config = load_thresholds(thresholds)
    except ThresholdsError as exc:
        for problem in exc.problems:
            err.print(problem, highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    report = _guard_lake(
        lambda: api.health(
            lake,
            days=days,
            until=last,
            sources=source,
            sources_file=sources_file,
            thresholds=config,
        )
    )
    if source and sources_file is None:
        unknown = [s.source_id for s in report.sources if s.first_run is None]
        if unknown:
            _fail(
                ", ".join(f"source {i!r}" for i in unknown)
                + f" has no run in the lake at {report.lake}",
                2,
            )
    return report


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _print_health(report: Any) -> None:
    from lake.health import FIELDS

    table = Table(title=f"source health {report.since} – {report.until} · {report.lake}")
    for column in (
        "source",
        "verdict",
        "runs",
        "discovered",
        "attempted",
        "landed",
        "landed ratio",
        "zero days",
        *FIELDS,
        "rejects",
    ):
        table.add_column(column, justify="left" if column in ("source", "rejects") else "right")
    for s in report.sources:
        failing = {c.name for c in s.failing}

        def mark(text: str, check: str, failing: set[str] = failing) -> str:
            return f"[red]{text}[/red]" if check in failing else text

        table.add_row(
            s.source_id,
            "[green]ok[/green]" if s.ok else "[red]FAIL[/red]",
            str(s.total("runs")),
            str(s.total("discovered")),
            str(s.total("attempted")),
            str(s.total("landed")),
            mark(_percent(s.landed_ratio), "landed_ratio"),
            mark(str(len(s.zero_days)), "zero_days"),
            *(mark(_percent(s.completeness[f]), f"completeness.{f}") for f in FIELDS),
            ", ".join(f"{reason} {n}" for reason, n in s.rejects.items()) or "—",
        )
    out.print(table)
    days = Table(title="landed / discovered per day (red: a zero-article day)")
    days.add_column("source")
    for day in report.days:
        days.add_column(day.strftime("%m-%d"), justify="right")
    for s in report.sources:
        days.add_row(
            s.source_id,
            *(
                f"[red]{d.landed}/{d.discovered}[/red]" if d.zero else f"{d.landed}/{d.discovered}"
                for d in s.days
            ),
        )
    out.print(days)


@app.command()
def health(
    lake: LakeOpt = None,
    days: DaysOpt = 14,
    until: UntilOpt = None,
    source: HealthSourceOpt = None,
    sources_file: SourcesFileOpt = None,
    thresholds: ThresholdsOpt = None,
    fmt: Annotated[
        HealthFormat, typer.Option("--format", help="table or json.")
    ] = HealthFormat.table,
) -> None:
    """Per-source health: discovered vs landed, completeness, rejects, zero-article days.

    Exits 1 when a source is below its thresholds, naming the source and the check.
    """
    report = _health_report(lake, days, until, source, sources_file, thresholds)
    if not source:
        for sid in report.unused_thresholds:
            err.print(
                f"warning: {thresholds}: thresholds for {sid!r}, which has no run in the lake"
                " (or is not an active source of the sources file)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if fmt is HealthFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_health(report)
    for problem in report.problems():
        err.print(f"below threshold: {problem}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if report.failing else 0)


@app.command()
def report(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")],
    lake: LakeOpt = None,
    days: DaysOpt = 14,
    until: UntilOpt = None,
    source: HealthSourceOpt = None,
    sources_file: SourcesFileOpt = None,
    thresholds: ThresholdsOpt = None,
) -> None:
    """Write the health report as one self-contained HTML file with charts."""
    from newslake.report import render_report

    health_report = _health_report(lake, days, until, source, sources_file, thresholds)
    try:
        out_file.write_text(render_report(health_report), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {out_file}: {exc.strerror or exc}", 2)
    failing = len(health_report.failing)
    out.print(
        f"wrote {out_file}: {len(health_report.sources)} source(s),"
        f" {failing} below threshold, {health_report.since} – {health_report.until}",
        highlight=False,
    )


def main() -> None:
    from flows.runtime import prefect_defaults

    prefect_defaults()
    app()


if __name__ == "__main__":
    main()
