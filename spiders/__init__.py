"""Scrapy project: settings, the news spider, discovery, extraction, the catalogue loader.

Spiders know nothing of storage: a crawl writes rows, rejects, stats and raw captures into a
local spool folder, and the flow hands that folder to the lake.
"""
