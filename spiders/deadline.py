"""Close the crawl at a wall-clock deadline rather than a number of seconds after it opened.

spiders.runner gives a crawl a hard timeout and asks it to close itself a margin before that
(NEWSLAKE_CLOSE_AT). Scrapy's CloseSpider counts CLOSESPIDER_TIMEOUT from the moment the
spider opens, so on a loaded machine the seconds spent starting Python and Scrapy would eat
the margin the crawl needs to finish its requests in flight and write its spool.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scrapy.extensions.closespider import CloseSpider

if TYPE_CHECKING:
    from scrapy import Spider


class DeadlineCloseSpider(CloseSpider):
    """CloseSpider whose timeout, when NEWSLAKE_CLOSE_AT is set, runs out at that time."""

    def spider_opened(self, spider: Spider) -> None:
        close_at = self.crawler.settings.getfloat("NEWSLAKE_CLOSE_AT")
        if close_at:
            self.close_on["timeout"] = max(0.1, close_at - time.time())
        super().spider_opened(spider)
