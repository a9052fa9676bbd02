"""A synthetic WordPress outlet of N articles, written as a folder `newslake.site_server` serves.

Load tests and benchmarks need sites far bigger than hand-written fixtures (1,000 to 20,000
articles), with the markup real outlets have: Yoast JSON-LD, Open Graph, a theme's header,
navigation, sidebar and footer around a few hundred words of text. Pages are generated from a
seed, so one (articles, seed) pair always gives the same site byte for byte, and every article
has distinct text (distinct content hashes).

Layout under `<root>/site/`:
    robots.txt
    feed.rss                           RSS 2.0, the newest FEED_ITEMS articles
    sitemap_index.xml                  one child sitemap per month
    sitemaps/post-<YYYY>-<MM>.xml      every article of the month with its lastmod
    news/<YYYY>/<MM>/<DD>/<slug>/index.html
and `<root>/sources.yaml` (one source, `{{BASE}}` = the server's base URL) is written beside it.
Articles are spread over consecutive days from `start`, `per_day` a day, published at
staggered minutes so their times differ.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

FEED_ITEMS = 50

_PLACES = [
    "Yerevan",
    "Gyumri",
    "Vanadzor",
    "Dilijan",
    "Goris",
    "Kapan",
    "Ijevan",
    "Sevan",
    "Tbilisi",
    "Batumi",
    "Kutaisi",
    "Baku",
    "Ganja",
    "Sheki",
    "Stepanakert",
    "Meghri",
    "Artashat",
    "Armavir",
]
_SUBJECTS = [
    "the city council",
    "the transport ministry",
    "a group of farmers",
    "local teachers",
    "the regional governor",
    "exporters",
    "the central bank",
    "a mining company",
    "the water utility",
    "hospital staff",
    "the border service",
    "a wine cooperative",
    "university researchers",
    "small business owners",
    "the election commission",
]
_VERBS = [
    "announced",
    "criticised",
    "approved",
    "postponed",
    "welcomed",
    "questioned",
    "expanded",
    "reviewed",
    "suspended",
    "defended",
    "outlined",
    "rejected",
    "negotiated",
    "completed",
]
_OBJECTS = [
    "a new bus route",
    "the irrigation budget",
    "plans for a solar plant",
    "a school repair",
    "tariffs on imported grain",
    "the road through the pass",
    "a pension increase",
    "the airport expansion",
    "a tourism programme",
    "rules for street trading",
    "the tender for a bridge",
    "a cross-border rail link",
    "subsidies for orchards",
]
_CLAUSES = [
    "after months of public debate",
    "despite objections from residents",
    "according to figures published on Monday",
    "in a statement seen by reporters",
    "ahead of the winter season",
    "as prices continued to rise",
    "following a review by independent auditors",
    "while critics called for more time",
    "with funding from international lenders",
    "in response to complaints from drivers",
]
_SECTIONS = ["Politics", "Economy", "Society", "Region", "Culture", "Environment"]
_AUTHORS = [
    "Ruzanna Mkrtchyan",
    "Giorgi Beridze",
    "Leyla Aliyeva",
    "Armen Petrosyan",
    "Nino Kapanadze",
    "Tigran Hakobyan",
    "Aysel Mammadova",
    "David Sargsyan",
]


@dataclass(frozen=True)
class SyntheticArticle:
    number: int
    path: str  # site path, e.g. /news/2024/01/05/council-approves-bus-route-17/
    published_at: datetime
    title: str


@dataclass(frozen=True)
class SyntheticSite:
    root: Path  # serve root / "site"; root / "sources.yaml" names the source
    source_id: str
    articles: list[SyntheticArticle]

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def sources_file(self) -> Path:
        return self.root / "sources.yaml"

    def urls(self, base_url: str) -> list[str]:
        return [base_url + a.path for a in self.articles]


def plan(
    articles: int, *, start: date = date(2024, 1, 1), per_day: int = 40, seed: int = 0
) -> list[SyntheticArticle]:
    """The articles of a site, without writing anything."""
    rng = random.Random(seed)
    out = []
    for n in range(articles):
        day = start + timedelta(days=n // per_day)
        minute = (n % per_day) * (1440 // max(per_day, 1))
        published = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minute)
        subject, verb, obj = rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)
        place = rng.choice(_PLACES)
        title = f"{place}: {subject[0].upper()}{subject[1:]} {verb} {obj}"
        words = f"{place} {subject} {verb} {obj}".lower().replace(",", "").split()[:6]
        slug = "-".join([*words, str(n + 1)])
        path = f"/news/{day:%Y/%m/%d}/{slug}/"
        out.append(SyntheticArticle(n + 1, path, published, title))
    return out


def write_site(
    root: Path,
    articles: int,
    *,
    source_id: str = "synthetic-news",
    start: date = date(2024, 1, 1),
    per_day: int = 40,
    seed: int = 0,
) -> SyntheticSite:
    """Write the site and its sources.yaml under `root` (created; existing files overwritten)."""
    items = plan(articles, start=start, per_day=per_day, seed=seed)
    site = SyntheticSite(root, source_id, items)
    site.site_dir.mkdir(parents=True, exist_ok=True)
    for article in items:
        folder = site.site_dir / article.path.strip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(_article_html(article, seed), "utf-8")
    _write(site.site_dir / "robots.txt", "User-agent: *\nDisallow: /wp-admin/\n")
    _write(site.site_dir / "feed.rss", _feed(items[-FEED_ITEMS:][::-1]))
    months: dict[str, list[SyntheticArticle]] = {}
    for article in items:
        months.setdefault(f"{article.published_at:%Y-%m}", []).append(article)
    for month, group in months.items():
        _write(site.site_dir / "sitemaps" / f"post-{month}.xml", _sitemap(group))
    _write(site.site_dir / "sitemap_index.xml", _sitemap_index(sorted(months)))
    _write(site.sources_file, _sources_yaml(source_id))
    return site


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _sentences(rng: random.Random, count: int) -> Iterator[str]:
    for _ in range(count):
        subject = rng.choice(_SUBJECTS)
        text = (
            f"In {rng.choice(_PLACES)}, {subject} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_CLAUSES)}, and {rng.randint(2, 900)} people were affected."
        )
        yield text[0].upper() + text[1:]


def _article_html(article: SyntheticArticle, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{article.number}".encode()).hexdigest()
    rng = random.Random(int(digest[:16], 16))
    author = rng.choice(_AUTHORS)
    section = rng.choice(_SECTIONS)
    paragraphs = [" ".join(_sentences(rng, rng.randint(2, 4))) for _ in range(rng.randint(5, 9))]
    lead = paragraphs[0][:150].rsplit(" ", 1)[0] + "…"
    published = article.published_at.isoformat()
    url = "{{BASE}}" + article.path
    jsonld = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "@id": f"{url}#article",
                "headline": article.title,
                "datePublished": published,
                "dateModified": published,
                "author": {"@type": "Person", "name": author},
                "articleSection": [section],
                "inLanguage": "en-US",
                "mainEntityOfPage": {"@id": url},
                "publisher": {"@type": "Organization", "name": "Synthetic Courier"},
            }
        ],
    }
    nav = "".join(
        f'<li class="menu-item"><a href="{{{{BASE}}}}/category/{s.lower()}/">{s}</a></li>'
        for s in _SECTIONS
    )
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    related = "".join(
        f'<li><a href="{{{{BASE}}}}/news/related-{(article.number + k) % 997}/">'
        f"{escape(rng.choice(_PLACES))} {escape(rng.choice(_OBJECTS))}</a></li>"
        for k in range(1, 6)
    )
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(article.title)} - Synthetic Courier</title>
<meta name="description" content="{escape(lead)}" />
<link rel="canonical" href="{url}" />
<meta property="og:type" content="article" />
<meta property="og:title" content="{escape(article.title)}" />
<meta property="og:url" content="{url}" />
<meta property="og:site_name" content="Synthetic Courier" />
<meta property="article:published_time" content="{published}" />
<meta name="author" content="{escape(author)}" />
<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(jsonld)}</script>
<link rel="alternate" type="application/rss+xml" title="Feed" href="{{{{BASE}}}}/feed.rss" />
<script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body class="post-template-default single single-post postid-{article.number}">
<header class="site-header"><div class="site-branding">
<p class="main-title"><a href="{{{{BASE}}}}/" rel="home">Synthetic Courier</a></p>
<p class="site-description">News from the South Caucasus, generated for load tests</p></div>
<nav class="main-navigation"><ul class="menu">{nav}</ul></nav></header>
<div class="site-content" id="content"><main class="site-main" id="main">
<article id="post-{article.number}" class="post type-post status-publish hentry">
<header class="entry-header">
<h1 class="entry-title">{escape(article.title)}</h1>
<div class="entry-meta"><time class="entry-date published" datetime="{published}">
{article.published_at:%B %-d, %Y}</time> by <span class="author vcard">
<span class="author-name">{escape(author)}</span></span></div>
</header>
<div class="entry-content">
{body}
</div>
<footer class="entry-meta"><span class="cat-links">Posted in
<a href="{{{{BASE}}}}/category/{section.lower()}/" rel="category tag">{section}</a></span></footer>
</article>
</main>
<aside class="widget-area sidebar"><section class="widget"><h2 class="widget-title">Related</h2>
<ul>{related}</ul></section>
<section class="widget"><h2 class="widget-title">Newsletter</h2>
<p>Subscribe to our daily digest.</p></section></aside></div>
<footer class="site-footer"><p>&copy; 2024 Synthetic Courier. All rights reserved.</p>
<ul><li><a href="{{{{BASE}}}}/about/">About</a></li>
<li><a href="{{{{BASE}}}}/contact/">Contact</a></li></ul>
</footer>
</body>
</html>
"""


