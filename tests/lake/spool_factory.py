"""Spool folders as a crawl writes them (the spiders -> lake contract), built from real rows."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from lake import Store, land_spool
from schemas import normalize_article, normalize_reject, to_jsonable

RUN_1 = "20240401T060000Z-a1b2c3"
RUN_2 = "20240402T060000Z-d4e5f6"
RUN_3 = "20240403T060000Z-0789ab"
EXTRACTOR = "newslake-extract/0.1 trafilatura/2.3.1"

AM = "ararat-courier"
GE = "tbilisi-herald"


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def article(run_id: str, name: str, **overrides: Any) -> dict[str, Any]:
    """One normalized row of the catalogue below, as the spider would build it."""
    fields = dict(ARTICLES[name])
    fields.update(crawl_run_id=run_id, extractor=EXTRACTOR)
    fields.update(overrides)
    return normalize_article(fields)


def reject(run_id: str, name: str) -> dict[str, Any]:
    fields = dict(REJECTS[name])
    fields["crawl_run_id"] = run_id
    return normalize_reject(fields)


ARTICLES: dict[str, dict[str, Any]] = {
    # Armenian, two images (one without a credit), translations, a section and tags.
    "am-budget": {
        "url": "https://ararat-courier.am/hy/news/2024/03/15/budget/",
        "canonical_url": "https://ararat-courier.am/hy/news/2024/03/15/budget/",
        "source_id": AM,
        "title": "Կառավարությունը հաստատեց 2025 թվականի բյուջեի նախագիծը",
        "subtitle": "Ծախսերն աճելու են 12 տոկոսով",
        "authors": ["Անահիտ Սարգսյան"],
        "published_at": ts("2024-03-15T08:30:00Z"),
        "published_at_source": "jsonld",
        "published_at_raw": "2024-03-15T12:30:00+04:00",
        "modified_at": ts("2024-03-15T09:00:00Z"),
        "language": "hy",
        "language_declared": "hy",
        "language_detected": "hy",
        "section": "Տնտեսություն",
        "tags": ["բյուջե", "կառավարություն"],
        "body": "Կառավարության նիստում հաստատվեց բյուջեի նախագիծը։\n\n"
        "Ֆինանսների նախարարը ներկայացրեց հիմնական ցուցանիշները։",
        "images": [
            {
                "url": "https://ararat-courier.am/media/budget.jpg",
                "caption": "Կառավարության նիստը",
                "credit": "Photolure",
            },
            {"url": "https://ararat-courier.am/media/chart.png", "caption": None, "credit": None},
        ],
        "translations": [
            {"language": "en", "url": "https://ararat-courier.am/en/news/2024/03/15/budget/"},
            {"language": "ru", "url": "https://ararat-courier.am/ru/news/2024/03/15/budget/"},
        ],
        "fetched_at": ts("2024-04-01T06:01:00Z"),
        "discovered_via": "sitemap",
        "http_status": 200,
    },
    # Russian, syndicated, fetched through a URL that differs from the canonical one.
    "am-gas": {
        "url": "https://ararat-courier.am/ru/news/gas-prices/?amp=1",
        "canonical_url": "https://ararat-courier.am/ru/news/gas-prices/",
        "source_id": AM,
        "title": "Цены на газ для населения останутся прежними",
        "authors": ["Иван Петров", "Мариам Акопян"],
        "published_at": ts("2024-04-01T05:15:00Z"),
        "published_at_source": "meta",
        "published_at_raw": "01.04.2024 09:15",
        "language": "ru",
        "tags": ["газ"],
        "body": "Тарифы на газ не изменятся до конца года.\n\nОб этом сообщили в регуляторе.",
        "syndicated_from": "www.mk.ru",
        "fetched_at": ts("2024-04-01T06:02:00Z"),
        "discovered_via": "feed",
        "http_status": 200,
    },
    # No date anywhere: the undated partition.
    "am-undated": {
        "url": "https://ararat-courier.am/en/opinion/letters/",
        "canonical_url": "https://ararat-courier.am/en/opinion/letters/",
        "source_id": AM,
        "title": "Letters to the editor",
        "language": "en",
        "body": "Readers write about the new metro line.",
        "fetched_at": ts("2024-04-01T06:03:00Z"),
        "discovered_via": "link",
        "http_status": 200,
    },
    "ge-port": {
        "url": "https://tbilisi-herald.ge/ka/economy/port/",
        "canonical_url": "https://tbilisi-herald.ge/ka/economy/port/",
        "source_id": GE,
        "title": "ანაკლიის პორტის მშენებლობა განახლდება",
        "authors": ["ნინო ბერიძე"],
        "published_at": ts("2024-03-20T10:00:00Z"),
        "published_at_source": "time",
        "published_at_raw": "20 მარტი 2024, 14:00",
        "language": "ka",
        "body": "მთავრობამ პორტის პროექტზე ახალი ტენდერი გამოაცხადა.",
        "images": [{"url": "https://tbilisi-herald.ge/img/port.jpg", "caption": "პორტი"}],
        "fetched_at": ts("2024-04-01T06:04:00Z"),
        "discovered_via": "sitemap",
        "http_status": 200,
    },
}

REJECTS: dict[str, dict[str, Any]] = {
    "am-tag": {
        "url": "https://ararat-courier.am/hy/tag/budget/",
        "source_id": AM,
        "reason": "not_article",
        "detail": "tag listing page",
        "http_status": 200,
        "rejected_at": ts("2024-04-01T06:05:00Z"),
        "discovered_via": "link",
    },
    "am-gone": {
        "url": "https://ararat-courier.am/ru/news/deleted/",
        "source_id": AM,
        "reason": "http_error",
        "detail": "HTTP 404",
        "http_status": 404,
        "rejected_at": ts("2024-04-01T06:06:00Z"),
        "discovered_via": "feed",
    },
}


def _warc_record(writer: WARCWriter, url: str, html: str) -> None:
    payload = html.encode("utf-8")
    headers = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(payload), http_headers=headers
    )
    writer.write_record(record)


def write_spool(
    folder: Path,
    articles: Iterable[Mapping[str, Any]],
    rejects: Iterable[Mapping[str, Any]] = (),
    *,
    stats: Mapping[str, Any] | None = None,
    warc: bool = True,
) -> Path:
    """Write the spool files; with `warc`, each article gets a capture and a raw_ref to it."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [dict(r) for r in articles]
    if warc and rows:
        with open(folder / "raw.warc.gz", "wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for row in rows:
                offset = fh.tell()
                _warc_record(writer, row["url"], f"<html><h1>{row['title']}</h1></html>")
                row["raw_ref"] = f"raw.warc.gz:{offset}"
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(to_jsonable(row), ensure_ascii=False) + "\n")
    with open(folder / "rejects.jsonl", "w", encoding="utf-8") as fh:
        for reject_row in rejects:
            fh.write(json.dumps(to_jsonable(reject_row), ensure_ascii=False) + "\n")
    base_stats = {
        "discovered": 10,
        "fetched": len(rows) + 2,
        "rejected": 2,
        "skipped_landed": 0,
        "duplicates": 0,
        "offsite": 1,
        "finished_reason": "finished",
    }
    (folder / "stats.json").write_text(json.dumps(dict(stats or base_stats)), encoding="utf-8")
    return folder


