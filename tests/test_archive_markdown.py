"""The markdown reader: seeds/ (older generation, Mac Roman mojibake), the newer
generation, cp1252 mojibake, and broken blocks."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.archive import Archive, Problem, load_archive
from bot.bundled import demo_archive
from bot.model import Media, Tweet
from tests.support.archives import md_escape, new_block, old_block, old_markdown

ROOT = Path(__file__).resolve().parent.parent
SEEDS = demo_archive()
FIXTURES = ROOT / "tests" / "fixtures"
FOOTER = "(Originally on Twitter: ["
MISSING_SEED_MEDIA = "media/1504533007574745090-FOEEpT3VsAomfS0.jpg"


@pytest.fixture(scope="module")
def seeds() -> Archive:
    return load_archive(SEEDS)


def by_id(archive: Archive) -> dict[str, Tweet]:
    return {t.id: t for t in archive.tweets}


def expected_seed_texts(name: str) -> dict[str, str]:
    """An independent oracle: every non-ASCII character of the seeds is either
    correct (April) or Mac Roman mojibake (March), so decode the whole file,
    cut it at `----`, drop the footer and unescape."""
    text = (SEEDS / name).read_text(encoding="utf-8")
    if name == "001_b2ac579df868b715.txt":
        text = text.encode("mac_roman").decode("utf-8")
    expected = {}
    for block in text.split("\n----\n"):
        if not block.strip():
            continue
        body, _, footer = block.rpartition(FOOTER)
        tweet_id = footer.rsplit("/", 1)[1].rstrip(")\n")
        body = body.replace(f" ![]({MISSING_SEED_MEDIA})", "")
        expected[tweet_id] = html.unescape(body.strip())
    return expected


def test_seeds_load_all_126_tweets(seeds: Archive) -> None:
    footers = sum(
        (SEEDS / n).read_text().count(FOOTER)
        for n in ("001_b2ac579df868b715.txt", "000_431246c2810b9def.txt")
    )
    assert footers == 126
    assert len(seeds.tweets) == 126
    assert seeds.username == "ezyang"
    assert seeds.formats == ("markdown",)
    assert seeds.root == SEEDS


def test_seeds_only_problem_is_the_media_file_not_shipped(seeds: Archive) -> None:
    # The trailing `----` of 000_431246c2810b9def.txt ends an empty block: not a problem.
    # The retweet on line 114 names a picture the seeds do not include: that is one.
    assert seeds.problems == (
        Problem("001_b2ac579df868b715.txt:114", f"media file {MISSING_SEED_MEDIA} is missing"),
    )
    tweet = by_id(seeds)["1504533007574745090"]
    assert tweet.media == (Media(MISSING_SEED_MEDIA, "image", None, "missing"),)
    assert tweet.text == (
        "RT @johnregehr: Understanding and Exploiting Optimal Function Inlining\n"
        "https://dl.acm.org/doi/pdf/10.1145/3503222.3507744"
    )


@pytest.mark.parametrize("name", ["001_b2ac579df868b715.txt", "000_431246c2810b9def.txt"])
def test_seed_texts_are_the_block_bodies_repaired(seeds: Archive, name: str) -> None:
    tweets = by_id(seeds)
    expected = expected_seed_texts(name)
    assert len(expected) == {"001_b2ac579df868b715.txt": 49, "000_431246c2810b9def.txt": 77}[name]
    for tweet_id, text in expected.items():
        assert tweets[tweet_id].text == text


def test_seed_texts_hold_no_mojibake(seeds: Archive) -> None:
    for tweet in seeds.tweets:
        assert "‚Ä" not in tweet.text and "\uf8ff" not in tweet.text
        assert "&amp;" not in tweet.text and "&gt;" not in tweet.text
    tweets = by_id(seeds)
    assert tweets["1501638419641995272"].text.endswith("ssh into machines 😂")
    assert tweets["1502715281063530502"].text == (
        '@francoisfleuret @PyTorch Probably adding a higher order "if" combinator 🤣 '
        "We are still dithering on this point"
    )
    assert tweets["1502516712675188740"].text == (
        "Vibing “program transformations by symbolically executing an interpreter” "
        "(send me papers!)"
    )
    assert tweets["1518402116565491714"].text.endswith("pretty confusing :>")
    assert tweets["1502717052821426177"].text.endswith("Lawall & Danvy LFP 1994")


def test_seed_multiline_text_keeps_inner_line_breaks(seeds: Archive) -> None:
    assert by_id(seeds)["1505159978604240903"].text == (
        "RT @flippac: @ezyang In concurrent constraint systems those are ~ask and tell "
        "constraints?\n\n(except making it fail at all takes a tell)\n\nTh…"
    )


def test_seed_replies_and_retweets(seeds: Archive) -> None:
    tweets = by_id(seeds)
    reply = tweets["1501636721930346499"]
    assert reply.text == "@srmsoumya yes it is"
    assert (reply.in_reply_to_user, reply.in_reply_to_id) == ("srmsoumya", None)
    assert tweets["1505610662613065732"].in_reply_to_user is None  # "Cc @cHHillee …"
    retweet = tweets["1502714953698009091"]
    assert retweet.is_retweet and retweet.in_reply_to_user is None
    assert sum(t.is_retweet for t in seeds.tweets) == 8
    assert sum(t.in_reply_to_user is not None for t in seeds.tweets) == 58


def test_seed_order_dates_urls_and_sources(seeds: Archive) -> None:
    first, last = seeds.tweets[0], seeds.tweets[-1]
    assert first.id == "1498838188865069056"
    assert first.created_at == datetime(2022, 3, 2, 1, 50, 45, tzinfo=UTC)
    assert first.url == "https://twitter.com/ezyang/status/1498838188865069056"
    assert first.source == "001_b2ac579df868b715.txt:1"
    assert last.id == "1520192069205114882"
    assert last.source == "000_431246c2810b9def.txt:309"
    times = [t.created_at for t in seeds.tweets]
    assert times == sorted(times)


def test_single_markdown_file(tmp_path: Path) -> None:
    archive = load_archive(SEEDS / "000_431246c2810b9def.txt")
    assert len(archive.tweets) == 77
    assert archive.root == SEEDS
    assert archive.problems == ()
    assert archive.tweets[0].text.startswith("@francoisfleuret @PyTorch We’ve been holding")


NEW_MD = "parser-output/tweets-md/2022/2022-04-01-tweets.md"
N1, N2, N3 = "1510195332510646275", "1510572819870646275", "1510574078161846275"
N4, N5, N6 = "1510905008747446275", "1511040904197046275", "1511161700152246275"


@pytest.fixture(scope="module")
def newer() -> Archive:
    return load_archive(FIXTURES / "markdown-new")


def test_newer_generation_loads(newer: Archive) -> None:
    assert [t.id for t in newer.tweets] == [N1, N2, N3, N4, N5, N6]
    assert newer.problems == ()
    assert newer.username == "quokka_codes"
    assert newer.formats == ("markdown",)


def test_newer_unquotes_unescapes_and_keeps_line_breaks(newer: Archive) -> None:
    tweets = by_id(newer)
    assert tweets[N1].text == (
        "Release notes for v1.2 (finally):\n- faster *incremental* builds\n"
        "- fixed issue #42_b\n\nThanks all & enjoy!"
    )
    assert tweets[N1].source == f"{NEW_MD}:1"
    assert tweets[N6].text == "Windows paths like C:\\Users\\me make me sad </3"


def test_newer_reply_header_gives_parent_and_mentions(newer: Archive) -> None:
    tweets = by_id(newer)
    reply = tweets[N2]
    assert reply.text == "@grace_h @alan_t Agreed! Details: https://example.com/a_b?x=1&y=2"
    assert (reply.in_reply_to_user, reply.in_reply_to_id) == ("grace_h", "1510565270123446277")
    thread = tweets[N3]
    assert thread.text == "Also: the docs moved to a new home."
    assert (thread.in_reply_to_user, thread.in_reply_to_id) == ("quokka_codes", N1)


def test_newer_image_and_video(newer: Archive) -> None:
    tweets = by_id(newer)
    image, video = tweets[N4], tweets[N5]
    assert image.text == "Whiteboard from today's design review"
    assert image.media == (Media(f"parser-output/media/{N4}-FQboard01.png", "image"),)
    assert video.text == "Demo of the new scheduler"
    assert video.media == (Media(f"parser-output/media/{N5}-SchedDemo.mp4", "video"),)
    assert newer.read_media(image.media[0]).startswith(b"\x89PNG")
    assert newer.read_media(video.media[0])[4:8] == b"ftyp"


def test_cp1252_mojibake_is_repaired() -> None:
    archive = load_archive(FIXTURES / "markdown-cp1252")
    assert archive.problems == ()
    assert [t.text for t in archive.tweets] == [
        "It’s “done” — finally…",
        "@grace_h ship it 😂🤣",
        "Crème brûlée & naïve café ✏️",
        "No accents here",
    ]
    assert archive.tweets[1].in_reply_to_user == "grace_h"


def test_broken_blocks_are_reported_with_their_lines() -> None:
    archive = load_archive(FIXTURES / "markdown-bad")
    assert archive.problems == (
        Problem("tweets_2021-01.md:5", "no footer with the tweet's date and link; block skipped"),
        Problem("tweets_2021-01.md:10", "unparseable date 'Foo 31 2022'; tweet skipped"),
        Problem("tweets_2021-01.md:12", "media file media/1345671241528246276-gone.png is missing"),
        Problem(
            "tweets_2021-01.md:16", "media ../../../../etc/passwd is outside the archive; refused"
        ),
        Problem("tweets_2021-01.md:16", "media /etc/passwd is outside the archive; refused"),
        Problem(
            "tweets_2021-01.md:22",
            "no tweet id in link 'https://twitter.com/quokka_codes'; tweet skipped",
        ),
    )
    texts = [t.text for t in archive.tweets]
    assert texts == ["Good tweet with a picture", "Missing picture", "Sneaky and"]
    good, missing, sneaky = archive.tweets
    assert good.media == (Media("media/1344946465797046276-ok.png"),)
    assert archive.read_media(good.media[0]).startswith(b"\x89PNG")
    assert missing.media[0].problem == "missing"
    assert [m.problem for m in sneaky.media] == ["outside the archive"] * 2


def test_self_mention_at_the_start_is_a_self_reply(tmp_path: Path) -> None:
    at = datetime(2022, 4, 1, 18, 9, 22, tzinfo=UTC)
    blocks = [
        old_block("@me and more", at, "https://twitter.com/me/status/1"),
        old_block(".@other not a reply", at + timedelta(seconds=1), "https://x.com/me/status/2"),
    ]
    (tmp_path / "output.md").write_text(old_markdown(blocks), encoding="utf-8")
    archive = load_archive(tmp_path)
    assert [(t.id, t.in_reply_to_user) for t in archive.tweets] == [("1", "me"), ("2", None)]
    assert archive.tweets[1].url == "https://twitter.com/me/status/2"


def test_markdown_without_footers_is_not_an_archive_file(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Notes\n\n----\n\nnothing here\n", encoding="utf-8")
    (tmp_path / "001_b2ac579df868b715.txt").write_bytes(
        (SEEDS / "001_b2ac579df868b715.txt").read_bytes()
    )
    archive = load_archive(tmp_path)
    assert len(archive.tweets) == 49
    assert [p.where for p in archive.problems] == ["001_b2ac579df868b715.txt:114"]


def test_crlf_and_nested_folders(tmp_path: Path) -> None:
    nested = tmp_path / "parser-output" / "tweets-md" / "2022"
    nested.mkdir(parents=True)
    text = (FIXTURES / "markdown-new" / NEW_MD).read_text(encoding="utf-8")
    (nested / "2022-04-01-tweets.md").write_bytes(text.replace("\n", "\r\n").encode())
    archive = load_archive(tmp_path)
    assert [t.text for t in archive.tweets] == [
        t.text for t in load_archive(FIXTURES / "markdown-new").tweets
    ]
    assert [p.reason for p in archive.problems] == [
        f"media file parser-output/media/{N4}-FQboard01.png is missing",
        f"media file parser-output/media/{N5}-SchedDemo.mp4 is missing",
    ]


def test_earliest_footer_without_parentheses(tmp_path: Path) -> None:
    (tmp_path / "output.md").write_text(
        "hello\n\nOriginally on Twitter: [Fri Apr 01 18:09:22 +0000 2022]"
        "(https://twitter.com/me/status/1)\n",
        encoding="utf-8",
    )
    assert [(t.id, t.text) for t in load_archive(tmp_path).tweets] == [("1", "hello")]


def test_reply_header_with_unknown_screen_name_uses_the_first_name(tmp_path: Path) -> None:
    header = f"Replying to [{md_escape('@old_friend')}](https://twitter.com/None/status/42)\n\n"
    at = datetime(2022, 4, 1, 18, 9, 22, tzinfo=UTC)
    block = new_block("43", at, "hi", user="me", header=header)
    (tmp_path / "2022-04-01-tweets.md").write_text(block, encoding="utf-8")
    tweet = load_archive(tmp_path).tweets[0]
    assert (tweet.text, tweet.in_reply_to_user, tweet.in_reply_to_id) == (
        "@old_friend hi",
        "old_friend",
        "42",
    )
