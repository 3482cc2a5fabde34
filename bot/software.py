"""What tootback knows about each Mastodon-API server software: one table, with sources.

A server's instance document says its limits; it does not say how the
software treats what tootback's guarantees rest on. That knowledge is here,
one row per software, keyed by nodeinfo's `software.name`, every fact with
where it comes from. Software not in the table gets `UNKNOWN`: no
Idempotency-Key assumed, Mastodon's length rule, `read write` scopes.

    software    Idempotency-Key         length       login asks for         own status list
    mastodon    kept 1 h, per account   mastodon     granular scopes        every visibility
    gotosocial  ignored                 code points  granular scopes        every visibility
    takahe      ignored                 code points  read + granular write  public and unlisted
    pleroma     kept 6 h, per server    code points  granular scopes        every visibility
    akkoma      as pleroma (a fork that kept these parts)
    (unknown)   ignored (assumed)       mastodon     read write             every visibility

"code points" is `len()` of the text and the content warning together, URLs
and `@user@domain` in full: what GoToSocial counts, more than Takahe counts
(it leaves the content warning out) and never less than Pleroma counts
(grapheme clusters), so a toot fitted to it is refused by none of them.

A refused token is answered in one of the forms of `REFUSED_TOKEN` (every
row's), which the client recognises before it knows the software.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot.model import LengthRule


@dataclass(frozen=True, slots=True)
class KeyHandling:
    """How `POST /api/v1/statuses` treats an Idempotency-Key.

    seconds: how long a key is remembered (a repeat within it is answered
        with the first status); None when the key is ignored and every POST
        creates a status.
    scope: "account" when each account has its own keys, "server" when one
        key is remembered for every account of the server.
    """

    seconds: int | None
    scope: Literal["account", "server"] = "account"

    @property
    def kept(self) -> bool:
        """True when a repeated key is answered with the status it made."""
        return self.seconds is not None

    def __str__(self) -> str:
        if self.seconds is None:
            return "ignored"
        return f"kept {self.seconds / 3600:g} h, per {self.scope}"


@dataclass(frozen=True, slots=True)
class TokenRefusal:
    """One way a server answers a wrong or revoked token: `status`, and a text
    the answer contains ("" when the status alone says it)."""

    status: int
    text: str = ""

    def matches(self, status: int | None, answer: str) -> bool:
        return status == self.status and self.text.lower() in answer.lower()


@dataclass(frozen=True, slots=True)
class Software:
    """One row: how one server software behaves where tootback's guarantees are decided.

    name: nodeinfo's `software.name`, the table's key ("" for UNKNOWN).
    title: how its authors write it.
    key: its Idempotency-Key handling.
    length: how it counts a status against `max_characters`.
    scopes: the OAuth scopes `tootback login` asks for there.
    status_url: the shape of its status pages (tootback records the `url` the
        server gives; this says what to expect there).
    own_list_hides: the visibilities `GET /api/v1/accounts/:id/statuses` leaves out
        for the account's owner (empty: it shows them every one).
    refused_token: how it answers a wrong or revoked token.
    sources: where each fact comes from.
    """

    name: str
    title: str
    key: KeyHandling
    length: LengthRule
    scopes: str
    status_url: str
    own_list_hides: frozenset[str]
    refused_token: tuple[TokenRefusal, ...]
    sources: tuple[str, ...]


GRANULAR_SCOPES = "write:statuses write:media read:accounts read:statuses"
"""What tootback needs, where the server understands granular scopes."""

MASTODON = Software(
    name="mastodon",
    title="Mastodon",
    key=KeyHandling(3600, "account"),
    length="mastodon",
    scopes=GRANULAR_SCOPES,
    status_url="https://<domain>/@<user>/<id>",
    own_list_hides=frozenset(),
    refused_token=(TokenRefusal(401), TokenRefusal(403)),
    sources=(
        "key: app/services/post_status_service.rb, redis `idempotency:status:<account id>:"
        "<key>` set for 3600 s",
        "length: app/validators/status_length_validator.rb (a URL counts 23, @user@domain "
        "counts as @user, grapheme clusters, the content warning counts too)",
        "scopes: docs.joinmastodon.org/api/oauth-scopes (granular scopes since 2.4.3)",
        "401 for a wrong token, 403 for a missing scope: docs.joinmastodon.org/api/guidelines",
    ),
)

GOTOSOCIAL = Software(
    name="gotosocial",
    title="GoToSocial",
    key=KeyHandling(None),
    length="code points",
    scopes=GRANULAR_SCOPES,
    status_url="https://<domain>/@<user>/statuses/<id>",
    own_list_hides=frozenset(),
    refused_token=(TokenRefusal(401),),
    sources=(
        "measured (issue 8) on an unpatched GoToSocial v0.20.0-rc1-8 run locally: the key is "
        "ignored (2 POSTs, 2 statuses), pages at /@user/statuses/<id>, no "
        "apps/verify_credentials, granular scopes honoured, 401 for a wrong token, limit "
        "checked on code points of text + content warning, the owner sees every visibility",
        "length: internal/processing/status/common.go",
    ),
)

TAKAHE = Software(
    name="takahe",
    title="Takahē",
    key=KeyHandling(None),
    length="code points",
    # Both verify_credentials need plain `read`: a granular read scope does not
    # grant it there (api/models/token.py); granular write scopes do work.
    scopes="read write:statuses write:media",
    status_url="https://<domain>/@<user>/posts/<id>/",
    own_list_hides=frozenset({"private", "direct"}),
    refused_token=(TokenRefusal(400, "Invalid Bearer token"),),
    sources=(
        "measured (issue 8) on an unpatched Takahē 0.11.0 run locally: `read write:statuses "
        "write:media` passes every endpoint, 400 text/html `Invalid Bearer token` on every "
        "endpoint, the key is ignored, pages at /@user/posts/<id>/, Python len() of the text, "
        "the owner's list leaves private and direct statuses out",
        "api/views/statuses.py, api/models/token.py, api/middleware.py",
    ),
)

PLEROMA = Software(
    name="pleroma",
    title="Pleroma",
    key=KeyHandling(6 * 3600, "server"),
    length="code points",
    scopes=GRANULAR_SCOPES,
    status_url="https://<domain>/notice/<id>",
    own_list_hides=frozenset(),
    refused_token=(TokenRefusal(403, "Invalid credentials"),),
    sources=(
        "key: lib/pleroma/web/plugs/idempotency_plug.ex (cached by the header alone, for "
        "every account) and lib/pleroma/application.ex (expires after 6 h)",
        "length: lib/pleroma/web/common_api/utils.ex validate_character_limit "
        "(String.length of text + content warning: grapheme clusters, URLs in full)",
        "status URL: lib/pleroma/web/mastodon_api/views/status_view.ex (`/notice/<id>`)",
        "403: lib/pleroma/web/plugs/ensure_authenticated_plug.ex",
    ),
)

AKKOMA = replace(
    PLEROMA,
    name="akkoma",
    title="Akkoma",
    sources=("a fork of Pleroma that kept these parts: Pleroma's sources",),
)

UNKNOWN = Software(
    name="",
    title="unknown software",
    key=KeyHandling(None),
    length="mastodon",
    scopes="read write",
    status_url="whatever the server gives",
    own_list_hides=frozenset(),
    refused_token=(),
    sources=(
        "assumed: no key (a lost answer is looked up, never trusted to a key), Mastodon's "
        "length rule, the broad scopes every Mastodon-API server knows",
    ),
)

SOFTWARE: dict[str, Software] = {
    row.name: row for row in (MASTODON, GOTOSOCIAL, TAKAHE, PLEROMA, AKKOMA)
}
"""Every known software by nodeinfo name."""

REFUSED_TOKEN: tuple[TokenRefusal, ...] = tuple(
    dict.fromkeys(form for row in SOFTWARE.values() for form in row.refused_token)
)
"""Every form of "this token is refused" seen on any server."""


def software(name: str) -> Software:
    """The row for nodeinfo's `software.name` (any case); UNKNOWN when it is not in the table."""
    return SOFTWARE.get(name.strip().lower(), UNKNOWN)


def is_refused_token(status: int | None, answer: str) -> bool:
    """True when an answer with `status` and text `answer` refuses the access token."""
    return any(form.matches(status, answer) for form in REFUSED_TOKEN)
