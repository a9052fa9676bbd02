"""The source-health report as one self-contained HTML file.

Charts are drawn by matplotlib into SVG and inlined, with text kept as text (so the numbers
and names are in the DOM); the CSS is inline too. The file references nothing outside itself:
it opens offline, from a mail attachment or a CI artifact.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lake.health import FIELDS, HealthReport, SourceHealth

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
       margin: 2rem auto; max-width: 1100px; color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
p.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
td:first-child { white-space: nowrap; }
thead th { background: #f6f8fa; }
td.fail, span.fail { color: #b42318; font-weight: 600; }
td.ok, span.ok { color: #1a7f37; font-weight: 600; }
td.zero { background: #ffebe9; font-weight: 600; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: .85rem; }
"""

# One colour per source, the same in both charts.
_COLOURS = [
    "#0969da",
    "#cf222e",
    "#1a7f37",
    "#8250df",
    "#bc4c00",
    "#1b7c83",
    "#bf3989",
    "#4d2d00",
    "#57606a",
    "#0550ae",
]
_FIELD_COLOURS = {
    "title": "#0969da",
    "body": "#1a7f37",
    "published_at": "#bc4c00",
    "language": "#8250df",
}


def _svg(fig: Figure, name: str) -> str:
    """The figure as inline SVG markup, without the XML prolog, doctype and metadata.

    `name` salts the ids matplotlib gives markers and clip paths, so two charts of one page
    never share an id.
    """
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": f"newslake-{name}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def landed_chart(report: HealthReport) -> str:
    """Articles landed per source per day; zero-article days marked with a red cross."""
    days = report.days
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = list(range(len(days)))
    for i, source in enumerate(report.sources):
        colour = _COLOURS[i % len(_COLOURS)]
        # Days before a source's first run are gaps, not zeros.
        landed = [
            float(d.landed) if source.first_run and d.day >= source.first_run else float("nan")
            for d in source.days
        ]
        ax.plot(x, landed, marker="o", color=colour, label=source.source_id, linewidth=1.8)
        zero = [j for j, d in enumerate(source.days) if d.zero]
        ax.plot(zero, [0] * len(zero), linestyle="none", marker="x", color="#b42318", ms=9)
    ax.set_title("Articles landed per source per day")
    ax.set_xticks(x, [d.strftime("%m-%d") for d in days], rotation=45 if len(days) > 14 else 0)
    ax.set_ylabel("articles landed")
    ax.set_xlabel(f"run day (UTC), {report.since} – {report.until}; × = zero-article day")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    if report.sources:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return _svg(fig, "landed")


def completeness_chart(report: HealthReport) -> str:
    """Share of landed articles with each field complete, per source, with the thresholds."""
    sources = report.sources
    fig = Figure(figsize=(10, 0.9 + 0.8 * max(len(sources), 1)), layout="constrained")
    ax = fig.add_subplot()
    height = 0.8 / len(FIELDS)
    for k, name in enumerate(FIELDS):
        ys = [i + (k - (len(FIELDS) - 1) / 2) * height for i in range(len(sources))]
        values = [s.completeness[name] for s in sources]
        bars = ax.barh(
            ys,
            [100 * v if v is not None else 0 for v in values],
            height=height * 0.9,
            color=_FIELD_COLOURS[name],
            label=name,
        )
        ax.bar_label(
            bars,
            labels=["n/a" if v is None else f"{v:.0%}" for v in values],
            padding=2,
            fontsize="x-small",
        )
        for y, source in zip(ys, sources, strict=True):
            limit = 100 * source.thresholds.min_completeness[name]
            ax.plot([limit, limit], [y - height / 2, y + height / 2], color="#1f2328", lw=1)
    ax.set_yticks(range(len(sources)), [s.source_id for s in sources])
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.set_xlabel("% of the articles landed in the window; | = the source's threshold")
    ax.set_title("Field completeness per source")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    return _svg(fig, "completeness")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], table_id: str) -> str:
    """Cells are given as ready HTML (<td>…</td>)."""
    head_html = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (
        f'<table id="{table_id}"><thead><tr>{head_html}</tr></thead><tbody>{body}</tbody></table>'
    )


