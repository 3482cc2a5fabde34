"""Tweet -> Toot: the public `compose`, its options, the footer, and self-replies.

Pure: a function of the tweet, its due time and the options (which carry the
posted-status map read from state by the caller). A retweet of the owner's own
tweet becomes a boost, a quote tweet a quote post or a link (`forms`); the
text is rewritten (`rewrite`), the footer added, and the result laid out in
parts that fit the limit with the media attached (`layout`), each with its
alt text. The toot declares the tweet's language (`language`) and is marked
sensitive as `media.sensitive` says.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Literal

from bot.archive.alttext import NO_ALT_TEXTS, AltTexts
from bot.compose.forms import boost_target, quote_form, without_quote_link
from bot.compose.language import toot_language
from bot.compose.layout import Layout, TooManyParts, media_groups, plan_parts
from bot.compose.length import COUNTERS
from bot.compose.media import MediaLimits, MediaRefused, left_out_note
from bot.compose.rewrite import (
    LinkOptions,
    MentionOptions,
    linked_statuses,
    rewrite,
    rewrite_mentions,
)
from bot.model import LengthRule, Media, Skip, Toot, Tweet

MediaMissing = Literal["post_without", "skip_tweet"]
Sensitive = Literal["archive", "always", "never"]
# A text longer than max_parts x max_characters x _SLACK code points is refused
# before it is measured (Mastodon's count of a megabyte takes seconds). No real
# tweet is near: URLs count 23 whatever their length and a character may take
# a few code points, but a note tweet holds at most 25,000 characters.
_SLACK = 8


@dataclass(frozen=True, slots=True)
class ComposeOptions:
    """Everything `compose` needs besides the tweet.

    links, mentions: the rewrite options (see bot.compose.rewrite).
    footer: template with {date} (the tweet's local date, ISO), {url} (the
        tweet's URL), {years_ago} (due local year minus tweeted local year) and
        {ago} ("1 year ago", "4 years ago"); empty: no footer.
    zone: the time zone of local dates.
    max_characters, max_media_attachments, characters_reserved_per_url: the
        instance's limits (the last is what a URL counts).
    length_rule: how the server counts a part against max_characters.
    max_parts: the most toots one tweet may become; a longer one is skipped (and
        laying it out stops there, so a huge text costs what ten parts cost).
    spoiler_text: the content warning of every part; counts toward the limit.
    media_missing: a tweet with an unusable media file is posted without it
        ("post_without") or not at all ("skip_tweet").
    media_limits: what uploads the server takes (see bot.compose.media).
    media_refused: a file the server would refuse is left out and the toot says
        so ("post_without"), or the tweet is failed with the reason ("fail_tweet").
    owner: the archive owner's screen name, for self-replies and self-retweets
        (None: use `links.owner`).
    language: `post.language`, the language of every toot; "" for each
        tweet's own (see bot.compose.language).
    sensitive: "archive" marks a toot sensitive when Twitter marked the tweet
        `possibly_sensitive`; "always" and "never" do so for every toot or none.
    quote_posts: whether the server takes quote posts (None: not known).
    alt_texts: the descriptions of the alt-text file; they win over the archive's.
    planned: tweets posted before this one in the same run (see bot.compose.forms).
    """

    links: LinkOptions = field(default_factory=LinkOptions)
    mentions: MentionOptions = field(default_factory=MentionOptions)
    footer: str = "(tweeted {ago}, {date})"
    zone: tzinfo = UTC
    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    length_rule: LengthRule = "mastodon"
    max_parts: int = 10
    spoiler_text: str = ""
    media_missing: MediaMissing = "post_without"
    media_limits: MediaLimits = field(default_factory=MediaLimits)
    media_refused: MediaRefused = "post_without"
    owner: str | None = None
    language: str = ""
    sensitive: Sensitive = "archive"
    quote_posts: bool | None = None
    alt_texts: AltTexts = NO_ALT_TEXTS
    planned: Container[str] = frozenset()


def compose(tweet: Tweet, due: datetime, options: ComposeOptions) -> Toot | Skip:
    """Turn one tweet into the toot that would be posted at `due`.

    tweet: the tweet, as the archive holds it.
    due: when it is to be posted (timezone-aware); passed through, and the
        reference year of the footer's {years_ago}/{ago}.
    options: see ComposeOptions.

    Returns the Toot, every part's length within `max_characters`, or a Skip:
    "empty" (no text after rewriting and no usable media), "media missing:
    <path>" (with media_missing="skip_tweet"), "cannot fit …" when the
    footer and spoiler text alone exceed the limit, "too long …" when it would
    take more than `max_parts` toots, or a failed Skip naming the
    file the server would refuse (with media_refused="fail_tweet"). A retweet
    of the owner's own tweet is a Toot with no parts that boosts that tweet's
    status (`boost_of_tweet`), or a Skip while that tweet is not posted.
    """
    links = options.links
    owner = options.owner or links.owner
    boost = boost_target(tweet, owner, links.owner_ids, links.posted, options.planned)
    if isinstance(boost, Skip):
        return boost
    if boost is not None:
        return Toot(tweet.id, tweet.created_at, due, parts=(), boost_of_tweet=boost)
    if len(tweet.text) > options.max_parts * options.max_characters * _SLACK:
        return Skip(tweet.id, _too_long(options))  # not even measured: see _SLACK
    broken = [m for m in tweet.media if m.problem is not None]
    limits = options.media_limits
    refused = [(m, why) for m in tweet.media if not m.problem and (why := limits.refusal(m))]
    if refused and options.media_refused == "fail_tweet":
        media, why = refused[0]
        return Skip(tweet.id, f"the server cannot take {media.path}: {why}", failed=True)
    usable = tuple(
        _described(tweet.id, m, options.alt_texts)
        for m in tweet.media
        if not m.problem and all(m is not r for r, _ in refused)
    )
    quote = quote_form(tweet, links.owner_ids, links.posted, options.planned, options.quote_posts)
    body = rewrite(tweet.text, links, options.mentions).strip()
    if quote is not None and quote.form == "quote":
        words = rewrite(without_quote_link(tweet.text, quote.tweet_id), links, options.mentions)
        if words.strip() or usable:
            body = words.strip()
        else:
            quote = replace(quote, form="link", reason="the tweet is nothing but its link")
    if refused:  # said where the files would have been: at the end of the text
        note = left_out_note(refused)
        body = f"{body}\n\n{note}" if body else note
    # Rewriting never empties a text that has words: the calendar relies on it.
    early = skip_before_layout(bool(body), len(usable), len(broken), options.media_missing)
    if early is not None:
        return Skip(tweet.id, _missing_reason(broken[0]) if early == "media missing" else early)
    footer = footer_text(tweet, due, options.footer, options.zone)
    layout = Layout(
        footer=rewrite_mentions(footer, options.mentions),
        spoiler=options.spoiler_text,
        limit=options.max_characters,
        url_length=options.characters_reserved_per_url,
        count=COUNTERS[options.length_rule],
    )
    groups = media_groups(usable, options.max_media_attachments)
    try:
        parts = plan_parts(body, groups, layout, options.max_parts)
    except TooManyParts:
        return Skip(tweet.id, _too_long(options))
    if parts is None:
        return Skip(tweet.id, f"cannot fit within {options.max_characters} characters")
    return Toot(
        tweet_id=tweet.id,
        tweeted_at=tweet.created_at,
        due=due,
        parts=parts,
        in_reply_to_tweet=_parent(tweet, options),
        language=toot_language(tweet.lang, options.language),
        sensitive=_sensitive(tweet, options.sensitive),
        quote=quote,
    )


def _too_long(options: ComposeOptions) -> str:
    return f"too long: it would take more than {options.max_parts} toots (compose.max_parts)"


def _sensitive(tweet: Tweet, setting: Sensitive) -> bool:
    return setting == "always" or (setting == "archive" and tweet.sensitive)


def _described(tweet_id: str, media: Media, alt_texts: AltTexts) -> Media:
    """The media with the alt-text file's description, when the file has one."""
    description = alt_texts.description(tweet_id, media)
    return media if description is None else replace(media, description=description)


def skip_before_layout(
    has_text: bool, usable: int, broken: int, media_missing: MediaMissing
) -> Literal["media missing", "empty"] | None:
    """Why `compose` skips a tweet before laying it out, from what it holds:
    whether it has words, how many media files are usable and how many not.
    None: it is laid out (and only `fits_any_text` decides the rest)."""
    if broken and media_missing == "skip_tweet":
        return "media missing"
    if not has_text and not usable:
        return "empty"
    return None


def fits_any_text(options: ComposeOptions, url_length: int) -> bool:
    """Whether `compose` lays out any text of a tweet whose URL has `url_length`
    characters, whatever its date: the spoiler, the widest footer, a part
    marker and one character (or a URL's 23) leave room. When False, some
    such tweets may be skipped as "cannot fit"; only composing them tells.
    """
    widest = options.footer.format(
        date="0000-00-00", url="u" * url_length, years_ago=9999, ago="9999 years ago"
    )
    # A mention rewritten as a link counts 23 where "@name" counted less.
    footer = len(widest) + 23 * (widest.count("@") + widest.count("＠"))
    marker = len(" (9999/9999)")
    return len(options.spoiler_text) + footer + len("\n\n") + marker + 23 <= options.max_characters


def footer_text(tweet: Tweet, due: datetime, template: str, zone: tzinfo) -> str:
    """The footer for `tweet` posted at `due`: `template` filled in ("" if empty).

    The dates and years are local to `zone`. {years_ago} is an integer;
    {ago} reads "1 year ago", "4 years ago", or "this year" when it is 0.
    """
    if not template:
        return ""
    tweeted = tweet.created_at.astimezone(zone).date()
    years = due.astimezone(zone).year - tweeted.year
    return template.format(
        date=tweeted.isoformat(), url=tweet.url, years_ago=years, ago=_ago(years)
    )


def _ago(years: int) -> str:
    if years <= 0:
        return "this year"
    return "1 year ago" if years == 1 else f"{years} years ago"


def _missing_reason(media: Media) -> str:
    if media.problem == "missing":
        return f"media missing: {media.path}"
    return f"media missing: {media.path} ({media.problem})"


def _parent(tweet: Tweet, options: ComposeOptions) -> str | None:
    """The parent tweet id of a self-reply (the owner answering themself), else None."""
    parent = tweet.in_reply_to_id
    if parent is None:
        return None
    owner = options.owner or options.links.owner
    user = (tweet.in_reply_to_user or "").lstrip("@").lower()
    if (owner and user == owner.lower()) or parent in options.links.owner_ids:
        return parent
    return None


@dataclass(frozen=True, slots=True)
class Composer:
    """Composes toots with the options fixed once and the posted map given per call
    (read from the state just before: self-links see the statuses posted so far)."""

    options: ComposeOptions

    def __call__(
        self,
        tweet: Tweet,
        due: datetime,
        posted: Mapping[str, str],
        planned: Container[str] = frozenset(),
    ) -> Toot | Skip:
        """The toot of `tweet` due at `due`, given the posted map (tweet id ->
        status URL) and the tweets the run posts before it (`planned`)."""
        links = replace(self.options.links, posted=posted)
        return compose(tweet, due, replace(self.options, links=links, planned=planned))


@dataclass(frozen=True, slots=True)
class Draft:
    """A toot composed ahead, against `basis`: the posted URL (None: not posted) of
    every tweet it depends on (those its text links to, the one it quotes, the
    one it boosts), the only entries of the posted map that can change it.

    Publishing takes the state lock only after composing; under the lock it calls
    `for_state` with the posted map as it is then, and gets the same toot back
    unless one of those tweets was posted (by another process) meanwhile.
    """

    result: Toot | Skip
    basis: Mapping[str, str | None]
    remake: Callable[[Mapping[str, str]], Toot | Skip]

    @classmethod
    def compose(
        cls, compose: Callable[[Mapping[str, str]], Toot | Skip], tweet: Tweet,
        posted: Mapping[str, str],
    ) -> Draft:  # fmt: skip
        """The toot `compose(posted)` of `tweet`."""
        depends = set(linked_statuses(tweet.text))
        depends |= {tid for tid in (tweet.quote_of, tweet.retweet_of) if tid is not None}
        basis = {tid: posted.get(tid) for tid in depends}
        return cls(compose(posted), basis, compose)

    def for_state(self, posted: Mapping[str, str]) -> Toot | Skip:
        """The toot for the posted map `posted`: the draft when nothing it depends on
        changed, else composed again (bounded work: see ComposeOptions.max_parts)."""
        if all(posted.get(tid) == url for tid, url in self.basis.items()):
            return self.result
        return self.remake(posted)
