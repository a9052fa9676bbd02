"""The sign-off block under an article: calls to subscribe, follow, share or send a tip,
contact lines, affiliate disclosures and copyright notices.

These lines close the text on most sites and come through wherever the template puts them
inside the article container. Only a run of such lines at the very end goes: the same words
inside the article ("investors subscribing for shares") are text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# A sign-off line is short; a longer one is a paragraph that happens to use the words.
SIGN_OFF_MAX = 200
SIGN_OFF = re.compile(
    r"(?:"
    # subscribe, sign up, newsletters, apps
    r"\bsubscribe\b|\bsign[ -]up\b|\bnewsletters?\b|\bclick here\b|\btap here\b|"
    r"\bdownload (?:the|our) app\b|\bget (?:the|our) .{0,40}\bapp\b|\bin your inbox\b|"
    # share and follow
    r"\bshare (?:it|this)\b|\bfollow (?:us|me|him|her|them)\b|\blike us on\b|"
    # tips and contact
    r"\bhave a (?:news )?tip\b|\b(?:may|can) be reached at\b|\bwrite to .{1,60}\bat\b|"
    r"\bemail .{1,40} at \S+@|\bcontact (?:the )?(?:reporter|writer|author)\b|"
    r"\btell us what you think\b|\bsend us (?:your|a)\b|"
    # affiliate disclosures
    r"\bbuy something through\b|\baffiliate (?:links?|commission)\b|"
    # comment sections
    r"\bcoment[áa]rios\b|\bcommenti\b|\bkommentare\b|\bкомментари|\bcommentaires\b|"
    # copyright
    r"\ball rights reserved\b|\bcopyright\b|©|ⓒ|"
    # Russian, Portuguese, Spanish, Italian, German, French
    r"\bподпис|\bподпиш|\bрассылк|\bподелит|\bвсе права защищены\b|"
    r"\bassine\b|\binscreva|\bcompartilhe\b|\btodos os direitos\b|\bsuscr[íi]b|"
    r"\biscriviti\b|\bcondividi\b|\btutti i diritti\b|"
    r"\babonnieren\b|\balle rechte\b|\babonnez\b|\bpartagez\b|\btous droits\b"
    r")"
    # a rule drawn with characters
    r"|^[\W_]{3,}$",
    re.IGNORECASE,
)


# A tag list's label, alone on its line or before the tags ("Tags: a, b").
TAG_LABEL = re.compile(
    r"^(?:tags?|keywords|related topics|topics|теги|метки|ключевые слова|etiquetas|"
    r"palavras-chave|schlagw[öo]rter|parole chiave|mots-cl[ée]s)\s*(?::|$)",
    re.IGNORECASE,
)


def is_sign_off(line: str) -> bool:
    return len(line) <= SIGN_OFF_MAX and (
        SIGN_OFF.search(line) is not None or TAG_LABEL.match(line) is not None
    )


def drop_sign_off(lines: Sequence[str]) -> list[str]:
    """`lines` without the sign-off lines that end them, and a tag list there (the first line
    always stays)."""
    end = len(lines)
    while end > 1:
        if is_sign_off(lines[end - 1]):
            end -= 1
        elif end > 2 and TAG_LABEL.fullmatch(lines[end - 2].strip()):
            end -= 2  # a tag label alone and the tags under it
        else:
            break
    return list(lines[:end])
