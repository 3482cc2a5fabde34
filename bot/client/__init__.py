"""The only package that talks to a Mastodon-API server.

    endpoints.py   MastodonClient: account, limits, scopes, media, statuses, own statuses
    policy.py      every request: rate limits, retries with backoff, errors in our tree
    budgets.py     spending the statuses and media budgets evenly (backfill)
    login.py       OAuth: register the app, trade the user's code for a token
    identity.py    how tootback presents itself: user agent, scopes, API version
    content.py     a status's HTML as plain text

The rest of tootback imports from here, never from Mastodon.py.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.client.budgets import MASTODON_BUDGETS, Budget, Budgets
    from bot.client.content import html_to_text
    from bot.client.endpoints import Account, MastodonClient, OwnStatus, PostedStatus
    from bot.client.identity import SCOPES, missing_scopes
    from bot.client.login import LoginFlow, finish_login, start_login
    from bot.client.policy import OnWait

# Where each name lives. They are imported on first use: most of them import
# Mastodon.py (~100 ms), which only the commands that connect should pay; the
# budgets (planning a backfill offline) need none of it.
_WHERE = {
    "MASTODON_BUDGETS": "budgets",
    "Budget": "budgets",
    "Budgets": "budgets",
    "html_to_text": "content",
    "Account": "endpoints",
    "MastodonClient": "endpoints",
    "OwnStatus": "endpoints",
    "PostedStatus": "endpoints",
    "SCOPES": "identity",
    "missing_scopes": "identity",
    "LoginFlow": "login",
    "finish_login": "login",
    "start_login": "login",
    "OnWait": "policy",
}

__all__ = [
    "MASTODON_BUDGETS",
    "SCOPES",
    "Account",
    "Budget",
    "Budgets",
    "LoginFlow",
    "MastodonClient",
    "OnWait",
    "OwnStatus",
    "PostedStatus",
    "finish_login",
    "html_to_text",
    "missing_scopes",
    "start_login",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"bot.client.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
