"""Tweet -> Toot, pure: rewritten links and mentions, footer, length, reply chains, media."""

from bot.compose.layout import ComposeOptions, MediaMissing, compose, footer_text, media_groups

__all__ = ["ComposeOptions", "MediaMissing", "compose", "footer_text", "media_groups"]
