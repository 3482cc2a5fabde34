"""What a tweet was, said the fediverse's way: language, sensitivity, quotes, alt text.

Table tests on the official fixture's tweets (real-format items, see
tests/fixtures/make_fixtures.py): April 6 holds a quote of the owner's
tweet A, a quote of someone else's, a possibly_sensitive picture and tweets in
de, ja, und (a pseudo-code) and qht.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.archive import Archive, load_archive
from bot.archive.alttext import (
    NO_ALT_TEXTS,
    AltTexts,
    read_alt_text_file,
    write_alt_text_file,
)
from bot.compose import ComposeOptions, compose
from bot.compose.language import toot_language
from bot.compose.rewrite import LinkOptions
from bot.model import Quote, Skip, Toot, Tweet

OFFICIAL = Path(__file__).resolve().parent / "fixtures" / "official"
OWNER = "quokka_codes"
A, H, B = "1114094070789046273", "1511244747371446273", "1114095375217590273"
F, SN = "1379146820613046273", "1379539407467446277"
QS, QO = "1643886255928246277", "1511644883973046277"
RS, E = "1643901355422646277", "1379142320124854273"  # RT @quokka_codes (of A); RT @grace_h
DE, JA, UN, HT = (
    "1247207438545846277",
    "1379343114040246277",
    "1511795878917046277",
    "1114497982264246277",
)
GRACE = "1233768888529846279"
QUOTE = Quote(A, "quote", "it is posted and the server takes quote posts")
DUE = datetime(2026, 4, 6, 12, tzinfo=UTC)
A_TOOT = "https://social.example/@me/1100"


@pytest.fixture(scope="module")
def archive() -> Archive:
    return load_archive(OFFICIAL)


def the(archive: Archive, tweet_id: str) -> Tweet:
    return next(t for t in archive.tweets if t.id == tweet_id)


def options(
    archive: Archive, posted: Mapping[str, str] | None = None, **changes: Any
) -> ComposeOptions:
    """Compose options for the fixture's owner, no footer; `changes` as ComposeOptions fields."""
    links = LinkOptions(owner=OWNER, owner_ids=archive.owner_ids, posted=posted or {})
    return replace(ComposeOptions(links=links, owner=OWNER, footer=""), **changes)


def toot(result: Toot | Skip) -> Toot:
    assert isinstance(result, Toot), result
    return result


# --- language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "setting", "code"),
    [
        ("en", "", "en"),
        ("ja", "", "ja"),
        ("pt-BR", "", "pt"),  # ISO 639-1: the language, not the region
        ("ckb", "", "ckb"),  # an ISO 639-3 code Twitter uses
        ("in", "", "id"),  # codes ISO 639 retired, still in old archives
        ("iw", "", "he"),
        ("und", "", None),  # undetermined
        ("zxx", "", None),  # no linguistic content
        ("qme", "", None),  # Twitter: media links only
        ("qht", "", None),  # hashtags only
        ("qam", "", None),  # mentions only
        ("qct", "", None),  # cashtags only
        ("qst", "", None),  # very short text
        (None, "", None),  # markdown archives do not say
        ("ja", "de", "de"),  # post.language wins
        ("und", "de", "de"),
    ],
)
def test_the_language_a_toot_declares(lang: str | None, setting: str, code: str | None) -> None:
    assert toot_language(lang, setting) == code


@pytest.mark.parametrize(
    ("tweet_id", "setting", "language"),
    [
        (DE, "", "de"),
        (JA, "", "ja"),
        (UN, "", None),
        (HT, "", None),
        (A, "", "en"),
        (JA, "fr", "fr"),
    ],
)
def test_each_toot_declares_its_tweets_language(
    archive: Archive, tweet_id: str, setting: str, language: str | None
) -> None:
    result = toot(compose(the(archive, tweet_id), DUE, options(archive, language=setting)))
    assert result.language == language


