"""Words and patterns of the region's pages: month names, labels, boilerplate lines.

Everything language-specific the extractor matches lives here, so adding a language or a
spelling is a change to one table. Patterns are compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The languages of the region the language identifier always considers; a source's own
# languages are added to these.
REGION_LANGUAGES = ("hy", "ru", "az", "ka", "en", "tr", "uk", "de", "fr")
# Close neighbours: languages a page of an outlet in the key language is mistaken for, or
# switches to (a Russian outlet's Ukrainian and Belarusian news, Azerbaijani and Turkish).
# The identifier considers a source's languages plus these.
NEIGHBOUR_LANGUAGES: dict[str, tuple[str, ...]] = {
    "ru": ("uk", "be"),
    "uk": ("ru", "be"),
    "be": ("ru", "uk"),
    "az": ("tr",),
    "tr": ("az",),
    "kk": ("ru", "ky"),
    "ky": ("ru", "kk"),
    "de": ("nl",),
    "fr": ("it", "es"),
}
# The language a text in this script is most likely in, in the region, when none of the
# candidates is written in it (a Russian page on an outlet that lists only Georgian).
SCRIPT_LANGUAGES = {"armenian": "hy", "georgian": "ka", "cyrillic": "ru", "latin": "en"}

# --- dates -------------------------------------------------------------------------------

_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _table(*columns: str) -> dict[str, str]:
    """Month spellings (one space-separated string of 12 per form) -> English month name."""
    table: dict[str, str] = {}
    for column in columns:
        names = column.split()
        assert len(names) == 12, column
        for name, english in zip(names, _EN_MONTHS, strict=True):
            table[name] = english
    return table


# dateparser knows Eastern Armenian (nominative and genitive), Azerbaijani and Georgian
# nominative months, but not Western Armenian spellings (Յունուար, Փետրուար, Յունիս, Յուլիս,
# used by diaspora papers) nor Georgian genitive forms ("2024 წლის 12 მაისის"). Mapping every
# spelling of these languages to English keeps one code path for all of them.
MONTHS_TO_ENGLISH: dict[str, str] = _table(
    # Eastern Armenian: nominative, genitive
    "հունվար փետրվար մարտ ապրիլ մայիս հունիս հուլիս օգոստոս սեպտեմբեր հոկտեմբեր նոյեմբեր դեկտեմբեր",
    "հունվարի փետրվարի մարտի ապրիլի մայիսի հունիսի հուլիսի օգոստոսի սեպտեմբերի հոկտեմբերի "
    "նոյեմբերի դեկտեմբերի",
    # Western Armenian (classical orthography): nominative, genitive
    "յունուար փետրուար մարտ ապրիլ մայիս յունիս յուլիս օգոստոս սեպտեմբեր հոկտեմբեր նոյեմբեր "
    "դեկտեմբեր",
    "յունուարի փետրուարի մարտի ապրիլի մայիսի յունիսի յուլիսի օգոստոսի սեպտեմբերի հոկտեմբերի "
    "նոյեմբերի դեկտեմբերի",
    # Azerbaijani (Latin script)
    "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr",
    # Georgian: nominative, genitive, dative
    "იანვარი თებერვალი მარტი აპრილი მაისი ივნისი ივლისი აგვისტო სექტემბერი ოქტომბერი ნოემბერი "
    "დეკემბერი",
    "იანვრის თებერვლის მარტის აპრილის მაისის ივნისის ივლისის აგვისტოს სექტემბრის ოქტომბრის "
    "ნოემბრის დეკემბრის",
    "იანვარს თებერვალს მარტს აპრილს მაისს ივნისს ივლისს აგვისტოს სექტემბერს ოქტომბერს ნოემბერს "
    "დეკემბერს",
)
# Lowercased lookup; the Armenian and Georgian alphabets case-fold with str.lower().
MONTH_WORD = re.compile(
    r"(?<!\w)(" + "|".join(sorted(map(re.escape, MONTHS_TO_ENGLISH), key=len, reverse=True)) + r")"
    r"(?!\w)",
    re.IGNORECASE,
)

# Relative dates dateparser does not read (Azerbaijani), rewritten as English.
AZ_RELATIVE_UNITS = {
    "saniyə": "seconds",
    "dəqiqə": "minutes",
    "saat": "hours",
    "gün": "days",
    "həftə": "weeks",
    "ay": "months",
    "il": "years",
}
AZ_RELATIVE = re.compile(
    r"(\d+)\s+(" + "|".join(AZ_RELATIVE_UNITS) + r")\s+(?:əvvəl|öncə)", re.IGNORECASE
)
AZ_DAY_WORDS = {"dünən": "yesterday", "bu gün": "today", "bugün": "today"}
AZ_DAY_WORD = re.compile(r"(?<!\w)(dünən|bu gün|bugün)(?!\w)", re.IGNORECASE)

# A relative expression somewhere in the text, in any of the region's languages.
RELATIVE_HINT = re.compile(
    r"(?<!\w)(ago|yesterday|today|назад|вчера|сегодня|тому|вчора|сьогодні|առաջ|երեկ|այսօր|"
    r"წინ|გუშინ|დღეს|əvvəl|öncə|dünən|bu gün|bugün|önce|dün|bugün)(?!\w)",
    re.IGNORECASE,
)
# Words printed next to a date that are not part of it ("2024 г.", "2024 թ.", "2024 წლის").
DATE_NOISE = re.compile(
    r"(?<!\w)(г\.|гг\.|года|год|թ\.|թվականի|թվական|წლის|წ\.|il|ilin)(?!\w)", re.IGNORECASE
)

# --- labels ------------------------------------------------------------------------------

# "Source:" in the region's languages, as a credit line starts.
SOURCE_LABELS = (
    "Источник",
    "Первоисточник",
    "Source",
    "Джерело",
    "Աղբյուր",
    "Աղբիւր",  # classical orthography (diaspora papers)
    "Mənbə",
    "წყარო",
    "Kaynak",
    "Quelle",
)
# (Armenian may add the definite article: "Աղբյուրը՝".)
SOURCE_LABEL = "(?:" + "|".join(SOURCE_LABELS) + ")(?:ը)?"
# A page saying its text is a machine translation ("This article was machine translated",
# "Перевод выполнен автоматически", "avtomatik tərcümə", Google Translate notices). Only
# statements about a translation, not articles that mention machine translation in passing:
# the phrases are the notices' own wording, and they count in short blocks only.
MACHINE_TRANSLATION_NOTICE = re.compile(
    r"machine[- ]translat(?:ed|ion)|(?:automatically|auto)[- ]translated|"
    r"automatic(?:ally)? translat(?:ed|ion)|"
    r"translated (?:automatically|by (?:a )?machine|"
    r"(?:by|with|using|via) (?:google|yandex|deepl|bing|microsoft)(?: translate| translator)?)|"
    r"powered by google translate|"
    r"перевод выполнен автоматически|автоматический перевод|машинный перевод|"
    r"переведе?[её]н[аоы]? автоматически|"
    r"переведено (?:с помощью|сервисом) (?:google|яндекс|yandex|deepl)|"
    r"машинний переклад|автоматичний переклад|"
    r"մեքենայական թարգմանություն|ավտոմատ թարգմանություն|ավտոմատ թարգմանված|"
    r"թարգմանված է ավտոմատ|թարգմանուած է ինքնաշխատ|ինքնաշխատ թարգմանութիւն|"
    r"avtomatik tərcümə|maşın tərcüməsi|avtomatik olaraq tərcümə|"
    r"მანქანური თარგმანი|ავტომატური თარგმანი|ავტომატურად ითარგმნა|ავტომატურად თარგმნილი|"
    r"otomatik çeviri|makine çevirisi|otomatik olarak çevrilmiştir",
    re.IGNORECASE,
)
# Every notice above holds one of these, whatever the case of its first letter: a cheap
# substring test on the page's text nodes before the pattern.
MACHINE_TRANSLATION_STEMS = (
    *("ranslat", "еревод", "еревед", "ерекла", "արգմ", "ərcüm", "თარგმ", "eviri", "evril"),
    *("RANSLAT", "ЕРЕВОД", "ЕРЕВЕД", "ЕРЕКЛА", "ԱՐԳՄ", "ƏRCÜM", "EVİRİ", "EVRİL"),
)
# Photo credit labels inside captions.
CREDIT_LABEL = (
    r"(?:Photos?|Photograph|Photo credit|Image|Credit|Foto|Fotoğraf|Фото|Фотография|Фотографии|"
    r"Լուսանկարը|Լուսանկարներ|Լուսանկար|Լուս\.|Şəkil|ფოტო)"
)
# Byline prefixes to drop from author names.
AUTHOR_PREFIX = re.compile(
    r"^\s*(?:By|Written by|Author|Authors|Автор(?:ы)?|Текст|Հեղինակ|Հեղինակներ|Müəllif|"
    r"ავტორი|Yazar)\s*[:՝։\-—–]?\s+",
    re.IGNORECASE,
)
# Separators between several names in one byline.
AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\s&\s|\sand\s|\sи\s|\sև\s|\sվə\s|\sდა\s)\s*")

# --- body lines --------------------------------------------------------------------------

# Whole lines that are never article text (comment forms, share prompts, CMS chrome).
BOILERPLATE_LINE = re.compile(
    r"^(?:"
    r"leave a (?:reply|comment)|добавить комментарий|оставить комментарий|оставьте комментарий|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"comments are closed\.?|комментарии закрыты\.?|"
    r"share(?: this)?(?: article| post)?:?|like this:?|поделиться:?|поделитесь:?|"
    r"կիսվել:?|paylaş:?|გაზიარება:?|"
    r"top of page|bottom of page|\d+\s*мин\.? чтения|\d+ min(?:ute)? read|"
    r"нет описания\.?|"
    # "Found a typo? Select it and press Ctrl+Enter", in whatever language: a short line
    # naming the key chord is the notice, not the story.
    r"(?=.{0,300}$).*ctrl\s*\+\s*enter.*|"
    r"advertisement|реклама|գովազդ|reklam|რეკლამა|"
    r"subscribe to our (?:newsletter|channel).*|подписывайтесь на (?:наш|нас).*|"
    r"stay up[- ]to[- ]date with (?:more |the latest )?news (?:at|on|in) .*|"
    r"follow (?:us|the author) on (?:telegram|x|twitter|facebook|instagram).*"
    r")$",
    re.IGNORECASE,
)
# "Read also" lines: the label and the linked headline that follows it.
READ_ALSO = re.compile(
    r"^(?:read (?:also|more)|see also|related|читайте (?:также|еще|ещё)|смотрите также|"
    r"по теме|կարդացեք նաև|կարդալ նաև|oxu həmçinin|həmçinin oxuyun|ასევე წაიკითხეთ|"
    r"წაიკითხეთ ასევე)\b\s*[:՝։\-—–]?",
    re.IGNORECASE,
)

# --- class and id words ---------------------------------------------------------------

# Elements that print the date in an article header.
DATE_CLASS_WORDS = (
    *("date", "time", "publish", "posted", "created", "stamp", "datum", "data", "meta"),
    *("byline", "info"),
)
# A standfirst, alone or as the last part of a compound class ("article__lead").
# "announce-text" is Russian-language CMSes' name for it (анонс); their bare "announce" block
# is the lead photo.
SUBTITLE_CLASS_WORDS = (
    "lead",
    "standfirst",
    "subtitle",
    "sub-title",
    "intro",
    "lede",
    "dek",
    "announce-text",
)
# A byline ("post-author", "author-name", "byline").
AUTHOR_CLASS_WORDS = ("author", "authors", "author-name", "byline")
# Blocks pruned from the text before trafilatura runs (menus, footers and navigation it
# handles itself). Words that name such a block wherever they stand in a class
# ("article__share", "td-post-sharing", "post-tags") ...
PRUNE_CLASS_WORDS_ANYWHERE = (
    *("related", "share", "sharing", "social", "comment", "newsletter", "subscribe", "advert"),
    *("banner", "popular", "recommended", "tags", "tag-list", "cookie", "breadcrumb"),
)
# ... and words that only do at the start of one, since layout wrappers use them as modifiers
# ("content-with-sidebar", "has-sidebar").
PRUNE_CLASS_WORDS_LEADING = (
    *("respond", "most-read", "more-news", "author-box", "author-bio", "aside", "sidebar"),
    *("newsfeed", "news-feed", "lenta"),
)


def contains_any(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern that finds any of `words` (lowercase) in a lowercased text, built as a trie:
    one branch per letter instead of one per word, which is over ten times faster for the
    hundreds of class names of a page."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        if "" in node:  # a shorter word already matches: longer ones add nothing
            return ""
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(build(trie))


# Every word above: elements whose class or id has none of them are of no interest to any
# step, and are left out of Page.classed (which matches them against the lowercased names).
CLASS_WORDS = contains_any(
    (
        *DATE_CLASS_WORDS,
        *SUBTITLE_CLASS_WORDS,
        *AUTHOR_CLASS_WORDS,
        *PRUNE_CLASS_WORDS_ANYWHERE,
        *PRUNE_CLASS_WORDS_LEADING,
    )
)

# --- page kinds --------------------------------------------------------------------------

# <title> or <h1> of an error page served with status 200.
ERROR_TITLE = re.compile(
    r"(?<!\d)404(?!\d)|page not found|not found|nothing found|страница не найдена|"
    r"ошибка 404|страница не существует|էջը չի գտնվել|էջը գոյություն չունի|səhifə tapılmadı|"
    r"გვერდი ვერ მოიძებნა|sayfa bulunamadı|seite nicht gefunden|page introuvable",
    re.IGNORECASE,
)
# Paths and queries of listings: a section, tag or author with its name and nothing after
# it (but a page number), search, pagination, a bare archive. "/archives/480211" (a
# WordPress post id permalink) and "/category/news/<slug>" are articles.
LISTING_URL = re.compile(
    r"/(?:category|categories|tag|tags|topic|topics|author|authors|rubric|rubrika|section)/"
    r"[^/?]+/?(?:page/\d+/?)?(?:$|\?)|/search(?:/|$|\?)|/page/\d+/?(?:$|\?)|/archives?/?(?:$|\?)|"
    r"[?&](?:s|q|search|query)=|[?&](?:page|paged)=(?:[2-9]|\d\d)|"
    # Drupal's term listings; a bare dated archive ("/2024/09/03/", "/2024/09/")
    r"/taxonomy/term/\d+/?(?:$|\?)|^/(?:[a-z]{2}/)?(?:19|20)\d{2}/\d{2}(?:/\d{2})?/?(?:$|\?)",
    re.IGNORECASE,
)
# Words of cookie and consent walls.
COOKIE_WORD = re.compile(
    r"cookie|consent|gdpr|куки|согласие|файлы cookie|çərəz|ქუქი|թխուկ|datenschutz",
    re.IGNORECASE,
)
