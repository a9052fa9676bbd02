"""URL canonicalization, so one article has one identity however it was linked."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that identify a click, a campaign or a chat widget, never the page.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|yclid|ysclid|msclkid|mc_cid|mc_eid|_ga|_gl|"
    r"igshid|ref_src|ref_url|chat_room_id|cmpid|wt_mc|wt\.mc_id|ito|icid|_hsenc|_hsmi|"
    r"mkt_tok|oly_enc_id|oly_anon_id|rb_clickid|s_cid|vero_id|at_medium|at_campaign|"
    r"amp_js_v|usqp|__twitter_impression|share)$",
    re.IGNORECASE,
)


def strip_tracking(url: str) -> str:
    """Drop tracking parameters and the fragment; keep everything else as it was."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in query if not _TRACKING.match(k)]
    new_query = urlencode(kept) if len(kept) != len(query) else parts.query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, new_query, ""))


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute, tracking-free, normalized form of `url` (relative URLs resolve against `base`).

    Scheme and host are lowercased, default ports and fragments dropped, query arguments
    sorted and percent-encoding normalized (w3lib), tracking parameters removed.
    """
    absolute = urljoin(base, url.strip()) if base else url.strip()
    cleaned = strip_tracking(absolute)
    parts = urlsplit(cleaned)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    port = parts.port
    if port and not (
        (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)
    ):
        host = f"{host}:{port}"
    path = parts.path or "/"
    rebuilt = urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))
    return canonicalize_url(rebuilt, keep_fragments=False)
