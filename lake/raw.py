"""Raw captures in the lake: raw/source_id=<id>/<run_id>.warc.gz, one WARC per run and source.

A landed row's raw_ref is "<that key>:<byte offset of the page's response record>". The
captures are listed by committed run manifests (dataset "raw"), like every other data file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lake.errors import LakeError
from lake.manifest import Manifest, check_segment, committed_entries, read_manifests
from lake.store import Store
from lake.writer import raw_key

__all__ = ["local_copy", "parse_raw_ref", "raw_captures", "raw_key"]


def raw_captures(
    store: Store, source_id: str, *, manifests: list[Manifest] | None = None
) -> list[dict[str, Any]]:
    """Entries ({key, bytes, ...}) of the source's committed WARC files, oldest run first."""
    check_segment("source_id", source_id)
    if manifests is None:
        manifests = read_manifests(store, source_ids=[source_id])
    return committed_entries(manifests, "raw", [source_id])


def parse_raw_ref(raw_ref: str) -> tuple[str, int]:
    """(lake key of the WARC file, byte offset of the record) of a landed row's raw_ref."""
    key, sep, offset = raw_ref.rpartition(":")
    if not sep or not key.startswith("raw/") or not offset.isdigit():
        raise LakeError(f"raw_ref {raw_ref!r}: expected raw/<...>.warc.gz:<byte offset>")
    return key, int(offset)


@contextmanager
def local_copy(store: Store, key: str, folder: Path) -> Iterator[Path]:
    """A local copy of the lake object `key` inside `folder`, removed after the block."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key.replace("/", "__")
    try:
        store.get_file(key, path)
        yield path
    finally:
        path.unlink(missing_ok=True)
