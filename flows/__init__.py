"""Prefect flows: crawl, backfill. Orchestration only: parsing lives in spiders, storage in lake."""
