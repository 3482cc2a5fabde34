"""Synthetic Twitter archives for the benchmark, deterministic for a given seed.

`generate(n, out)` writes the same n tweets, spread over 15 years, four ways:

- `official/`: an unzipped official archive shaped like the real export:
  `data/account.js`, the tweets in `data/tweets.js` and `data/tweets-partN.js`
  (25,000 a part, so four parts at 100,000), `data/note-tweet.js`, placeholder
  files in `data/tweets_media/`; newest first, pretty-printed as Twitter writes
  it (`window.YTD.tweets.part0 = [`, two-space indents, `"key" : value`), items
  with the real fields (edit_info, source, entities with indices, t.co URLs,
  mentions and hashtags, display_text_range, counts, lang, extended_entities
  with sizes and video_info, possibly_sensitive, reply fields);
- `official-compact/`: the same archive with every data file as compact JSON on
  one line (media files linked, not copied);
- `official.zip`: `official/` zipped, as it is downloaded;
- `markdown/`: the older twitter-archive-parser output (`tweets_YYYY-MM.md`,
  blocks separated by `----`, `(Originally on Twitter: [date](url))` footers,
  `media/`), with a few texts damaged the way a cp1252 decoder damages UTF-8.

The mix follows what real archives hold (rounded): 20% replies to others and
6% self-threads, 12% `RT @` retweets (a few of the owner's own tweets), 35% with
links (some to the owner's own tweets, 4% quote tweets), 16% with photos,
videos or GIFs (some with alt text, a few marked sensitive), 12% with hashtags,
a fifth with emoji, long note tweets from 2023 on, HTML entities; tweets in
English (70%), Spanish, French, German, Portuguese, Japanese and Russian; 140
characters at most before November 2017, 280 after; Feb 29 tweets in the leap
years.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.support import archives

VERSION = 3  # bump when the output changes, so cached copies are regenerated
OWNER = "benchuser"
OWNER_ID = "1234567890"
FIRST = datetime(2010, 1, 1, tzinfo=UTC)
YEARS = 15
PART_SIZE = 25_000  # tweets per tweets-partN.js file
TWITTER_EPOCH_MS = 1_288_834_974_657
LONGER_TWEETS = datetime(2017, 11, 7, tzinfo=UTC)  # 280 characters from then on
NOTE_TWEETS = datetime(2023, 1, 1, tzinfo=UTC)


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


# Words by language, with the language's share of the tweets and Twitter's code for it.
_LANGUAGES: dict[str, tuple[float, str]] = {
    "en": (
        0.70,
        "the a of to and in is it that for on with as was this be at by not are from or have "
        "an they which one you were all we her she there would their will when who him been "
        "has more if no out do so can what up said about other into than its time only could "
        "new them man some these then two first may any like now my such make over our even "
        "most me state after also made many did must before back see through way where get "
        "much go well your know should down work year because come people just say each those "
        "take day good how long little use here very still between old home life build test "
        "compiler python rust kernel tensor graph cache deploy release bug fix patch review "
        "merge branch thread conference talk slides coffee weekend tonight tomorrow finally "
        "really great thanks love today amazing",
    ),
    "es": (
        0.07,
        "el la de que y en los se del las un por con no una su para es al lo como más pero sus "
        "le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde "
        "quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos esto "
        "mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada "
        "muchos cual poco ella estar año años niño mañana corazón canción después está "
        "gracias día aquí",
    ),
    "fr": (
        0.05,
        "le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas vous "
        "par sur faire plus dire me on mon lui nous comme mais pouvoir avec tout aller voir "
        "bien où sans tu ou leur si deux moi vouloir te venir quand grand celui notre devoir "
        "là jour prendre même votre rien petit encore aussi quelque dont trouver donner "
        "temps ça peu falloir sous parler alors savoir déjà très été garçon français "
        "aujourd'hui merci",
    ),
    "de": (
        0.05,
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch "
        "es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über "
        "einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei müssen "
        "Größe schön grün Straße Mädchen heißt Grüße endlich heute danke",
    ),
    "pt": (
        0.05,
        "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi "
        "ao ele das tem à seu sua ou ser quando muito há nos já está eu também só pelo pela "
        "até isso ela entre era depois sem mesmo aos ter seus quem nas me esse eles estão "
        "você tinha foram essa num nem suas meu às minha têm ação coração informação "
        "situação opções eleições obrigado",
    ),
    "ja": (
        0.05,
        "今日は ありがとう 東京 新しい プログラム を 書いた 天気がいい 楽しかった 日本語 テスト "
        "です ます 会議 コード の に は が 明日 発表 ラーメン 美味しい 週末 仕事 終わった",
    ),
    "ru": (
        0.03,
        "и в не на я что он с как а то все она так его но да ты к у же вы за бы по только ее "
        "мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или "
        "быть был него до вас опять там потом себя ничего может они тут где есть надо для мы "
        "спасибо сегодня",
    ),
}
_EMOJI = _split(
    "😂 ❤️ 🔥 👍 👍🏽 🙏 ✨ 🎉 😅 🤔 😭 🥳 💯 🙌 👀 🚀 😍 🤦‍♂️ 👨‍💻 🏳️‍🌈 🇩🇪 🇯🇵 ☕ 🍕 🤷🏻‍♀️"
)
_HASHTAGS = _split(
    "python rustlang 100DaysOfCode tbt FelizNavidad 日本 opensource MachineLearning "
    "WorldCup2014 PyCon NaNoWriMo coffee Caturday ThrowbackThursday"
)
_OTHERS = tuple(
    f"{first}{sep}{last}"
    for first in ("ana", "bob", "chris", "dev", "emma", "fran", "gus", "hiro", "ivan", "jo")
    for last in ("smith", "codes", "dev", "writes", "42", "photo", "lab", "xyz", "rocks", "jp")
    for sep in ("_", "")
)
_SITES = (
    "https://www.youtube.com/watch?v={code}",
    "https://github.com/{user}/{word}",
    "https://en.wikipedia.org/wiki/{Word}_({word})",
    "https://www.nytimes.com/2019/05/02/technology/{word}-{word}-{word}.html",
    "https://medium.com/@{user}/{word}-{word}-{code}",
    "https://www.instagram.com/p/{code}/",
    "https://bit.ly/{code}",
    "https://blog.example.org/{word}/{word}?utm_source=twitter&utm_medium=social",
    "https://docs.python.org/3/library/{word}.html#{word}",
    "https://www.theguardian.com/world/2021/jan/12/{word}-{word}",
)
_SOURCES = (
    ("Twitter Web App", "https://mobile.twitter.com", 30),
    ("Twitter for iPhone", "http://twitter.com/download/iphone", 30),
    ("Twitter for Android", "http://twitter.com/download/android", 20),
    ("TweetDeck", "https://about.twitter.com/products/tweetdeck", 10),
    ("Twitter Web Client", "http://twitter.com", 10),
)


@dataclass(frozen=True)
class Generated:
    """Where one generated archive is.

    folder: the official archive folder; compact: the same with compact JSON; zip: the
    folder zipped; markdown: the same tweets as older-generation markdown; tweet_files
    and compact_files: the `tweets*.js` files of folder and compact.
    """

    n: int
    folder: Path
    compact: Path
    zip: Path
    markdown: Path
    tweet_files: tuple[Path, ...]
    compact_files: tuple[Path, ...]


@dataclass
class _Tweet:
    """One tweet being generated, before it is written in either format."""

    id: str
    at: datetime
    text: str  # as the archive stores it: t.co links, HTML entities
    lang: str
    urls: list[tuple[str, str]] = field(default_factory=list)  # (t.co, expanded)
    media: list[tuple[str, str, str]] = field(default_factory=list)  # (t.co, file, type)
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    reply_to: tuple[str, str] | None = None  # (tweet id, screen name)
    note: str | None = None  # the full text of a long tweet
    sensitive: bool = False
    alt: bool = False
    source: int = 0


def generate(n: int, out: Path, seed: int = 2024) -> Generated:
    """Write the archives of n tweets under out (created; replaced if there).

    Returns where they are. The same n and seed give the same bytes.
    """
    rng = random.Random(seed)
    tweets = _tweets(n, rng)
    if out.exists():
        shutil.rmtree(out)
    folder, compact, markdown = out / "official", out / "official-compact", out / "markdown"
    files = _write_official(tweets, folder)
    compact_files = _write_compact(folder, compact)
    _write_markdown(tweets, markdown, rng)
    zip_path = out / "official.zip"
    _zip(folder, zip_path)
    _age(out)
    return Generated(n, folder, compact, zip_path, markdown, files, compact_files)


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
    return Generated(
        n,
        out / "official",
        out / "official-compact",
        out / "official.zip",
        out / "markdown",
        tuple(sorted((out / "official" / "data").glob("tweets*.js"))),
        tuple(sorted((out / "official-compact" / "data").glob("tweets*.js"))),
    )


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
        tweets.append(_tweet(_snowflake(at, rng, used), at, tweets, rng))
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
    limit = 280 if at >= LONGER_TWEETS else 140
    lang = rng.choices(list(_LANGUAGES), [share for share, _ in _LANGUAGES.values()])[0]
    tweet = _Tweet(tweet_id, at, "", lang, source=rng.randrange(len(_SOURCES)))
    kind = rng.random()
    if kind < 0.12:
        _retweet(tweet, earlier, rng)
        return tweet
    body = _sentence(rng, lang, rng.choice((30, 60, 90, 120, 180, 240)), limit - 60)
    if kind < 0.32:
        others = rng.sample(_OTHERS, rng.choice((1, 1, 1, 2, 3)))
        tweet.reply_to = (str(rng.randrange(10**17, 10**18)), others[0])
        tweet.mentions += others
        body = " ".join(f"@{o}" for o in others) + " " + body
    elif kind < 0.38 and earlier:
        tweet.reply_to = (earlier[-1].id, OWNER)  # a self-thread
    elif kind < 0.46:
        other = rng.choice(_OTHERS)
        tweet.mentions.append(other)
        body += f" cc @{other}"
    tweet.text = body
    if at >= NOTE_TWEETS and rng.random() < 0.08:
        tweet.note = _sentence(rng, lang, rng.randrange(400, 1500), 2000)
        tweet.text = tweet.note[:270].rstrip() + "…"
    _decorate(tweet, earlier, rng)
    return tweet


def _retweet(tweet: _Tweet, earlier: list[_Tweet], rng: random.Random) -> None:
    """`RT @user: …`, cut at 140 characters; now and then one of the owner's own tweets."""
    own = [t for t in earlier[-50:] if t.reply_to is None and not t.text.startswith("RT @")]
    if own and rng.random() < 0.05:
        other, words = OWNER, rng.choice(own).text
    else:
        other, words = rng.choice(_OTHERS), _sentence(rng, tweet.lang, 120, 200)
    text = f"RT @{other}: {words}"
    tweet.text = text if len(text) <= 140 else text[:139] + "…"
    tweet.mentions.append(other)