# --- sensitivity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tweet_id", "setting", "sensitive"),
    [
        (SN, "archive", True),  # possibly_sensitive: true
        (F, "archive", False),  # a picture Twitter did not mark
        (QS, "archive", False),  # possibly_sensitive: false
        (SN, "never", False),
        (F, "always", True),
        (DE, "always", True),
    ],
)
def test_sensitive_follows_media_sensitive(
    archive: Archive, tweet_id: str, setting: str, sensitive: bool
) -> None:
    result = toot(compose(the(archive, tweet_id), DUE, options(archive, sensitive=setting)))
    assert result.sensitive is sensitive


def test_the_spoiler_text_still_applies_to_a_sensitive_toot(archive: Archive) -> None:
    plain = toot(compose(the(archive, SN), DUE, options(archive)))
    warned = toot(compose(the(archive, SN), DUE, options(archive, spoiler_text="finale")))
    assert warned.sensitive and plain.sensitive
    assert warned.parts[0].length == plain.parts[0].length + len("finale")


# --- quotes ------------------------------------------------------------------------------

A_LINK = f"https://twitter.com/{OWNER}/status/{A}?s=20"
GRACE_LINK = f"https://twitter.com/grace_h/status/{GRACE}"


@pytest.mark.parametrize(
    ("tweet_id", "posted", "planned", "quote_posts", "quote", "text"),
    [
        # a quote of the owner's posted tweet, on a server that takes quote posts
        (QS, {A: A_TOOT}, (), True, QUOTE, "Four years on, the dotfiles are clean-ish."),
        # the same where the server takes none, or is not asked yet: the status's link
        (QS, {A: A_TOOT}, (), False, Quote(A, "link", "the server takes no quote posts"),
         f"Four years on, the dotfiles are clean-ish. {A_TOOT}"),
        (QS, {A: A_TOOT}, (), None,
         Quote(A, "link", "whether the server takes quote posts is not known offline"),
         f"Four years on, the dotfiles are clean-ish. {A_TOOT}"),
        # the quoted tweet is not posted yet: the link stays (links.self_unposted)
        (QS, {}, (), True, Quote(A, "link", "it is not posted yet (links.self_unposted applies)"),
         f"Four years on, the dotfiles are clean-ish. {A_LINK}"),
        # ... unless the run posts it first
        (QS, {}, (A,), True, QUOTE, "Four years on, the dotfiles are clean-ish."),
        # a quote of someone else's tweet keeps its link
        (QO, {}, (), True, Quote(GRACE, "link", "it is someone else's tweet"),
         f"Exactly this. {GRACE_LINK}"),
        # a self-link that is how H quotes B, in the older part of the archive
        (H, {B: A_TOOT}, (), True, replace(QUOTE, tweet_id=B),
         "Three years later this is still my favourite alias"),
        (A, {}, (), True, None, "Spring cleaning my dotfiles & finding aliases from 2012 <3 — one "
         "is literally named &amp;"),
    ],
)  # fmt: skip
def test_a_quote_tweet_becomes_a_quote_post_or_a_link(
    archive: Archive,
    tweet_id: str,
    posted: dict[str, str],
    planned: tuple[str, ...],
    quote_posts: bool | None,
    quote: Quote | None,
    text: str,
) -> None:
    chosen = options(archive, posted=posted, planned=frozenset(planned), quote_posts=quote_posts)
    result = toot(compose(the(archive, tweet_id), DUE, chosen))
    assert result.quote == quote
    assert result.parts[0].text == text


def test_a_quote_that_is_nothing_but_its_link_stays_a_link(archive: Archive) -> None:
    bare = replace(the(archive, QS), text=A_LINK)
    chosen = options(archive, posted={A: A_TOOT}, quote_posts=True)
    result = toot(compose(bare, DUE, chosen))
    assert result.quote == Quote(A, "link", "the tweet is nothing but its link")
    assert result.parts[0].text == A_TOOT


# --- retweets of one's own tweets -------------------------------------------------------------


def test_a_retweet_of_ones_own_posted_tweet_is_a_boost(archive: Archive) -> None:
    result = toot(compose(the(archive, RS), DUE, options(archive, posted={A: A_TOOT})))
    assert (result.boost_of_tweet, result.parts) == (A, ())


