"""Storage and reading: stores (local folder | S3), the Parquet writer, run manifests, queries.

Imports schemas only (never spiders, flows or newslake); lake.store is the one boto3 user.
"""

from lake.errors import AlreadyExists, LakeError, NotFound, SpoolError
from lake.landed import landed_keys, landed_url_ids, write_skip_file
from lake.manifest import (
    Manifest,
    committed_files,
    read_manifest,
    read_manifests,
    write_manifest,
)
from lake.query import VIEWS, connect, open_lake, run_query
from lake.store import LocalStore, S3Store, Store, open_store
from lake.uri import LakeURI, resolve_uri
from lake.writer import LandResult, land_spool, write_failed_manifest

__all__ = [
    "VIEWS",
    "AlreadyExists",
    "LakeError",
    "LakeURI",
    "LandResult",
    "LocalStore",
    "Manifest",
    "NotFound",
    "S3Store",
    "SpoolError",
    "Store",
    "committed_files",
    "connect",
    "land_spool",
    "landed_keys",
    "landed_url_ids",
    "open_lake",
    "open_store",
    "read_manifest",
    "read_manifests",
    "resolve_uri",
    "run_query",
    "write_failed_manifest",
    "write_manifest",
    "write_skip_file",
]