def _decorate(tweet: _Tweet, earlier: list[_Tweet], rng: random.Random) -> None:
    """Emoji, entities, links and media, as many real tweets have them."""
    if rng.random() < 0.2:
        tweet.text += " " + "".join(rng.choices(_EMOJI, k=rng.choice((1, 1, 2, 3))))
    if rng.random() < 0.04:
        tweet.text += rng.choice((" &amp; more", " &lt;3", " a &gt; b", " Q&amp;A"))
    if rng.random() < 0.12:
        tags = rng.sample(_HASHTAGS, rng.choice((1, 1, 2)))
        tweet.hashtags += tags
        tweet.text += "".join(f" #{t}" for t in tags)
    if tweet.note is None and rng.random() < 0.35:
        for _ in range(rng.choice((1, 1, 1, 2))):
            _add_url(tweet, _link_target(earlier, rng), rng)
    if tweet.note is None and rng.random() < 0.04:  # a quote tweet: the quoted tweet's link last
        quoted = rng.choice(earlier[-2000:]) if earlier and rng.random() < 0.2 else None
        who, qid = (OWNER, quoted.id) if quoted else (rng.choice(_OTHERS), _other_id(rng))
        _add_url(tweet, f"https://twitter.com/{who}/status/{qid}", rng)
    if rng.random() < 0.16:
        kind = rng.choices(("photo", "video", "animated_gif"), (80, 15, 5))[0]
        count = rng.choice((1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 4)) if kind == "photo" else 1
        short = f"https://t.co/{_code(rng)}"
        suffix = ".jpg" if kind == "photo" else ".mp4"
        for _ in range(count):
            tweet.media.append((short, f"{tweet.id}-{_code(rng, 15)}{suffix}", kind))
        tweet.text += f" {short}"
        tweet.sensitive = rng.random() < 0.03
        tweet.alt = rng.random() < 0.15
    if not tweet.text.strip(" .!?") or all(_is_link(w) for w in tweet.text.split()):
        tweet.lang = "zxx" if tweet.urls else "qme"


