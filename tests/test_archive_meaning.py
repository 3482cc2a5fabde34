"""What a tweet was, as the readers keep it: language, sensitivity, quotes, retweets.

Table tests on items shaped as the real exports write them: the official
archive holds a quote tweet only as the quoted tweet's URL ending the text
(from `entities.urls`), a retweet only as `RT @user: …` cut at 140
characters, `lang` and `possibly_sensitive` as plain fields.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive import Archive, load_archive, retweets
from bot.archive.source import ArchiveSource
from bot.archive.text import _TRAILING_STATUS, quoted_id
from bot.model import Tweet
from tests.support import archives

OWNER = "quokka_codes"
ORIGINAL = "1114094070789046273"  # 2019-04-05 09:15
OTHER = "1233768888529846279"
DAY = date(2026, 4, 5)


def item(tweet_id: str, text: str, at: str = "Fri Apr 05 09:15:00 +0000 2019", **extra: Any) -> Any:
    """One `tweets.js` item as the official archive writes it."""
    found = extra.pop("entities", None) or archives.entities()
    when = datetime.strptime(at, "%a %b %d %H:%M:%S %z %Y")
    return archives.tweet_item(tweet_id, when, text, entities=found, favorite_count="0", **extra)


def url(short: str, expanded: str) -> dict[str, Any]:
    return archives.url_entity(short, expanded, [], expanded[8:34])


def with_urls(*urls: dict[str, Any]) -> dict[str, Any]:
    return archives.entities(urls=urls)


def official(tmp_path: Path, *items: Any) -> Archive:
    account = archives.account_item(
        OWNER, "987654321", email="q@example.com", created_at="", display_name="Quokka"
    )
    files = {
        "data/account.js": archives.js_file("account.part0", [account]),
        "data/tweets.js": archives.js_file("tweets.part0", items),
    }
    return load_archive(archives.write_files(tmp_path, files))


def the(archive: Archive, tweet_id: str) -> Tweet:
    return next(t for t in archive.tweets if t.id == tweet_id)


# --- language and sensitivity --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "lang"),
    [
        ("en", "en"),
        ("ja", "ja"),
        ("pt-BR", "pt-BR"),
        ("und", "und"),  # kept as written; compose maps pseudo-codes to "no language"
        ("qme", "qme"),
        ("zxx", "zxx"),
        ("", None),
        (None, None),
        (42, None),
        ("en\nRT", None),
        ("x" * 300, None),
    ],
)
def test_lang_is_kept_as_the_archive_writes_it(tmp_path: Path, raw: object, lang: str) -> None:
    archive = official(tmp_path, item("5", "Guten Morgen", lang=raw))
    assert the(archive, "5").lang == lang


def test_a_missing_lang_is_none(tmp_path: Path) -> None:
    entry = item("5", "hello")
    del entry["tweet"]["lang"]
    assert the(official(tmp_path, entry), "5").lang is None


@pytest.mark.parametrize(
    ("raw", "sensitive"), [(True, True), ("true", True), (False, False), ("yes", False), (1, False)]
)
def test_possibly_sensitive(tmp_path: Path, raw: object, sensitive: bool) -> None:
    archive = official(tmp_path, item("5", "look https://t.co/Ab", possibly_sensitive=raw))
    assert the(archive, "5").sensitive is sensitive


def test_no_possibly_sensitive_field_is_not_sensitive(tmp_path: Path) -> None:
    assert the(official(tmp_path, item("5", "hello")), "5").sensitive is False


# --- quote tweets -------------------------------------------------------------------


OWN = f"https://twitter.com/{OWNER}/status/{ORIGINAL}"


@pytest.mark.parametrize(
    ("text", "urls", "quoted"),
    [
        # what the official archive holds: the quoted tweet's t.co link ends the text
        ("Still true https://t.co/Qu0te00001", [url("https://t.co/Qu0te00001", OWN)], ORIGINAL),
        (
            "So this https://t.co/Qu0te00001",
            [url("https://t.co/Qu0te00001", OWN + "?s=20")],
            ORIGINAL,
        ),
        (
            "Same on x https://t.co/Qu0te00001",
            [url("https://t.co/Qu0te00001", f"https://x.com/{OWNER}/status/{ORIGINAL}")],
            ORIGINAL,
        ),
        (
            "Someone else's https://t.co/Qu0te00001",
            [url("https://t.co/Qu0te00001", f"https://twitter.com/grace_h/status/{OTHER}")],
            OTHER,
        ),
        # a link in the middle is a link, not a quote
        ("See https://t.co/Qu0te00001 for more", [url("https://t.co/Qu0te00001", OWN)], None),
        # a link to a photo of a tweet, to another site, or none at all
        ("Pic https://t.co/Qu0te00001", [url("https://t.co/Qu0te00001", OWN + "/photo/1")], None),
        (
            "Blog https://t.co/Qu0te00001",
            [url("https://t.co/Qu0te00001", "https://a.example/")],
            None,
        ),
        ("No link at all", [], None),
    ],
)
def test_a_quote_tweet_is_its_trailing_tweet_link(
    tmp_path: Path, text: str, urls: list[dict[str, Any]], quoted: str | None
) -> None:
    entry = item("5", text, "Sat Apr 06 10:00:00 +0000 2019", entities=with_urls(*urls))
    archive = official(tmp_path, entry)
    assert the(archive, "5").quote_of == quoted
    expanded = text.replace(urls[0]["url"], urls[0]["expanded_url"]) if urls else text
    assert the(archive, "5").text == expanded  # the link stays in the text


def test_a_quote_with_a_picture_still_ends_with_the_quoted_link(tmp_path: Path) -> None:
    media = {
        "url": "https://t.co/Med1a00001",
        "media_url_https": "https://pbs.twimg.com/media/Pic.jpg",
        "type": "photo",
        "expanded_url": f"https://twitter.com/{OWNER}/status/5/photo/1",
    }
    entry = item(
        "5",
        "Look https://t.co/Qu0te00001 https://t.co/Med1a00001",
        entities={**with_urls(url("https://t.co/Qu0te00001", OWN)), "media": [media]},
        extended_entities={"media": [media]},
    )
    assert the(official(tmp_path, entry), "5").quote_of == ORIGINAL


def test_a_stated_quote_wins_over_the_text(tmp_path: Path) -> None:
    stated = item("5", "Hmm https://t.co/Qu0te00001", quoted_status_id_str="77")
    permalink = item(
        "6",
        "Hmm",
        quoted_status_permalink={"expanded": f"https://twitter.com/x/status/{OTHER}"},
    )
    archive = official(tmp_path, stated, permalink)
    assert (the(archive, "5").quote_of, the(archive, "6").quote_of) == ("77", OTHER)


def test_a_link_to_the_tweet_itself_is_no_quote(tmp_path: Path) -> None:
    text = f"Me: https://twitter.com/{OWNER}/status/5"
    assert the(official(tmp_path, item("5", text)), "5").quote_of is None


# --- retweets of one's own tweets ---------------------------------------------------------

TEXT = (
    "Spring cleaning my dotfiles &amp; finding aliases from 2012 &lt;3 — one is literally "
    "named &amp;amp;, and another one is called please-do-not-run-this-on-a-friday"
)


@pytest.mark.parametrize(
    ("retweet", "original"),
    [
        (f"RT @{OWNER}: {TEXT}", ORIGINAL),
        (f"RT @{OWNER.upper()}: {TEXT}", ORIGINAL),
        # cut at 140 characters, as Twitter cut retweets, the last word halved
        (f"RT @{OWNER}: {TEXT[:110]}…", ORIGINAL),
        (
            f"RT @{OWNER}: Spring cleaning my dotfiles &amp; finding aliases from 2012 https:…",
            ORIGINAL,
        ),
        # not the owner's, not a tweet of the archive, or too little to tell
        (f"RT @grace_h: {TEXT}", None),
        (f"RT @{OWNER}: Something I never tweeted here", None),
        (f"RT @{OWNER}: Spring…", None),
    ],
)
def test_a_retweet_of_ones_own_tweet_finds_its_original(
    tmp_path: Path, retweet: str, original: str | None
) -> None:
    archive = official(
        tmp_path,
        item(ORIGINAL, TEXT),
        item("1114200000000000000", retweet, "Sun Apr 07 10:00:00 +0000 2019"),
    )
    rt = the(archive, "1114200000000000000")
    assert rt.is_retweet and rt.retweet_of == original
    assert the(archive, ORIGINAL).retweet_of is None


def test_the_latest_earlier_tweet_of_the_same_words_is_the_original(tmp_path: Path) -> None:
    archive = official(
        tmp_path,
        item("1", "Good morning, world of builds", "Mon Apr 01 09:00:00 +0000 2019"),
        item("3", "Good morning, world of builds", "Wed Apr 03 09:00:00 +0000 2019"),
        item("2", f"RT @{OWNER}: Good morning, world of builds", "Tue Apr 02 09:00:00 +0000 2019"),
        item("4", f"RT @{OWNER}: Good morning, world of builds", "Thu Apr 04 09:00:00 +0000 2019"),
    )
    assert [the(archive, i).retweet_of for i in "24"] == ["1", "3"]


def test_a_retweet_the_export_states_keeps_that_id(tmp_path: Path) -> None:
    entry = item("5", f"RT @{OWNER}: hello there", retweeted_status={"id_str": "42"})
    assert the(official(tmp_path, entry), "5").retweet_of == "42"


# --- markdown: what it can tell ---------------------------------------------------------


def test_markdown_keeps_quotes_and_self_retweets(tmp_path: Path) -> None:
    def block(tweet_id: str, day: int, body: str) -> str:
        at = datetime(2019, 4, day, 10, tzinfo=UTC)
        return archives.old_block(body, at, f"https://twitter.com/{OWNER}/status/{tweet_id}")

    blocks = [
        block("11", 1, "Compilers are just very patient translators"),
        block("12", 2, f"RT @{OWNER}: Compilers are just very patient translators"),
        block("13", 3, f"Still true https://twitter.com/{OWNER}/status/11?s=20"),
        block("14", 4, "Plain words, no quote"),
    ]
    (tmp_path / "tweets_2019-04.md").write_text(archives.old_markdown(blocks, end="\n----\n"))
    archive = load_archive(tmp_path)
    assert [(t.id, t.quote_of, t.retweet_of, t.lang) for t in archive.tweets] == [
        ("11", None, None, None),
        ("12", None, "11", None),
        ("13", "11", None, None),
        ("14", None, None, None),
    ]


def test_the_index_keeps_what_the_tweet_was(tmp_path: Path) -> None:
    folder, index = tmp_path / "a", tmp_path / "index"
    archive = official(
        folder,
        item(ORIGINAL, TEXT, lang="de", possibly_sensitive=True),
        item("1114200000000000000", f"RT @{OWNER}: {TEXT}", "Fri Apr 05 10:00:00 +0000 2022"),
        item("1114300000000000000", f"Q {OWN}", "Fri Apr 05 11:00:00 +0000 2022", lang="qme"),
    )
    hour_ago = time.time() - 3600  # an archive changed in the last seconds is not indexed
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (hour_ago, hour_ago))
    ArchiveSource(folder, index).day(DAY, "feb28")  # reads the archive, writes the index
    served = ArchiveSource(folder, index).day(DAY, "feb28")
    assert served.ids is not None  # from the index
    assert served.tweets == archive.tweets
    assert {(t.lang, t.sensitive, t.quote_of, t.retweet_of) for t in served.tweets} == {
        ("de", True, None, None),
        ("en", False, None, ORIGINAL),
        ("qme", False, ORIGINAL, None),
    }


# -- the shortcuts the readers take on big archives say what the long way says ----------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", " ", "  ", "\n", "\t", "http://x.co/p", "é", "."]), max_size=24
    ).map("".join)
)
def test_an_originals_key_read_off_its_text_is_its_plain_texts(text: str) -> None:
    key = retweets._key(text)
    assert key is None or (retweets._plain(text)[: retweets._KEY] == key and len(key) == 12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                " ",
                "\n",
                "word",
                "https://twitter.com/bob/status/123",
                "http://x.com/i/status/9?s=1",
                "https://t.co/abc",
                "https://twitter.com/bob/status/",
                "#frag",
                "\u00a0",
                "x",
            ]
        ),
        max_size=6,
    ).map("".join)
)
def test_a_quote_found_in_the_last_word_is_the_one_found_in_the_whole_text(text: str) -> None:
    whole = _TRAILING_STATUS.search(text.rstrip())
    assert quoted_id(text, "1") == (whole.group(1) if whole and whole.group(1) != "1" else None)
