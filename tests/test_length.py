"""Mastodon's character count and grapheme boundaries.

The count is our own (`bot.compose.length`); Mastodon.py's `get_status_length`
is the reference it must always agree with: on examples, on generated text full
of URLs, mentions, emoji and marks, and on every toot of the seeds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import grapheme
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mastodon import Mastodon
from mastodon._url_regex import URL_REGEX_SOURCE

from bot.archive import load_archive
from bot.bundled import demo_archive
from bot.compose import ComposeOptions, compose
from bot.compose.length import COUNTERS, code_points, grapheme_boundaries, status_length
from bot.compose.tlds import COUNTRY, GENERIC
from bot.model import Toot


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("https://example.com", 23),
        ("see https://example.com/" + "a" * 200, 4 + 23),
        ("@bob@twitter.com", 4),
        ("hi @bob@mastodon.social!", 3 + 4 + 1),
        ("me@example.com", 14),
        ("😂", 1),
        ("👍🏽", 1),
        ("🇩🇪", 1),
        ("e\u0301", 1),
        ("日本語", 3),
        ("https://example.notatld/path", 28),  # no known TLD: not a URL
        ("xhttps://example.com", 20),  # glued to a word: not a URL
        ("https://a.com.x", 23 + 2),  # the longest host with a known TLD
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", 1 + 23 + 1),  # balanced parens
        ("https://example.com/x?q=1.", 23 + 1),  # trailing punctuation left out
        ("HTTPS://EXAMPLE.COM", 23),
        ("https://bücher.de", 23),
        ("https://例え.テスト", 14),  # テスト is no TLD Mastodon knows
        ("https://例え.ストア", 23),
        ("https://a.xn--p1ai/x", 23),
    ],
)
def test_counts_like_mastodon(text: str, expected: int) -> None:
    assert status_length(text) == expected == Mastodon.get_status_length(text)


def test_spoiler_text_counts_too() -> None:
    assert status_length("hello", "CW: 😂") == 5 + 5


def test_a_url_counts_what_the_server_reserves() -> None:
    assert status_length("see https://example.com/abc", url_length=30) == 4 + 30
    assert status_length("see https://example.com/abc", url_length=5) == 4 + 5


def test_code_points_count_every_character_of_text_and_warning() -> None:
    # GoToSocial's rule (Takahē leaves the warning out, Pleroma counts clusters: never more).
    url = "https://example.com/" + "a" * 80
    assert code_points(f"{url} @bob@twitter.com 👨‍👩‍👧‍👦", "CW") == 100 + 1 + 16 + 1 + 7 + 2
    assert COUNTERS["code points"] is code_points and COUNTERS["mastodon"] is status_length


@pytest.mark.parametrize(
    "text", ["https://example.com/" + "a" * 80, "@someone@mastodon.example hi", "e\u0301" * 5]
)
def test_code_points_never_count_less_than_mastodon(text: str) -> None:
    assert code_points(text) >= status_length(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", []), ("abc", [1, 2, 3]), ("e\u0301a👍🏽", [2, 3, 5]), ("🇩🇪x", [2, 3])],
)
def test_grapheme_boundaries(text: str, expected: list[int]) -> None:
    assert grapheme_boundaries(text) == expected


def test_the_tld_lists_are_mastodon_pys() -> None:
    alternations = re.findall(r"\(\?:((?:[^()|]+\|){50,}[^()|]+)\)", URL_REGEX_SOURCE)
    assert len(alternations) == 2, "Mastodon.py's URL regex changed shape"
    generic, country = (frozenset(names.split("|")) for names in alternations)
    assert (generic, country) == (GENERIC, COUNTRY)


# -- the property: equal to Mastodon.py's count on any text --------------------------------

_TLDS = sorted(GENERIC | COUNTRY)
_ODD = 'ſıİ\u212a\u0301\u200d"`éüßж日本'  # letters `re` folds onto ASCII, marks, others
_label = st.text(
    st.one_of(
        st.sampled_from("abcxyz0189"),
        st.sampled_from("abcxyz0189-_"),
        st.sampled_from(_ODD),
        st.characters(codec="utf-8"),
    ),
    min_size=1,
    max_size=8,
)
_tld = st.one_of(
    st.sampled_from(_TLDS),
    st.sampled_from(_TLDS).map(str.upper),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=6),
    st.text(st.sampled_from("abc123-"), max_size=6).map(lambda s: "xn--" + s),
    st.sampled_from(["嘉里", "嘉里大酒店", "рус", "РУС", "भारत", "भारतम्", "co\u017f", "\u212aim"]),
)
_path_char = st.one_of(
    st.sampled_from("abcXYZ019/-_.~!*';:=+,$%#[]@|&()?\u2013é日"), st.characters(codec="utf-8")
)
_url = st.builds(
    lambda *pieces: "".join(pieces),
    st.sampled_from(["", " ", "(", "x", "@", "#", "/", "\u200e", "日", "\n", "“"]),
    st.sampled_from(["https://", "http://", "HTTPS://", "Http://", "httpſ://", "ftp://", "http:/"]),
    st.lists(_label, min_size=1, max_size=4).map(".".join),
    st.just("."),
    _tld,
    st.sampled_from(["", "", "", ".", "-", "@", "+", "é", "x", "_", ".x", "..com", "…", ")"]),
    st.sampled_from(["", "", "", ":", ":8080", ":x"]),
    st.one_of(st.just(""), st.text(_path_char, max_size=20).map(lambda p: "/" + p)),
    st.one_of(st.just(""), st.text(_path_char, max_size=12).map(lambda q: "?" + q)),
)
_mention = st.builds(
    lambda before, user, domain: f"{before}@{user}{domain}",
    st.sampled_from(["", " ", "/", "x", ".", "\n", "日"]),
    st.text(st.sampled_from("abcXY_019\u212aé"), max_size=8),
    st.one_of(
        st.just(""), st.text(st.sampled_from("abc.-019é"), max_size=10).map(lambda d: "@" + d)
    ),
)
_cluster = st.sampled_from(
    [
        "😂",
        "👍🏽",
        "👨‍👩‍👧‍👦",
        "🏳️‍🌈",
        "🧑🏿‍🦰",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
        "🇩🇪",
        "🇺🇸🇫🇷",
        "❤️",
        "1️⃣",
        "e\u0301",
        "a\u0308\u0301",
        "\u0301",
        "\u200d",
        "ก่",
        "각",
        "\u1100\u1161\u11a8",
        "\r\n",
    ]
)
_cjk = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=5)
_word = st.text(st.characters(codec="utf-8"), max_size=6)
_gap = st.sampled_from([" ", "", "\n", ".", ",", ")", "…", "“", "\u00a0"])
_status = st.lists(st.one_of(_url, _url, _mention, _cluster, _cjk, _word, _gap), max_size=12).map(
    "".join
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_status, st.one_of(st.just(""), _word, _cluster))
@example("@0@0", "")
@example("https://a.\u212aim https://b.comhttps://c.com", "")
def test_counts_as_mastodon_py_counts_any_text(text: str, spoiler: str) -> None:
    assert status_length(text, spoiler) == Mastodon.get_status_length(text, spoiler)


# Characters that join others into one cluster, and some they join.
_joining = st.sampled_from(
    [
        *("\r", "\n", "\u0301", "\u200d", "\u0903", "\u0600", "\u1100", "\u1161", "\u11a8"),
        *("가", "각", "🇩", "🇪", "\u094d", "क", "\ufe0f", "🏽", "😂", "a", "é", "日"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_joining, st.characters(codec="utf-8")), max_size=30).map("".join))
def test_counts_grapheme_clusters_as_grapheme_does(text: str) -> None:
    words = text.replace("/", "").replace("@", "")  # no URL, no mention: clusters only
    assert status_length(words) == grapheme.length(words)


def _seed_toots() -> list[Toot]:
    archive = load_archive(demo_archive())
    due = datetime(2026, 4, 5, tzinfo=UTC)
    options = ComposeOptions(owner=archive.username)
    toots = [compose(t, due, options) for t in archive.tweets]
    return [t for t in toots if isinstance(t, Toot)]


def test_counts_as_mastodon_py_counts_every_seeds_toot() -> None:
    toots = _seed_toots()
    parts = [p for t in toots for p in t.parts]
    assert len(toots) > 100
    for part in parts:
        assert part.length == Mastodon.get_status_length(part.text), part.text


def test_only_commands_that_talk_to_a_server_import_mastodon_py(isolated: Path) -> None:
    code = (
        "import sys\n"
        "from bot.cli import cli\n"
        "cli(['preview', '--date', '2026-04-05'], standalone_mode=False)\n"
        "print('mastodon' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=isolated, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "False"
    assert "toots" in done.stdout  # the preview did run


def test_importing_does_not_import_mastodon() -> None:
    code = (
        "import sys, bot.compose.length; "
        "print('mastodon' in sys.modules, 'grapheme' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]
