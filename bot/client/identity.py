"""How tootback presents itself to a server: its name, user agent, scopes and API version.

The scope rule is Mastodon's: a broad scope (`read`, `write`) grants every
granular scope under it (`read:statuses`, …), so a token made with `write`
can post although `write:statuses` is not in its list.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import __version__

APP_NAME = "tootback"
USER_AGENT = f"tootback/{__version__}"
# Claiming 4.0.0 stops Mastodon.py from asking the server for its version and
# sends uploads to /api/v2/media; every endpoint used here exists since then.
MASTODON_VERSION = "4.0.0"
SCOPES = "write:statuses write:media read:accounts read:statuses"

_GRANULAR = ("statuses", "media", "accounts")


def missing_scopes(granted: Iterable[str]) -> set[str]:
    """The scopes of SCOPES that a token with `granted` scopes lacks (empty when none)."""
    have = set(granted)
    for broad in ("read", "write"):
        if broad in have:
            have |= {f"{broad}:{what}" for what in _GRANULAR}
    return set(SCOPES.split()) - have
