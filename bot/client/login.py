"""`tootback login`: register tootback on an instance and trade the user's code for a token.

OAuth with the out-of-band redirect: the instance shows the user a code to
paste, so no local web server is needed. Login happens once, interactively:
no retries, one clear message when something fails. The token and the client
secret are never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import mastodon
import requests
from pydantic import SecretStr

from bot.client.identity import APP_NAME, SCOPES, USER_AGENT, mastodon_api
from bot.client.instance import GetJson, get_json, read_software
from bot.client.policy import network_reason, server_reason
from bot.errors import AuthError, MastodonError
from bot.software import software

T = TypeVar("T")

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True, slots=True)
class LoginFlow:
    """A registered app waiting for the user's authorization code.

    instance: the base URL; authorize_url: the page where the user approves
    tootback and is shown a code; scopes: what was asked for (the server's
    software decides, see `login_scopes`); the client secret is never printed.
    """

    instance: str
    client_id: str
    client_secret: SecretStr
    authorize_url: str
    scopes: str = SCOPES


def login_scopes(software_name: str) -> str:
    """The scopes to ask a server whose nodeinfo names `software_name` ("" when unknown).

    Granular scopes where the software honours them everywhere tootback
    needs them; `read write` where it is unknown; Takahē's own set (its
    verify_credentials needs plain `read`). See bot.software.
    """
    return software(software_name).scopes


def start_login(
    instance: str, *, session: requests.Session | None = None, timeout: float = 30.0
) -> LoginFlow:
    """Register tootback as an app on `instance` and return the page to authorize it.

    First reads the server's nodeinfo (no token needed) to choose the scopes
    it honours (`login_scopes`), then registers the app with them and the
    out-of-band redirect, so the instance shows the code for the user to
    paste. Three to four requests. Raises MastodonError.
    """
    base = instance.rstrip("/")
    http = session or requests.Session()
    scopes = login_scopes(read_software(_public_get(http, base, timeout)))
    client_id, client_secret = _login_call(
        f"registering tootback on {base}",
        lambda: mastodon.Mastodon.create_app(
            APP_NAME,
            scopes=scopes.split(),
            redirect_uris=OOB_REDIRECT,
            api_base_url=base,
            request_timeout=timeout,
            session=http,
            user_agent=USER_AGENT,
        ),
    )
    api = _oauth_api(base, client_id, client_secret, http, timeout)
    url = _login_call(
        "building the authorization URL",
        lambda: api.auth_request_url(
            redirect_uris=OOB_REDIRECT, scopes=scopes.split(), allow_http=_loopback(base)
        ),
    )
    return LoginFlow(base, client_id, SecretStr(client_secret), url, scopes)


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
            scopes=flow.scopes.split(),
            allow_http=_loopback(flow.instance),
        ),
    )
    return SecretStr(str(token))


def _public_get(session: requests.Session, base: str, timeout: float) -> GetJson:
    def get(what: str, path: str, *, token: bool = True) -> Any:
        # Login asks only public documents, once: no token, no retries.
        headers = {"User-Agent": USER_AGENT}
        return _login_call(
            what, lambda: get_json(session, base + path, headers=headers, timeout=timeout)
        )

    return get


def _oauth_api(
    base: str, client_id: str, secret: str, session: requests.Session | None, timeout: float
) -> mastodon.Mastodon:
    # The claimed version keeps `log_in` from asking the server for its own
    # (a ValueError on GoToSocial's version string, a RecursionError on Takahē).
    return mastodon_api(
        base, session=session, timeout=timeout, client_id=client_id, client_secret=secret
    )


def _login_call(what: str, call: Callable[[], T]) -> T:
    # Login happens once, interactively: no retries, just one clear message.
    try:
        return call()
    except mastodon.MastodonIllegalArgumentError:
        failure = f"{what}: the server refused it (a mistyped or expired code?)"
        raise AuthError(failure) from None
    except mastodon.MastodonNetworkError as exc:
        failure = f"{what}: {network_reason(exc, 'the server')}"
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
