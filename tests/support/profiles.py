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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import grapheme
from mastodon import Mastodon

ROUTES = frozenset(
    {
        "verify_credentials",
        "account",
        "account_statuses",
        "instance_v2",
        "instance_v1",
        "nodeinfo",
        "status",
        "post_status",
        "reblog",
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


def code_points(text: str, spoiler_text: str) -> int:
    """GoToSocial's count: code points of the text and the content warning, URLs in full."""
    return len(text) + len(spoiler_text)


def text_code_points(text: str, spoiler_text: str) -> int:
    """Takahē's count: Python `len()` of the text alone (the content warning is not counted)."""
    return len(text)


def graphemes(text: str, spoiler_text: str) -> int:
    """Pleroma's count: Elixir's String.length (grapheme clusters) of text + content warning."""
    count: int = grapheme.length(text + spoiler_text)
    return count


@dataclass(frozen=True)
class Limits:
    """What the instance advertises, and what posting and uploading enforce.

    description_limit: None when the server does not advertise one (Takahē).
    video_size_limit: 0 when it takes no video (Takahē).
    """

    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    description_limit: int | None = 1500
    media_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "video/mp4")
    image_size_limit: int = 16777216
    video_size_limit: int = 103809024


@dataclass(frozen=True)
class ServerProfile:
    """The behaviours of one server software, as the fake serves them.

    name: the profile's name, e.g. "mastodon".
    version: the `version` that /api/v1/instance and /api/v2/instance report.
    software: nodeinfo's software name and version.
    nodeinfo_href: where /.well-known/nodeinfo points, from {base}; the document
        itself is served at /nodeinfo/2.0 whatever the link says.
    api_versions: the v2 instance's `api_versions`; None: the key is absent.
    limits: what the instance advertises and enforces (the fake's defaults).
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
    trailing_slash: what `/api/v1/instance/` (any API path with a trailing slash)
        does: "same" as without it, "redirect" (301 to it), or "404".
    bad_token: the HTTP status and error text answering an invalid or revoked token.
    bad_token_html: that answer is a text/html body holding only the text (Takahē).
    bad_token_everywhere: public routes refuse a bad token too (Takahē's middleware).
    app_credentials: what GET /api/v1/apps/verify_credentials answers a valid token:
        "scopes" (Mastodon 4.3: with the token's scopes), "no scopes" (without them), or
        "missing" (GoToSocial: routed as /apps/:id, 404 for a `read` token, else 403).
    verify_needs_read: both verify_credentials refuse a token without plain `read`
        (403 out_of_scope_for_token): Takahē.
    status_length: how the server counts a status (text, spoiler text) against its limit.
    too_long: the status and error text refusing a status over the limit.
    refused_media: media kinds ("image", "video", "gifv", "audio") an upload refuses,
        answered with `media_refusal`'s status and error text (5xx: an HTML page).
    media_sync: every upload is processed before the answer (200, never 202).
    reblog_again: boosting a status already boosted makes another boost (GoToSocial);
        otherwise the answer is the boost there is (Mastodon's ReblogService).
    """

    name: str
    version: str
    software: tuple[str, str] = ("mastodon", "4.3.0")
    nodeinfo_href: str = "{base}/nodeinfo/2.0"
    api_versions: Mapping[str, int] | None = field(default_factory=lambda: {"mastodon": 2})
    limits: Limits = Limits()
    idempotency_ttl: float | None = 3600.0
    idempotency_scope: Literal["account", "server"] = "account"
    replay: Literal["status", "no-body"] = "status"
    status_url: str = "{base}/@{username}/{id}"
    own_list_visibilities: frozenset[str] = VISIBILITIES
    missing_routes: frozenset[str] = frozenset()
    trailing_slash: Literal["same", "redirect", "404"] = "same"
    bad_token: tuple[int, str] = (401, "The access token is invalid")
    bad_token_html: bool = False
    bad_token_everywhere: bool = False
    app_credentials: Literal["scopes", "no scopes", "missing"] = "scopes"
    verify_needs_read: bool = False
    status_length: Callable[[str, str], int] = mastodon_length
    too_long: tuple[int, str] = (422, "Validation failed: Text character limit of {limit} exceeded")
    refused_media: frozenset[str] = frozenset()
    media_refusal: tuple[int, str] = (422, "Validation failed: File content type is invalid")
    media_sync: bool = False
    reblog_again: bool = False

    def __post_init__(self) -> None:
        unknown = self.missing_routes - ROUTES
        if unknown:
            raise ValueError(f"profile {self.name}: unknown routes {sorted(unknown)}")


MASTODON = ServerProfile(name="mastodon", version="4.3.0")
"""Mastodon 4.3: keys kept one hour per account, pages at /@user/id, every route."""

MASTODON_QUOTES = ServerProfile(name="mastodon-4.5", version="4.5.0", api_versions={"mastodon": 7})
"""Mastodon 4.5: Mastodon API version 7, quote posts (`quoted_status_id`, a status's `quote`)."""

GOTOSOCIAL = ServerProfile(
    name="gotosocial",
    version="v0.20.0-rc1-8-g57cb4fe74+git-57cb4fe",
    software=("gotosocial", "v0.20.0-rc1-8-g57cb4fe74+git-57cb4fe"),
    api_versions=None,
    limits=Limits(
        max_characters=5000,
        max_media_attachments=6,
        characters_reserved_per_url=25,  # advertised, not applied
        media_types=("image/jpeg", "image/gif", "image/png", "image/webp", "video/mp4"),
        image_size_limit=41943040,
        video_size_limit=41943040,
    ),
    idempotency_ttl=None,
    status_url="{base}/@{username}/statuses/{id}",
    trailing_slash="redirect",
    bad_token=(401, "Unauthorized: token not supplied"),
    app_credentials="missing",
    status_length=code_points,
    too_long=(400, "Bad Request: text with spoiler exceed max chars ({limit})"),
    media_sync=True,
    reblog_again=True,
)
"""GoToSocial 0.20, as measured (issue 8): keys ignored, pages at /@user/statuses/id, no
apps/verify_credentials, a slash redirected, code points counted, 5000 characters; the
owner's list shows every visibility; a second boost of a status is a second boost."""

TAKAHE = ServerProfile(
    name="takahe",
    version="takahe/0.11.0",
    software=("takahe", "0.11.0"),
    nodeinfo_href="https://takahe.test/nodeinfo/2.0/",
    api_versions=None,
    limits=Limits(
        description_limit=None,
        media_types=("image/apng", "image/avif", "image/gif", "image/jpeg", "image/png"),
        image_size_limit=10485760,
        video_size_limit=0,
    ),
    idempotency_ttl=None,
    status_url="https://takahe.test/@{username}/posts/{id}/",
    own_list_visibilities=frozenset({"public", "unlisted"}),
    trailing_slash="404",
    bad_token=(400, "Invalid Bearer token"),
    bad_token_html=True,
    bad_token_everywhere=True,
    app_credentials="no scopes",
    verify_needs_read=True,
    status_length=text_code_points,
    too_long=(400, "Status is too long"),
    refused_media=frozenset({"video", "gifv", "audio"}),
    media_refusal=(500, "Internal Error"),
    media_sync=True,
)
"""Takahē 0.11, as measured (issue 8): keys ignored, pages at https://<domain>/@user/posts/id/
(the identity's domain, not the API's host), the owner's list leaves out private and direct
statuses (the home timeline has them), 404 for a trailing slash, 400 "Invalid Bearer token"
everywhere, `read` needed by verify_credentials, `len()` of the text, video refused (500)."""

PLEROMA = ServerProfile(
    name="pleroma",
    version="2.7.2 (compatible; Pleroma 2.7.2)",
    software=("pleroma", "2.7.2"),
    api_versions=None,
    missing_routes=frozenset({"instance_v2"}),
    limits=Limits(max_characters=5000),
    idempotency_ttl=6 * 3600.0,
    idempotency_scope="server",
    status_url="{base}/notice/{id}",
    bad_token=(403, "Invalid credentials."),
    app_credentials="no scopes",
    status_length=graphemes,
    too_long=(422, "The status is over the character limit"),
)
"""Pleroma and Akkoma, from Pleroma's source: a key is kept six hours, in one namespace for
every account of the server; pages at /notice/id; no v2 instance, 403 for a bad token,
grapheme clusters of the raw text."""

REPLAY_NO_BODY = ServerProfile(
    name="replay-no-body",
    version="v0.21.0+git-proposed",
    software=("gotosocial", "v0.21.0+git-proposed"),
    api_versions=None,
    replay="no-body",
    status_url="{base}/@{username}/statuses/{id}",
)
"""A server that keeps keys (an hour, per account) but answers a replayed key with 200 and
no status, or 409 while the first request with that key is still under way."""

PROFILES: dict[str, ServerProfile] = {
    p.name: p for p in (MASTODON, MASTODON_QUOTES, GOTOSOCIAL, TAKAHE, PLEROMA, REPLAY_NO_BODY)
}
"""Every profile by name."""