def _td(value: object, cls: str | None = None) -> str:
    return f'<td class="{cls}">{_e(value)}</td>' if cls else f"<td>{_e(value)}</td>"


def _summary_row(s: SourceHealth) -> list[str]:
    failing = {c.name for c in s.failing}
    completeness = s.completeness
    return [
        _td(s.source_id),
        _td("ok" if s.ok else "FAIL", "ok" if s.ok else "fail"),
        _td(s.total("runs")),
        _td(s.total("failed_runs"), "fail" if s.total("failed_runs") else None),
        _td(s.total("discovered")),
        _td(s.total("attempted")),
        _td(s.total("landed")),
        _td(_pct(s.landed_ratio), "fail" if "landed_ratio" in failing else None),
        _td(len(s.zero_days), "fail" if "zero_days" in failing else None),
        *(
            _td(_pct(completeness[f]), "fail" if f"completeness.{f}" in failing else None)
            for f in FIELDS
        ),
    ]


def render_report(report: HealthReport, generated_at: datetime | None = None) -> str:
    """The whole HTML document."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    failing = report.failing
    verdict = (
        f'<span class="fail">{len(failing)} source(s) below threshold</span>'
        if failing
        else '<span class="ok">every source healthy</span>'
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>newslake source health {report.since} – {report.until}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Source health {report.since} – {report.until}</h1>",
        f'<p class="meta">Lake <code>{_e(report.lake)}</code> · {len(report.sources)}'
        f" source(s) · {verdict} · generated {when}. Days are the UTC days the runs started.</p>",
        "<h2>Summary</h2>",
        _table(
            [
                "source",
                "verdict",
                "runs",
                "failed runs",
                "discovered",
                "attempted",
                "landed",
                "landed ratio",
                "zero days",
                *FIELDS,
            ],
            (_summary_row(s) for s in report.sources),
            "summary",
        ),
    ]
    if failing:
        items = "".join(f"<li>{_e(p)}</li>" for p in report.problems())
        parts += ["<h2>Below threshold</h2>", f'<ul id="problems">{items}</ul>']
    parts += [
        '<h2>Articles per day</h2><figure id="chart-landed">',
        landed_chart(report),
        "<figcaption>Articles landed per source and day (the day the run started, UTC)."
        "</figcaption></figure>",
        _table(
            ["source", *(d.strftime("%m-%d") for d in report.days)],
            (
                [
                    _td(s.source_id),
                    *(
                        _td(f"{d.landed}/{d.discovered}", "zero" if d.zero else None)
                        for d in s.days
                    ),
                ]
                for s in report.sources
            ),
            "per-day",
        ),
        '<p class="meta">landed/discovered per day; highlighted: a zero-article day.</p>',
        '<h2>Completeness</h2><figure id="chart-completeness">',
        completeness_chart(report),
        "<figcaption>title: present and not shared with another article; body: at least the"
        " source's minimum words; published_at: not null; language: detected or declared."
        "</figcaption></figure>",
        "<h2>Reject reasons</h2>",
    ]
    rejects = [(s.source_id, r, n) for s in report.sources for r, n in s.rejects.items()]
    if rejects:
        parts.append(
            _table(
                ["source", "reason", "rejects"],
                ([_td(sid), _td(reason, "text"), _td(n)] for sid, reason, n in rejects),
                "rejects",
            )
        )
    else:
        parts.append('<p id="rejects">No rejects in the window.</p>')
    parts.append("<h2>Zero-article days</h2>")
    zero_rows = [
        [_td(s.source_id), _td(len(s.zero_days)), _td(", ".join(map(str, s.zero_days)), "text")]
        for s in report.sources
        if s.zero_days
    ]
    if zero_rows:
        parts.append(_table(["source", "zero days", "days"], zero_rows, "zero-days"))
    else:
        parts.append('<p id="zero-days">No zero-article days in the window.</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