def _add_url(tweet: _Tweet, target: str, rng: random.Random) -> None:
    short = f"https://t.co/{_code(rng)}"
    tweet.urls.append((short, target))
    tweet.text += f" {short}"


def _is_link(word: str) -> bool:
    return word.startswith(("https://", "#", "@"))


def _other_id(rng: random.Random) -> str:
    return str(rng.randrange(10**17, 10**19))


def _link_target(earlier: list[_Tweet], rng: random.Random) -> str:
    if earlier and rng.random() < 0.08:
        target = rng.choice(earlier[-5000:])
        return f"https://twitter.com/{OWNER}/status/{target.id}"
    url = (
        rng.choice(_SITES).replace("{code}", _code(rng, 11)).replace("{user}", rng.choice(_OTHERS))
    )
    words = _LANGUAGES["en"][1].split()
    url = url.replace("{Word}", rng.choice(words).capitalize())
    while "{word}" in url:
        url = url.replace("{word}", rng.choice(words), 1)
    return url


def _sentence(rng: random.Random, lang: str, target: int, limit: int) -> str:
    """Words of lang, about `target` characters and at most `limit`, as a sentence."""
    words = _LANGUAGES[lang][1].split()
    joiner = "" if lang == "ja" else " "
    text = rng.choice(words).capitalize()
    while len(text) < target:
        word = rng.choice(words)
        if len(text) + len(word) + 1 > limit:
            break
        text += joiner + word
    return text + rng.choice((".", "!", "?", "", "", "…" if lang != "ja" else "。"))


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
    path.write_bytes(archives.js_file(variable, items))


