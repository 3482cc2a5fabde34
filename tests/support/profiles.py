"""Server profiles for the loopback fake: how one Mastodon-API server software behaves.

Mastodon-API servers differ exactly where tootback's guarantees are decided:
whether an Idempotency-Key is honoured and for how long, how a status's page
URL is shaped, which endpoints exist, what version string the instance
reports, which status answers a bad token, how characters are counted, and
which media an upload refuses. A `ServerProfile` holds those behaviours as
data; `FakeMastodon(profile=...)` serves one of them. Adding a server is adding
a profile here (and, where a behaviour is new, a field the fake consults).

`MASTODON` is Mastodon 4.3, the reference: the fake behaves exactly like that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from mastodon import Mastodon

ROUTES = frozenset(
    {
        "verify_credentials",
        "account",
        "account_statuses",
        "instance_v2",
        "instance_v1",
        "status",
        "post_status",
        "post_media",
        "media",
        "put_media",
        "create_app",
        "app_credentials",
        "oauth_token",
    }
)
"""The names of the fake's routes, as `missing_routes` names them."""


def mastodon_length(text: str, spoiler_text: str) -> int:
    """Mastodon's count: a URL is 23, `@user@domain` counts as `@user`, grapheme clusters."""
    count: int = Mastodon.get_status_length(text, spoiler_text)
    return count


@dataclass(frozen=True)
class ServerProfile:
    """The behaviours of one server software, as the fake serves them.

    name: the profile's name, e.g. "mastodon".
    version: the `version` that /api/v1/instance and /api/v2/instance report.
    idempotency_ttl: seconds an Idempotency-Key is remembered; None: keys are ignored,
        and every POST creates a status.
    idempotency_scope: "account" (a key is remembered per account) or "server" (one
        namespace for every account).
    status_url: a status's `url`, from {base} (the server's URL), {username} and {id}.
    missing_routes: names of routes (see ROUTES) the server does not serve: 404.
    trailing_slash: whether `/api/v1/instance/` reaches the same route as without the slash.
    bad_token: the HTTP status and error text answering an invalid or revoked token.
    status_length: how the server counts a status (text, spoiler text) against its limit.
    refused_media: media kinds ("image", "video", "gifv", "audio") an upload refuses,
        answered with `media_refusal`'s status and error text.
    """

    name: str
    version: str
    idempotency_ttl: float | None = 3600.0
    idempotency_scope: Literal["account", "server"] = "account"
    status_url: str = "{base}/@{username}/{id}"
    missing_routes: frozenset[str] = frozenset()
    trailing_slash: bool = True
    bad_token: tuple[int, str] = (401, "The access token is invalid")
    status_length: Callable[[str, str], int] = mastodon_length
    refused_media: frozenset[str] = frozenset()
    media_refusal: tuple[int, str] = (422, "Validation failed: File content type is invalid")

    def __post_init__(self) -> None:
        unknown = self.missing_routes - ROUTES
        if unknown:
            raise ValueError(f"profile {self.name}: unknown routes {sorted(unknown)}")


MASTODON = ServerProfile(name="mastodon", version="4.3.0")
"""Mastodon 4.3: keys kept one hour per account, pages at /@user/id, every route."""

PROFILES: dict[str, ServerProfile] = {p.name: p for p in (MASTODON,)}
"""Every profile by name."""
