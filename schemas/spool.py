"""The spool folder: what one crawl of one source hands from the spider to the lake.

articles.jsonl  one normalized article row per line (to_jsonable)
rejects.jsonl   one normalized reject row per line
raw.warc.gz     the WARC of every fetched article page; a row's raw_ref is
                "raw.warc.gz:<offset>" until the lake rewrites it to its own key
stats.json      the crawl's counters
skip.txt        (input, written by the flow) article ids of URLs not to fetch
"""

ARTICLES_FILE = "articles.jsonl"
REJECTS_FILE = "rejects.jsonl"
RAW_FILE = "raw.warc.gz"
STATS_FILE = "stats.json"
SKIP_FILE = "skip.txt"
