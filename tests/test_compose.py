"""Compose: footer, length and splitting, media planning, self-replies, skips."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import ComposeOptions, compose, footer_text, media_groups
from bot.compose.length import status_length
from bot.compose.rewrite import LinkOptions, MentionOptions, rewrite
from bot.model import Media, MediaKind, Skip, Toot, Tweet

CREATED = datetime(2022, 4, 5, 2, 38, 24, tzinfo=UTC)
DUE = datetime(2026, 4, 5, 2, 38, 24, tzinfo=UTC)
NO_FOOTER = ComposeOptions(footer="")


def tweet(text: str = "hello", **kw: object) -> Tweet:
    fields: dict[str, object] = {
        "id": "1",
        "created_at": CREATED,
        "text": text,
        "url": "https://twitter.com/me/status/1",
    }
    fields.update(kw)
    return Tweet(**fields)  # type: ignore[arg-type]


def toot(result: Toot | Skip) -> Toot:
    assert isinstance(result, Toot), result
    return result


def texts(result: Toot | Skip) -> list[str]:
    return [part.text for part in toot(result).parts]


def images(n: int, kind: MediaKind = "image") -> tuple[Media, ...]:
    return tuple(Media(f"media/{kind}{i}.jpg", kind) for i in range(n))


# --- footer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "due", "expected"),
    [
        ("(tweeted {ago}, {date})", DUE, "(tweeted 4 years ago, 2022-04-05)"),
        (
            "(tweeted {ago}, {date})",
            datetime(2023, 4, 5, tzinfo=UTC),
            "(tweeted 1 year ago, 2022-04-05)",
        ),
        ("{ago}", datetime(2022, 4, 6, tzinfo=UTC), "this year"),
        ("{years_ago}y {url}", DUE, "4y https://twitter.com/me/status/1"),
        ("", DUE, ""),
    ],
)
def test_footer_fields(template: str, due: datetime, expected: str) -> None:
    assert footer_text(tweet(), due, template, UTC) == expected


def test_footer_dates_are_local() -> None:
    new_york = ZoneInfo("America/New_York")
    # 02:38 UTC on Apr 5 is still Apr 4 in New York; Jan 1 02:00 UTC is still last year there.
    due = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    assert footer_text(tweet(), due, "{date} {years_ago}", new_york) == "2022-04-04 3"


def test_footer_goes_after_a_blank_line() -> None:
    assert texts(compose(tweet("hi"), DUE, ComposeOptions())) == [
        "hi\n\n(tweeted 4 years ago, 2022-04-05)"
    ]


def test_empty_footer_adds_nothing() -> None:
    assert texts(compose(tweet("  hi \n"), DUE, NO_FOOTER)) == ["hi"]


def test_footer_mentions_are_rewritten_too() -> None:
    options = ComposeOptions(footer="via @bob")
    assert texts(compose(tweet("hi"), DUE, options)) == ["hi\n\nvia @bob@twitter.com"]


# --- the toot ----------------------------------------------------------------


def test_fields_pass_through_and_text_is_rewritten() -> None:
    options = ComposeOptions(
        links=LinkOptions(owner="me", posted={"9": "https://mastodon.social/@me/99"}),
        footer="",
    )
    result = toot(compose(tweet("@bob see https://x.com/me/status/9"), DUE, options))
    assert result.tweet_id == "1"
    assert result.tweeted_at == CREATED
    assert result.due == DUE
    assert result.in_reply_to_tweet is None
    assert [p.text for p in result.parts] == ["@bob@twitter.com see https://mastodon.social/@me/99"]
    assert result.parts[0].length == len("@bob see ") + 23


@pytest.mark.parametrize(
    ("user", "parent", "owner_ids", "expected"),
    [
        ("ME", "7", frozenset(), "7"),
        ("@me", "7", frozenset(), "7"),
        ("someone", "7", frozenset(), None),
        (None, "7", frozenset({"7"}), "7"),
        ("me", None, frozenset(), None),
    ],
)
def test_self_reply_parent(
    user: str | None, parent: str | None, owner_ids: frozenset[str], expected: str | None
) -> None:
    options = ComposeOptions(links=LinkOptions(owner_ids=owner_ids), owner="me")
    reply = tweet(in_reply_to_user=user, in_reply_to_id=parent)
    assert toot(compose(reply, DUE, options)).in_reply_to_tweet == expected


def test_owner_defaults_to_the_link_owner() -> None:
    options = ComposeOptions(links=LinkOptions(owner="Me"))
    reply = tweet(in_reply_to_user="me", in_reply_to_id="7")
    assert toot(compose(reply, DUE, options)).in_reply_to_tweet == "7"


def test_empty_text_without_media_is_skipped() -> None:
    assert compose(tweet("   "), DUE, ComposeOptions()) == Skip("1", "empty")


def test_empty_text_with_media_posts_the_footer_and_media() -> None:
    result = toot(compose(tweet("", media=images(1)), DUE, ComposeOptions()))
    assert [(p.text, p.media) for p in result.parts] == [
        ("(tweeted 4 years ago, 2022-04-05)", images(1))
    ]


# --- media -------------------------------------------------------------------


def test_missing_media_is_left_out_or_skips_the_tweet() -> None:
    gone = Media("media/gone.jpg", problem="missing")
    outside = Media("../etc/passwd", problem="outside the archive")
    ok = Media("media/ok.jpg")
    result = toot(compose(tweet("hi", media=(gone, ok)), DUE, NO_FOOTER))
    assert result.parts[0].media == (ok,)
    skip = ComposeOptions(footer="", media_missing="skip_tweet")
    assert compose(tweet("hi", media=(ok, gone)), DUE, skip) == Skip(
        "1", "media missing: media/gone.jpg"
    )
    assert compose(tweet("hi", media=(outside,)), DUE, skip) == Skip(
        "1", "media missing: ../etc/passwd (outside the archive)"
    )
    assert compose(tweet("", media=(gone,)), DUE, NO_FOOTER) == Skip("1", "empty")


def test_media_groups() -> None:
    video, gif = Media("v.mp4", "video"), Media("g.mp4", "gif")
    a, b, c = (Media(f"{n}.jpg") for n in "abc")
    assert media_groups([a, b, c], 2) == [(a, b), (c,)]
    assert media_groups([a, video, b, c, gif], 4) == [(a,), (video,), (b, c), (gif,)]
    assert media_groups([a, b], 0) == [(a,), (b,)]
    assert media_groups([], 4) == []


def test_extra_media_groups_get_parts_of_their_own() -> None:
    pics = images(5)
    result = toot(compose(tweet("look", media=pics), DUE, ComposeOptions()))
    assert [(p.text, p.media) for p in result.parts] == [
        ("look (1/2)", pics[:4]),
        ("(2/2)\n\n(tweeted 4 years ago, 2022-04-05)", pics[4:]),
    ]


def test_a_video_is_alone_in_its_part() -> None:
    video = Media("media/v.mp4", "video")
    pic = Media("media/p.jpg")
    result = toot(compose(tweet("clip", media=(pic, video)), DUE, NO_FOOTER))
    assert [(p.text, p.media) for p in result.parts] == [
        ("clip (1/2)", (pic,)),
        ("(2/2)", (video,)),
    ]


def test_media_go_on_the_first_parts_of_a_long_text() -> None:
    video = Media("media/v.mp4", "video")
    result = toot(compose(tweet("word " * 150, media=(video,)), DUE, NO_FOOTER))
    assert [p.media for p in result.parts] == [(video,), ()]


# --- length and splitting ----------------------------------------------------


def test_text_at_the_limit_is_one_part() -> None:
    exact = toot(compose(tweet("x" * 500), DUE, NO_FOOTER))
    assert [p.length for p in exact.parts] == [500]
    assert len(toot(compose(tweet("x " * 250 + "y"), DUE, NO_FOOTER)).parts) == 2


def test_urls_and_handles_count_as_mastodon_counts() -> None:
    text = "https://example.com/" + "a" * 600 + " @someone@mastodon.social"
    assert toot(compose(tweet(text), DUE, NO_FOOTER)).parts[0].length == 23 + 1 + len("@someone")


def test_spoiler_text_counts_toward_the_limit() -> None:
    options = ComposeOptions(footer="", spoiler_text="CW food")
    fits = toot(compose(tweet("x" * 493), DUE, options))
    assert [p.length for p in fits.parts] == [500]
    split = toot(compose(tweet("x " * 246 + "yy"), DUE, options))
    assert len(split.parts) == 2
    assert all(status_length(p.text, "CW food") == p.length <= 500 for p in split.parts)


def test_split_has_markers_and_footer_on_the_last_part_only() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    result = toot(compose(tweet(text), DUE, ComposeOptions()))
    n = len(result.parts)
    assert n >= 3
    for i, part in enumerate(result.parts, 1):
        assert part.length <= 500
        assert ("(tweeted 4 years ago" in part.text) == (i == n)
        body = part.text.split("\n\n")[0]
        assert body.endswith(f" ({i}/{n})")
        # Cut at sentence ends, never mid-sentence.
        assert body.removesuffix(f" ({i}/{n})").endswith("here.")


def test_prefers_a_paragraph_break() -> None:
    text = "First paragraph words. " * 12 + "\n\n" + "more words here " * 30
    result = toot(compose(tweet(text), DUE, NO_FOOTER))
    assert result.parts[0].text == text.split("\n\n")[0].strip() + " (1/2)"


def test_never_cuts_a_url_or_handle() -> None:
    url = "https://example.com/" + "p" * 80
    text = ("word " * 90 + url + " @someone@mastodon.social ") * 3
    options = ComposeOptions(max_characters=120, footer="", max_parts=100)
    result = toot(compose(tweet(text), DUE, options))
    joined = " ".join(p.text for p in result.parts)
    assert joined.count(url) == 3
    assert joined.count("@someone@mastodon.social") == 3


def test_a_word_longer_than_a_part_is_hard_split_at_graphemes() -> None:
    text = "👍🏽" * 300
    result = toot(compose(tweet(text), DUE, ComposeOptions(max_characters=100, footer="")))
    assert all(p.length <= 100 for p in result.parts)
    chunks = [re.sub(r" \(\d+/\d+\)$", "", p.text) for p in result.parts]
    assert "".join(chunks) == text
    assert all(len(chunk) % 2 == 0 for chunk in chunks)  # no skin tone torn off


def test_a_url_inside_a_long_word_is_not_cut() -> None:
    url = "https://example.com/" + "q" * 200
    text = "x" * 150 + f'"{url}"' + "y" * 150
    result = toot(compose(tweet(text), DUE, ComposeOptions(max_characters=100, footer="")))
    assert any(url in p.text for p in result.parts)
    assert all(p.length <= 100 for p in result.parts)


def test_a_url_mastodon_does_not_count_as_23_is_cut_when_it_must_be() -> None:
    url = "http://localhost/" + "l" * 300  # no public suffix: counted in full
    result = toot(compose(tweet(url), DUE, ComposeOptions(max_characters=100, footer="")))
    assert len(result.parts) == 4
    assert all(p.length <= 100 for p in result.parts)


def test_a_part_before_a_huge_word_is_filled_with_its_start() -> None:
    result = toot(compose(tweet("hello " + "x" * 3000), DUE, NO_FOOTER))
    assert result.parts[0].text.startswith("hello xxx")
    assert result.parts[0].length == 500


def test_text_without_spaces_is_cut_after_a_cjk_full_stop() -> None:
    text = "今日は良い天気です。" * 60
    result = toot(compose(tweet(text), DUE, NO_FOOTER))
    bodies = [re.sub(r" \(\d+/\d+\)$", "", p.text) for p in result.parts]
    assert "".join(bodies) == text
    assert all(body.endswith("。") for body in bodies)


def test_the_footer_gets_a_part_of_its_own_when_nothing_else_fits() -> None:
    footer = "123456789012"
    options = ComposeOptions(max_characters=20, footer=footer)
    result = toot(compose(tweet("x" * 30), DUE, options))
    n = len(result.parts)
    assert result.parts[-1].text == f"({n}/{n})\n\n{footer}"
    assert all(p.length <= 20 for p in result.parts)
    assert sum(p.text.count("x") for p in result.parts) == 30


def word_text(words: int) -> str:
    return " ".join(["abcd"] * words)


@pytest.mark.parametrize(("words", "parts"), [(171, 9), (172, 10)])
def test_marker_width_grows_from_9_to_10_parts(words: int, parts: int) -> None:
    # Limit 100: with " (i/9)" a part holds 19 words (94 chars); with " (i/10)" only 18.
    options = ComposeOptions(max_characters=100, footer="")
    result = toot(compose(tweet(word_text(words)), DUE, options))
    assert len(result.parts) == parts
    for i, part in enumerate(result.parts, 1):
        assert part.text.endswith(f" ({i}/{parts})")
        assert part.length <= 100
    assert sum(p.text.count("abcd") for p in result.parts) == words


def test_footer_too_long_for_the_limit_is_a_skip() -> None:
    options = ComposeOptions(max_characters=20, footer="a footer far too long for twenty")
    result = compose(tweet("hi"), DUE, options)
    assert result == Skip("1", "cannot fit within 20 characters")


# --- properties --------------------------------------------------------------

PIECES = st.one_of(
    st.sampled_from(
        [
            "word",
            "Sentence.",
            "why?",
            "😂",
            "👍🏽",
            "🇩🇪",
            "e\u0301",
            "日本語",
            "https://example.com/" + "u" * 60,
            "https://x.com/me/status/9?s=20",
            "http://localhost/" + "l" * 40,
            "http://localhost/" + "l" * 400,
            "@bob",
            "@carol@mastodon.social",
            "me@example.com",
            "\n",
            "\n\n",
        ]
    ),
    st.text(alphabet="abc😂é", min_size=1, max_size=300),
)
LONG_TEXTS = st.lists(
    st.tuples(PIECES, st.sampled_from([" ", "", "\n", "。"]), st.integers(1, 12)), max_size=20
).map(lambda items: "".join((piece + sep) * times for piece, sep, times in items)[:2000])


@settings(max_examples=100, deadline=None)
@given(
    text=LONG_TEXTS,
    limit=st.integers(min_value=100, max_value=600),
    spoiler=st.sampled_from(["", "CW 😂", "a content warning"]),
    footer=st.sampled_from(["", "(tweeted {ago}, {date})", "{url}"]),
    pictures=st.integers(min_value=0, max_value=6),
)
def test_every_part_fits_and_nothing_is_lost(
    text: str, limit: int, spoiler: str, footer: str, pictures: int
) -> None:
    options = ComposeOptions(
        mentions=MentionOptions(unmapped="fullwidth"),
        links=LinkOptions(owner="me", posted={"9": "https://mastodon.social/@me/9"}),
        footer=footer,
        max_characters=limit,
        spoiler_text=spoiler,
        max_media_attachments=4,
        max_parts=100,
    )
    result = compose(tweet(text, media=images(pictures)), DUE, options)
    if isinstance(result, Skip):
        assert result.reason == "empty"
        assert not text.strip()
        return
    n = len(result.parts)
    for i, part in enumerate(result.parts, 1):
        assert part.length == status_length(part.text, spoiler) <= limit
        if n > 1:
            assert f"({i}/{n})" in part.text
    assert [m for p in result.parts for m in p.media] == list(images(pictures))
    expected = rewrite(text, options.links, options.mentions)
    bodies = [re.sub(rf" ?\(\d+/{n}\)(\n\n.*)?$", "", p.text, flags=re.S) for p in result.parts]
    if n == 1 and footer:
        bodies = [result.parts[0].text.rsplit("\n\n", 1)[0] if text.strip() else ""]
    assert "".join("".join(bodies).split()) == "".join(expected.split())


# --- bounded work (issue 11, finding 5) and media the server would refuse ----------------

TOO_LONG_REASON = "too long: it would take more than 10 toots (compose.max_parts)"


@pytest.mark.parametrize("size", [6_000, 300_000, 5_000_000])
def test_a_tweet_needing_more_than_max_parts_toots_is_skipped_with_its_reason(size: int) -> None:
    text = ("Another sentence of a very long note. " * (size // 38 + 1))[:size]
    assert compose(tweet(text), DUE, ComposeOptions()) == Skip("1", TOO_LONG_REASON)


def test_max_parts_is_the_most_toots_a_tweet_becomes() -> None:
    text = " ".join(f"Sentence {i} of a thread that goes on." for i in range(40))
    three = toot(compose(tweet(text), DUE, ComposeOptions(max_characters=600, max_parts=3)))
    assert len(three.parts) == 3
    reason = "too long: it would take more than 2 toots (compose.max_parts)"
    assert compose(tweet(text), DUE, ComposeOptions(max_characters=600, max_parts=2)) == Skip(
        "1", reason
    )


def test_a_huge_text_is_never_measured_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mastodon's count of a megabyte takes seconds: a 300 KB tweet took minutes to lay
    out into 617 parts, and a 5 MB one was still at it after 300 s."""
    from bot.compose.length import COUNTERS

    measured: list[int] = []
    real = COUNTERS["mastodon"]

    def counting(text: str, spoiler: str, url_length: int) -> int:
        measured.append(len(text))
        return real(text, spoiler, url_length)

    monkeypatch.setitem(COUNTERS, "mastodon", counting)
    for size in (6_000, 39_000, 300_000, 5_000_000):
        compose(tweet("word " * (size // 5)), DUE, ComposeOptions())
    assert measured  # the counter in use was the one watched
    # At most the whole of a text that may still fit: 10 toots of 500, 8 code points
    # a character (URLs and combining marks); longer ones are refused unmeasured.
    assert max(measured) <= 10 * 500 * 8 + 100
