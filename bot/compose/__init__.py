"""Tweet -> Toot, pure: rewritten links and mentions, footer, length, reply chains, media.

toot.py      compose(): the public entry, its options, the footer, self-replies
forms.py     a quote tweet as a quote post or a link; a self-retweet as a boost
layout.py    parts that fit the limit: where text is cut, which media go where
media.py     which media files the server takes (type, size), before any upload
rewrite.py   links to Twitter and @mentions, rewritten for the fediverse
language.py  the language a toot declares, from Twitter's `lang`
length.py    each server's character count (Mastodon's without Mastodon.py); cuts
tlds.py      the top-level domains a URL may end in, as data
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
