"""Media the server cannot take, decided by compose from the server profile, before any upload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.compose import ComposeOptions, compose
from bot.compose.media import MediaLimits, media_type
from bot.model import InstanceLimits, Media, Skip, Toot, Tweet

DUE = datetime(2026, 4, 5, 9, 0, tzinfo=UTC)
PHOTO = Media("media/1-cat.jpg", "image", size=3 * 2**20)
CLIP = Media("media/1-clip.mp4", "video", size=5 * 2**20)
GIF = Media("media/1-dance.mp4", "gif", size=2**20)
# Takahē 0.11 as it describes itself: images only, video_size_limit 0.
TAKAHE = MediaLimits(("image/gif", "image/jpeg", "image/png"), 10485760, 0)


def tweet(*media: Media, text: str = "look at this") -> Tweet:
    return Tweet(
        "1",
        datetime(2021, 4, 5, 9, 0, tzinfo=UTC),
        text,
        "https://twitter.com/me/status/1",
        media=media,
    )


@pytest.mark.parametrize(
    ("limits", "media", "refusal"),
    [
        (TAKAHE, PHOTO, None),
        (TAKAHE, CLIP, "the server takes no video/mp4"),
        (TAKAHE, GIF, "the server takes no video/mp4"),  # a Twitter GIF is an MP4
        (MediaLimits((), 10485760, 0), CLIP, "the server takes no videos"),
        (MediaLimits((), 2 * 2**20, None), PHOTO, "3.0 MB, over the server's 2.0 MB for images"),
        (MediaLimits((), None, 4 * 2**20), CLIP, "5.0 MB, over the server's 4.0 MB for videos"),
        (MediaLimits((), 2**20, None), Media("a.png", "image"), None),  # size not known
        (MediaLimits(), CLIP, None),  # the server says nothing: everything is tried
    ],
)
def test_refusal_from_type_and_size(limits: MediaLimits, media: Media, refusal: str | None) -> None:
    assert limits.refusal(media) == refusal


def test_the_limits_come_from_the_instance_and_the_type_from_the_name() -> None:
    limits = InstanceLimits(image_size_limit=1, video_size_limit=0, media_types=("image/png",))
    assert MediaLimits.of(limits) == MediaLimits(("image/png",), 1, 0)
    assert [media_type(m) for m in (PHOTO, CLIP)] == ["image/jpeg", "video/mp4"]


def test_post_without_leaves_the_file_out_and_says_so() -> None:
    toot = compose(tweet(PHOTO, CLIP), DUE, ComposeOptions(media_limits=TAKAHE))
    assert isinstance(toot, Toot)
    assert [part.media for part in toot.parts] == [(PHOTO,)]
    assert toot.parts[0].text.startswith(
        "look at this\n\n(video left out: the server takes no video/mp4)\n\n(tweeted"
    )


def test_a_tweet_of_nothing_but_a_refused_file_is_its_note() -> None:
    toot = compose(tweet(CLIP, text=""), DUE, ComposeOptions(media_limits=TAKAHE))
    assert isinstance(toot, Toot)
    assert toot.parts[0].text.startswith("(video left out: the server takes no video/mp4)")
    assert toot.parts[0].media == ()


def test_fail_tweet_fails_it_with_the_reason() -> None:
    options = ComposeOptions(media_limits=TAKAHE, media_refused="fail_tweet")
    assert compose(tweet(PHOTO, CLIP), DUE, options) == Skip(
        "1", "the server cannot take media/1-clip.mp4: the server takes no video/mp4", True
    )
    # A server that takes it: nothing to fail.
    assert isinstance(compose(tweet(PHOTO), DUE, options), Toot)
