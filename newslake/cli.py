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
) -> None:
    """Crawl the sources' feeds and sitemaps and land new articles."""
    from newslake import api

    _check_inputs(sources_file, source, lake)
    state = _guard_lake(lambda: api.crawl(sources_file=sources_file, sources=source, lake=lake))
    raise typer.Exit(_print_run(state))


@app.command()
def backfill(
    source: Annotated[str, typer.Option("--source", help="Source id.")],
    since: Annotated[str, typer.Option("--since", help="First publication day, YYYY-MM-DD.")],
    until: Annotated[str, typer.Option("--until", help="Last publication day, YYYY-MM-DD.")],
    sources_file: SourcesFileOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Land the articles of one source published in a date window."""
    from newslake import api

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
                source, first, last, sources_file=sources_file, lake=lake, on_day=on_day
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
) -> None:
    """Run SQL over the lake with DuckDB."""
    from lake import LakeError, resolve_uri
    from newslake import api

    try:
        where = resolve_uri(lake)
    except LakeError as exc:
        _fail(str(exc), 2)
    if where.kind == "local" and where.path is not None and not where.path.exists():
        # Almost always a mistyped --lake or a run from another folder: say so, not "0 rows".
        _fail(
            f"no lake at {where.path}: the folder does not exist (use --lake or NEWSLAKE_LAKE)", 2
        )
    text = _guard_lake(lambda: api.query(sql, lake, fmt.value, width=out.width))
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


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


def main() -> None:
    from flows.runtime import prefect_defaults

    prefect_defaults()
    app()


if __name__ == "__main__":
    main()
