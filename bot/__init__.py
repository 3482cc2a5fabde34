"""tootback: re-publish a Twitter/X archive to Mastodon, on this day, exactly once."""

__version__ = "0.1.0"
