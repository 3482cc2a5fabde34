"""The only module that talks to Mastodon (DESIGN §7).

Mastodon.py does the HTTP; this module adds the policy: slow down before the
rate limit is reached, wait out a 429 until its reset (bounded, interruptible),
retry 5xx and network failures with exponential backoff and jitter (a status
is re-sent with the same Idempotency-Key, so a retry never duplicates it), and
map every Mastodon.py exception to the project's tree. Frozen dataclasses
come out, never Mastodon.py's dicts, and the access token appears in no
message and no repr.

Every wait goes through the injected `Clock`, so a shutdown request ends it
and tests never sleep. Rate-limit headers are read by a response hook on the
requests session rather than from Mastodon.py's `ratelimit_reset`, which is
computed against the real `time.time()` and so cannot be used with an injected
clock.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import urlsplit

import mastodon
import requests
from pydantic import SecretStr

from bot import __version__
from bot.clock import Clock
from bot.errors import (
    AuthError,
    Interrupted,
    MastodonError,
    RateLimited,
    Rejected,
    Unavailable,
)
from bot.model import InstanceLimits

USER_AGENT = f"tootback/{__version__}"
# Claiming 4.0.0 stops Mastodon.py from asking the server for its version and
# sends uploads to /api/v2/media; every endpoint used here exists since then.
MASTODON_VERSION = "4.0.0"
SCOPES = "write:statuses write:media read:accounts read:statuses"
LOW_REMAINING = 5
RESET_MARGIN = 1.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
MEDIA_POLLS = 60
MEDIA_FIRST_DELAY = 1.0
MEDIA_MAX_DELAY = 10.0
PAGE_SIZE = 40

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Account:
    """The token's account. `instance` is the base URL, `url` the profile page."""

    id: str
    acct: str
    url: str
    instance: str
    statuses_count: int | None = None  # None when the server does not say


@dataclass(frozen=True, slots=True)
class PostedStatus:
    """A status the server created (or, for a repeated Idempotency-Key, had created)."""

    id: str
    url: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OwnStatus:
    """One of the account's own statuses, its HTML content reduced to plain text."""

    id: str
    url: str
    text_plain: str
    created_at: datetime
    in_reply_to_id: str | None


