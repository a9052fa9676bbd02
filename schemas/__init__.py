"""The one place field names and types live: the Article schema, its versions, rejects, runs."""

from schemas.article import (
    ARTICLE_PARTITION_SCHEMA,
    ARTICLE_SCHEMA,
    CONTENT_FIELDS,
    DATE_SOURCES,
    IMAGE_TYPE,
    SCHEMA_VERSION,
    TRANSLATION_TYPE,
    UNDATED_PARTITION,
    article_partition,
)
from schemas.identity import article_id, content_hash
from schemas.normalize import InvalidRow, normalize_article, rows_to_table, word_count
from schemas.reject import (
    REJECT_PARTITION_SCHEMA,
    REJECT_REASONS,
    REJECT_SCHEMA,
    normalize_reject,
    reject_partition,
)
from schemas.run import RUN_COUNTERS, RUN_SCHEMA, RUN_STATUSES
from schemas.serialize import from_jsonable, to_jsonable

__all__ = [
    "ARTICLE_PARTITION_SCHEMA",
    "ARTICLE_SCHEMA",
    "CONTENT_FIELDS",
    "DATE_SOURCES",
    "IMAGE_TYPE",
    "REJECT_PARTITION_SCHEMA",
    "REJECT_REASONS",
    "REJECT_SCHEMA",
    "RUN_COUNTERS",
    "RUN_SCHEMA",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "TRANSLATION_TYPE",
    "UNDATED_PARTITION",
    "InvalidRow",
    "article_id",
    "article_partition",
    "content_hash",
    "from_jsonable",
    "normalize_article",
    "normalize_reject",
    "reject_partition",
    "rows_to_table",
    "to_jsonable",
    "word_count",
]
