"""`tootback login`: register tootback on an instance and trade the user's code for a token.

OAuth with the out-of-band redirect: the instance shows the user a code to
paste, so no local web server is needed. Login happens once, interactively:
no retries, one clear message when something fails. The token and the client
secret are never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import mastodon
import requests
from pydantic import SecretStr

from bot.client.identity import APP_NAME, SCOPES, USER_AGENT
from bot.client.policy import server_reason
from bot.errors import AuthError, MastodonError

T = TypeVar("T")

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True, slots=True)
class LoginFlow:
    """A registered app waiting for the user's authorization code.

    instance: the base URL; authorize_url: the page where the user approves
    tootback and is shown a code; the client secret is never printed.
    """

    instance: str
    client_id: str
    client_secret: SecretStr
    authorize_url: str


def start_login(
    instance: str, *, session: requests.Session | None = None, timeout: float = 30.0
) -> LoginFlow:
    """Register tootback as an app on `instance` and return the page to authorize it.

    Asks for the minimal SCOPES, with the out-of-band redirect so the
    instance shows the code for the user to paste. Two requests: the app
    registration and the server's OAuth metadata. Raises MastodonError.
    """
    base = instance.rstrip("/")
    client_id, client_secret = _login_call(
        f"registering tootback on {base}",
        lambda: mastodon.Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES.split(),
            redirect_uris=OOB_REDIRECT,
            api_base_url=base,
            request_timeout=timeout,
            session=session,
            user_agent=USER_AGENT,
        ),
    )
    api = _oauth_api(base, client_id, client_secret, session, timeout)
    url = _login_call(
        "building the authorization URL",
        lambda: api.auth_request_url(
            redirect_uris=OOB_REDIRECT, scopes=SCOPES.split(), allow_http=_loopback(base)
        ),
    )
    return LoginFlow(base, client_id, SecretStr(client_secret), url)


def finish_login(
    flow: LoginFlow, code: str, *, session: requests.Session | None = None, timeout: float = 30.0
) -> SecretStr:
    """Exchange the code the user pasted for an access token (never printed)."""
    secret = flow.client_secret.get_secret_value()
    api = _oauth_api(flow.instance, flow.client_id, secret, session, timeout)
    token = _login_call(
        "exchanging the authorization code",
        lambda: api.log_in(
            code=code.strip(),
            redirect_uri=OOB_REDIRECT,
            scopes=SCOPES.split(),
            allow_http=_loopback(flow.instance),
        ),
    )
    return SecretStr(str(token))


def _oauth_api(
    base: str, client_id: str, secret: str, session: requests.Session | None, timeout: float
) -> mastodon.Mastodon:
    return mastodon.Mastodon(
        client_id=client_id,
        client_secret=secret,
        api_base_url=base,
        version_check_mode="none",
        user_agent=USER_AGENT,
        request_timeout=timeout,
        session=session,
    )


def _login_call(what: str, call: Callable[[], T]) -> T:
    # Login happens once, interactively: no retries, just one clear message.
    try:
        return call()
    except mastodon.MastodonIllegalArgumentError:
        failure = f"{what}: the server refused it (a mistyped or expired code?)"
        raise AuthError(failure) from None
    except mastodon.MastodonNetworkError as exc:
        failure = f"{what}: cannot reach the server ({type(exc).__name__})"
    except mastodon.MastodonError as exc:
        failure = f"{what}: {server_reason(exc)}"
    except Exception as exc:
        # Mastodon.py reads the answer without checking it: a server that is no
        # Mastodon-API server (or a proxy's error page) surfaces as a KeyError or
        # a decoding error from inside it.
        detail = " ".join(str(exc).split())[:200]
        failure = (
            f"{what}: the server answered something unexpected ({type(exc).__name__}: "
            f"{detail}); is this the address of a Mastodon-API server?"
        )
    raise MastodonError(failure)


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"}
