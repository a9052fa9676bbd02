"""Item pipeline: rows and rejects into the spool folder, the crawl's counters into stats.json.

Each item is one JSON line (schemas.to_jsonable: timestamps ISO-8601 UTC with Z), flushed at
once so a killed crawl keeps everything it wrote. stats.json is written when the spider closes
(atomically: a reader never sees half a file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from schemas import to_jsonable
from schemas.spool import ARTICLES_FILE, REJECTS_FILE, STATS_FILE
from spiders.items import ArticleItem, RejectItem

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

PREFIX = "newslake/"

# Always present in stats.json (0 when nothing happened), in this order.
COUNTERS = (
    "discovered",
    "fetched",
    "spooled",
    "rejected",
    "skipped_landed",
    "duplicates",
    "offsite",
    "excluded",
    "out_of_window",
    "out_of_window_hint",
    "refetched_changed",
    "not_modified",
    "wp_api_pages",
    "wp_api_unavailable",
    "archive_pages",
    "archive_missing",
    "listing_errors",
    "transient_failures",
    "robots_disallowed",
    "feeds_fetched",
    "feed_errors",
    "sitemaps_fetched",
    "sitemap_errors",
    "capped",
    "candidates_capped",
    "problems_omitted",
)


def spool_stats(values: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """The stats.json document from the crawler's stats collector values."""
    out: dict[str, Any] = {name: int(values.get(PREFIX + name, 0)) for name in COUNTERS}
    out["finished_reason"] = reason
    out["requests"] = int(values.get("downloader/request_count", 0))
    out["response_bytes"] = int(values.get("downloader/response_bytes", 0))
    out["retries"] = int(values.get("retry/count", 0))
    out["retry_wait_seconds"] = round(float(values.get(PREFIX + "retry_wait_seconds", 0)), 3)
    out["retry_after_refused"] = int(values.get(PREFIX + "retry_after_refused", 0))
    out["warc_records"] = int(values.get(PREFIX + "warc_records", 0))
    # Extraction worker processes (0: in the crawl process) and how many had to be replaced.
    out["extract_workers"] = int(values.get(PREFIX + "extract_workers", 0))
    out["extract_worker_restarts"] = int(values.get(PREFIX + "extract_worker_restarts", 0))
    start = values.get("start_time")
    out["started_at"] = start.isoformat().replace("+00:00", "Z") if start else None
    out["elapsed_seconds"] = round(float(values.get("elapsed_time_seconds", 0)), 3)
    out["rejected_by_reason"] = {
        key.removeprefix(PREFIX + "rejected/"): int(value)
        for key, value in sorted(values.items())
        if key.startswith(PREFIX + "rejected/")
    }
    out["problems"] = list(values.get(PREFIX + "problems", []))
    return out


class SpoolPipeline:
    crawler: Crawler

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.out_dir: Path | None = None
        self._articles: IO[str] | None = None
        self._rejects: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        out_dir = getattr(spider, "out_dir", None)
        if out_dir is None:
            raise RuntimeError(f"{type(spider).__name__} has no out_dir: nowhere to spool")
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._articles = open(self.out_dir / ARTICLES_FILE, "w", encoding="utf-8")  # noqa: SIM115
        self._rejects = open(self.out_dir / REJECTS_FILE, "w", encoding="utf-8")  # noqa: SIM115

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            handle, counter = self._articles, "spooled"
        elif isinstance(item, RejectItem):
            handle, counter = self._rejects, "rejected"
            self.crawler.stats.inc_value(f"{PREFIX}rejected/{item.row['reason']}")
        else:
            raise DropItem(f"not a newslake item: {type(item).__name__}")
        assert handle is not None, "open_spider was not called"
        handle.write(json.dumps(to_jsonable(item.row), ensure_ascii=False) + "\n")
        handle.flush()
        self.crawler.stats.inc_value(PREFIX + counter)
        return item

    def close_spider(self) -> None:
        for handle in (self._articles, self._rejects):
            if handle is not None:
                handle.close()
        self._articles = self._rejects = None

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.out_dir is None:
            return
        document = spool_stats(self.crawler.stats.get_stats(), reason)
        write_json_atomic(self.out_dir / STATS_FILE, document)


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(temporary, path)
