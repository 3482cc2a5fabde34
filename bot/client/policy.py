"""The client's policy for every request: rate limits, retries, and errors in our tree.

- Before a request: when the server's `X-RateLimit-Remaining` is low (fewer
  than LOW_REMAINING), wait for the window's `X-RateLimit-Reset` first. The
  headers are kept per family of request (statuses created, media uploaded,
  every other call), as Mastodon counts them; with `budgets` (a backfill),
  statuses and media are instead paced so that each budget is spent evenly
  (see `budgets.py`).
- A 429: wait until the reset (or `Retry-After`), at most `max_wait` seconds at
  a time, then try again.
- A 5xx or a network failure: retry with exponential backoff and jitter,
  `max_retries` times, then raise Unavailable. Except for a request that
  creates something (`resend=False`: a status): its outcome is unknown, since
  many servers ignore Idempotency-Key and a retry could make a second status,
  so Unconfirmed is raised at once and the caller looks before it sends again.
- Any other answer becomes the project's error: a refused token AuthError (401,
  403, or any other form a server uses: `bot.software.REFUSED_TOKEN`, such as
  Takahē's 400 "Invalid Bearer token"), another 4xx Rejected (422: the server
  refuses this status), anything else Unavailable.

Every wait goes through the injected `Clock`, so a shutdown request ends it
and tests never sleep, and each is told to `on_wait` first (what, why, until
when), so that an outage is reported from its first failed attempt rather
than after a minute of silence. Rate-limit headers are read by a response hook on the
requests session rather than from Mastodon.py's `ratelimit_reset`, which is
computed against the real `time.time()` and so cannot be used with an injected
clock. The access token is removed from every message.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import mastodon

from bot.client.budgets import Budgets, Family
from bot.client.identity import SCOPES
from bot.clock import Clock
from bot.errors import (
    AuthError,
    Interrupted,
    MastodonError,
    RateLimited,
    Rejected,
    Unavailable,
    Unconfirmed,
)
from bot.software import is_refused_token

LOW_REMAINING = 5
RESET_MARGIN = 1.0
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0

T = TypeVar("T")

# Told about every wait before it starts: what was being done, why it waits, until when.
OnWait = Callable[[str, str, datetime], None]

# What may pass if tried again: a 5xx, a network failure, a rate-limit error that was
# no 429 (Mastodon.py also throws it when the rate-limit headers are unparseable).
_TRANSIENT = (
    mastodon.MastodonRatelimitError,
    mastodon.MastodonServerError,
    mastodon.MastodonNetworkError,
)


class RequestPolicy:
    """Runs Mastodon.py calls under the policy above.

    clock: every wait sleeps on it.
    secret: the access token, never shown in a message.
    server: the server's base URL, as a network failure names it.
    max_retries: retries after a 5xx, network failure or 429 before giving up.
    max_wait: the longest single wait for a rate-limit reset, in seconds.
    random: returns a float in [0, 1) for the backoff jitter.
    on_wait: told about every wait before it starts (see OnWait).
    budgets: paces statuses and media by Mastodon's budgets (None: only the
        low-remaining wait above).
    """

    def __init__(
        self,
        clock: Clock,
        secret: str,
        *,
        server: str = "the server",
        max_retries: int,
        max_wait: float,
        random: Callable[[], float],
        on_wait: OnWait | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.clock = clock
        self.on_wait = on_wait
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.budgets = budgets
        self._secret = secret
        self._server = server
        self._random = random
        self._family: Family = "api"  # of the request in flight
        self._windows: dict[Family, tuple[int | None, datetime | None]] = {}
        self._last_status: int | None = None
        self._last_refusal = ""
        self._retry_after: float | None = None

    def call(
        self,
        what: str,
        request: Callable[[], T],
        family: Family = "api",
        *,
        resend: bool = True,
    ) -> T:
        """Run one Mastodon.py call; `what` names it in messages ("posting a status").

        family: the rate limit it counts against ("statuses", "media", "api").
        resend: False for a request that must not be sent again blindly (one that
        creates a status): a failure that may have happened after the server acted
        raises Unconfirmed instead of being retried. A 429 is still waited out.
        """
        failures = 0
        while True:
            self._family = family
            # Every request counts against the API budget; statuses and media also
            # against their own, whose headers their answers carry instead.
            self._slow_down(what, "api")
            if self.budgets is not None and family in self.budgets.nominal:
                self._spend_evenly(what, family)
            elif family != "api":
                self._slow_down(what, family)
            self._last_status = None
            self._last_refusal = ""
            try:
                return request()
            except mastodon.MastodonError as exc:
                failure: Exception = exc
            # Handled outside the except block so that no Mastodon.py exception
            # rides along as the __context__ of ours.
            failures += 1
            if not resend:
                self._unless_unknown(what, failure)
            self._after_failure(what, failure, failures)

    def backoff(self, failures: int) -> float:
        """Seconds to wait after `failures` failed attempts: doubling from 2 s, jittered."""
        exponent = BACKOFF_BASE * 2.0 ** (failures - 1)
        return min(BACKOFF_CAP, exponent * (0.5 + self._random()))

    def sleep(self, what: str, seconds: float, why: str = "") -> None:
        """Wait `seconds`, told to `on_wait` with `why`; raise Interrupted when a stop
        request ends the wait."""
        if self.on_wait is not None and why:
            self.on_wait(what, why, self.clock.now() + timedelta(seconds=seconds))
        if not self.clock.sleep(seconds):
            raise Interrupted(f"{what}: stopped while waiting {seconds:.0f} s")

    def observe(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """requests response hook: remember the rate-limit headers, on our clock."""
        headers = response.headers
        self._last_status = int(response.status_code)
        # Mastodon.py keeps only a JSON body's `error`; a refusal in plain text or
        # HTML (Takahē's "Invalid Bearer token") is read here.
        self._last_refusal = response.text[:200] if 400 <= self._last_status < 500 else ""
        now = self.clock.now()
        server_now = _http_date(headers.get("Date")) or now
        remaining = headers.get("X-RateLimit-Remaining")
        reset = _reset_time(headers.get("X-RateLimit-Reset"))
        left, reset_at = self._windows.get(self._family, (None, None))
        if remaining is not None and remaining.strip().isdigit():
            left = int(remaining)
        if reset is not None:
            # Measured against the server's own Date, so clock skew does not matter.
            reset_at = now + (reset - server_now)
        self._windows[self._family] = (left, reset_at)
        if self.budgets is not None:
            self.budgets.observe(self._family, left, reset_at, now)
        self._retry_after = _retry_after(headers.get("Retry-After"), server_now)
        return response

    def _unless_unknown(self, what: str, exc: Exception) -> None:
        """Raise Unconfirmed when `exc` leaves the request's outcome unknown."""
        rate_limited = isinstance(exc, mastodon.MastodonRatelimitError) and self._last_status == 429
        lost = isinstance(exc, _TRANSIENT)
        # A 2xx whose body is not JSON: Mastodon.py raises it without an HTTP status.
        unreadable = isinstance(exc, mastodon.MastodonAPIError) and status_of(exc) is None
        if (lost and not rate_limited) or unreadable:
            raise Unconfirmed(
                f"{what}: {self._reason(exc)}; the outcome is unknown",
                status_of(exc) or self._last_status,
                answered=unreadable,
            )

    def _after_failure(self, what: str, exc: Exception, failures: int) -> None:
        """Wait before the next attempt, or raise the project's error for `exc`."""
        if isinstance(exc, mastodon.MastodonRatelimitError) and self._last_status == 429:
            self._wait_for_reset(what, failures)
        elif isinstance(exc, _TRANSIENT):
            self._retry(what, failures, exc)
        elif isinstance(exc, mastodon.MastodonAPIError):
            raise self._api_error(what, exc)
        else:
            raise MastodonError(f"{what}: {self._reason(exc)}")

    def _retry(self, what: str, failures: int, exc: Exception) -> None:
        if failures > self.max_retries:
            raise Unavailable(
                f"{what}: {self._reason(exc)} (gave up after {failures} attempts)",
                status_of(exc),
            )
        why = f"{self._reason(exc)} (attempt {failures} of {self.max_retries + 1})"
        self.sleep(what, self.backoff(failures), why)

    def _wait_for_reset(self, what: str, failures: int) -> None:
        if failures > self.max_retries:
            raise RateLimited(f"{what}: still rate-limited after {failures} attempts", 429)
        wait = self._seconds_to_reset(self._family)
        if wait is None:
            wait = self._retry_after or BACKOFF_BASE * 2 ** (failures - 1)
        if wait > self.max_wait:
            raise RateLimited(
                f"{what}: rate-limited for {wait:.0f} s more, longer than the "
                f"{self.max_wait:.0f} s tootback waits; try again later",
                429,
            )
        self.sleep(what, wait, "rate-limited by the server (429)")
        self._windows.pop(self._family, None)

    def _slow_down(self, what: str, family: Family) -> None:
        """Before a request: if few requests remain in the window of `family`, wait
        for its reset."""
        remaining, _ = self._windows.get(family, (None, None))
        if remaining is None or remaining >= LOW_REMAINING:
            return
        wait = self._seconds_to_reset(family)
        if wait is None or wait <= 0:
            self._windows.pop(family, None)
            return
        if wait > self.max_wait:
            if remaining > 0:
                return  # some budget left: better spend it than wait for ages
            raise RateLimited(
                f"{what}: no requests left for {wait:.0f} s, longer than the "
                f"{self.max_wait:.0f} s tootback waits; try again later",
                429,
            )
        self.sleep(what, wait, f"{remaining} requests left until the rate limit resets")
        self._windows.pop(family, None)

    def _spend_evenly(self, what: str, family: Family) -> None:
        """Before a request of a paced family: wait for its turn (`Budgets`). Long
        waits (a window spent by someone else) are told to `on_wait`; the steady
        pace of a backfill is not."""
        assert self.budgets is not None
        now = self.clock.now()
        ready = self.budgets.ready_at(family, now)
        wait = (ready - now).total_seconds()
        if wait > 0:
            why = f"the {family} budget is spent until its reset" if wait > 300 else ""
            self.sleep(what, wait, why)
        self.budgets.sent(family, self.clock.now())

    def _seconds_to_reset(self, family: Family) -> float | None:
        _, reset_at = self._windows.get(family, (None, None))
        if reset_at is None:
            return None
        return (reset_at - self.clock.now()).total_seconds() + RESET_MARGIN

    def _api_error(self, what: str, exc: mastodon.MastodonAPIError) -> MastodonError:
        status = status_of(exc)
        reason = self._redact(server_reason(exc))
        plain = " ".join(self._last_refusal.split())
        if len(exc.args) == 4 and exc.args[3] is None and plain and "<" not in plain:
            # Not JSON, so Mastodon.py kept no message: a short plain-text answer is
            # the server's reason (Takahē's "Invalid Bearer token").
            reason = self._redact(f"{status} {plain[:100]}")
        if is_refused_token(status, self._last_refusal or reason):
            return AuthError(
                f"{what}: the server refused the access token ({reason}). It may be revoked "
                f"or lack a scope; tootback needs {SCOPES}. Get a new one with `tootback login`.",
                status,
            )
        if status is not None and 400 <= status < 500:
            return Rejected(f"{what}: {reason}", status)
        return Unavailable(f"{what}: unexpected answer from the server: {reason}", status)

    def _reason(self, exc: Exception) -> str:
        """`exc` as one line, without the token; a network failure names the server."""
        if isinstance(exc, mastodon.MastodonNetworkError):
            return self._redact(network_reason(exc, self._server))
        return self._redact(server_reason(exc))

    def _redact(self, text: str) -> str:
        return redact(text, self._secret)