def _feed(items: list[SyntheticArticle]) -> str:
    entries = "\n".join(
        f"<item><title>{xml_escape(a.title)}</title><link>{{{{BASE}}}}{a.path}</link>"
        f"<guid>{{{{BASE}}}}{a.path}</guid>"
        f"<pubDate>{a.published_at:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Synthetic Courier</title><link>{{BASE}}/</link>"
        f"<description>Latest news</description>\n{entries}\n</channel></rss>\n"
    )


def _sitemap(items: list[SyntheticArticle]) -> str:
    urls = "\n".join(
        f"<url><loc>{{{{BASE}}}}{a.path}</loc>"
        f"<lastmod>{a.published_at:%Y-%m-%dT%H:%M:%S}+00:00</lastmod></url>"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}\n</urlset>\n"
    )


def _sitemap_index(months: list[str]) -> str:
    children = "\n".join(
        f"<sitemap><loc>{{{{BASE}}}}/sitemaps/post-{m}.xml</loc></sitemap>" for m in months
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{children}\n</sitemapindex>\n"
    )


def _sources_yaml(source_id: str) -> str:
    return f"""# A synthetic outlet (newslake.synthetic_site) served on 127.0.0.1 for load tests.
sources:
  - id: {source_id}
    name: Synthetic Courier
    homepage: "{{{{BASE}}}}/"
    country: AM
    languages: [en]
    timezone: Asia/Yerevan
    allow_private_network: true  # served on 127.0.0.1
    cms: wordpress
    feeds: ["{{{{BASE}}}}/feed.rss"]
    sitemaps: ["{{{{BASE}}}}/sitemap_index.xml"]
    article_url_patterns: ['/news/\\d{{4}}/\\d{{2}}/\\d{{2}}/']
    notes: Generated content for load tests and benchmarks.
"""
