"""The values that flow through the pipeline.

Readers turn archive files into `Tweet`s; selection picks some and gives each a
due time; compose turns each into a `Toot` made of `TootPart`s. Everything here
is frozen: past the readers nothing is mutated, so each stage is a function of
its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MediaKind = Literal["image", "video", "gif"]


@dataclass(frozen=True, slots=True)
class Media:
    """One media file of a tweet.

    path: where the file is, relative to the archive root, POSIX separators
        (inside the zip for a zipped archive).
    kind: "image", "video" or "gif" (animated GIFs are MP4s on Twitter).
    description: the alt text, when the archive has it.
    problem: why the file cannot be uploaded ("missing", "outside the archive",
        too large), None when it can. A media item with a problem is never uploaded.
    size: its size in bytes, known before it is read; None when not known.
    """

    path: str
    kind: MediaKind = "image"
    description: str | None = None
    problem: str | None = None
    size: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Tweet:
    """One tweet as the archive holds it, text repaired and unescaped.

    id: the tweet id, a string (ids exceed 2**53).
    created_at: when it was tweeted, timezone-aware UTC.
    text: the full text: entities unescaped once, mojibake repaired, t.co links
        expanded, the full note text for long tweets.
    url: the tweet's twitter.com URL.
    in_reply_to_id / in_reply_to_user: the parent tweet id and its author's
        screen name, when the tweet is a reply (the markdown formats may only
        know the screen name).
    is_retweet: an `RT @user: …` retweet.
    media: its media files, in order.
    source: where it was read, "file:line" or "file#item", for reports.
    lang: the language Twitter detected, as the archive writes it ("en",
        "ja", or a pseudo-code such as "und", "qme", "zxx"); None when the
        archive does not say (markdown).
    sensitive: the archive marks it `possibly_sensitive`.
    quote_of: the id of the tweet it quotes. Archives hold a quote tweet as
        the quoted tweet's URL at the end of the text, which stays in `text`.
    retweet_of: the id of the tweet it retweets, when known: the archive
        rarely says, so a retweet of the owner's own tweet is matched to the
        original by its text when the archive is read.
    """

    id: str
    created_at: datetime
    text: str
    url: str
    in_reply_to_id: str | None = None
    in_reply_to_user: str | None = None
    is_retweet: bool = False
    media: tuple[Media, ...] = ()
    source: str = ""
    lang: str | None = None
    sensitive: bool = False
    quote_of: str | None = None
    retweet_of: str | None = None


@dataclass(frozen=True, slots=True)
class TootPart:
    """One status to send: exactly the text that goes to Mastodon.

    length: the text's length as the server counts it (plus the spoiler text).
    media: the files to attach, at most the instance's limit.
    """

    text: str
    length: int
    media: tuple[Media, ...] = ()


QuoteForm = Literal["quote", "link"]


@dataclass(frozen=True, slots=True)
class Quote:
    """How a quote tweet is posted, and why.

    tweet_id: the quoted tweet.
    form: "quote", a quote post of the quoted tweet's status (its link left
        out of the text); "link", the text keeps the link (to the status when
        it is posted, else as `links.self_unposted` and `links.twitter_host` say).
    reason: why this form, in words, for `preview`.
    """

    tweet_id: str
    form: QuoteForm
    reason: str


@dataclass(frozen=True, slots=True)
class Toot:
    """What one tweet becomes: one part, a reply chain of several, or a boost.

    in_reply_to_tweet: the parent tweet id of a self-reply; publish answers the
        parent's status when it was posted and posts standalone otherwise.
    language: the ISO 639 code every part declares; None: the account's default.
    sensitive: every part is marked sensitive (its media hidden behind a warning).
    quote: for a quote tweet, the form it takes (the first part carries a quote post).
    boost_of_tweet: for a retweet of the owner's own tweet, the tweet whose
        status is boosted instead of posting a copy; `parts` is then empty.
    """

    tweet_id: str
    tweeted_at: datetime
    due: datetime
    parts: tuple[TootPart, ...]
    in_reply_to_tweet: str | None = None
    language: str | None = None
    sensitive: bool = False
    quote: Quote | None = None
    boost_of_tweet: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A tweet that will not be posted, and why ("reply", "retweet", "excluded id", …).

    failed: the tweet is to be recorded as failed with the reason, not just left
        out: the server cannot take it as it is (`media.refused = "fail_tweet"`).
    """

    tweet_id: str
    reason: str
    failed: bool = False


