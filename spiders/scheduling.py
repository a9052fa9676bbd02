"""Scrapy's priority queue, with the next priority found in O(log n) instead of O(n).

The spider gives each article request its own priority (fetched in discovery order), so a
crawl of N articles has N priorities. Scrapy's ScrapyPriorityQueue recomputes the smallest
priority with a scan over every priority whenever one empties, which is every pop here: N²/2
steps (measured: 125,000 set insertions for 500 articles, 200 million for 20,000). These
subclasses keep a heap of the priorities instead; which request comes next is unchanged.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from scrapy.http import Request
from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue, _path_safe


class HeapPriorityQueue(ScrapyPriorityQueue):
    """ScrapyPriorityQueue with a heap of the priorities that may hold requests."""

    def init_prios(self, startprios: Iterable[int]) -> None:
        self._heap: list[int] = []
        super().init_prios(startprios)
        for priority in set(self.queues) | set(self._start_queues):
            heapq.heappush(self._heap, priority)

    def push(self, request: Request) -> None:
        priority = self.priority(request)
        known = priority in self.queues or priority in self._start_queues
        super().push(request)
        if not known:
            heapq.heappush(self._heap, priority)

    def _update_curprio(self) -> None:
        # Entries whose queues are gone (or empty) are dropped lazily, from the top.
        heap = self._heap
        while heap and not (self.queues.get(heap[0]) or self._start_queues.get(heap[0])):
            heapq.heappop(heap)
        self.curprio = heap[0] if heap else None


class NewsPriorityQueue(DownloaderAwarePriorityQueue):
    """Scrapy's default (per-downloader-slot) priority queue, over HeapPriorityQueue."""

    def pqfactory(self, slot: str, startprios: Iterable[int] = ()) -> ScrapyPriorityQueue:
        return HeapPriorityQueue(
            self.crawler,
            self.downstream_queue_cls,
            self.key + "/" + _path_safe(slot),
            startprios,
            start_queue_cls=self._start_queue_cls,
        )
