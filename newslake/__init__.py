"""newslake: regional news, crawled by Prefect + Scrapy, landed as versioned Parquet.

    from newslake import extract, query
    row = extract(html, url="https://news.am/eng/news/734188.html")
    print(row["title"], row["published_at"], row["body"][:200])

Heavy parts (Prefect, DuckDB) load only when used, so `extract` stays fast to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["NotAnArticle", "backfill", "connect", "crawl", "extract", "query"]

if TYPE_CHECKING:
    from newslake.api import backfill, connect, crawl, extract, query
    from spiders.extraction import NotAnArticle


def __getattr__(name: str) -> Any:
    if name in ("backfill", "connect", "crawl", "extract", "query"):
        from newslake import api

        return getattr(api, name)
    if name == "NotAnArticle":
        from spiders.extraction import NotAnArticle

        return NotAnArticle
    raise AttributeError(f"module 'newslake' has no attribute {name!r}")
