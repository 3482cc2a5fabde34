"""The only package that talks to a Mastodon-API server.

    endpoints.py   MastodonClient: account, limits, scopes, media, statuses, own statuses
    policy.py      every request: rate limits, retries with backoff, errors in our tree
    budgets.py     spending the statuses and media budgets evenly (backfill)
    login.py       OAuth: register the app, trade the user's code for a token
    identity.py    how tootback presents itself: user agent, scopes, API version
    content.py     a status's HTML as plain text

The rest of tootback imports from here, never from Mastodon.py.
"""

from bot.client.budgets import MASTODON_BUDGETS, Budget, Budgets
from bot.client.content import html_to_text
from bot.client.endpoints import Account, MastodonClient, OwnStatus, PostedStatus
from bot.client.identity import SCOPES, missing_scopes
from bot.client.login import LoginFlow, finish_login, start_login
from bot.client.policy import OnWait

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
