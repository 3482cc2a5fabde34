"""Server profiles for the loopback fake: how one Mastodon-API server software behaves.

Mastodon-API servers differ exactly where tootback's guarantees are decided:
whether an Idempotency-Key is honoured, for how long, for whom and how a
replay is answered, how a status's page URL is shaped, which of the owner's
statuses the owner's own status list shows, which endpoints exist, what
version string the instance reports, which status answers a bad token, how
characters are counted, and which media an upload refuses. A `ServerProfile`
holds those behaviours as data; `FakeMastodon(profile=...)` serves one of
them. Adding a server is adding a profile here (and, where a behaviour is new,
a field the fake consults).

`MASTODON` is Mastodon 4.3, the reference: the fake behaves exactly like that.
The others are modelled on what real servers were measured to do (GoToSocial
0.20 and Takahe 0.11, run unpatched on loopback for issue 8) or on documented
behaviour (Pleroma/Akkoma), and `REPLAY_NO_BODY` on proposed GoToSocial code
that answers a replayed key without the status.
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
        "timelines_home",
    }
)
"""The names of the fake's routes, as `missing_routes` names them."""

VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})


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
    replay: how a remembered key is answered: "status" (200 with the status it created)
        or "no-body" (200 with no status in the body, and 409 "request already under way"
        while the request that first used the key is still being handled).
    status_url: a status's `url`, from {base} (the server's URL), {username} and {id}.
    own_list_visibilities: the visibilities the account's own status list
        (`/api/v1/accounts/:id/statuses`) shows its owner; the home timeline shows all.
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
    replay: Literal["status", "no-body"] = "status"
    status_url: str = "{base}/@{username}/{id}"
    own_list_visibilities: frozenset[str] = VISIBILITIES
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

GOTOSOCIAL = ServerProfile(
    name="gotosocial",
    version="v0.20.0-rc1-8-g57cb4fe74+git-57cb4fe",
    idempotency_ttl=None,
    status_url="{base}/@{username}/statuses/{id}",
)
"""GoToSocial 0.20: keys ignored (two POSTs, two statuses), pages at /@user/statuses/id,
the owner's list shows every visibility."""

TAKAHE = ServerProfile(
    name="takahe",
    version="takahe/0.11.0",
    idempotency_ttl=None,
    status_url="https://takahe.test/@{username}/posts/{id}/",
    own_list_visibilities=frozenset({"public", "unlisted"}),
)
"""Takahe 0.11: keys ignored, pages at https://<domain>/@user/posts/id/ (the identity's
domain, not the API's host), the owner's list leaves out private and direct statuses
(the home timeline has them)."""

PLEROMA = ServerProfile(
    name="pleroma",
    version="2.7.2 (compatible; Pleroma 2.7.2)",
    idempotency_ttl=6 * 3600.0,
    idempotency_scope="server",
    status_url="{base}/notice/{id}",
)
"""Pleroma and Akkoma: a key is kept six hours, in one namespace for every account of the
server; pages at /notice/id."""

REPLAY_NO_BODY = ServerProfile(
    name="replay-no-body",
    version="v0.21.0+git-proposed",
    replay="no-body",
    status_url="{base}/@{username}/statuses/{id}",
)
"""A server that keeps keys (an hour, per account) but answers a replayed key with 200 and
no status, or 409 while the first request with that key is still under way."""

PROFILES: dict[str, ServerProfile] = {
    p.name: p for p in (MASTODON, GOTOSOCIAL, TAKAHE, PLEROMA, REPLAY_NO_BODY)
}
"""Every profile by name."""