def _write_compact(folder: Path, compact: Path) -> tuple[Path, ...]:
    """`compact`: `folder` with every data file's JSON on one line; media linked."""
    files = []
    for source in sorted(folder.rglob("*")):
        target = compact / source.relative_to(folder)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif source.suffix == ".js":
            text = source.read_bytes()
            equals = text.index(b"=")
            items = orjson.loads(text[equals + 1 :])
            target.write_bytes(text[: equals + 2] + orjson.dumps(items))
            if source.name.startswith("tweet"):
                files.append(target)
        else:
            _link_or_copy(source, target)
    return tuple(sorted(files))


def _official(tweet: _Tweet) -> dict[str, Any]:
    """One item of tweets.js, with the fields a real export has."""
    media = [_media(tweet, i, name, kind) for i, (_, name, kind) in enumerate(tweet.media)]
    name, url, _ = _SOURCES[tweet.source]
    extra: dict[str, Any] = {
        "source": f'<a href="{url}" rel="nofollow">{name}</a>',
        "lang": tweet.lang,
        "retweet_count": str(int(tweet.id[-3:]) % 40 if len(tweet.id) > 3 else 0),
    }
    if tweet.urls or media:
        extra["possibly_sensitive"] = tweet.sensitive
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
            hashtags=[_hashtag(tweet.text, tag) for tag in tweet.hashtags],
        ),
        editable_until=(tweet.at + timedelta(minutes=30)).isoformat(),
        favorite_count=str(len(tweet.id) * int(tweet.id[-2:]) % 97),
        **extra,
    )


def _indices(text: str, part: str) -> list[str]:
    start = max(text.find(part), 0)
    return [str(start), str(start + len(part))]


def _mention(text: str, name: str) -> dict[str, Any]:
    title = name.replace("_", " ").title()
    return archives.mention_entity(name, title, _user_id(name), _indices(text, "@" + name))


def _hashtag(text: str, tag: str) -> dict[str, Any]:
    return {"text": tag, "indices": _indices(text, "#" + tag)}


def _user_id(name: str) -> str:
    return str(zlib.crc32(name.encode()))


def _url(text: str, short: str, expanded: str) -> dict[str, Any]:
    display = expanded.split("://", 1)[-1]
    display = display if len(display) <= 26 else display[:26] + "…"
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
        alt=f"A picture of {code.lower()} in the sun" if tweet.alt and kind == "photo" else None,
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
    print(f"{made.n} tweets: {made.folder}, {made.compact}, {made.zip}, {made.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
