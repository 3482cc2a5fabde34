"""How a day's toots and an archive report look, for people and for scripts.

Pure: every function returns a string or a JSON-ready dict. The `--json`
shape of `day_json` is a contract (DESIGN §9): fields may be added, never
renamed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.archive import Archive
from bot.model import Toot, TootPart, Tweet
from bot.preview import DayPreview
from bot.selection import is_reply_to_other


def repost_command(tweet_id: str) -> str:
    """The command that posts one tweet now, whatever its date (a missed toot)."""
    return f"tootback repost --tweet {tweet_id}"


def retry_command(tweet_id: str) -> str:
    """The command that posts again a tweet the server refused."""
    return f"{repost_command(tweet_id)} --retry-failed"


def day_json(preview: DayPreview, show_skipped: bool) -> dict[str, Any]:
    """The `preview --json` object: date, timezone, max_characters, toots, skipped."""
    return {
        "date": preview.day.isoformat(),
        "timezone": preview.timezone,
        "max_characters": preview.max_characters,
        "toots": [_toot_json(toot, toot.tweet_id in preview.posted) for toot in preview.toots],
        "skipped": [
            {"tweet_id": skip.tweet_id, "reason": skip.reason}
            for skip in (preview.skipped if show_skipped else ())
        ],
    }


def _toot_json(toot: Toot, already_posted: bool) -> dict[str, Any]:
    return {
        "tweet_id": toot.tweet_id,
        "tweeted_at": toot.tweeted_at.astimezone(toot.due.tzinfo).isoformat(),
        "due": toot.due.isoformat(),
        "in_reply_to_tweet": toot.in_reply_to_tweet,
        "already_posted": already_posted,
        "parts": [_part_json(part) for part in toot.parts],
    }


def _part_json(part: TootPart) -> dict[str, Any]:
    return {
        "text": part.text,
        "length": part.length,
        "media": [{"path": m.path, "description": m.description} for m in part.media],
    }


def day_text(preview: DayPreview, show_skipped: bool) -> str:
    """The human `preview`: each toot exactly as sent, then a one-line summary."""
    lines = [f"{preview.day:%a %Y-%m-%d} ({preview.timezone}): on this day in earlier years", ""]
    for toot in preview.toots:
        lines += _toot_text(toot, toot.tweet_id in preview.posted, preview.max_characters)
    if show_skipped and preview.skipped:
        lines.append("skipped:")
        lines += [f"  {skip.tweet_id}  {skip.reason}" for skip in preview.skipped]
        lines.append("")
    lines.append(_summary(preview, show_skipped))
    return "\n".join(lines)


def _toot_text(toot: Toot, already_posted: bool, limit: int) -> list[str]:
    mark = "  [already posted]" if already_posted else ""
    lines = [
        f"{toot.due:%H:%M} due {toot.due:%Y-%m-%d %H:%M %Z}  tweet {toot.tweet_id} "
        f"of {toot.tweeted_at.astimezone(toot.due.tzinfo):%Y-%m-%d %H:%M}{mark}"
    ]
    if toot.in_reply_to_tweet:
        lines.append(f"  reply to tweet {toot.in_reply_to_tweet} (its toot, if posted)")
    for number, part in enumerate(toot.parts, 1):
        if len(toot.parts) > 1:
            lines.append(
                f"  part {number}/{len(toot.parts)}, a reply to the part before"
                if number > 1
                else f"  part 1/{len(toot.parts)}"
            )
        lines += [f"  │ {line}" for line in part.text.split("\n")]
        lines.append(f"  └ {part.length}/{limit} characters{_media_text(part)}")
    lines.append("")
    return lines


def _media_text(part: TootPart) -> str:
    return "".join(
        f"\n    media: {m.path}"
        + (f"  alt: {m.description!r}" if m.description else "  (no alt text)")
        for m in part.media
    )


def _summary(preview: DayPreview, show_skipped: bool) -> str:
    parts = sum(len(t.parts) for t in preview.toots)
    posted = sum(t.tweet_id in preview.posted for t in preview.toots)
    text = f"{_plural(len(preview.toots), 'toot')} ({_plural(parts, 'status', 'statuses')})"
    if posted:
        text += f", {posted} already posted"
    text += f", {len(preview.skipped)} skipped"
    if preview.skipped and not show_skipped:
        text += " (--show-skipped lists them)"
    return text + ". Nothing was posted."


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def archive_report(archive: Archive) -> str:
    """What `check` says about an archive: formats, counts by kind, range, problems."""
    tweets = archive.tweets
    kinds = Counter(_kind(t, archive.username) for t in tweets)
    lines = [
        f"archive: {archive.root} ({', '.join(archive.formats)}), owner @{archive.username or '?'}",
        f"  {len(tweets)} tweets: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())),
        f"  {sum(bool(t.media) for t in tweets)} with media",
    ]
    if tweets:
        lines.append(f"  from {tweets[0].created_at:%Y-%m-%d} to {tweets[-1].created_at:%Y-%m-%d}")
    if archive.problems:
        lines.append(f"  {len(archive.problems)} skipped or degraded items:")
        lines += [f"    {p.where}: {p.reason}" for p in archive.problems]
    return "\n".join(lines)


def _kind(tweet: Tweet, owner: str | None) -> str:
    if tweet.is_retweet:
        return "retweets"
    if is_reply_to_other(tweet, owner):
        return "replies to others"
    if tweet.in_reply_to_user or tweet.in_reply_to_id:
        return "self-replies"
    return "originals"
