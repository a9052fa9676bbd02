"""Turn one fetched page into the extracted fields of an article, or say why it is not one."""

from spiders.extraction.api import EXTRACTOR, NotAnArticle, PageHints
from spiders.extraction.article import extract_article

__all__ = ["EXTRACTOR", "NotAnArticle", "PageHints", "extract_article"]