SHORT_TOKEN = 16  # shorter, it is replaced only where it stands whole (see `redact`)


def redact(text: str, secret: str) -> str:
    """text with `secret` replaced by "[token]" in every form a library may print it:
    as is (also after `Bearer `), escaped as `repr` or JSON escape it, URL-encoded
    (with upper- or lower-case hex), and with the white space around it trimmed.

    A token shorter than SHORT_TOKEN characters (no real one: Mastodon's are 43) is
    replaced only where it stands whole, not inside a longer run of the characters
    tokens are made of, so that it does not cut words ("Max retries exceeded" stays
    as it is with the token `x`); a longer one wherever it stands, glued to anything
    (`Bearer%20…`, `\\n…`)."""
    secret = secret.strip()
    if not secret:
        return text
    encoded = quote(secret, safe="")
    escaped = secret.replace("\\", "\\\\")  # as in a repr of any string holding it
    forms = {
        secret,
        escaped,
        escaped.replace("'", "\\'"),
        escaped.replace('"', '\\"'),
        json.dumps(secret)[1:-1],
        encoded,
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), encoded),
        quote_plus(secret),
        quote(secret),
    }
    longest_first = sorted(forms, key=len, reverse=True)  # no half-replaced form
    if len(secret) >= SHORT_TOKEN:
        return re.sub("|".join(map(re.escape, longest_first)), "[token]", text)
    whole = "|".join(_standing_whole(form) for form in longest_first)
    return re.sub(whole, "[token]", text)


