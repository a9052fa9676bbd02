"""The spool folder: what one crawl of one source hands from the spider to the lake.

articles.jsonl  one normalized article row per line (to_jsonable)
rejects.jsonl   one normalized reject row per line
raw.warc.gz     the WARC of every fetched article page; a row's raw_ref is
                "raw.warc.gz:<offset>" until the lake rewrites it to its own key
stats.json      the crawl's counters
skip.txt        (input, written by the flow) article ids of URLs not to fetch, one per line,
                each optionally followed by a tab and the ISO 8601 UTC time its landed
                version was fetched (a listing that says the page changed later refetches it)
validators.json (input, written by the flow; scheduled crawls only) {endpoint URL: {"etag",
                "last_modified", "children"?}} of the feeds and sitemaps, for conditional GET
validators-seen.json  (output) the same, for the endpoints this crawl read; written only when
                the crawl got every candidate, and kept by the flow once the landing commits
"""

ARTICLES_FILE = "articles.jsonl"
REJECTS_FILE = "rejects.jsonl"
RAW_FILE = "raw.warc.gz"
STATS_FILE = "stats.json"
SKIP_FILE = "skip.txt"
VALIDATORS_FILE = "validators.json"
VALIDATORS_SEEN_FILE = "validators-seen.json"
