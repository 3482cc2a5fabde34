"""Running `tootback` as a separate process, as a user (or a supervisor) would."""

from __future__ import annotations

import os


def clean_environ(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: the caller's, without its TOOTBACK_* and MASTODON_*
    settings, plus `extra`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TOOTBACK_", "MASTODON_"))}
    return {**keep, **extra}
