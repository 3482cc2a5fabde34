"""What a server says about itself: the instance document and nodeinfo, as a ServerProfile.

Four GETs at most: `/api/v2/instance` (or, on a 404, `/api/v1/instance`),
then `/.well-known/nodeinfo` and the nodeinfo document it links to, for the
software's name (skipped when a remembered profile already names it). Every
path is requested without a trailing slash.

Why not Mastodon.py: its `instance_v2()`/`instance_v1()` request
`/api/v2/instance/` and `/api/v1/instance/`, with a trailing slash, which
Takahē answers 404 (measured on 0.11.0; Mastodon.py's version check then
recurses on that 404 until RecursionError), and it has no call for nodeinfo.
So these few GETs go through the client's own requests session (its response
hooks, such as the rate-limit observer, still see them), and a failed answer
raises the error Mastodon.py would raise, so one request policy handles both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import mastodon
import requests

from bot.errors import MastodonError, Rejected
from bot.model import InstanceLimits
from bot.profile import ServerProfile, completed


class GetJson(Protocol):
    """Reads one path of the server and returns its JSON; `what` names it in messages
    ("reading the instance"); `token`: send the access token (nodeinfo goes without)."""

    def __call__(self, what: str, path: str, *, token: bool = True) -> Any: ...


NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"


def get_json(
    session: requests.Session,
    url: str,
    *,
    headers: Mapping[str, str],
    timeout: float,
) -> Any:
    """GET `url` and return its JSON; raise the MastodonError Mastodon.py would raise for it."""
    try:
        # The no-op `auth` keeps requests from adding credentials of a .netrc file.
        response = session.get(url, headers=dict(headers), timeout=timeout, auth=lambda r: r)
    except requests.RequestException as exc:
        raise mastodon.MastodonNetworkError(f"Could not complete request: {exc}") from None
    if not response.ok:
        raise _mastodon_error(response)
    try:
        return response.json()
    except ValueError:
        raise mastodon.MastodonAPIError(
            "Mastodon API returned error", response.status_code, response.reason, "not JSON"
        ) from None


def read_profile(
    get: GetJson, instance: str, now: datetime, remembered: ServerProfile | None = None
) -> ServerProfile:
    """The server's profile: its instance document, then nodeinfo for the software's name.

    The instance document is asked with the token, as Mastodon.py does (a
    server may keep it from anonymous clients); Takahē refuses a bad token
    even there: AuthError. Another MastodonError when no instance document can
    be read. Nodeinfo is optional (without it the software is unknown), and
    not asked again when `remembered`, a profile of the same instance read
    before, has the same version: then it is still the same software.
    """
    try:
        raw = get("reading the instance", "/api/v2/instance")
    except Rejected as exc:
        if exc.status != 404:
            raise
        raw = get("reading the instance", "/api/v1/instance")
    doc = raw if isinstance(raw, dict) else {}
    version = str(doc.get("version") or "")
    same = remembered is not None and (remembered.instance, remembered.version) == (
        instance,
        version,
    )
    api_versions = _api_versions(doc.get("api_versions"))
    name = remembered.software if same and remembered else read_software(get)
    return ServerProfile(
        instance=instance,
        software=name,
        version=version,
        limits=completed(limits_from(doc), name, dict(api_versions)),
        read_at=now,
        api_versions=api_versions,
    )


def read_software(get: GetJson) -> str:
    """Nodeinfo's software name, in lower case; "" when the server has no readable
    nodeinfo. Asked without the token, so no answer here is about the token."""
    try:
        links = get("reading nodeinfo", "/.well-known/nodeinfo", token=False)
        doc = get("reading nodeinfo", _nodeinfo_path(links), token=False)
    except (MastodonError, ValueError):
        return ""
    software = doc.get("software") if isinstance(doc, dict) else None
    if not isinstance(software, dict):
        return ""
    return str(software.get("name") or "").strip().lower()


def limits_from(raw: Mapping[str, Any]) -> InstanceLimits:
    """The limits of an instance document (v2 or v1); Mastodon's defaults where it says nothing."""
    default = InstanceLimits()
    config = raw.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    types = media.get("supported_mime_types")
    return InstanceLimits(
        max_characters=_positive(
            statuses.get("max_characters") or raw.get("max_toot_chars"), default.max_characters
        ),
        max_media_attachments=_positive(
            statuses.get("max_media_attachments"), default.max_media_attachments
        ),
        characters_reserved_per_url=_positive(
            statuses.get("characters_reserved_per_url"), default.characters_reserved_per_url
        ),
        description_limit=_positive(media.get("description_limit"), default.description_limit),
        image_size_limit=_size(media.get("image_size_limit")),
        video_size_limit=_size(media.get("video_size_limit")),
        media_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
    )


def _nodeinfo_path(links: Any) -> str:
    """The path of the newest nodeinfo 2.x document the well-known file links to.

    Only the path is kept and asked of the server tootback talks to: Takahē
    links to `https://<its main domain>/nodeinfo/2.0/` whatever host was asked,
    which need not resolve from here, and the document is the same on every
    host of one server.
    """
    entries = links.get("links") if isinstance(links, dict) else None
    found: list[tuple[str, str]] = []
    for entry in entries if isinstance(entries, list) else []:
        rel, href = (entry.get("rel"), entry.get("href")) if isinstance(entry, dict) else ("", "")
        if isinstance(rel, str) and rel.startswith(NODEINFO_SCHEMA) and isinstance(href, str):
            found.append((rel.removeprefix(NODEINFO_SCHEMA), href))
    if not found:
        raise ValueError("no nodeinfo 2.x link")
    href = max(found)[1]
    parts = urlsplit(href)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _api_versions(raw: object) -> tuple[tuple[str, int], ...]:
    if not isinstance(raw, dict):
        return ()
    return tuple(
        sorted(
            (str(k), v)
            for k, v in raw.items()
            if type(v) is int and v >= 0  # bool is not int
        )
    )


def _mastodon_error(response: requests.Response) -> mastodon.MastodonError:
    # The same classes and arguments as Mastodon.py's own requests.
    status = response.status_code
    try:
        body = response.json()
        message = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        message = None
    if status == 429:
        return mastodon.MastodonRatelimitError("Hit rate limit.")
    kind: type[mastodon.MastodonError] = mastodon.MastodonAPIError
    if status == 404:
        kind, message = mastodon.MastodonNotFoundError, message or "Endpoint not found."
    elif status == 401:
        kind = mastodon.MastodonUnauthorizedError
    elif 500 <= status <= 511:
        kind = mastodon.MastodonServerError
    return kind("Mastodon API returned error", status, response.reason, message)


def _size(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _positive(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default