LengthRule = Literal["mastodon", "code points"]
"""How a server counts a status against its limit: Mastodon's rule (a URL counts 23,
`@user@domain` counts as `@user`, grapheme clusters), or the code points of the text."""


@dataclass(frozen=True, slots=True)
class InstanceLimits:
    """What the instance accepts in one status (Mastodon's defaults until asked).

    max_characters, max_media_attachments, characters_reserved_per_url: per status.
    description_limit: the longest alt text.
    image_size_limit, video_size_limit: the largest file in bytes; None when the
        server does not say, 0 when it takes none of that kind (Takahē's video).
    media_types: the MIME types an upload may have; empty when the server does not say.
    quote_posts: whether it takes quote posts (Mastodon API 7); None when not known.
    length_rule: how it counts a status against max_characters (its software's, from
        bot.software; Mastodon's when not known).
    """

    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    description_limit: int = 1500
    image_size_limit: int | None = None
    video_size_limit: int | None = None
    media_types: tuple[str, ...] = ()
    quote_posts: bool | None = None
    length_rule: LengthRule = "mastodon"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """How much of an archive the readers accept: an archive is untrusted input.

    Each is also a setting (`archive.<name>`); an item, file or media file
    beyond a limit is skipped and reported by the readers, never read whole.

    max_item_size: bytes of one JSON item or one markdown block (one tweet).
    max_file_size: bytes of one data file (`.js` part, `.md`), in a folder or a zip.
    max_media_size: bytes of one media file; larger ones are never uploaded.
    max_depth: how deep one JSON item may nest (a tweet nests about 7 deep).
    max_zip_ratio: how much a zip entry over 1 MiB may have been compressed
        (JSON compresses about 10:1, media 1:1; a zip bomb 1000:1).
    """

    max_item_size: int = 1 << 20
    max_file_size: int = 512 << 20
    max_media_size: int = 100 << 20
    max_depth: int = 64
    max_zip_ratio: int = 100


@dataclass(frozen=True, slots=True)
class Outline:
    """A tweet without its words: what planning and counting days need, and no more.

    tweet: the tweet with its text and source left out ("") and no media;
        selection reads neither, except `exclude_patterns`, which need the
        words (the calendar then reads the full tweets instead).
    blank: its text is empty or white space.
    usable_media / broken_media: how many of its media files can be uploaded,
        and how many cannot (missing, outside the archive).
    url_length: len() of its URL (a footer may show it).
    text_length: len() of its text (a long one may take more toots than
        `compose.max_parts` allows).
    largest_media: the size in bytes of its largest usable media file (the
        server may take none that large).
    """

    tweet: Tweet
    blank: bool = False
    usable_media: int = 0
    broken_media: int = 0
    url_length: int = 0
    text_length: int = 0
    largest_media: int = 0

    @classmethod
    def of(cls, tweet: Tweet) -> Outline:
        """The outline of a full tweet."""
        broken = sum(m.problem is not None for m in tweet.media)
        bare = Tweet(
            tweet.id,
            tweet.created_at,
            "",
            "",
            tweet.in_reply_to_id,
            tweet.in_reply_to_user,
            tweet.is_retweet,
        )
        sizes = [m.size or 0 for m in tweet.media if m.problem is None]
        return cls(
            bare,
            not tweet.text.strip(),
            len(tweet.media) - broken,
            broken,
            len(tweet.url),
            len(tweet.text),
            max(sizes, default=0),
        )
