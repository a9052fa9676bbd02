"""The sign-off block at the end of the text."""

from __future__ import annotations

from spiders.extraction.body import clean_paragraphs
from spiders.extraction.body_tail import drop_sign_off, is_sign_off

TEXT = "The council approved the budget on Monday after a long debate."


def test_sign_off_lines() -> None:
    assert is_sign_off("Have a tip? Ann Lee may be reached at alee@example.org.")
    assert is_sign_off("Get the latest updates right in your inbox. Subscribe to our newsletters.")
    assert is_sign_off("Like this story? Share it with a friend!")
    assert is_sign_off("Copyright ©2019 Example Media. All Rights Reserved")
    assert is_sign_off("Подписывайтесь на наш канал в Telegram")
    assert is_sign_off("______________________________")
    assert not is_sign_off(TEXT)
    assert not is_sign_off("Investors were subscribing for shares. " * 6)


def test_only_the_closing_run_goes() -> None:
    lines = [
        TEXT,
        "Readers can subscribe to the plan, the mayor said.",
        "The vote was 7 to 2.",
        "Click here to subscribe to The Daily Newsletter",
        "Follow us on Twitter and Facebook.",
    ]
    assert drop_sign_off(lines) == lines[:3]
    assert drop_sign_off(["Click here to subscribe"]) == ["Click here to subscribe"]


def test_heading_above_the_sign_off_goes_too() -> None:
    lines = [TEXT, "Stay informed", "Sign up for our newsletter to get the news first."]
    assert clean_paragraphs(lines) == [TEXT]


def test_tag_list_and_comment_notice_at_the_end() -> None:
    lines = [
        TEXT,
        "Tags",
        "stock car 2018, stock car brasil, interlagos",
        "ATENÇÃO: Comentários ofensivos não serão aprovados pelo moderador.",
    ]
    assert drop_sign_off(lines) == [TEXT]
    assert drop_sign_off([TEXT, "Tags: budget, council, schools"]) == [TEXT]
    # A list of names is not a tag list without its label.
    credits = [TEXT, "STAFF", "Director_Oh, Writer_Kyeong, Composer_Kim, Lighting_Sin"]
    assert drop_sign_off(credits) == credits
