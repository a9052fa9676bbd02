"""One crawl of one source, in this process: `python -m spiders.crawl --source-json F --out D ...`.

Run by spiders.runner.run_crawl in a subprocess of its own (Twisted's reactor cannot restart
within a process). Writes the spool folder (articles.jsonl, rejects.jsonl, raw.warc.gz,
stats.json) and logs to stderr. Exit status: 0 when the crawl ran to its end (stats.json
written, whatever its finished_reason), 2 for bad arguments, 1 when the crawl itself failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.spool import STATS_FILE
from spiders.catalogue import Source

MIN_DOWNLOAD_DELAY = 0.001  # seconds; see main()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _settings_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object of Scrapy settings")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spiders.crawl",
        description="Crawl one news source into a spool folder.",
    )
    parser.add_argument(
        "--source-json",
        required=True,
        type=Path,
        metavar="FILE",
        help="the source as JSON (Source.model_dump_json())",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="spool folder to write"
    )
    parser.add_argument("--run-id", required=True, help="crawl run id stamped on every row")
    parser.add_argument(
        "--skip-file", type=Path, metavar="FILE", help="article ids already landed, one per line"
    )
    parser.add_argument("--since", type=_date, help="first publication date to keep (YYYY-MM-DD)")
    parser.add_argument("--until", type=_date, help="last publication date to keep (YYYY-MM-DD)")
    parser.add_argument(
        "--window-since",
        type=_date,
        help="a backfill's first day, when --since/--until are one chunk of it (YYYY-MM-DD)",
    )
    parser.add_argument("--window-until", type=_date, help="a backfill's last day (YYYY-MM-DD)")
    parser.add_argument(
        "--validators-file",
        type=Path,
        metavar="FILE",
        help="ETag/Last-Modified of the feeds and sitemaps, for conditional GET (JSON)",
    )
    parser.add_argument(
        "--settings-json",
        type=_settings_json,
        default={},
        metavar="JSON",
        help="Scrapy settings overriding spiders.settings, as a JSON object",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        source = Source.model_validate_json(args.source_json.read_text("utf-8"))
    except OSError as exc:
        parser.error(f"--source-json: cannot read: {exc}")
    except ValidationError as exc:
        parser.error(f"--source-json: not a valid source: {exc}")
    if args.skip_file is not None and not args.skip_file.is_file():
        parser.error(f"--skip-file: no such file: {args.skip_file}")
    if args.since and args.until and args.since > args.until:
        parser.error(f"--since {args.since} is after --until {args.until}")
    if args.validators_file is not None and not args.validators_file.is_file():
        parser.error(f"--validators-file: no such file: {args.validators_file}")

    # Imported late: Scrapy installs the reactor, and argument errors should not pay for it.
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from spiders.news_spider import NewsSpider

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.update(args.settings_json, priority="cmdline")
    if settings.getfloat("DOWNLOAD_DELAY") < MIN_DOWNLOAD_DELAY:
        # Scrapy 2.19 on the asyncio reactor starts every queued request of a host at once
        # when the slot delay is 0, ignoring CONCURRENT_REQUESTS_PER_DOMAIN; any delay > 0
        # restores the limit (measured: 8 requests in flight instead of 2).
        settings.set("DOWNLOAD_DELAY", MIN_DOWNLOAD_DELAY, priority="cmdline")
    close_at = settings.getfloat("NEWSLAKE_CLOSE_AT")
    if close_at:
        # The deadline was set when this process was started; imports have taken their share.
        settings.set("CLOSESPIDER_TIMEOUT", max(1.0, close_at - time.time()), priority="cmdline")

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    stats_path = out_dir / STATS_FILE
    stats_path.unlink(missing_ok=True)

    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(
        crawler,
        source_json=source,
        run_id=args.run_id,
        out_dir=str(out_dir),
        skip_file=str(args.skip_file) if args.skip_file else None,
        since=args.since,
        until=args.until,
        window_since=args.window_since,
        window_until=args.window_until,
        validators_file=str(args.validators_file) if args.validators_file else None,
    )
    process.start()

    if not stats_path.exists():
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        print(
            f"crawl of {source.id} did not finish (finish_reason={reason!r}); see the errors above",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
