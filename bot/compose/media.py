"""Which media files the server takes, decided before anything is uploaded.

Pure. The server profile says which MIME types an upload may have and how
large an image or a video may be (`InstanceLimits`); a file of another type,
or larger than its kind's limit, would be refused, and some servers refuse it
with a 500 that looks like an outage (Takahē and any video). So compose
leaves such a file out of the toot and says so in its text, or fails the
tweet with the reason (`media.refused`), and the file is never uploaded.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from bot.model import InstanceLimits, Media

MediaRefused = Literal["post_without", "fail_tweet"]

_NOUNS = {"image": "image", "video": "video", "gif": "GIF"}


def media_type(media: Media) -> str:
    """The MIME type a file is uploaded with, from its name ("video/mp4")."""
    return mimetypes.guess_type(PurePosixPath(media.path).name)[0] or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """What uploads the server takes.

    types: the MIME types it takes; empty when it does not say (then any).
    image_size, video_size: the largest image and video (a Twitter GIF is a
        video) in bytes; None when it does not say, 0 when it takes none.
    """

    types: tuple[str, ...] = ()
    image_size: int | None = None
    video_size: int | None = None

    @classmethod
    def of(cls, limits: InstanceLimits) -> MediaLimits:
        return cls(limits.media_types, limits.image_size_limit, limits.video_size_limit)

    def refusal(self, media: Media) -> str | None:
        """Why the server cannot take `media`, None when it can (or cannot be known:
        a file whose size the archive did not say is only checked for its type)."""
        mime = media_type(media)
        if self.types and mime not in self.types:
            return f"the server takes no {mime}"
        limit = self.image_size if media.kind == "image" else self.video_size
        noun = _NOUNS[media.kind]
        if limit == 0:
            return f"the server takes no {noun}s"
        if limit is not None and media.size is not None and media.size > limit:
            return f"{_megabytes(media.size)}, over the server's {_megabytes(limit)} for {noun}s"
        return None


def left_out_note(refused: list[tuple[Media, str]]) -> str:
    """The line a toot gets for the files left out of it: "(video left out: the server
    takes no video/mp4)", one such sentence per file."""
    return " ".join(f"({_NOUNS[m.kind]} left out: {why})" for m, why in refused)


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"