class MastodonClient:
    """Mastodon for tootback: cached account and limits, uploads, statuses, own statuses.

    base_url: the instance, e.g. "https://example.social".
    token: the access token; it is only ever handed to Mastodon.py.
    clock: every wait (rate limit, backoff, media processing) sleeps on it.
    session: a requests.Session to use (tests pass one); a response hook is added to it.
    timeout: seconds for each HTTP request.
    max_retries: retries after a 5xx, network failure or 429 before giving up.
    max_wait: the longest single wait for a rate-limit reset, in seconds.
    random: returns a float in [0, 1) for the backoff jitter.
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        clock: Clock,
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_retries: int = 5,
        max_wait: float = 900.0,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._secret = token.get_secret_value()
        self._random = random
        self._account: Account | None = None
        self._limits: InstanceLimits | None = None
        self._remaining: int | None = None
        self._reset_at: datetime | None = None
        self._last_status: int | None = None
        self._retry_after: float | None = None
        self._api = mastodon.Mastodon(
            api_base_url=self.base_url,
            ratelimit_method="throw",
            version_check_mode="created",
            mastodon_version=MASTODON_VERSION,
            user_agent=USER_AGENT,
            request_timeout=timeout,
            session=session,
        )
        # Set after construction: Mastodon.py reads `access_token` as a file name
        # when a file of that name happens to exist.
        self._api.access_token = self._secret
        self._api.session.hooks["response"].append(self._observe)

    def __repr__(self) -> str:
        return f"MastodonClient(base_url={self.base_url!r})"

    def account(self) -> Account:
        """The token's account; asks the server once (verify_credentials), then caches it.

        Raises AuthError when the token is refused, or another MastodonError.
        """
        if self._account is None:
            raw = self._call("checking the access token", self._api.account_verify_credentials)
            self._account = Account(
                id=str(raw["id"]),
                acct=str(raw["acct"]),
                url=str(raw.get("url") or ""),
                instance=self.base_url,
                statuses_count=_count(raw.get("statuses_count")),
            )
        return self._account

    def limits(self) -> InstanceLimits:
        """The instance's status limits; one request per client, then cached.

        Reads /api/v2/instance; servers without it (404) are asked /api/v1/instance.
        Values a server does not give keep Mastodon's defaults.
        """
        if self._limits is None:
            try:
                raw = self._call("reading the instance limits", self._api.instance_v2)
            except Rejected as exc:
                if exc.status != 404:
                    raise
                raw = self._call("reading the instance limits", self._api.instance_v1)
            self._limits = _limits_from(raw)
        return self._limits

    def scopes(self) -> tuple[str, ...] | None:
        """The token's scopes, from GET /api/v1/apps/verify_credentials.

        None when the server does not say (Mastodon reports them since 4.3).
        """
        raw = self._call("reading the token's scopes", self._api.app_verify_credentials)
        scopes = raw.get("scopes")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else None

    def upload_media(
        self, data: bytes, filename: str, mime_type: str, description: str | None
    ) -> str:
        """Upload one file with its alt text and return the media id.

        Video and GIFs are processed after the upload (HTTP 202): this polls
        GET /api/v1/media/:id with growing delays until the file is ready,
        at most MEDIA_POLLS times, then raises Unavailable.
        """
        what = f"uploading {filename}"
        media = self._call(
            what,
            lambda: self._api.media_post(
                data, mime_type=mime_type, description=description or None, file_name=filename
            ),
        )
        media_id = str(media["id"])
        if not media.get("url"):
            self._wait_for_media(media_id, filename)
        return media_id

    def post_status(
        self,
        text: str,
        *,
        idempotency_key: str,
        in_reply_to_id: str | None = None,
        media_ids: tuple[str, ...] | list[str] = (),
        visibility: str = "public",
        language: str | None = None,
        spoiler_text: str | None = None,
    ) -> PostedStatus:
        """POST /api/v1/statuses with an Idempotency-Key; every retry sends the same key.

        Empty `language` or `spoiler_text` are left out. Returns the created
        status; raises Rejected (422) with the server's reason, AuthError,
        RateLimited, Unavailable or Interrupted.
        """
        status = self._call(
            "posting a status",
            lambda: self._api.status_post(
                text,
                in_reply_to_id=in_reply_to_id,
                media_ids=list(media_ids) or None,
                visibility=visibility,
                language=language or None,
                spoiler_text=spoiler_text or None,
                idempotency_key=idempotency_key,
            ),
        )
        return PostedStatus(
            id=str(status["id"]),
            url=str(status.get("url") or status.get("uri") or ""),
            created_at=self._time(status.get("created_at")),
        )

    def own_statuses(self, limit: int = 200) -> list[OwnStatus]:
        """The account's most recent statuses (no boosts), newest first, at most `limit`.

        Pages of PAGE_SIZE; stops at a short page, so requests = ceil(limit / 40) at most.
        """
        account_id = self.account().id
        found: list[OwnStatus] = []
        max_id: str | None = None
        while len(found) < limit:
            size = min(PAGE_SIZE, limit - len(found))
            page = self._call(
                "reading the account's statuses",
                partial(
                    self._api.account_statuses,
                    account_id,
                    exclude_reblogs=True,
                    max_id=max_id,
                    limit=size,
                ),
            )
            found += [self._own_status(raw) for raw in page]
            if len(page) < size:
                break
            max_id = found[-1].id
        return found

    def _wait_for_media(self, media_id: str, filename: str) -> None:
        delay = MEDIA_FIRST_DELAY
        waited = 0.0
        for _ in range(MEDIA_POLLS):
            self._sleep(f"waiting for {filename} to be processed", delay)
            waited += delay
            media = self._call(f"checking {filename}", lambda: self._api.media(media_id))
            if media.get("url"):
                return
            delay = min(delay * 1.5, MEDIA_MAX_DELAY)
        raise Unavailable(
            f"{filename}: the server had not processed it after {MEDIA_POLLS} checks "
            f"({waited:.0f} s)"
        )

    def _own_status(self, raw: Mapping[str, Any]) -> OwnStatus:
        reply_to = raw.get("in_reply_to_id")
        return OwnStatus(
            id=str(raw["id"]),
            url=str(raw.get("url") or raw.get("uri") or ""),
            text_plain=html_to_text(str(raw.get("content") or "")),
            created_at=self._time(raw.get("created_at")),
            in_reply_to_id=None if reply_to is None else str(reply_to),
        )

    def _time(self, value: object) -> datetime:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, str):
            try:
                return self._time(datetime.fromisoformat(value))
            except ValueError:
                pass
        return self.clock.now()

    # --- policy -----------------------------------------------------------------

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run one Mastodon.py call under the rate-limit, retry and error-mapping policy."""
        failures = 0
        while True:
            self._slow_down(what)
            self._last_status = None
            try:
                return request()
            except mastodon.MastodonError as exc:
                failure: Exception = exc
            # Handled outside the except block so that no Mastodon.py exception
            # rides along as the __context__ of ours.
            failures += 1
            self._after_failure(what, failure, failures)

    def _after_failure(self, what: str, exc: Exception, failures: int) -> None:
        """Wait before the next attempt, or raise the project's error for `exc`."""
        if isinstance(exc, mastodon.MastodonRatelimitError) and self._last_status == 429:
            self._wait_for_reset(what, failures)
        elif isinstance(
            exc,
            mastodon.MastodonRatelimitError  # also thrown when the headers are unparseable
            | mastodon.MastodonServerError
            | mastodon.MastodonNetworkError,
        ):
            self._retry(what, failures, exc)
        elif isinstance(exc, mastodon.MastodonAPIError):
            raise self._api_error(what, exc)
        else:
            raise MastodonError(self._redact(f"{what}: {_describe(exc)}"))

    def _retry(self, what: str, failures: int, exc: Exception) -> None:
        if failures > self.max_retries:
            raise Unavailable(
                self._redact(f"{what}: {_describe(exc)} (gave up after {failures} attempts)"),
                _status_of(exc),
            )
        exponent = BACKOFF_BASE * 2 ** (failures - 1)
        self._sleep(what, min(BACKOFF_CAP, exponent * (0.5 + self._random())))

    def _wait_for_reset(self, what: str, failures: int) -> None:
        if failures > self.max_retries:
            raise RateLimited(f"{what}: still rate-limited after {failures} attempts", 429)
        wait = self._seconds_to_reset()
        if wait is None:
            wait = self._retry_after or BACKOFF_BASE * 2 ** (failures - 1)
        if wait > self.max_wait:
            raise RateLimited(
                f"{what}: rate-limited for {wait:.0f} s more, longer than the "
                f"{self.max_wait:.0f} s tootback waits; try again later",
                429,
            )
        self._sleep(what, wait)
        self._forget_limits()

    def _slow_down(self, what: str) -> None:
        """Before a request: if few requests remain in the window, wait for its reset."""
        if self._remaining is None or self._remaining >= LOW_REMAINING:
            return
        wait = self._seconds_to_reset()
        if wait is None or wait <= 0:
            self._forget_limits()
            return
        if wait > self.max_wait:
            if self._remaining > 0:
                return  # some budget left: better spend it than wait for ages
            raise RateLimited(
                f"{what}: no requests left for {wait:.0f} s, longer than the "
                f"{self.max_wait:.0f} s tootback waits; try again later",
                429,
            )
        self._sleep(what, wait)
        self._forget_limits()

    def _seconds_to_reset(self) -> float | None:
        if self._reset_at is None:
            return None
        return (self._reset_at - self.clock.now()).total_seconds() + RESET_MARGIN

    def _forget_limits(self) -> None:
        self._remaining = None
        self._reset_at = None

    def _sleep(self, what: str, seconds: float) -> None:
        if not self.clock.sleep(seconds):
            raise Interrupted(f"{what}: stopped while waiting {seconds:.0f} s")

    def _observe(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """requests response hook: remember the rate-limit headers, on our clock."""
        headers = response.headers
        self._last_status = int(response.status_code)
        now = self.clock.now()
        server_now = _http_date(headers.get("Date")) or now
        remaining = headers.get("X-RateLimit-Remaining")
        reset = _reset_time(headers.get("X-RateLimit-Reset"))
        if remaining is not None and remaining.strip().isdigit():
            self._remaining = int(remaining)
        if reset is not None:
            # Measured against the server's own Date, so clock skew does not matter.
            self._reset_at = now + (reset - server_now)
        self._retry_after = _retry_after(headers.get("Retry-After"), server_now)
        return response

    def _api_error(self, what: str, exc: mastodon.MastodonAPIError) -> MastodonError:
        status = _status_of(exc)
        reason = self._redact(_describe(exc))
        if status in (401, 403):
            return AuthError(
                f"{what}: the server refused the access token ({reason}). It may be revoked "
                f"or lack a scope; tootback needs {SCOPES}. Get a new one with `tootback login`.",
                status,
            )
        if status is not None and 400 <= status < 500:
            return Rejected(f"{what}: {reason}", status)
        return Unavailable(f"{what}: unexpected answer from the server: {reason}", status)

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[token]") if self._secret else text


def _status_of(exc: Exception) -> int | None:
    # Mastodon.py raises ('Mastodon API returned error', status, reason, message).
    args = exc.args
    return args[1] if len(args) >= 2 and isinstance(args[1], int) else None


def _describe(exc: Exception) -> str:
    args = exc.args
    if len(args) == 4 and isinstance(args[1], int):
        _, status, reason, message = args
        return f"{status} {message or reason}"
    return str(exc) or type(exc).__name__


def _limits_from(raw: Mapping[str, Any]) -> InstanceLimits:
    default = InstanceLimits()
    config = raw.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
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
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _positive(value: object, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _reset_time(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        # Some servers (GoToSocial) send the reset as a Unix time.
        return datetime.fromtimestamp(int(value), UTC)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _retry_after(value: str | None, server_now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    when = _http_date(value)
    return None if when is None else max(0.0, (when - server_now).total_seconds())


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Mastodon's status HTML as plain text: paragraphs split by a blank line, <br> by a newline.

    Link text is kept whole, including the parts Mastodon hides with
    `class="invisible"`, so a shortened link reads as its full URL.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


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
            "tootback",
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
    except mastodon.MastodonNetworkError as exc:
        failure = f"{what}: cannot reach the server ({type(exc).__name__})"
    except mastodon.MastodonError as exc:
        failure = f"{what}: {_describe(exc)}"
    raise MastodonError(failure)


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"}
