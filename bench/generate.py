"""Synthetic Twitter archives for the benchmark, deterministic for a given seed.

`generate(n, out)` writes the same n tweets, spread over 15 years, three ways:

- `official/`: an unzipped official archive (`data/account.js`, `data/tweets.js` and
  `data/tweets-partN.js` parts, `data/note-tweet.js`, placeholder files in
  `data/tweets_media/`), items shaped like the real export (edit_info, source,
  entities with t.co URLs and mentions, display_text_range, counts, extended_entities
  with sizes and video_info), newest first, two-space indented;
- `official.zip`: that folder zipped, as it is downloaded;
- `markdown/`: the older twitter-archive-parser output (`tweets_YYYY-MM.md`, blocks
  separated by `----`, `(Originally on Twitter: [date](url))` footers, `media/`),
  with a few texts damaged the way a cp1252 decoder damages UTF-8.

The mix: replies to others, self-threads, `RT @` retweets, links (some to the owner's
own earlier tweets), photos, videos and GIFs, long note tweets, HTML entities,
non-ASCII text and emoji, and Feb 29 tweets in the leap years.

The formats themselves are written by `tests.support.archives`, as the fixtures are.

Command line: `python -m bench.generate N OUT [--seed S]`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support import archives

VERSION = 2  # bump when the output changes, so cached copies are regenerated
OWNER = "benchuser"
OWNER_ID = "1234567890"
FIRST = datetime(2010, 1, 1, tzinfo=UTC)
YEARS = 15
PART_SIZE = 40_000  # tweets per tweets-partN.js file
TWITTER_EPOCH_MS = 1_288_834_974_657

_WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "was",
    "this",
    "be",
    "at",
    "by",
    "not",
    "are",
    "from",
    "or",
    "have",
    "an",
    "they",
    "which",
    "one",
    "you",
    "were",
    "all",
    "we",
    "her",
    "she",
    "there",
    "would",
    "their",
    "will",
    "when",
    "who",
    "him",
    "been",
    "has",
    "more",
    "if",
    "no",
    "out",
    "do",
    "so",
    "can",
    "what",
    "up",
    "said",
    "about",
    "other",
    "into",
    "than",
    "its",
    "time",
    "only",
    "could",
    "new",
    "them",
    "man",
    "some",
    "these",
    "then",
    "two",
    "first",
    "may",
    "any",
    "like",
    "now",
    "my",
    "such",
    "make",
    "over",
    "our",
    "even",
    "most",
    "me",
    "state",
    "after",
    "also",
    "made",
    "many",
    "did",
    "must",
    "before",
    "back",
    "see",
    "through",
    "way",
    "where",
    "get",
    "much",
    "go",
    "well",
    "your",
    "know",
    "should",
    "down",
    "work",
    "year",
    "because",
    "come",
    "people",
    "just",
    "say",
    "each",
    "those",
    "take",
    "day",
    "good",
    "how",
    "long",
    "little",
    "use",
    "here",
    "very",
    "still",
    "between",
    "old",
    "home",
    "life",
    "build",
    "test",
    "compiler",
    "python",
    "rust",
    "kernel",
    "tensor",
    "graph",
    "cache",
    "deploy",
    "release",
    "bug",
    "fix",
    "patch",
    "review",
    "merge",
    "branch",
    "thread",
]
_FANCY = ("café", "naïve", "日本語", "we’re", "“quoted”", "😂", "🚀", "👍🏽", "Zürich", "—")
_OTHERS = tuple(f"friend_{i:03d}" for i in range(300))
_SITES = ("example.com", "blog.example.org", "docs.example.net", "news.example.com")


@dataclass(frozen=True)
class Generated:
    """Where one generated archive is.

    folder: the official archive folder; zip: the same zipped; markdown: the same tweets
    as older-generation markdown; tweet_files: the folder's `tweets*.js` files.
    """

    n: int
    folder: Path
    zip: Path
    markdown: Path
    tweet_files: tuple[Path, ...]


@dataclass
class _Tweet:
    """One tweet being generated, before it is written in either format."""

    id: str
    at: datetime
    text: str  # as the archive stores it: t.co links, HTML entities
    urls: list[tuple[str, str]]  # (t.co, expanded)
    media: list[tuple[str, str, str]]  # (t.co, file name, type)
    mentions: list[str]
    reply_to: tuple[str, str] | None = None  # (tweet id, screen name)
    note: str | None = None  # the full text of a long tweet


def generate(n: int, out: Path, seed: int = 2024) -> Generated:
    """Write the three archives of n tweets under out (created; replaced if there).

    Returns where they are. The same n and seed give the same bytes.
    """
    rng = random.Random(seed)
    tweets = _tweets(n, rng)
    if out.exists():
        shutil.rmtree(out)
    folder, markdown = out / "official", out / "markdown"
    files = _write_official(tweets, folder)
    _write_markdown(tweets, markdown, rng)
    zip_path = out / "official.zip"
    _zip(folder, zip_path)
    _age(out)
    return Generated(n, folder, zip_path, markdown, files)


def _age(out: Path) -> None:
    """Date every file and folder 2024-01-01, as an archive downloaded long ago
    (tootback does not index an archive that changed in the last seconds)."""
    stamp = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    for path in [*out.rglob("*"), out]:
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def ensure(n: int, base: Path, seed: int = 2024) -> Generated:
    """The archives of n tweets under base, generated only when not already there."""
    out = base / f"n{n}-s{seed}-v{VERSION}"
    done = out / "DONE"
    if not done.exists():
        generate(n, out, seed)
        done.write_text("ok\n")  # outside the archives: their dates stay old
    files = sorted((out / "official" / "data").glob("tweets*.js"))
    return Generated(n, out / "official", out / "official.zip", out / "markdown", tuple(files))


# -- the tweets ---------------------------------------------------------------------------


def _tweets(n: int, rng: random.Random) -> list[_Tweet]:
    """n tweets, oldest first, with every kind the readers must handle."""
    span = (FIRST.replace(year=FIRST.year + YEARS) - FIRST).total_seconds()
    leap = _leap_days(rng)[:n]
    moments = [FIRST + timedelta(seconds=int(rng.random() * span)) for _ in range(n - len(leap))]
    moments = sorted(moments + leap)
    tweets: list[_Tweet] = []
    used: set[str] = set()
    for at in moments:
        tweet = _tweet(_snowflake(at, rng, used), at, tweets, rng)
        tweets.append(tweet)
    return tweets


def _leap_days(rng: random.Random) -> list[datetime]:
    """A few tweets on every Feb 29, so the feb29 policy has something to move."""
    return [
        datetime(year, 2, 29, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        for year in range(FIRST.year, FIRST.year + YEARS)
        if year % 4 == 0
        for _ in range(3)
    ]


def _snowflake(at: datetime, rng: random.Random, used: set[str]) -> str:
    """A unique id that sorts with time (small ids before snowflakes began in late 2010)."""
    ms = int(at.timestamp() * 1000)
    while True:
        if ms < TWITTER_EPOCH_MS:
            value = 7_000_000_000 + (ms - int(FIRST.timestamp() * 1000)) * 10 + rng.randrange(10)
        else:
            value = ((ms - TWITTER_EPOCH_MS) << 22) | rng.randrange(1 << 22)
        if str(value) not in used:
            used.add(str(value))
            return str(value)


def _tweet(tweet_id: str, at: datetime, earlier: list[_Tweet], rng: random.Random) -> _Tweet:
    tweet = _Tweet(tweet_id, at, _sentence(rng, 5, 35), [], [], [])
    kind = rng.random()
    if kind < 0.08:
        other = rng.choice(_OTHERS)
        text = f"RT @{other}: {tweet.text}"
        tweet.text = text if len(text) <= 140 else text[:139] + "…"
        tweet.mentions.append(other)
        return tweet
    if kind < 0.26:
        other = rng.choice(_OTHERS)
        tweet.reply_to = (str(rng.randrange(10**17, 10**18)), other)
        tweet.text = f"@{other} {tweet.text}"
        tweet.mentions.append(other)
    elif kind < 0.33 and earlier:
        tweet.reply_to = (earlier[-1].id, OWNER)  # a self-thread
    if rng.random() < 0.01:
        tweet.note = _sentence(rng, 80, 160)
        tweet.text = tweet.note[:270].rstrip() + "…"
    _decorate(tweet, earlier, rng)
    return tweet


def _decorate(tweet: _Tweet, earlier: list[_Tweet], rng: random.Random) -> None:
    """Entities, links and media, as many real tweets have them."""
    if rng.random() < 0.03:
        tweet.text += rng.choice((" &amp; more", " &lt;3", " a &gt; b"))
    if rng.random() < 0.1:
        tweet.text += " #" + rng.choice(_WORDS)
    if tweet.note is None and rng.random() < 0.3:
        for _ in range(rng.choice((1, 1, 1, 2))):
            target = _link_target(earlier, rng)
            short = f"https://t.co/{_code(rng)}"
            tweet.urls.append((short, target))
            tweet.text += f" {short}"
    if rng.random() < 0.15:
        kind = rng.choices(("photo", "video", "animated_gif"), (80, 15, 5))[0]
        count = rng.choice((1, 1, 1, 2, 4)) if kind == "photo" else 1
        short = f"https://t.co/{_code(rng)}"
        suffix = ".jpg" if kind == "photo" else ".mp4"
        for _ in range(count):
            tweet.media.append((short, f"{tweet.id}-{_code(rng, 15)}{suffix}", kind))
        tweet.text += f" {short}"


def _link_target(earlier: list[_Tweet], rng: random.Random) -> str:
    if earlier and rng.random() < 0.1:
        target = rng.choice(earlier[-5000:])
        return f"https://twitter.com/{OWNER}/status/{target.id}"
    words = "/".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 4)))
    return f"https://{rng.choice(_SITES)}/{words}?ref={rng.randrange(10**6)}"


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [
        rng.choice(_FANCY) if rng.random() < 0.02 else rng.choice(_WORDS)
        for _ in range(rng.randrange(low, high))
    ]
    return " ".join(words).capitalize() + rng.choice((".", "!", "?", "", ""))


def _code(rng: random.Random, size: int = 10) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(size))


# -- the official archive -------------------------------------------------------------------


def _write_official(tweets: list[_Tweet], folder: Path) -> tuple[Path, ...]:
    """The data folder; returns the tweets*.js files written."""
    data = folder / "data"
    media = data / "tweets_media"
    media.mkdir(parents=True)
    account = archives.account_item(
        OWNER,
        OWNER_ID,
        email="bench@example.com",
        created_at="2009-05-06T07:08:09.000Z",
        display_name="Bench User",
    )
    _write_js(data / "account.js", "account.part0", [account])
    newest_first = tweets[::-1]
    parts = max(2, -(-len(tweets) // PART_SIZE))
    size = -(-len(tweets) // parts)
    files = []
    for part in range(parts):
        name = "tweets.js" if part == 0 else f"tweets-part{part}.js"
        items = [_official(t) for t in newest_first[part * size : (part + 1) * size]]
        _write_js(data / name, f"tweets.part{part}", items)
        files.append(data / name)
    notes = [
        archives.note_item(str(int(t.id) + 7), t.at, t.note, annotations=False)
        for t in newest_first
        if t.note is not None
    ]
    _write_js(data / "note-tweet.js", "note_tweet.part0", notes)
    for tweet in tweets:
        for _, name, kind in tweet.media:
            (media / name).write_bytes(archives.JPEG if kind == "photo" else archives.MP4)
    return tuple(files)


def _write_js(path: Path, variable: str, items: list[dict[str, Any]]) -> None:
    path.write_bytes(archives.js_file(variable, items, colon=": "))


def _official(tweet: _Tweet) -> dict[str, Any]:
    """One item of tweets.js, with the fields a real export has."""
    media = [_media(tweet, i, name, kind) for i, (_, name, kind) in enumerate(tweet.media)]
    extra: dict[str, Any] = {}
    if tweet.reply_to is not None:
        reply_id, user = tweet.reply_to
        user_id = OWNER_ID if user == OWNER else _user_id(user)
        extra |= archives.reply_fields(reply_id, user_id, user)
    if media:
        extra["extended_entities"] = {"media": media}
    return archives.tweet_item(
        tweet.id,
        tweet.at,
        tweet.text,
        entities=archives.entities(
            urls=[_url(tweet.text, short, long) for short, long in tweet.urls],
            mentions=[_mention(tweet.text, name) for name in tweet.mentions],
            media=media[:1],
        ),
        editable_until=(tweet.at + timedelta(minutes=30)).isoformat(),
        favorite_count=str(len(tweet.id) % 7),
        **extra,
    )


def _indices(text: str, part: str) -> list[str]:
    start = max(text.find(part), 0)
    return [str(start), str(start + len(part))]


def _mention(text: str, name: str) -> dict[str, Any]:
    title = name.replace("_", " ").title()
    return archives.mention_entity(name, title, _user_id(name), _indices(text, "@" + name))


def _user_id(name: str) -> str:
    return str(zlib.crc32(name.encode()))


def _url(text: str, short: str, expanded: str) -> dict[str, Any]:
    display = expanded.split("://", 1)[-1][:26] + "…"
    return archives.url_entity(short, expanded, _indices(text, short), display)


def _media(tweet: _Tweet, index: int, name: str, kind: str) -> dict[str, Any]:
    short = tweet.media[0][0]
    media_id = str(int(tweet.id) + index + 1)
    code = name.split("-", 1)[1].rsplit(".", 1)[0]
    if kind == "photo":
        image = f"https://pbs.twimg.com/media/{code}.jpg"
    else:
        image = f"https://pbs.twimg.com/ext_tw_video_thumb/{media_id}/pu/img/{code}.jpg"
    video_info = None
    if kind != "photo":
        video_info = {
            "aspect_ratio": ["16", "9"],
            "duration_millis": "12000" if kind == "video" else "0",
            "variants": [
                {
                    "bitrate": "832000",
                    "content_type": "video/mp4",
                    "url": f"https://video.twimg.com/{code}.mp4",
                },
                {
                    "content_type": "application/x-mpegURL",
                    "url": f"https://video.twimg.com/{code}.m3u8",
                },
            ],
        }
    return archives.media_item(
        media_id=media_id,
        kind=kind,
        short=short,
        expanded=f"https://twitter.com/{OWNER}/status/{tweet.id}/photo/{index + 1}",
        image_url=image,
        indices=_indices(tweet.text, short),
        sizes={
            size: {"w": str(w), "h": str(w * 3 // 4), "resize": "fit" if w > 150 else "crop"}
            for size, w in (("thumb", 150), ("small", 680), ("medium", 1200), ("large", 2048))
        },
        display="pic.twitter.com/" + code[:10],
        alt="A picture of " + code.lower() if index == 0 and len(code) % 3 == 0 else None,
        video_info=video_info,
    )


def _zip(folder: Path, path: Path) -> None:
    # Level 1: a real download is deflated; a high level only makes generation slow.
    files = sorted(f for f in folder.rglob("*") if f.is_file())
    entries = ((f.relative_to(folder).as_posix(), f.read_bytes()) for f in files)
    archives.write_zip(path, entries, date_time=(2024, 1, 1, 0, 0, 0), level=1)


# -- the markdown archive -------------------------------------------------------------------


def _write_markdown(tweets: list[_Tweet], folder: Path, rng: random.Random) -> None:
    """tweets_YYYY-MM.md files, oldest first, and media/ beside them."""
    media = folder / "media"
    media.mkdir(parents=True)
    months: dict[str, list[str]] = {}
    for tweet in tweets:
        months.setdefault(tweet.at.strftime("%Y-%m"), []).append(_block(tweet, rng))
        for _, name, _kind in tweet.media:
            _link_or_copy(folder.parent / "official" / "data" / "tweets_media" / name, media / name)
    for month, blocks in months.items():
        (folder / f"tweets_{month}.md").write_text(archives.old_markdown(blocks), "utf-8")


def _block(tweet: _Tweet, rng: random.Random) -> str:
    text = tweet.note if tweet.note is not None else tweet.text
    for short, expanded in tweet.urls:
        text = text.replace(short, expanded)
    if tweet.media:
        refs = " ".join(f"![](media/{name})" for _, name, _ in tweet.media)
        short = tweet.media[0][0]
        text = text.replace(short, refs) if short in text else f"{text} {refs}"
    if not text.isascii() and rng.random() < 0.05:
        text = _cp1252_mojibake(text)
    return archives.old_block(text, tweet.at, f"https://twitter.com/{OWNER}/status/{tweet.id}")


def _cp1252_mojibake(text: str) -> str:
    """text's UTF-8 read as cp1252, when every byte has a cp1252 character."""
    try:
        return text.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return text


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="how many tweets")
    parser.add_argument("out", type=Path, help="folder to write (replaced)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    made = generate(args.n, args.out, args.seed)
    print(f"{made.n} tweets: {made.folder}, {made.zip}, {made.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
