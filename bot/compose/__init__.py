"""Tweet -> Toot, pure: rewritten links and mentions, footer, length, reply chains, media.

toot.py      compose(): the public entry, its options, the footer, self-replies
layout.py    parts that fit the limit: where text is cut, which media go where
rewrite.py   links to Twitter and @mentions, rewritten for the fediverse
length.py    Mastodon's character count, and where text may be cut
"""

from bot.compose.layout import media_groups
from bot.compose.toot import (
    ComposeOptions,
    Composer,
    Draft,
    MediaMissing,
    compose,
    fits_any_text,
    footer_text,
    skip_before_layout,
)

__all__ = [
    "ComposeOptions",
    "Composer",
    "Draft",
    "MediaMissing",
    "compose",
    "fits_any_text",
    "footer_text",
    "media_groups",
    "skip_before_layout",
]
