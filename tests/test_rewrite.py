"""Rewriting links and @mentions: tables for each form and policy, properties for the invariants."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose.rewrite import (
    LinkOptions,
    Mapped,
    MentionOptions,
    Unmapped,
    rewrite,
    rewrite_link,
    rewrite_mentions,
    url_spans,
)

POSTED_URL = "https://social.example/@me/900"
LINKS = LinkOptions(
    owner="Me",
    owner_ids=frozenset({"100", "200", "300"}),
    posted={"100": POSTED_URL},
)
MENTIONS = MentionOptions(handles={"Alice": "@alice@fosstodon.org"})
UNMAPPED: tuple[Unmapped, ...] = ("domain", "fullwidth", "link", "plain")
MAPPED: tuple[Mapped, ...] = ("mention", "link")


# Mastodon's mention rule, transcribed from its Account::MENTION_RE without
# using bot.compose.rewrite: (?<![=/[:word:]])@(USERNAME)(?:@[[:word:].-]+[[:word:]]+)?
# where USERNAME is [a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)? and [:word:] is Ruby's
# (letters, marks, decimal digits, connector punctuation).
def ruby_word(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category in {"Nd", "Pc"}


def mastodon_mentions(text: str) -> list[tuple[str, str | None]]:
    """Every (username, domain) Mastodon would parse as a mention in `text`."""
    found: list[tuple[str, str | None]] = []
    name_chars = re.compile(r"[a-z0-9_.-]*", re.IGNORECASE)
    for at in (i for i, char in enumerate(text) if char == "@"):
        if at > 0 and (text[at - 1] in "=/" or ruby_word(text[at - 1])):
            continue
        run = name_chars.match(text, at + 1)
        assert run is not None
        name = run.group().rstrip(".-")
        if not name or name[0] in ".-":
            continue
        after = at + 1 + len(name)
        domain = None
        if text[after : after + 1] == "@":
            end = after + 1
            while end < len(text) and (ruby_word(text[end]) or text[end] in ".-"):
                end += 1
            candidate = text[after + 1 : end].rstrip(".-")
            if len(candidate) >= 2:
                domain = candidate
        found.append((name, domain))
    return found


def local_mentions(text: str) -> list[str]:
    return [name for name, domain in mastodon_mentions(text) if domain is None]


def test_the_checker_sees_what_mastodon_sees() -> None:
    text = "@a x@b /@c =@d (@e@f.org) é@g @h.i @j@k #@l"
    assert mastodon_mentions(text) == [
        ("a", None),
        ("e", "f.org"),
        ("h.i", None),
        ("j", None),
        ("l", None),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/me/status/100",
        "http://twitter.com/Me/status/100",
        "https://x.com/me/status/100?s=20&t=AbC-dEf",
        "https://mobile.twitter.com/me/statuses/100",
        "https://www.x.com/ME/status/100/photo/1",
        "https://mobile.x.com/me/status/100/video/1#frag",
        "https://www.twitter.com/me/status/100/",
        "https://twitter.com/i/web/status/100",
        "https://twitter.com/renamed/status/100",
    ],
)
def test_posted_self_links_become_the_status_url(url: str) -> None:
    assert rewrite(f"see {url} now", LINKS, MENTIONS) == f"see {POSTED_URL} now"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://x.com/me/status/300?s=20", "https://twitter.com/Me/status/300"),
        ("https://twitter.com/oldname/status/200", "https://twitter.com/Me/status/200"),
        ("https://twitter.com/i/web/status/300", "https://twitter.com/Me/status/300"),
        ("https://twitter.com/me/status/301/photo/1", "https://twitter.com/Me/status/301"),
    ],
)
def test_unposted_self_links_keep_or_archive(url: str, canonical: str) -> None:
    keep = LinkOptions(owner="Me", owner_ids=LINKS.owner_ids, twitter_host="xcancel.com")
    assert rewrite_link(url, keep) == url
    archive = LinkOptions(
        owner="Me",
        owner_ids=LINKS.owner_ids,
        self_unposted="archive",
        archive_template="https://web.archive.org/web/{url}",
    )
    assert rewrite_link(url, archive) == f"https://web.archive.org/web/{canonical}"


def test_archive_without_known_owner_uses_the_link_user() -> None:
    links = LinkOptions(owner_ids=frozenset({"5"}), self_unposted="archive")
    assert rewrite_link("https://x.com/bob/status/5", links) == (
        "https://web.archive.org/web/https://twitter.com/bob/status/5"
    )


@pytest.mark.parametrize(
    ("url", "swapped"),
    [
        ("https://twitter.com/someone/status/5", "https://xcancel.com/someone/status/5"),
        ("http://x.com/someone/status/5?s=20", "https://xcancel.com/someone/status/5?s=20"),
        ("https://mobile.twitter.com/someone", "https://xcancel.com/someone"),
        ("https://twitter.com/i/web/status/999", "https://xcancel.com/i/web/status/999"),
        ("https://example.com/twitter.com/me/status/100", None),
        ("https://nottwitter.com/me/status/100", None),
        ("https://t.co/abc", None),
    ],
)
def test_other_twitter_links_keep_or_swap_host(url: str, swapped: str | None) -> None:
    assert rewrite_link(url, LINKS) == url
    host = LinkOptions(owner="Me", twitter_host="xcancel.com")
    assert rewrite_link(url, host) == (swapped or url)


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("(see https://x.com/a/status/1).", ["https://x.com/a/status/1"]),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar), ok",
            ["https://en.wikipedia.org/wiki/Foo_(bar)"],
        ),
        ('"https://example.com/a?b=c&d=e"', ["https://example.com/a?b=c&d=e"]),
        ("https://example.com,@bob", ["https://example.com"]),
        ("https://t.co/abc… more", ["https://t.co/abc"]),
        ("foohttps://example.com example.com http://", []),
        ("a https://a.example\nhttps://b.example", ["https://a.example", "https://b.example"]),
    ],
)
def test_url_spans(text: str, urls: list[str]) -> None:
    assert [text[start:end] for start, end in url_spans(text)] == urls


def test_trailing_punctuation_survives_a_rewritten_link() -> None:
    text = "(see https://x.com/me/status/100)."
    assert rewrite(text, LINKS, MENTIONS) == f"(see {POSTED_URL})."


@pytest.mark.parametrize(
    ("unmapped", "expected"),
    [
        ("domain", "Cc @cHHillee@twitter.com"),
        ("fullwidth", "Cc ＠cHHillee"),
        ("link", "Cc https://twitter.com/cHHillee"),
        ("plain", "Cc cHHillee"),
    ],
)
def test_unmapped_policies(unmapped: Unmapped, expected: str) -> None:
    assert rewrite("Cc @cHHillee", LINKS, MentionOptions(unmapped=unmapped)) == expected


def test_link_policy_uses_link_host() -> None:
    mentions = MentionOptions(unmapped="link", link_host="xcancel.com")
    assert rewrite("hi @bob", LINKS, mentions) == "hi https://xcancel.com/bob"


@pytest.mark.parametrize(
    ("mapped", "expected"),
    [("mention", "hi @alice@fosstodon.org!"), ("link", "hi https://fosstodon.org/@alice!")],
)
def test_mapped_handles_case_insensitive(mapped: Mapped, expected: str) -> None:
    mentions = MentionOptions(handles={"Alice": "@alice@fosstodon.org"}, mapped=mapped)
    assert rewrite("hi @ALICE!", LINKS, mentions) == expected


def test_mapped_handle_without_leading_at() -> None:
    mentions = MentionOptions(handles={"@bob": "bob@Example.Social"})
    assert rewrite("@Bob", LINKS, mentions) == "@bob@example.social"


def test_malformed_handle_is_refused() -> None:
    with pytest.raises(ValueError, match="bob"):
        MentionOptions(handles={"bob": "not a handle"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me@example.com", "mail me@example.com"),
        ("https://medium.com/@user/post", "https://medium.com/@user/post"),
        ("hi @user@mastodon.social", "hi @user@mastodon.social"),
        ("@bob: hi", "@bob@twitter.com: hi"),
        ("RT @bob: hi", "RT @bob@twitter.com: hi"),
        ("(@bob)", "(@bob@twitter.com)"),
        ("@bob's", "@bob@twitter.com's"),
        ("@bob.", "@bob@twitter.com."),
        ("@a_1 @_", "@a_1@twitter.com @_@twitter.com"),
        ("@abcdefghijklmno", "@abcdefghijklmno@twitter.com"),
        ("@abcdefghijklmnop", "＠abcdefghijklmnop"),
        ("@@bob", "@＠bob"),
        ("#@bob", "#＠bob"),
        ("@bob@ home", "＠bob@ home"),
        ("x=@bob a/@bob", "x=@bob a/@bob"),
        ("café@bob", "café@bob"),
        ("＠bob", "＠bob"),
        ("@ alone", "@ alone"),
        ("https://a.example/x,@bob", "https://a.example/x,%40bob"),
        ("https://x.com,@bob", "https://x.com,@bob@twitter.com"),
    ],
)
def test_mention_edge_cases(text: str, expected: str) -> None:
    assert rewrite(text, LINKS, MENTIONS) == expected


@pytest.mark.parametrize(
    ("text", "unmapped", "expected"),
    [
        # Twitter read @bob then ".smith": nothing glued on may extend the domain
        ("@bob.smith", "domain", "@bob@twitter.com .smith"),
        ("@bob-ish take", "domain", "@bob@twitter.com -ish take"),
        ("@bob.smith", "link", "https://twitter.com/bob .smith"),
        ("@bob's", "link", "https://twitter.com/bob 's"),
        ("@bob/x", "link", "https://twitter.com/bob /x"),
        ("@bob.smith", "fullwidth", "＠bob.smith"),
        ("@bob.smith", "plain", "bob.smith"),
        ("@alice.jones", "domain", "@alice@fosstodon.org .jones"),
        # punctuation that ends a sentence extends nothing
        ("@bob. Then", "domain", "@bob@twitter.com. Then"),
        ("@bob.", "link", "https://twitter.com/bob."),
        ("(@bob), @bob:", "link", "(https://twitter.com/bob), https://twitter.com/bob:"),
    ],
)
def test_nothing_glued_after_a_mention_extends_it(
    text: str, unmapped: Unmapped, expected: str
) -> None:
    assert rewrite(text, LINKS, MentionOptions(MENTIONS.handles, unmapped=unmapped)) == expected


def test_rewrite_mentions_leaves_links() -> None:
    text = "https://twitter.com/me/status/100 @bob"
    assert rewrite_mentions(text, MENTIONS) == "https://twitter.com/me/status/100 @bob@twitter.com"


# --- properties --------------------------------------------------------------

NAMES = st.text(alphabet="abcXYZ019_", min_size=1, max_size=18)
TOKENS = st.one_of(
    st.sampled_from(
        [
            "hello",
            "café",
            "日本",
            "😂",
            "👍🏽",
            "e\u0301",
            "me@example.com",
            "@user@mastodon.social",
            "https://medium.com/@user/post",
            "https://x.com/me/status/100?s=20",
            "https://twitter.com/someone/status/7",
            "https://example.com/a,@bob",
            "x.com/me/status/1",
            "＠bob",
            "RT",
            "1.",
            "@",
            "#",
            "=",
            "/",
        ]
    ),
    NAMES.map(lambda name: "@" + name),
    st.text(alphabet=".,!?;:=/#$%&*()-_'\"@", min_size=1, max_size=3),
)
SEPARATORS = st.sampled_from(["", "", " ", "\n", ". "])
TEXTS = st.lists(st.tuples(TOKENS, SEPARATORS), max_size=25).map(
    lambda pairs: "".join(token + sep for token, sep in pairs)
)
HANDLES = {"abc": "@abc@social.example", "xyz_1": "@xyz@other.example"}


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, unmapped=st.sampled_from(UNMAPPED), mapped=st.sampled_from(MAPPED))
def test_no_bare_mention_survives(text: str, unmapped: Unmapped, mapped: Mapped) -> None:
    mentions = MentionOptions(handles=HANDLES, mapped=mapped, unmapped=unmapped)
    out = rewrite(text, LINKS, mentions)
    assert local_mentions(out) == []
    assert local_mentions(rewrite_mentions(text, mentions)) == []


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, unmapped=st.sampled_from(UNMAPPED), mapped=st.sampled_from(MAPPED))
def test_every_handle_made_is_on_its_own_domain(
    text: str, unmapped: Unmapped, mapped: Mapped
) -> None:
    out = rewrite(text, LINKS, MentionOptions(handles=HANDLES, mapped=mapped, unmapped=unmapped))
    before = {domain for _, domain in mastodon_mentions(text)}
    made = {domain for _, domain in mastodon_mentions(out)} - before
    assert made <= {"twitter.com", "social.example", "other.example"}


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.characters(exclude_characters="@", codec="utf-8")).filter(
        lambda t: "http" not in t.lower()
    )
)
def test_text_without_links_or_mentions_is_unchanged(text: str) -> None:
    host = LinkOptions(owner="Me", twitter_host="xcancel.com", self_unposted="archive")
    assert rewrite(text, host, MENTIONS) == text


WORDS = st.text(alphabet="abz09,.!?'é😂＠-", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(
        st.one_of(WORDS.map(lambda w: ("word", w)), NAMES.map(lambda n: ("mention", n))),
        min_size=1,
        max_size=20,
    ),
    unmapped=st.sampled_from(UNMAPPED),
)
def test_words_between_mentions_survive_in_order(
    tokens: list[tuple[str, str]], unmapped: Unmapped
) -> None:
    text = " ".join(w if kind == "word" else "@" + w for kind, w in tokens)
    out = rewrite(text, LINKS, MentionOptions(unmapped=unmapped)).split(" ")
    assert len(out) == len(tokens)
    for (kind, word), got in zip(tokens, out, strict=True):
        if kind == "word":
            assert got == word
        elif len(word) <= 15:
            assert got != "@" + word and word in got
