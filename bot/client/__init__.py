"""The only package that talks to a Mastodon-API server."""

from bot.client.endpoints import (
    SCOPES,
    Account,
    LoginFlow,
    MastodonClient,
    OwnStatus,
    PostedStatus,
    finish_login,
    html_to_text,
    start_login,
)

__all__ = [
    "SCOPES",
    "Account",
    "LoginFlow",
    "MastodonClient",
    "OwnStatus",
    "PostedStatus",
    "finish_login",
    "html_to_text",
    "start_login",
]
