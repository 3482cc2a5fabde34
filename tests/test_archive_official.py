"""The official archive reader, on tests/fixtures/official (folder and zip) and official-bad."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.archive import Archive, Problem, load_archive
from bot.errors import ArchiveError
from bot.model import Media, Tweet

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OWNER = "quokka_codes"

A, B = "1114094070789046273", "1114095375217590273"  # 2019-04-05: tweet + self-reply
C, D = "1233723590046646273", "1233776438277046273"  # 2020-02-29: link, reply to grace_h
E, F = "1379142320124854273", "1379146820613046273"  # 2021-04-05: retweet, image + alt
G, H = "1511238455915446273", "1511244747371446273"  # 2022-04-05: video, self link
L, M = "1511252297118646273", "1511312695096246273"  # 2022-04-05: unicode, mention
J, K = "1511486339281846273", "1614658793763766273"  # 2022-04-05 late; 2023 note tweet
# April 6, tweets-part2.js: what the fediverse says its own way
HT, DE = "1114497982264246277", "1247207438545846277"  # 2019 hashtags only (qht); 2020 de
JA, SN = "1379343114040246277", "1379539407467446277"  # 2021 ja; 2021 possibly_sensitive
QO, UN = "1511644883973046277", "1511795878917046277"  # 2022 quotes grace_h; 2022 und
QS, RS = "1643886255928246277", "1643901355422646277"  # 2023 quotes A; 2023 retweets A
LEAK = "data/tweets_media/1014811120235446273-Leak01.png"
NOTE_START = "A long thread-that-isn’t-a-thread about why our build got three times faster.\n\n"
NOTE_END = "None of this was clever. It was just patient, and that’s the whole lesson."


@pytest.fixture(scope="module")
def official() -> Archive:
    return load_archive(FIXTURES / "official")


@pytest.fixture(scope="module")
def bad() -> Archive:
    return load_archive(FIXTURES / "official-bad")


def by_id(archive: Archive) -> dict[str, Tweet]:
    return {t.id: t for t in archive.tweets}


def test_loads_every_tweet_of_every_part_in_time_order(official: Archive) -> None:
    assert official.formats == ("official",)
    assert official.username == OWNER
    assert official.problems == ()
    assert [t.id for t in official.tweets] == [
        *(A, B, HT, C, D, DE, E, F, JA, SN, G, H, L, M, J, QO, UN, K, QS, RS)
    ]
    assert official.root == FIXTURES / "official"


def test_dates_are_aware_utc_and_spread_over_years(official: Archive) -> None:
    tweets = by_id(official)
    assert tweets[A].created_at == datetime(2019, 4, 5, 9, 15, tzinfo=UTC)
    assert tweets[C].created_at == datetime(2020, 2, 29, 12, 0, tzinfo=UTC)
    assert tweets[J].created_at == datetime(2022, 4, 5, 23, 30, tzinfo=UTC)
    april_fifth = {
        t.created_at.year
        for t in official.tweets
        if (t.created_at.month, t.created_at.day) == (4, 5)
    }
    assert april_fifth == {2019, 2021, 2022}


def test_entities_are_unescaped_once(official: Archive) -> None:
    assert by_id(official)[A].text == (
        "Spring cleaning my dotfiles & finding aliases from 2012 <3 — one is literally named &amp;"
    )


def test_self_reply_and_reply_to_someone_else(official: Archive) -> None:
    tweets = by_id(official)
    assert (tweets[B].in_reply_to_id, tweets[B].in_reply_to_user) == (A, OWNER)
    assert (tweets[D].in_reply_to_id, tweets[D].in_reply_to_user) == (
        "1233768888529846279",
        "grace_h",
    )
    assert tweets[D].text == "@grace_h Thanks! The fix is in main now"
    assert tweets[M].in_reply_to_id is None and tweets[M].in_reply_to_user is None


def test_retweet_is_flagged(official: Archive) -> None:
    flagged = [t.id for t in official.tweets if t.is_retweet]
    assert flagged == [E, RS]
    assert by_id(official)[E].text.endswith("respect the boundary s…")


@pytest.mark.parametrize(
    ("tweet_id", "lang", "sensitive", "quote_of", "retweet_of"),
    [
        (A, "en", False, None, None),
        (H, "en", False, B, None),  # its trailing link to B: a quote of the owner's tweet
        (E, "en", False, None, None),  # a retweet of grace_h: no original in the archive
        (QS, "en", False, A, None),  # quotes A through a `?s=20` link
        (QO, "en", False, "1233768888529846279", None),  # quotes grace_h
        (RS, "en", False, None, A),  # RT @quokka_codes: A's text
        (SN, "en", True, None, None),
        (DE, "de", False, None, None),
        (JA, "ja", False, None, None),
        (UN, "und", False, None, None),
        (HT, "qht", False, None, None),
    ],
)
def test_what_each_tweet_was(
    official: Archive,
    tweet_id: str,
    lang: str,
    sensitive: bool,
    quote_of: str | None,
    retweet_of: str | None,
) -> None:
    tweet = by_id(official)[tweet_id]
    assert (tweet.lang, tweet.sensitive, tweet.quote_of, tweet.retweet_of) == (
        lang,
        sensitive,
        quote_of,
        retweet_of,
    )


def test_tco_links_are_expanded(official: Archive) -> None:
    tweets = by_id(official)
    assert tweets[C].text == (
        "Leap day! Shipping the parser today, write-up here: "
        "https://example.com/blog/leap-day-parser"
    )
    assert tweets[H].text == (
        f"Three years later this is still my favourite alias https://twitter.com/{OWNER}/status/{B}"
    )
    assert all("t.co/" not in t.text for t in official.tweets)


def test_image_with_alt_text_and_its_link_removed(official: Archive) -> None:
    tweet = by_id(official)[F]
    assert tweet.text == "Our new office plant has opinions about the monitor placement"
    assert tweet.media == (
        Media(
            path=f"data/tweets_media/{F}-EyPlant01.png",
            kind="image",
            description="A potted fern leaning hard toward the window, away from a monitor",
        ),
    )
    assert official.read_media(tweet.media[0]).startswith(b"\x89PNG\r\n\x1a\n")


def test_video_is_found_by_tweet_id_prefix(official: Archive) -> None:
    tweet = by_id(official)[G]
    assert tweet.text == "Timelapse of today's build, all 40 minutes of it"
    assert tweet.media == (Media(path=f"data/tweets_media/{G}-Kq3VidBuild.mp4", kind="video"),)
    assert official.read_media(tweet.media[0])[4:8] == b"ftyp"


def test_note_tweet_gives_the_whole_text(official: Archive) -> None:
    text = by_id(official)[K].text
    assert text.startswith(NOTE_START)
    assert text.endswith(NOTE_END)
    assert len(text) > 500
    assert "…" not in text


def test_correct_unicode_is_untouched(official: Archive) -> None:
    assert by_id(official)[L].text == "Today’s mood: 🚀 — naïve café tests, “curly” quotes"


def test_urls_sources_and_mentions(official: Archive) -> None:
    tweets = by_id(official)
    assert tweets[A].url == f"https://twitter.com/{OWNER}/status/{A}"
    assert tweets[A].source == "data/tweets.js#8"
    assert tweets[K].source == "data/tweets-part1.js#0"
    assert tweets[M].text == "Pairing with @grace_h on the scheduler today. Wish us luck"


def test_zip_gives_the_same_tweets_as_the_folder(official: Archive) -> None:
    zipped = load_archive(FIXTURES / "official.zip")
    assert zipped.tweets == official.tweets
    assert zipped.username == official.username
    assert zipped.formats == ("official",)
    assert zipped.problems == ()
    assert zipped.root == FIXTURES / "official.zip"
    image = by_id(zipped)[F].media[0]
    assert zipped.read_media(image) == official.read_media(image)


def test_bad_archive_reports_each_problem_and_keeps_the_rest(bad: Archive) -> None:
    assert bad.problems[:5] == (
        Problem("data/tweets.js#9", "no id; item skipped"),
        Problem("data/tweets.js#10", "no created_at; item skipped"),
        Problem("data/tweets.js#11", "unparseable date 'Foo 31 2022'; item skipped"),
        Problem(
            "data/tweets.js#12",
            "media file data/tweets_media/1014448732369846273-GoneMissing.png is missing",
        ),
        Problem(
            "data/tweets.js#13",
            f"media {LEAK} is outside the archive; refused",
        ),
    )
    truncated = bad.problems[5]
    assert truncated.where == "data/tweets-part1.js#1"
    assert truncated.reason.startswith("truncated or broken file: invalid JSON at line 68")
    assert len(bad.problems) == 6


def test_truncated_part_keeps_the_complete_items_before_the_cut(bad: Archive) -> None:
    ids = {t.id for t in bad.tweets}
    assert K in ids  # item 0 of the cut part, still matched to its note
    assert J not in ids and M not in ids  # the cut item and the one after it
    assert by_id(bad)[K].text.endswith(NOTE_END)
    assert {A, B, C, D, E, F, G, H, L} <= ids


def test_missing_media_keeps_the_tweet(bad: Archive) -> None:
    tweet = by_id(bad)["1014448732369846273"]
    assert tweet.text == "The picture went missing"
    assert tweet.media[0].problem == "missing"
    with pytest.raises(ArchiveError, match="missing"):
        bad.read_media(tweet.media[0])


def test_symlink_out_of_the_archive_is_refused_and_never_read(bad: Archive) -> None:
    link = FIXTURES / "official-bad/data/tweets_media/1014811120235446273-Leak01.png"
    assert link.is_symlink(), "the fixture symlink was lost (checkout without symlinks?)"
    media = by_id(bad)["1014811120235446273"].media[0]
    assert media.problem == "outside the archive"
    with pytest.raises(ArchiveError, match="outside the archive"):
        bad.read_media(media)
    # Even a Media built by hand with the problem cleared is not read.
    forged = Media(path=media.path, kind="image")
    with pytest.raises(ArchiveError, match="outside the archive"):
        bad.read_media(forged)


def test_single_tweets_js_file_loads_with_its_folder(tmp_path: Path) -> None:
    archive = load_archive(FIXTURES / "official/data/tweets-part1.js")
    assert [t.id for t in archive.tweets] == [M, J, K]
    assert archive.username == OWNER
    assert archive.root == FIXTURES / "official/data"
    assert by_id(archive)[K].text.endswith(NOTE_END)


def test_bare_items_old_file_name_and_no_account(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "tweet_media").mkdir(parents=True)
    (data / "tweet_media" / "7-pic.jpg").write_bytes(b"jpeg")
    (data / "tweet.js").write_text(
        "window.YTD.tweet.part0 = ["
        '{"id_str": "7", "created_at": "Mon Mar 01 00:00:00 +0000 2021", "full_text": "x https://t.co/p",'
        ' "extended_entities": {"media": [{"type": "photo", "url": "https://t.co/p",'
        ' "media_url": "http://pbs.twimg.com/media/pic.jpg"}]}},'
        '{"id": 8, "created_at": "Mon Mar 01 00:00:01 +0000 2021", "full_text": "&lt;y&gt;"},'
        '"not an object"]',
        encoding="utf-8",
    )
    archive = load_archive(tmp_path)
    assert archive.username is None
    assert [(t.id, t.text) for t in archive.tweets] == [("7", "x"), ("8", "<y>")]
    assert archive.tweets[0].url == "https://twitter.com/i/web/status/7"
    assert archive.tweets[0].media == (Media("data/tweet_media/7-pic.jpg"),)
    assert archive.problems == (Problem("data/tweet.js#2", "not a tweet object; item skipped"),)


def test_invalid_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text(
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "../../etc/passwd",'
        ' "created_at": "Mon Mar 01 00:00:00 +0000 2021", "full_text": "x"}}]',
        encoding="utf-8",
    )
    archive = load_archive(tmp_path)
    assert archive.tweets == ()
    assert archive.problems == (
        Problem("tweets.js#0", "invalid id '../../etc/passwd'; item skipped"),
    )


def test_unreadable_json_everywhere_still_loads_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "tweets.js").write_text("window.YTD.tweets.part0 = {oops", encoding="utf-8")
    (data / "tweets-part1.js").write_bytes(
        b'window.YTD.tweets.part1 = [{"id_str": "9", "created_at": '
        b'"Mon Mar 01 00:00:00 +0000 2021", "full_text": "caf\xe9"}]'
    )
    archive = load_archive(tmp_path)
    assert [t.text for t in archive.tweets] == ["caf\ufffd"]
    assert [p.where for p in archive.problems] == ["data/tweets.js", "data/tweets-part1.js:1"]


def test_note_matched_by_its_id_when_the_tweet_names_it(tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text(
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "5", "noteTweetId": "99",'
        ' "created_at": "Mon Mar 01 00:00:00 +0000 2021", "full_text": "Short version"}}]',
        encoding="utf-8",
    )
    (tmp_path / "note-tweet.js").write_text(
        'window.YTD.note_tweet.part0 = [{"noteTweet": {"noteTweetId": "99",'
        ' "createdAt": "2024-01-01T00:00:00.000Z", "core": {"text": "Entirely &amp; different"}}}]',
        encoding="utf-8",
    )
    assert load_archive(tmp_path).tweets[0].text == "Entirely & different"


def test_note_with_same_time_but_other_text_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text(
        'window.YTD.tweets.part0 = [{"tweet": {"id_str": "5",'
        ' "created_at": "Mon Mar 01 00:00:00 +0000 2021", "full_text": "Mine"}}]',
        encoding="utf-8",
    )
    (tmp_path / "note-tweet.js").write_text(
        'window.YTD.note_tweet.part0 = [{"noteTweet": {"noteTweetId": "99",'
        ' "createdAt": "2021-03-01T00:00:00.000Z", "core": {"text": "Somebody else"}}}]',
        encoding="utf-8",
    )
    assert load_archive(tmp_path).tweets[0].text == "Mine"