def test_a_retweet_of_a_tweet_the_run_posts_first_is_a_boost(archive: Archive) -> None:
    result = toot(compose(the(archive, RS), DUE, options(archive, planned=frozenset({A}))))
    assert result.boost_of_tweet == A


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({}, f"a retweet of your tweet {A}, which is not posted yet"),
        ({"retweet_of": None}, "a retweet of your own tweet that is not in this archive"),
        ({"retweet_of": "42"}, "a retweet of your own tweet that is not in this archive"),
    ],
)
def test_a_retweet_of_ones_own_tweet_that_cannot_be_boosted_is_skipped(
    archive: Archive, change: dict[str, Any], reason: str
) -> None:
    assert compose(replace(the(archive, RS), **change), DUE, options(archive)) == Skip(RS, reason)


@pytest.mark.parametrize("stated", [None, "42"])
def test_a_retweet_of_someone_else_is_copied_as_before(
    archive: Archive, stated: str | None
) -> None:
    retweet = replace(the(archive, E), retweet_of=stated)
    result = toot(compose(retweet, DUE, options(archive, posted={A: A_TOOT})))
    assert result.boost_of_tweet is None
    assert result.parts[0].text.startswith("RT @grace_h@twitter.com: Compilers are just")


# --- alt text ----------------------------------------------------------------------------

PLANT = f"{F}-EyPlant01.png"
SPOILER = f"{SN}-FinaleSpoiler.png"


@pytest.mark.parametrize(
    ("file", "plant", "spoiler"),
    [
        # the archive's own alt text where the file has nothing
        ({}, "A potted fern leaning hard toward the window, away from a monitor", None),
        # the file's description wins over the archive's
        ({(F, PLANT): "A fern, sulking"}, "A fern, sulking", None),
        ({(SN, SPOILER): "A red square"}, "A potted fern leaning hard toward the window, "
         "away from a monitor", "A red square"),
    ],
)  # fmt: skip
def test_media_carry_the_alt_text_files_descriptions(
    archive: Archive, file: dict[tuple[str, str], str], plant: str, spoiler: str | None
) -> None:
    chosen = options(archive, alt_texts=AltTexts(file))
    plant_toot = toot(compose(the(archive, F), DUE, chosen))
    spoiler_toot = toot(compose(the(archive, SN), DUE, chosen))
    assert plant_toot.parts[0].media[0].description == plant
    assert spoiler_toot.parts[0].media[0].description == spoiler


DESCRIPTIONS = st.text(
    st.characters(exclude_categories=("Cc", "Cs"), include_characters="\n\t"), max_size=80
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_alt_text_round_trip_puts_every_description_on_its_media(
    archive: Archive, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Export, fill in (any text, any cell left empty), use: each media file of each
    toot carries its description, or the archive's own where the cell was empty."""
    folder = tmp_path_factory.mktemp("round-trip")
    exported = folder / "alt.csv"
    with exported.open("x", encoding="utf-8-sig", newline="") as handle:
        write_alt_text_file(handle, archive.tweets, UTC)
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    filled = data.draw(st.lists(DESCRIPTIONS, min_size=len(rows) - 1, max_size=len(rows) - 1))
    for row, description in zip(rows[1:], filled, strict=True):
        row[4] = description
    with (folder / "filled.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    alt_texts = read_alt_text_file(folder / "filled.csv", archive, 1500)
    assert alt_texts.problems == ()
    chosen = options(archive, alt_texts=alt_texts, max_media_attachments=1)
    wanted = {
        (row[0], row[2]): (text.strip() or row[3] or None)
        for row, text in zip(rows[1:], filled, strict=True)
    }
    got: dict[tuple[str, str], str | None] = {}
    for tweet in archive.tweets:
        if tweet.media and not tweet.is_retweet:
            for part in toot(compose(tweet, DUE, chosen)).parts:
                got |= {(tweet.id, m.path): m.description for m in part.media}
    assert got == wanted


def test_no_alt_text_file_changes_nothing(archive: Archive) -> None:
    plain = compose(the(archive, F), DUE, options(archive))
    assert compose(the(archive, F), DUE, options(archive, alt_texts=NO_ALT_TEXTS)) == plain
