"""Per-source crawl state kept in the lake: the validators of its feeds and sitemaps.

`state/source_id=<id>/validators.json` maps each feed or sitemap URL to the ETag and
Last-Modified (and, for a sitemap index, its child sitemaps) that the source's last complete
scheduled crawl got. The next crawl sends them back (If-None-Match, If-Modified-Since), so an
unchanged endpoint costs a 304 and yields no candidates. It is a cache, not a commit: it is
only updated after a landing has committed, and losing it only costs full downloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lake.errors import LakeError, NotFound
from lake.manifest import check_segment
from lake.store import Store

Validators = dict[str, dict[str, Any]]


def validators_key(source_id: str) -> str:
    return f"state/source_id={check_segment('source_id', source_id)}/validators.json"


def read_validators(store: Store, source_id: str) -> Validators:
    key = validators_key(source_id)
    try:
        data = json.loads(store.get(key))
    except NotFound:
        return {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LakeError(f"{key} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LakeError(f"{key}: expected a JSON object")
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}


def write_validators_file(store: Store, source_id: str, path: Path) -> int:
    """Write what the lake remembers for `source_id` to `path` (the crawl's input)."""
    validators = read_validators(store, source_id)
    Path(path).write_text(json.dumps(validators, indent=2, sort_keys=True), "utf-8")
    return len(validators)


def keep_validators(store: Store, source_id: str, seen_file: Path) -> int:
    """Merge the validators a complete crawl got (`seen_file`) into the lake's; 0 if none.

    Call only after that crawl's landing committed: the next crawl trusts a 304 to mean
    "everything this endpoint lists is already handled".
    """
    seen_path = Path(seen_file)
    if not seen_path.exists():
        return 0
    seen = json.loads(seen_path.read_text("utf-8"))
    if not isinstance(seen, dict) or not seen:
        return 0
    merged = read_validators(store, source_id) | {str(k): dict(v) for k, v in seen.items()}
    text = json.dumps(merged, indent=2, sort_keys=True, ensure_ascii=False)
    store.put(validators_key(source_id), text.encode("utf-8"))
    return len(seen)
