"""Tweet -> Toot: the public `compose`, its options, the footer, and self-replies.

Pure: a function of the tweet, its due time and the options (which carry the
posted-status map read from state by the caller). The text is rewritten
(`rewrite`), the footer added, and the result laid out in parts that fit the
limit with the media attached (`layout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Literal

from bot.compose.layout import Layout, media_groups, plan_parts
from bot.compose.rewrite import LinkOptions, MentionOptions, rewrite, rewrite_mentions
from bot.model import Media, Skip, Toot, Tweet

MediaMissing = Literal["post_without", "skip_tweet"]


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
    spoiler_text: the content warning of every part; counts toward the limit.
    media_missing: a tweet with an unusable media file is posted without it
        ("post_without") or not at all ("skip_tweet").
    owner: the archive owner's screen name, for self-replies (None: use
        `links.owner`).
    """

    links: LinkOptions = field(default_factory=LinkOptions)
    mentions: MentionOptions = field(default_factory=MentionOptions)
    footer: str = "(tweeted {ago}, {date})"
    zone: tzinfo = UTC
    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    spoiler_text: str = ""
    media_missing: MediaMissing = "post_without"
    owner: str | None = None


def compose(tweet: Tweet, due: datetime, options: ComposeOptions) -> Toot | Skip:
    """Turn one tweet into the toot that would be posted at `due`.

    tweet: the tweet, as the archive holds it.
    due: when it is to be posted (timezone-aware); passed through, and the
        reference year of the footer's {years_ago}/{ago}.
    options: see ComposeOptions.

    Returns the Toot, every part's length within `max_characters`, or a Skip:
    "empty" (no text after rewriting and no usable media), "media missing:
    <path>" (with media_missing="skip_tweet"), or "cannot fit …" when the
    footer and spoiler text alone exceed the limit.
    """
    broken = [m for m in tweet.media if m.problem is not None]
    if broken and options.media_missing == "skip_tweet":
        return Skip(tweet.id, _missing_reason(broken[0]))
    usable = tuple(m for m in tweet.media if m.problem is None)
    body = rewrite(tweet.text, options.links, options.mentions).strip()
    if not body and not usable:
        return Skip(tweet.id, "empty")
    footer = footer_text(tweet, due, options.footer, options.zone)
    layout = Layout(
        footer=rewrite_mentions(footer, options.mentions),
        spoiler=options.spoiler_text,
        limit=options.max_characters,
        url_length=options.characters_reserved_per_url,
    )
    parts = plan_parts(body, media_groups(usable, options.max_media_attachments), layout)
    if parts is None:
        return Skip(tweet.id, f"cannot fit within {options.max_characters} characters")
    return Toot(
        tweet_id=tweet.id,
        tweeted_at=tweet.created_at,
        due=due,
        parts=parts,
        in_reply_to_tweet=_parent(tweet, options),
    )


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
    """Composes toots with the options fixed once and the posted map given per call.

    Publishing composes each toot under the state lock, so self-links see the
    statuses posted a moment before; everything else is fixed per run.
    """

    options: ComposeOptions

    def __call__(self, tweet: Tweet, due: datetime, posted: Mapping[str, str]) -> Toot | Skip:
        links = replace(self.options.links, posted=posted)
        return compose(tweet, due, replace(self.options, links=links))