_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-")


def _standing_whole(form: str) -> str:
    """A pattern of `form` not preceded or followed by one more token character
    (where its own first or last character is one)."""
    before = "(?<![A-Za-z0-9_-])" if form[0] in _TOKEN_CHARACTERS else ""
    after = "(?![A-Za-z0-9_-])" if form[-1] in _TOKEN_CHARACTERS else ""
    return before + re.escape(form) + after


def status_of(exc: Exception) -> int | None:
    """The HTTP status of a Mastodon.py error, None when it has none (a network failure)."""
    # Mastodon.py raises ('Mastodon API returned error', status, reason, message).
    args = exc.args
    return args[1] if len(args) >= 2 and isinstance(args[1], int) else None


def server_reason(exc: Exception) -> str:
    """A Mastodon.py error as one line: "422 <the server's message>", or the error itself."""
    args = exc.args
    if len(args) == 4 and isinstance(args[1], int):
        _, status, reason, message = args
        return f"{status} {message or reason}"
    return str(exc) or type(exc).__name__


def network_reason(exc: Exception, server: str) -> str:
    """A network failure as one line naming `server`: what the system said ("Connection
    refused", a name that does not resolve) rather than the HTTP library's nested repr."""
    text = str(exc)
    # requests and urllib3 keep the OSError only inside their message.
    system = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if system is not None:
        return f"{server} cannot be reached ({system[1].strip()})"
    if "connect timeout=" in text:
        return f"{server} cannot be reached (connecting timed out)"
    return server_reason(exc)


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
