"""Adapters for the shared article-extraction benchmark (run by hand, see the command below).

    # from the repository root, with the benchmark data in ../shared/benchmarks/
    python ../shared/benchmarks/run_extractor.py benchmarks.extraction:newslake \
        --out preds/newslake.jsonl
    python ../shared/benchmarks/run_extractor.py benchmarks.extraction:trafilatura_default \
        --out preds/trafilatura.jsonl --dist trafilatura
    python ../shared/benchmarks/score_extraction.py preds/
    python -m benchmarks.extraction            # both side by side: F1/P/R (all pages and
                                               # the two halves), pages/s interleaved

`newslake` runs the whole of extract_article (metadata, dates, language and all), so its
pages/s is the product's speed. The benchmark's pages are all articles: when extract_article
rejects one, the adapter still returns the body text of the page (so the score stays
comparable) and counts the rejection; the counts are printed at exit.
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import importlib.util
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import trafilatura

from spiders.extraction import NotAnArticle, extract_article
from spiders.extraction.body import join_paragraphs, raw_paragraphs
from spiders.extraction.encoding import to_text
from spiders.extraction.page import Page


def _find_data() -> Path:
    """The benchmark lives beside the repository (../shared/benchmarks), not inside it; a git
    worktree sits one level deeper, so the nearest ancestor holding it wins."""
    relative = Path("shared") / "benchmarks" / "article-extraction"
    for folder in Path(__file__).resolve().parents[1:]:
        if (folder / relative).is_dir():
            return folder / relative
    return Path(__file__).resolve().parents[2] / relative


DATA = _find_data()
REJECTED: Counter[str] = Counter()
_FETCHED = datetime(2030, 1, 1, tzinfo=UTC)


def _report() -> None:
    if REJECTED:
        total = sum(REJECTED.values())
        detail = ", ".join(f"{reason}: {n}" for reason, n in REJECTED.most_common())
        print(f"newslake: {total} benchmark pages rejected ({detail})", file=sys.stderr)
    else:
        print("newslake: no benchmark page rejected", file=sys.stderr)


atexit.register(_report)


def newslake(html: str, url: str | None) -> dict[str, Any]:
    """extract_article's body; a rejected page falls back to its extracted text."""
    try:
        return extract_article(html, url, fetched_at=_FETCHED)
    except NotAnArticle as exc:
        REJECTED[exc.reason] += 1
        print(f"rejected {url}: {exc.detail}", file=sys.stderr)
        if exc.reason == "not_html":
            return {"body": ""}
        return {"body": join_paragraphs(raw_paragraphs(Page(to_text(html), url, None)))}


def trafilatura_default(html: str, url: str | None) -> dict[str, Any]:
    """trafilatura.extract as documented for articles (comments left out)."""
    return {"body": trafilatura.extract(html, url=url, include_comments=False) or ""}


def trafilatura_all_defaults(html: str, url: str | None) -> dict[str, Any]:
    """trafilatura.extract with every default, comments included."""
    return {"body": trafilatura.extract(html, url=url) or ""}


def _scorer(data: Path) -> ModuleType:
    """The benchmark's own scorer (score_extraction.py beside the data, stdlib only)."""
    path = data.parent / "score_extraction.py"
    spec = importlib.util.spec_from_file_location("score_extraction", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ADAPTERS: dict[str, Callable[[str, str | None], dict[str, Any]]] = {
    "newslake": newslake,
    "trafilatura": trafilatura_default,
    "trafilatura_all_defaults": trafilatura_all_defaults,
}


def run(data: Path, rounds: int = 3) -> dict[str, dict[str, float]]:
    """Every adapter over every page, interleaved page by page (each page runs through every
    adapter back to back, so load from other processes hits all alike), `rounds` passes.

    Per adapter: pages/s of the best pass, and F1 / precision / recall with the benchmark's
    metric, on all pages and on the two halves of the ids sorted (even and odd positions),
    which guard a change against fitting one half.
    """
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    pages = []
    for pid in ids:
        with gzip.open(data / "html" / f"{pid}.html.gz", "rt", encoding="utf-8") as handle:
            pages.append((handle.read(), truth[pid].get("url")))
    for adapter in ADAPTERS.values():  # warm-up: imports, detector and dateparser caches
        adapter(*pages[0])
    best = dict.fromkeys(ADAPTERS, float("inf"))
    bodies: dict[str, list[str]] = {name: [] for name in ADAPTERS}
    for round_ in range(rounds):
        spent = dict.fromkeys(ADAPTERS, 0.0)
        for html, url in pages:
            for name, adapter in ADAPTERS.items():
                start = time.perf_counter()
                result = adapter(html, url)
                spent[name] += time.perf_counter() - start
                if round_ == 0:
                    bodies[name].append(result.get("body") or "")
        best = {name: min(best[name], spent[name]) for name in ADAPTERS}
    scorer = _scorer(data)
    figures: dict[str, dict[str, float]] = {}
    for name in ADAPTERS:
        rows = [
            scorer.page_scores(truth[pid]["articleBody"], body)
            for pid, body in zip(ids, bodies[name], strict=True)
        ]
        line: dict[str, float] = {"pages_per_s": round(len(pages) / best[name], 1)}
        for part, chosen in (("", rows), ("even_", rows[0::2]), ("odd_", rows[1::2])):
            scores = scorer.aggregate(chosen)
            for key in ("f1", "precision", "recall"):
                line[part + key] = round(scores[key], 4)
        figures[name] = line
    return figures


def table(figures: dict[str, dict[str, float]]) -> str:
    """The figures as a text table; speed relative to trafilatura's default in the same run."""
    base = figures["trafilatura"]["pages_per_s"]
    lines = [
        f"{'system':26} {'F1':>7} {'P':>7} {'R':>7} {'F1 even':>8} {'F1 odd':>7} "
        f"{'pages/s':>8} {'speed':>6}"
    ]
    for name, line in figures.items():
        lines.append(
            f"{name:26} {line['f1']:7.4f} {line['precision']:7.4f} {line['recall']:7.4f} "
            f"{line['even_f1']:8.4f} {line['odd_f1']:7.4f} {line['pages_per_s']:8.1f} "
            f"{line['pages_per_s'] / base:5.2f}x"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Score and time newslake and trafilatura side by side on the benchmark."
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="folder with html/<id>.html.gz and ground-truth.json",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed passes (best counts)")
    arguments = parser.parse_args()
    print(table(run(arguments.data, arguments.rounds)))
