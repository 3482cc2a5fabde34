"""How tootback presents itself to a server: its name, user agent, scopes and API version.

The scope rule is Mastodon's: a broad scope (`read`, `write`) grants every
granular scope under it (`read:statuses`, …), so a token made with `write`
can post although `write:statuses` is not in its list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import mastodon
import requests

from bot import __version__
from bot.software import GRANULAR_SCOPES

APP_NAME = "tootback"
USER_AGENT = f"tootback/{__version__}"
# The Mastodon API version tootback claims; every endpoint it uses exists since.
MASTODON_VERSION = (4, 0, 0)
SCOPES = GRANULAR_SCOPES

_GRANULAR = ("statuses", "media", "accounts")


def mastodon_api(
    base_url: str, *, session: requests.Session | None, timeout: float, **extra: Any
) -> mastodon.Mastodon:
    """A Mastodon.py client that never asks for, parses or checks the server's version.

    Servers write anything as their version (`v0.20.0-rc1-8-g57cb4fe74`,
    `takahe/0.11.0`), which Mastodon.py's parser cannot read (ValueError), and
    its own request for it (`/api/v1/instance/`, trailing slash) is a 404 on
    Takahē, on which it recurses until RecursionError. So: `version_check_mode`
    "none" (no method is ever refused for a version), a claimed
    `mastodon_version` (it never asks; `log_in` neither), and the claimed
    numbers set where its internal choices read them (uploads go to
    `/api/v2/media`, which every server tootback supports has).
    """
    api = mastodon.Mastodon(
        api_base_url=base_url,
        version_check_mode="none",
        mastodon_version=".".join(map(str, MASTODON_VERSION)),
        user_agent=USER_AGENT,
        request_timeout=timeout,
        session=session,
        **extra,
    )
    api.mastodon_major, api.mastodon_minor, api.mastodon_patch = MASTODON_VERSION
    return api


def missing_scopes(granted: Iterable[str]) -> set[str]:
    """The scopes of SCOPES that a token with `granted` scopes lacks (empty when none)."""
    have = set(granted)
    for broad in ("read", "write"):
        if broad in have:
            have |= {f"{broad}:{what}" for what in _GRANULAR}
    return set(SCOPES.split()) - have