STARTED = ts("2024-04-01T06:00:00Z")


def land_run_1(store: Store, tmp_path: Path) -> None:
    am = write_spool(
        tmp_path / "spool-am",
        [article(RUN_1, n) for n in ("am-budget", "am-gas", "am-undated")],
        [reject(RUN_1, "am-tag"), reject(RUN_1, "am-gone")],
    )
    ge = write_spool(tmp_path / "spool-ge", [article(RUN_1, "ge-port")], [])
    land_spool(store, am, run_id=RUN_1, source_id=AM, started_at=STARTED, extractor=EXTRACTOR)
    land_spool(store, ge, run_id=RUN_1, source_id=GE, started_at=STARTED, extractor=EXTRACTOR)


class CrashBeforeCommit(Store):
    """A real store whose process "dies" as it writes a run manifest (fault injection)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.lake = inner.lake

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        if key.startswith("runs/"):
            raise KeyboardInterrupt("simulated crash before the commit")
        self.inner.put(key, data, if_absent=if_absent)

    def put_file(self, key: str, path: Path) -> None:
        self.inner.put_file(key, path)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str) -> None:
        # A crashed process deletes nothing: keep its files around.
        pass

    def arrow_filesystem(self) -> tuple[Any, str]:
        return self.inner.arrow_filesystem()
