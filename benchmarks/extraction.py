"""Adapters for the shared article-extraction benchmark (run by hand, see the command below).

    # from the repository root, with the benchmark data in ../shared/benchmarks/
    python ../shared/benchmarks/run_extractor.py benchmarks.extraction:newslake \
        --out preds/newslake.jsonl
    python ../shared/benchmarks/run_extractor.py benchmarks.extraction:trafilatura_default \
        --out preds/trafilatura.jsonl --dist trafilatura
    python ../shared/benchmarks/score_extraction.py preds/
    python -m benchmarks.extraction            # interleaved speed, best of 3 passes

`newslake` runs the whole of extract_article (metadata, dates, language and all), so its
pages/s is the product's speed. The benchmark's pages are all articles: when extract_article
rejects one, the adapter still returns the body text of the page (so the score stays
comparable) and counts the rejection; the counts are printed at exit.
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
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


def speed(data: Path, rounds: int = 3) -> dict[str, float]:
    """Pages per second of each adapter, timed interleaved page by page (each page runs
    through every adapter back to back) so that load from other processes hits all alike;
    the best of `rounds` passes."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid in sorted(truth):
        with gzip.open(data / "html" / f"{pid}.html.gz", "rt", encoding="utf-8") as handle:
            pages.append((handle.read(), truth[pid].get("url")))
    adapters = {
        "newslake": newslake,
        "trafilatura": trafilatura_default,
        "trafilatura_all_defaults": trafilatura_all_defaults,
    }
    for adapter in adapters.values():  # warm-up: imports, detector and dateparser caches
        adapter(*pages[0])
    best = dict.fromkeys(adapters, float("inf"))
    for _ in range(rounds):
        spent = dict.fromkeys(adapters, 0.0)
        for html, url in pages:
            for name, adapter in adapters.items():
                start = time.perf_counter()
                adapter(html, url)
                spent[name] += time.perf_counter() - start
        best = {name: min(best[name], spent[name]) for name in adapters}
    return {name: round(len(pages) / seconds, 1) for name, seconds in best.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Interleaved speed of the adapters.")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="folder with html/<id>.html.gz and ground-truth.json",
    )
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    figures = speed(arguments.data, arguments.rounds)
    ratio = figures["newslake"] / figures["trafilatura"]
    print(json.dumps({**figures, "newslake / trafilatura": round(ratio, 2)}, indent=2))
