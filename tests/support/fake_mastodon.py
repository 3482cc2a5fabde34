"""The loopback fake Mastodon-API server, for the tests and the benchmark.

`FakeMastodon` is a small real HTTP server (stdlib `ThreadingHTTPServer`, 127.0.0.1, an
ephemeral port) that behaves like Mastodon where tootback's guarantees are decided:
Idempotency-Key kept for one hour per account, rate-limit headers and 429s, 422 for text over
the instance's limit (counted as Mastodon counts), 202 for video with 206 polls, mentions that
only resolve for local accounts, and failures on demand (5xx, a status created and its answer
lost, slow answers, a revoked token). The real Mastodon.py client works against it unchanged,
and so do `tootback` subprocesses pointed at `.url`.

Why not the PyPI package `mastodon-mock` (0.6.1, its source was read before writing this)?
It would bring FastAPI, SQLAlchemy, Alembic, uvicorn and orjson into the test dependencies, and
it is not faithful where these tests need it: Idempotency-Key entries never expire and there is
no clock to move, text length is `len(text)` (no 23-character URLs, no `@user@domain` rule),
media always answer 200 (never 202, never 206 while processing), rate limiting is off by
default and sends the reset as epoch seconds rather than ISO 8601, and no fault creates a
status and then drops the connection. A few hundred lines of stdlib are cheaper to trust.

Profiles: where server software differs (Idempotency-Key kept or not, for how long, for whom
and how a replay is answered; status URLs; which visibilities the owner's own list shows;
missing endpoints, version string, bad-token answer, length rule, refused media), the fake
follows its
`profile` (`tests.support.profiles`); the default, `MASTODON`, is Mastodon 4.3.

Time: everything time-dependent (idempotency hour, rate-limit windows, ids, `created_at`, the
`Date` header) reads the injectable `clock`, tootback's own `Clock` (a `FakeClock` in tests),
so tests move time instead of sleeping. Only `slow()` holds answers for real, because a
client's timeout needs a real delay; `release_held()` lets them go at once.
"""

from __future__ import annotations

import html
import json
import re
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

# Private module, but it is the very regex `get_status_length` counts URLs with: linkifying
# with it keeps the rendered content consistent with the length rule.
from mastodon._url_regex import url_regex

from bot.clock import Clock, SystemClock
from tests.support.profiles import MASTODON, ServerProfile

Fields = Mapping[str, tuple[str, ...]]

INVALID_TOKEN = MASTODON.bad_token[1]
NOT_FOUND = "Record not found"
TOO_MANY = "Too many requests"
BAD_PARAMETERS = "Error occurred while parsing request parameters."
REPLY_NOT_FOUND = "The post you are trying to reply to does not appear to exist."
KEY_UNDER_WAY = "request already under way"
MEDIA_NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"
MEDIA_MIXED = "Cannot attach a video to a post that already contains images"

# Account::MENTION_RE and USERNAME_RE of Mastodon: not after `=`, `/` or a word character
# (so not in URLs or e-mail addresses); an optional `@domain` names a remote account.
_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([\w.-]+\w))?", re.IGNORECASE
)
# Tag::HASHTAG_RE, simplified: at least one non-digit word character.
_HASHTAG_RE = re.compile(r"(?<![=/)\w])#(\w*[^\W\d]\w*)")
_USERNAME_RE = re.compile(r"[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?", re.IGNORECASE)
_ASYNC_KINDS = frozenset({"video", "gifv", "audio"})
_VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})


@dataclass(frozen=True)
class Budget:
    """A rate-limit budget: `limit` requests per `period` seconds."""

    limit: int
    period: float


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as recorded (the bytes are not kept)."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received.

    `path` has no trailing slash (`trailing_slash` tells whether it came with one).
    `headers` has lower-cased names. `fields` holds form, multipart or JSON body fields under
    the names sent (`media_ids[]` for a form array); `query` the URL parameters. `at` is the
    server clock on arrival; `status` the answer's code, None when the connection was dropped.
    """

    method: str
    path: str
    query: Fields
    headers: Mapping[str, str]
    fields: Fields
    files: Mapping[str, UploadedFile]
    at: float
    status: int | None = None
    trailing_slash: bool = False


@dataclass(frozen=True)
class PostedStatus:
    """A status the server created; `mentions` are the local usernames it notified."""

    id: str
    text: str
    url: str
    created_at: float
    idempotency_key: str | None
    in_reply_to_id: str | None
    media_ids: tuple[str, ...]
    visibility: str
    language: str | None
    spoiler_text: str
    sensitive: bool
    mentions: tuple[str, ...]
    quoted_status_id: str | None = None
    reblog_of: str | None = None  # a boost: the boosted status; its text is ""


@dataclass(frozen=True)
class Duplicates:
    """Texts created as more than one status, and Idempotency-Keys that produced more than one.

    False when there are none, so tests can `assert not server.duplicates()`.
    """

    texts: Mapping[str, int]
    keys: Mapping[str, int]

    def __bool__(self) -> bool:
        return bool(self.texts or self.keys)


@dataclass(frozen=True)
class _Account:
    id: str
    username: str
    created_at: float


@dataclass
class _Media:
    id: str
    kind: str
    filename: str
    description: str | None
    polls_left: int
    status_id: str | None = None


@dataclass
class _Window:
    """A fixed window opened by its first use, like Mastodon's Redis counters with expiry."""

    budget: Budget
    start: float | None = None
    used: int = 0

    def _roll(self, now: float) -> None:
        if self.start is not None and now >= self.start + self.budget.period:
            self.start, self.used = None, 0

    def take(self, now: float) -> bool:
        """Spend one unit; False (nothing spent) when the budget is exhausted."""
        self._roll(now)
        if self.used >= self.budget.limit:
            return False
        self.start = now if self.start is None else self.start
        self.used += 1
        return True

    def headers(self, now: float) -> dict[str, str]:
        """The X-RateLimit-* headers for this window at `now`."""
        self._roll(now)
        reset = (now if self.start is None else self.start) + self.budget.period
        return {
            "X-RateLimit-Limit": str(self.budget.limit),
            "X-RateLimit-Remaining": str(max(0, self.budget.limit - self.used)),
            "X-RateLimit-Reset": _iso(reset, "microseconds"),
        }


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    family: str = "api"  # the rate-limit window whose headers the answer carries
    drop: bool = False
    is_html: bool = False


@dataclass
class _Slow:
    seconds: float
    after: bool
    skip: int
    times: int | None

    def take(self) -> bool:
        """Whether this matching request is delayed (counts it)."""
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.times is None:
            return True
        self.times -= 1
        return self.times >= 0


@dataclass
class _Failure:
    prefix: str
    status: int
    times: int
    method: str | None
    skip: int = 0
    error: str | None = None


class _Rejected(Exception):
    """Raised inside a route to answer with `reply` at once."""

    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _iso(ts: float, timespec: str = "milliseconds") -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _error(status: int, message: str) -> _Rejected:
    return _Rejected(_Reply(status, {"error": message}))


def _first(fields: Fields, name: str) -> str | None:
    values = fields.get(name) or fields.get(name + "[]")
    return values[0] if values else None


def _values(fields: Fields, name: str) -> tuple[str, ...]:
    return fields.get(name + "[]") or fields.get(name) or ()


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "on", "yes"}


class FakeMastodon:
    """A Mastodon stand-in on 127.0.0.1; use as a context manager (starts and stops it).

    Parameters: `max_characters`, `max_media_attachments`, `characters_reserved_per_url` and
    `description_limit` are what `/api/v2/instance` advertises and what posting enforces (None:
    the profile's `limits`; uploads are held to its image and video size limits too);
    `media_processing_polls` is how many `GET /api/v1/media/:id` answer 206 before a
    video/GIF/audio upload is ready (0: ready at once, still answered 202); the budgets are the
    per-account API budget (every request), statuses created, and media uploads; `token` is the
    one valid access token, of the local account `username`; `clock` gives the server's time
    (default: the real one); `profile` is the server software it behaves as (default Mastodon).
    OAuth (`tootback login`): `POST /api/v1/apps` registers an app, `POST /oauth/token` trades
    the attribute `oauth_code` for `token`; `/.well-known/oauth-authorization-server` is 404, as
    before Mastodon 4.3. `token_scopes` are the token's scopes: what `GET
    /api/v1/apps/verify_credentials` reports (on a profile that reports them) and what a
    profile with `verify_needs_read` checks; a login sets them to the scopes it asked for.
    Configuration attributes may be changed while the server runs (`budgets` at `reset()`).
    """

    def __init__(
        self,
        *,
        max_characters: int | None = None,
        max_media_attachments: int | None = None,
        characters_reserved_per_url: int | None = None,
        description_limit: int | None = None,
        media_processing_polls: int = 2,
        api_budget: Budget = Budget(300, 300.0),
        statuses_budget: Budget = Budget(300, 3 * 3600.0),
        media_budget: Budget = Budget(30, 1800.0),
        token: str = "test-token",
        username: str = "me",
        clock: Clock | None = None,
        profile: ServerProfile = MASTODON,
    ) -> None:
        limits = profile.limits
        self.max_characters = max_characters or limits.max_characters
        self.max_media_attachments = max_media_attachments or limits.max_media_attachments
        self.characters_reserved_per_url = (
            characters_reserved_per_url or limits.characters_reserved_per_url
        )
        self.description_limit = description_limit or limits.description_limit
        self.media_processing_polls = media_processing_polls
        self.budgets = {"api": api_budget, "statuses": statuses_budget, "media": media_budget}
        self.token = token
        self.username = username
        self.clock: Clock = clock or SystemClock()
        self.profile = profile
        self.oauth_code = "the-code"
        self.token_scopes: tuple[str, ...] = ("read", "write")
        self._lock = threading.RLock()
        self._released = threading.Event()
        self._last_id = 0  # never reset: ids stay unique across reset() for state files
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clear()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind an ephemeral port on 127.0.0.1 and serve from a daemon thread."""
        self._httpd = _Server(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; requests still in flight are abandoned."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        """The base URL, `http://127.0.0.1:PORT` (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("FakeMastodon is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def account_id(self) -> str:
        """The id of the account the token belongs to."""
        return self._me.id

    # -- failure injection -------------------------------------------------------------------

    def fail_next(
        self,
        path_prefix: str,
        status: int = 503,
        times: int = 1,
        *,
        method: str | None = None,
        skip: int = 0,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path starts with `path_prefix` (and whose
        method is `method`, if given) with `status` and nothing done, after letting `skip` of
        them through. 5xx bodies are HTML, as from a proxy, unless `error` is given (then
        JSON, as from Mastodon itself); others are Mastodon's `{"error": …}`, with `error`
        as the message (default "Injected failure <status>")."""
        with self._lock:
            failure = _Failure(path_prefix, status, times, method and method.upper(), skip, error)
            self._failures.append(failure)

    def drop_after_create(self, times: int = 1) -> None:
        """For the next `times` statuses created, close the connection without an answer: the
        client sees a network error although the status (and its Idempotency-Key) exists."""
        with self._lock:
            self._drops += times

    def slow(
        self,
        path_prefix: str,
        seconds: float,
        *,
        after_processing: bool = False,
        skip: int = 0,
        times: int | None = None,
    ) -> None:
        """Delay every answer to a path starting with `path_prefix` by `seconds` of real time,
        before handling the request (default) or after it (the work is done, the answer late).
        `skip` lets that many matching requests through first; `times` limits how many are
        delayed after them (None: all). `seconds=0` removes the delay. `release_held()` ends
        the delays under way at once."""
        with self._lock:
            self._slow[path_prefix] = _Slow(seconds, after_processing, skip, times)
            self._released.clear()

    def release_held(self) -> None:
        """End at once every delay `slow()` is holding a request in (later ones still hold)."""
        self._released.set()

    def _hold(self, seconds: float) -> None:
        if seconds > 0:
            self._released.wait(seconds)

    def in_flight(self) -> list[RecordedRequest]:
        """Requests received and not yet answered (held by `slow()`, say), oldest first."""
        with self._lock:
            return list(self._in_flight)

    def revoke_token(self) -> None:
        """Make the access token invalid: every authenticated request answers 401."""
        with self._lock:
            self._revoked = True

    # -- setup and inspection ----------------------------------------------------------------

    def add_local_account(self, name: str) -> str:
        """Create a local account `name` (a bare `@name` will mention it); returns its id."""
        if not _USERNAME_RE.fullmatch(name):
            raise ValueError(f"not a Mastodon username: {name!r}")
        with self._lock:
            return self._add_account(name).id

    def add_remote_account(self, acct: str, profile: str | None = None) -> None:
        """Make `@user@domain` resolve, as Mastodon does for a remote account it found: the
        status's HTML shows it as `@user`, linked to `profile` (default https://domain/@user).
        It notifies nobody here (`PostedStatus.mentions` lists local accounts only)."""
        user, _, domain = acct.lstrip("@").partition("@")
        if not (_USERNAME_RE.fullmatch(user) and domain):
            raise ValueError(f"not a remote account user@domain: {acct!r}")
        with self._lock:
            self._remote[f"{user}@{domain}".lower()] = profile or f"https://{domain}/@{user}"

    def add_status(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        at: datetime | None = None,
        idempotency_key: str | None = None,
        visibility: str = "public",
    ) -> str:
        """Create a status of the account directly, as if posted earlier (at `at`, default
        now; with `idempotency_key` remembered from then); returns its id."""
        with self._lock:
            fields = {
                "status": (text,),
                "in_reply_to_id": (in_reply_to_id or "",),
                "visibility": (visibility,),
            }
            status = self._create_status(
                fields,
                idempotency_key,
                [],
            )
            if at is not None:
                status = replace(status, created_at=at.timestamp())
                self._statuses[-1] = self._by_id[status.id] = status
                if idempotency_key and self.profile.idempotency_ttl is not None:
                    self._keys[self._key_slot(idempotency_key)] = (status.id, at.timestamp())
            return status.id

    def statuses(self) -> list[PostedStatus]:
        """Every status created so far, oldest first."""
        with self._lock:
            return list(self._statuses)

    def requests(
        self, method: str | None = None, path_prefix: str | None = None
    ) -> list[RecordedRequest]:
        """The requests received so far, in order, optionally only `method` / `path_prefix`."""
        with self._lock:
            return [
                r
                for r in self._requests
                if (method is None or r.method == method.upper())
                and (path_prefix is None or r.path.startswith(path_prefix))
            ]

    def clear_requests(self) -> None:
        """Forget the requests recorded so far (what they did stays)."""
        with self._lock:
            self._requests.clear()

    def duplicates(self) -> Duplicates:
        """Texts and Idempotency-Keys that produced more than one status (a status boosted
        twice counts as the text "boost of <id>")."""
        with self._lock:
            texts = Counter(
                s.text if s.reblog_of is None else f"boost of {s.reblog_of}" for s in self._statuses
            )
            keys = Counter(s.idempotency_key for s in self._statuses if s.idempotency_key)
        return Duplicates(
            {t: n for t, n in texts.items() if n > 1}, {k: n for k, n in keys.items() if n > 1}
        )

    def reset(self) -> None:
        """Forget statuses, media, keys, requests, injected failures, rate-limit windows, added
        accounts and a revocation; the configuration and the running server stay."""
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self._me = self._add_account(self.username)
        self._statuses: list[PostedStatus] = []
        self._by_id: dict[str, PostedStatus] = {}
        self._media: dict[str, _Media] = {}
        self._keys: dict[tuple[str, str], tuple[str, float]] = {}
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._slow: dict[str, _Slow] = {}
        self._in_flight: list[RecordedRequest] = []
        self._windows = {name: _Window(b) for name, b in self.budgets.items()}
        self._drops = 0
        self._revoked = False
        self._apps: dict[str, tuple[str, str, str]] = {}  # client_id -> secret, scopes, redirect
        self._remote: dict[str, str] = {}  # user@domain, lower-cased -> profile URL

    def _now(self) -> float:
        """The server's time, in epoch seconds."""
        return self.clock.now().timestamp()

    def _add_account(self, name: str) -> _Account:
        account = _Account(self._next_id(), name, self._now())
        self._accounts[name.lower()] = account
        return account

    def _next_id(self) -> str:
        # Snowflake-like, as Mastodon's: milliseconds shifted left 16 bits, strictly increasing.
        self._last_id = max(self._last_id + 1, int(self._now() * 1000) << 16)
        return str(self._last_id)

    # -- request handling (called by the handler threads) -----------------------------------

    def _delays(self, req: RecordedRequest) -> tuple[float, float]:
        """Real seconds to wait before and after handling `req`."""
        with self._lock:
            for prefix, slow in self._slow.items():
                if slow.seconds > 0 and req.path.startswith(prefix) and slow.take():
                    return (0.0, slow.seconds) if slow.after else (slow.seconds, 0.0)
        return 0.0, 0.0

    def _begin(self, req: RecordedRequest) -> None:
        with self._lock:
            self._in_flight.append(req)

    def _end(self, req: RecordedRequest) -> None:
        with self._lock:
            self._in_flight = [r for r in self._in_flight if r is not req]

    def _respond(self, req: RecordedRequest) -> _Reply:
        """Answer `req` under the lock, add rate-limit headers, record it."""
        with self._lock:
            try:
                reply = self._answer(req)
            except _Rejected as rejected:
                reply = rejected.reply
            except Exception:  # a bug here must fail the test loudly, not hang the client
                traceback.print_exc()
                reply = _Reply(500, {"error": "fake_mastodon crashed; see stderr"})
            reply.headers.update(self._windows[reply.family].headers(self._now()))
            self._requests.append(replace(req, status=None if reply.drop else reply.status))
            return reply

    def _answer(self, req: RecordedRequest) -> _Reply:
        injected = self._take_failure(req)
        if injected is not None:
            return injected
        if not self._windows["api"].take(self._now()):
            raise _Rejected(_Reply(429, {"error": TOO_MANY}, family="api"))
        slash = self.profile.trailing_slash
        if req.trailing_slash and req.path.startswith("/api/") and slash != "same":
            if slash == "404":
                raise _Rejected(_Reply(404, _NOT_FOUND_PAGE, is_html=True))
            return _Reply(301, {}, headers={"Location": req.path})
        for route in _ROUTES:
            match = route.pattern.fullmatch(req.path)
            if match and route.method == req.method:
                if route.name in self.profile.missing_routes:
                    break
                if not self._authorized(req) and (
                    not route.public or (self.profile.bad_token_everywhere and self._has_token(req))
                ):
                    raise self._bad_token()
                return route.handler(self, req, match)
        raise _error(404, NOT_FOUND)

    def _bad_token(self) -> _Rejected:
        status, text = self.profile.bad_token
        if self.profile.bad_token_html:
            return _Rejected(_Reply(status, text, is_html=True))
        return _error(status, text)

    def _has_token(self, req: RecordedRequest) -> bool:
        return req.headers.get("authorization", "").startswith("Bearer ")

    def _needs_read(self) -> None:
        """Takahē's verify_credentials: a granular `read:…` scope does not grant plain `read`."""
        if self.profile.verify_needs_read and "read" not in self.token_scopes:
            raise _error(403, "out_of_scope_for_token")

    def _take_failure(self, req: RecordedRequest) -> _Reply | None:
        for failure in self._failures:
            if req.path.startswith(failure.prefix) and failure.method in (None, req.method):
                if failure.skip > 0:
                    failure.skip -= 1
                    return None
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return _injected(failure.status, failure.error)
        return None

    def _authorized(self, req: RecordedRequest) -> bool:
        return not self._revoked and req.headers.get("authorization") == f"Bearer {self.token}"

    # -- routes: accounts and instance -------------------------------------------------------

    def _verify_credentials(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        self._needs_read()
        body = self._account_json(self._me)
        body["source"] = {"privacy": "public", "sensitive": False, "language": None, "note": ""}
        return _Reply(200, body)

    def _get_account(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        return _Reply(200, self._account_json(self._account(m["id"])))

    def _account_statuses(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        account = self._account(m["id"])
        shown = self.profile.own_list_visibilities
        mine = [s for s in self._statuses if s.visibility in shown] if account is self._me else []
        if _truthy(_first(req.query, "exclude_reblogs")):
            mine = [s for s in mine if s.reblog_of is None]
        return self._status_page(req, _filter_statuses(mine, req.query))

    def _home_timeline(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        # The account follows nobody here: its home is its own statuses, every visibility.
        return self._status_page(req, _filter_statuses(self._statuses, {}))

    def _status_page(self, req: RecordedRequest, newest_first: list[PostedStatus]) -> _Reply:
        limit = max(1, min(40, int(_first(req.query, "limit") or 20)))
        page = _page(newest_first, req.query, limit)
        reply = _Reply(200, [self._status_json(s) for s in page])
        link = self._link_header(req.path, limit, page)
        if link:
            reply.headers["Link"] = link
        return reply

    def _instance_v2(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        host = self.url.removeprefix("http://")
        return _Reply(
            200,
            {
                "domain": host,
                "title": "Fake Mastodon",
                "version": self.profile.version,
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A loopback stand-in for tests.",
                "usage": {"users": {"active_month": len(self._accounts)}},
                "thumbnail": {"url": f"{self.url}/thumbnail.png"},
                "languages": ["en"],
                "configuration": self._configuration(),
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "contact": {"email": "admin@example.invalid", "account": None},
                "rules": [],
                **(
                    {}
                    if self.profile.api_versions is None
                    else {"api_versions": dict(self.profile.api_versions)}
                ),
            },
        )

    def _nodeinfo_links(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        href = self.profile.nodeinfo_href.format(base=self.url)
        schema = "http://nodeinfo.diaspora.software/ns/schema/2.0"
        return _Reply(200, {"links": [{"rel": schema, "href": href}]})

    def _nodeinfo(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        name, version = self.profile.software
        body = {
            "version": "2.0",
            "software": {"name": name, "version": version},
            "protocols": ["activitypub"],
            "usage": {"users": {"total": len(self._accounts)}},
            "openRegistrations": False,
        }
        return _Reply(200, body)

    def _instance_v1(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        return _Reply(
            200,
            {
                "uri": self.url.removeprefix("http://"),
                "title": "Fake Mastodon",
                "short_description": "A loopback stand-in for tests.",
                "description": "",
                "email": "admin@example.invalid",
                "version": self.profile.version,
                "urls": {"streaming_api": self.url.replace("http", "ws", 1)},
                "stats": {"user_count": len(self._accounts), "status_count": len(self._statuses)},
                "languages": ["en"],
                "registrations": False,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": self._configuration(),
                "contact_account": None,
                "rules": [],
            },
        )

    def _configuration(self) -> dict[str, Any]:
        limits = self.profile.limits
        media: dict[str, Any] = {
            "supported_mime_types": list(limits.media_types),
            "image_size_limit": limits.image_size_limit,
            "image_matrix_limit": 33177600,
            "video_size_limit": limits.video_size_limit,
            "video_frame_rate_limit": 120,
            "video_matrix_limit": 8294400,
        }
        if self.description_limit is not None:
            media["description_limit"] = self.description_limit
        return {
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": self.max_media_attachments,
                "characters_reserved_per_url": self.characters_reserved_per_url,
            },
            "media_attachments": media,
            "polls": {"max_options": 4, "max_characters_per_option": 50},
        }

    # -- routes: OAuth ---------------------------------------------------------------------

    def _create_app(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        n = len(self._apps) + 1
        client_id, secret = f"client-id-{n}", f"client-secret-{n}"
        scopes = _first(req.fields, "scopes") or "read"
        redirect = _first(req.fields, "redirect_uris") or ""
        self._apps[client_id] = (secret, scopes, redirect)
        body = {
            "id": str(n),
            "name": _first(req.fields, "client_name") or "",
            "website": _first(req.fields, "website"),
            "scopes": scopes.split(),
            "redirect_uri": redirect,
            "redirect_uris": redirect.split(),
            "client_id": client_id,
            "client_secret": secret,
        }
        return _Reply(200, body)

    def _oauth_token(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        app = self._apps.get(_first(req.fields, "client_id") or "")
        if app is None or app[0] != _first(req.fields, "client_secret"):
            raise _Rejected(_Reply(401, {"error": "invalid_client"}))
        granted = _first(req.fields, "grant_type") == "authorization_code"
        if not granted or _first(req.fields, "code") != self.oauth_code:
            message = "The provided authorization grant is invalid, expired or revoked."
            raise _Rejected(_Reply(400, {"error": "invalid_grant", "error_description": message}))
        scope = _first(req.fields, "scope") or app[1]
        self.token_scopes = tuple(scope.split())
        body = {
            "access_token": self.token,
            "token_type": "Bearer",
            "scope": scope,
            "created_at": int(self._now()),
        }
        return _Reply(200, body)

    def _app_credentials(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        kind = self.profile.app_credentials
        if kind == "missing":  # GoToSocial routes it as GET /api/v1/apps/:id
            if "read" in self.token_scopes:
                raise _error(404, "Not Found")
            raise _error(403, "Forbidden: token has insufficient scope permission")
        self._needs_read()
        body: dict[str, Any] = {"name": "tootback", "website": None}
        if kind == "scopes":
            body["scopes"] = list(self.token_scopes)
        return _Reply(200, body)

    # -- routes: statuses --------------------------------------------------------------------

    def _get_status(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        status = self._by_id.get(m["id"])
        if status is None:
            raise _error(404, NOT_FOUND)
        return _Reply(200, self._status_json(status))

    def _post_status(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        # Mastodon's order: the replied-to status must exist (controller), then a remembered
        # key answers with its status, then validation, then the statuses budget on create.
        reply_to = _first(req.fields, "in_reply_to_id")
        if reply_to and reply_to not in self._by_id:
            raise _error(404, REPLY_NOT_FOUND)
        quoted = _first(req.fields, "quoted_status_id")
        if quoted and self._takes_quotes() and quoted not in self._by_id:
            raise _error(404, NOT_FOUND)
        key = req.headers.get("idempotency-key")
        if key and self.profile.replay == "no-body" and self._key_under_way(req, key):
            raise _error(409, KEY_UNDER_WAY)
        known = self._remembered(key)
        if known is not None:
            body = {} if self.profile.replay == "no-body" else self._status_json(known)
            return _Reply(200, body, family="statuses")
        media = self._attachable_media(req.fields)
        self._check_text(req.fields, bool(media))
        if not self._windows["statuses"].take(self._now()):
            raise _Rejected(_Reply(429, {"error": TOO_MANY}, family="statuses"))
        status = self._create_status(req.fields, key, media)
        drop = self._drops > 0
        self._drops -= int(drop)
        return _Reply(200, self._status_json(status), family="statuses", drop=drop)

    def _key_under_way(self, req: RecordedRequest, key: str) -> bool:
        """Whether another status request with `key` arrived and is not answered yet."""
        return any(
            r is not req
            and r.method == "POST"
            and r.path == req.path
            and r.headers.get("idempotency-key") == key
            for r in self._in_flight
        )

    def _remembered(self, key: str | None) -> PostedStatus | None:
        ttl = self.profile.idempotency_ttl
        entry = self._keys.get(self._key_slot(key)) if key and ttl is not None else None
        if entry is None or ttl is None or self._now() - entry[1] >= ttl:
            return None
        return self._by_id.get(entry[0])

    def _key_slot(self, key: str) -> tuple[str, str]:
        """Where a key is remembered: per account (Mastodon) or one namespace per server."""
        owner = self._me.id if self.profile.idempotency_scope == "account" else "*"
        return owner, key

    def _attachable_media(self, fields: Fields) -> list[_Media]:
        ids = _values(fields, "media_ids")
        if len(ids) > self.max_media_attachments:
            raise _error(422, f"Cannot attach more than {self.max_media_attachments} files")
        # Like Mastodon, ids that are unknown or already attached are silently ignored.
        media = [self._media[i] for i in ids if i in self._media]
        media = [x for x in media if x.status_id is None]
        if len(media) > 1 and any(x.kind in _ASYNC_KINDS for x in media):
            raise _error(422, MEDIA_MIXED)
        if any(x.polls_left > 0 for x in media):
            raise _error(422, MEDIA_NOT_READY)
        return media

    def _check_text(self, fields: Fields, has_media: bool) -> None:
        text = _first(fields, "status") or ""
        if not text.strip() and not has_media:
            raise _error(422, "Validation failed: Text can't be blank")
        length = self.profile.status_length(text, _first(fields, "spoiler_text") or "")
        if length > self.max_characters:
            status, message = self.profile.too_long
            raise _error(status, message.format(limit=self.max_characters))
        visibility = _first(fields, "visibility") or "public"
        if visibility not in _VISIBILITIES:
            raise _error(422, f"'{visibility}' is not a valid visibility")

    def _create_status(self, fields: Fields, key: str | None, media: list[_Media]) -> PostedStatus:
        sid = self._next_id()
        text = _first(fields, "status") or ""
        status = PostedStatus(
            id=sid,
            text=text,
            url=self.profile.status_url.format(base=self.url, username=self._me.username, id=sid),
            created_at=self._now(),
            idempotency_key=key,
            in_reply_to_id=_first(fields, "in_reply_to_id") or None,
            media_ids=tuple(x.id for x in media),
            visibility=_first(fields, "visibility") or "public",
            language=_first(fields, "language") or None,
            spoiler_text=_first(fields, "spoiler_text") or "",
            sensitive=_truthy(_first(fields, "sensitive")),
            mentions=tuple(a.username for a in self._mentioned(text)),
            # A server before Mastodon API 7 ignores the parameter, as real ones do.
            quoted_status_id=(_first(fields, "quoted_status_id") or None)
            if self._takes_quotes()
            else None,
        )
        for attachment in media:
            attachment.status_id = sid
        self._statuses.append(status)
        self._by_id[sid] = status
        if key and self.profile.idempotency_ttl is not None:
            self._keys[self._key_slot(key)] = (sid, self._now())
        return status

    def _takes_quotes(self) -> bool:
        """Quote posts: Mastodon API version 7 (Mastodon 4.5) and later."""
        return (self.profile.api_versions or {}).get("mastodon", 0) >= 7

    def _reblog(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        # Mastodon's ReblogService: one boost per account and status; boosting again
        # answers with the boost there is (GoToSocial boosts again: `reblog_again`).
        # A boost counts against the statuses budget.
        target = self._by_id.get(m["id"])
        if target is None or target.reblog_of is not None:
            raise _error(404, NOT_FOUND)
        existing = next((s for s in self._statuses if s.reblog_of == target.id), None)
        if existing is not None and not self.profile.reblog_again:
            return _Reply(200, self._status_json(existing), family="statuses")
        if not self._windows["statuses"].take(self._now()):
            raise _Rejected(_Reply(429, {"error": TOO_MANY}, family="statuses"))
        sid = self._next_id()
        boost = PostedStatus(
            id=sid,
            text="",
            url=f"{self.url}/users/{self._me.username}/statuses/{sid}/activity",
            created_at=self._now(),
            idempotency_key=None,
            in_reply_to_id=None,
            media_ids=(),
            visibility=_first(req.fields, "visibility") or "public",
            language=None,
            spoiler_text="",
            sensitive=False,
            mentions=(),
            reblog_of=target.id,
        )
        self._statuses.append(boost)
        self._by_id[sid] = boost
        drop = self._drops > 0
        self._drops -= int(drop)
        return _Reply(200, self._status_json(boost), family="statuses", drop=drop)

    def _mentioned(self, text: str) -> list[_Account]:
        """Local accounts a bare `@name` in `text` names; `@name@domain` is remote, and a
        remote lookup of twitter.com or similar finds nobody, so it mentions no one."""
        found: dict[str, _Account] = {}
        for match in _MENTION_RE.finditer(text):
            account = self._accounts.get(match[1].lower())
            if match[2] is None and account is not None:
                found[account.id] = account
        return list(found.values())

    # -- routes: media -----------------------------------------------------------------------

    def _post_media(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        # The media budget is enforced in front of the app (rack-attack), before validation.
        if not self._windows["media"].take(self._now()):
            raise _Rejected(_Reply(429, {"error": TOO_MANY}, family="media"))
        upload = req.files.get("file")
        if upload is None:
            raise _error(422, "Validation failed: File can't be blank")
        kind = _media_kind(upload)
        if kind is None:
            raise _error(422, "Validation failed: File content type is invalid")
        if kind in self.profile.refused_media:
            status, text = self.profile.media_refusal
            raise _Rejected(_injected(status, text))
        limits = self.profile.limits
        limit = limits.image_size_limit if kind == "image" else limits.video_size_limit
        if upload.size > limit:
            megabytes = limit // (1024 * 1024)
            raise _error(422, f"Validation failed: File file size must be less than {megabytes} MB")
        description = self._checked_description(_first(req.fields, "description"))
        # v1 processes synchronously; v2 hands video, GIF and audio to a background job.
        deferred = (
            kind in _ASYNC_KINDS and req.path.startswith("/api/v2/") and not self.profile.media_sync
        )
        polls = self.media_processing_polls if deferred else 0
        media = _Media(self._next_id(), kind, upload.filename, description, polls)
        self._media[media.id] = media
        return _Reply(202 if deferred else 200, self._media_json(media, deferred))

    def _checked_description(self, description: str | None) -> str | None:
        limit = self.description_limit
        if description is not None and limit is not None and len(description) > limit:
            raise _error(
                422, f"Validation failed: Description is too long (maximum is {limit} characters)"
            )
        return description

    def _get_media(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        media = self._unattached_media(m["id"])
        if media.polls_left > 0:
            media.polls_left -= 1
            return _Reply(206, self._media_json(media, processing=True))
        return _Reply(200, self._media_json(media, processing=False))

    def _put_media(self, req: RecordedRequest, m: re.Match[str]) -> _Reply:
        media = self._unattached_media(m["id"])
        if "description" in req.fields:
            media.description = self._checked_description(_first(req.fields, "description"))
        processing = media.polls_left > 0
        return _Reply(206 if processing else 200, self._media_json(media, processing))

    def _unattached_media(self, media_id: str) -> _Media:
        media = self._media.get(media_id)
        if media is None or media.status_id is not None:
            raise _error(404, NOT_FOUND)
        return media

    # -- JSON rendering ----------------------------------------------------------------------

    def _account(self, account_id: str) -> _Account:
        for account in self._accounts.values():
            if account.id == account_id:
                return account
        raise _error(404, NOT_FOUND)

    def _account_json(self, account: _Account) -> dict[str, Any]:
        mine = self._statuses if account is self._me else []
        profile = f"{self.url}/@{account.username}"
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.username,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": _iso(account.created_at),
            "note": "",
            "url": profile,
            "uri": f"{self.url}/users/{account.username}",
            "avatar": f"{self.url}/avatars/original/missing.png",
            "avatar_static": f"{self.url}/avatars/original/missing.png",
            "header": f"{self.url}/headers/original/missing.png",
            "header_static": f"{self.url}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": len(mine),
            "last_status_at": _iso(mine[-1].created_at)[:10] if mine else None,
            "emojis": [],
            "fields": [],
        }

    def _status_json(self, status: PostedStatus, depth: int = 0) -> dict[str, Any]:
        mentioned = [
            self._accounts[n.lower()] for n in status.mentions if n.lower() in self._accounts
        ]
        return {
            "id": status.id,
            "created_at": _iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": self._me.id if status.in_reply_to_id else None,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{self.url}/users/{self._me.username}/statuses/{status.id}",
            "url": status.url,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": any(s.reblog_of == status.id for s in self._statuses),
            "muted": False,
            "bookmarked": False,
            "pinned": False,
            "content": _render(status.text, mentioned, self.url, self._remote),
            "reblog": self._nested(status.reblog_of, depth),
            **self._quote_json(status, depth),
            "application": {"name": "fake_mastodon", "website": None},
            "account": self._account_json(self._me),
            "media_attachments": [
                self._media_json(self._media[i], False)
                for i in status.media_ids
                if i in self._media
            ],
            "mentions": [self._mention_json(a) for a in mentioned],
            "tags": [
                {"name": t.lower(), "url": f"{self.url}/tags/{t.lower()}"}
                for t in dict.fromkeys(_HASHTAG_RE.findall(status.text))
            ],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _nested(self, status_id: str | None, depth: int) -> dict[str, Any] | None:
        target = self._by_id.get(status_id) if status_id else None
        return None if target is None else self._status_json(target, depth + 1)

    def _quote_json(self, status: PostedStatus, depth: int) -> dict[str, Any]:
        """Mastodon 4.5's `quote`: the quoted status in full at the top, only its id
        (a ShallowQuote) further down; no key at all before API 7."""
        if not self._takes_quotes():
            return {}
        quoted = status.quoted_status_id
        if quoted is None:
            return {"quote": None}
        if depth > 0:
            return {"quote": {"state": "accepted", "quoted_status_id": quoted}}
        return {"quote": {"state": "accepted", "quoted_status": self._nested(quoted, depth)}}

    def _mention_json(self, account: _Account) -> dict[str, str]:
        return {
            "id": account.id,
            "username": account.username,
            "url": f"{self.url}/@{account.username}",
            "acct": account.username,
        }

    def _media_json(self, media: _Media, processing: bool) -> dict[str, Any]:
        url = (
            None
            if processing
            else f"{self.url}/system/media_attachments/{media.id}/{media.filename}"
        )
        return {
            "id": media.id,
            "type": media.kind,
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {},
            "description": media.description,
            "blurhash": None,
        }

    def _link_header(self, path: str, limit: int, page: list[PostedStatus]) -> str | None:
        if not page:
            return None
        links = []
        # Mastodon offers `next` only when the page came back full.
        if len(page) == limit:
            query = urlencode({"limit": limit, "max_id": page[-1].id})
            links.append(f'<{self.url}{path}?{query}>; rel="next"')
        query = urlencode({"limit": limit, "min_id": page[0].id})
        links.append(f'<{self.url}{path}?{query}>; rel="prev"')
        return ", ".join(links)


_RouteHandler = Callable[[FakeMastodon, RecordedRequest, "re.Match[str]"], _Reply]


@dataclass(frozen=True)
class _Route:
    """name: as a profile's `missing_routes` names it; public: needs no token, as on Mastodon."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: _RouteHandler
    public: bool = False


def _route(
    name: str, method: str, path: str, handler: _RouteHandler, public: bool = False
) -> _Route:
    return _Route(name, method, re.compile(path), handler, public)


_ROUTES: list[_Route] = [
    _route(
        "verify_credentials",
        "GET",
        r"/api/v1/accounts/verify_credentials",
        FakeMastodon._verify_credentials,
    ),
    _route("account", "GET", r"/api/v1/accounts/(?P<id>\d+)", FakeMastodon._get_account),
    _route(
        "account_statuses",
        "GET",
        r"/api/v1/accounts/(?P<id>\d+)/statuses",
        FakeMastodon._account_statuses,
    ),
    _route("instance_v2", "GET", r"/api/v2/instance", FakeMastodon._instance_v2, public=True),
    _route("instance_v1", "GET", r"/api/v1/instance", FakeMastodon._instance_v1, public=True),
    _route("nodeinfo", "GET", r"/\.well-known/nodeinfo", FakeMastodon._nodeinfo_links, public=True),
    _route("nodeinfo", "GET", r"/nodeinfo/2\.0", FakeMastodon._nodeinfo, public=True),
    _route("status", "GET", r"/api/v1/statuses/(?P<id>\d+)", FakeMastodon._get_status),
    _route("timelines_home", "GET", r"/api/v1/timelines/home", FakeMastodon._home_timeline),
    _route("post_status", "POST", r"/api/v1/statuses", FakeMastodon._post_status),
    _route("reblog", "POST", r"/api/v1/statuses/(?P<id>\d+)/reblog", FakeMastodon._reblog),
    _route("post_media", "POST", r"/api/v[12]/media", FakeMastodon._post_media),
    _route("media", "GET", r"/api/v1/media/(?P<id>\d+)", FakeMastodon._get_media),
    _route("put_media", "PUT", r"/api/v1/media/(?P<id>\d+)", FakeMastodon._put_media),
    _route("create_app", "POST", r"/api/v1/apps", FakeMastodon._create_app, public=True),
    _route(
        "app_credentials",
        "GET",
        r"/api/v1/apps/verify_credentials",
        FakeMastodon._app_credentials,
    ),
    _route("oauth_token", "POST", r"/oauth/token", FakeMastodon._oauth_token, public=True),
]


_NOT_FOUND_PAGE = "<!DOCTYPE html><html><head><title>Not Found</title></head></html>"


def _injected(status: int, error: str | None = None) -> _Reply:
    if status >= 500 and error is not None:  # an application error: Mastodon's JSON
        return _Reply(status, {"error": error})
    if status >= 500:
        title = f"{status} Service Unavailable" if status == 503 else f"{status} Server Error"
        title = error or title
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return _Reply(status, page, is_html=True)
    if status == 429:
        return _Reply(status, {"error": TOO_MANY})
    return _Reply(status, {"error": error or f"Injected failure {status}"})


def _filter_statuses(statuses: list[PostedStatus], query: Fields) -> list[PostedStatus]:
    """Newest first, without pinned-only, media-only or reply filters the caller asked for."""
    if _truthy(_first(query, "pinned")):
        return []
    if _truthy(_first(query, "only_media")):
        statuses = [s for s in statuses if s.media_ids]
    # Every reply here is a self-reply, which Mastodon's exclude_replies keeps.
    return sorted(statuses, key=lambda s: int(s.id), reverse=True)


def _page(newest_first: list[PostedStatus], query: Fields, limit: int) -> list[PostedStatus]:
    """Apply max_id / since_id / min_id and `limit` the way Mastodon paginates by id."""
    bounds = {
        name: int(v) for name in ("max_id", "since_id", "min_id") if (v := _first(query, name))
    }
    items = [
        s
        for s in newest_first
        if int(s.id) < bounds.get("max_id", 1 << 80) and int(s.id) > bounds.get("since_id", -1)
    ]
    if "min_id" in bounds:
        # min_id asks for the page just above it: the oldest `limit` newer ones.
        newer = [s for s in items if int(s.id) > bounds["min_id"]]
        return list(reversed(list(reversed(newer))[:limit]))
    return items[:limit]


def _media_kind(upload: UploadedFile) -> str | None:
    mime = upload.content_type.lower()
    name = upload.filename.lower()
    if mime == "image/gif" or name.endswith(".gif"):
        return "gifv"
    for kind, suffixes in (
        ("image", (".jpg", ".jpeg", ".png", ".webp", ".heic", ".avif")),
        ("video", (".mp4", ".m4v", ".mov", ".webm")),
        ("audio", (".mp3", ".ogg", ".wav", ".m4a", ".flac")),
    ):
        if mime.startswith(kind + "/") or name.endswith(suffixes):
            return kind
    return None


# -- content rendering, as Mastodon's TextFormatter does it -----------------------------------


def _render(text: str, mentioned: list[_Account], base: str, remote: Mapping[str, str]) -> str:
    """Status text to Mastodon's HTML: escaped, links shortened, local mentions, known remote
    mentions (shown as `@user`) and hashtags linked, paragraphs on blank lines and `<br />` on
    single newlines."""
    if not text:
        return ""
    local = {a.username.lower() for a in mentioned}
    out, pos = [], 0
    for start, end, markup in _entities(text, local, base, remote):
        if start >= pos:
            out += [html.escape(text[pos:start], quote=False), markup]
            pos = end
    out.append(html.escape(text[pos:], quote=False))
    paragraphs = re.split(r"\n\n+", "".join(out).replace("\r\n", "\n"))
    return "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)


def _entities(
    text: str, local: set[str], base: str, remote: Mapping[str, str]
) -> list[tuple[int, int, str]]:
    found = [(m.start(3), m.end(3), _link_html(m[3])) for m in url_regex.finditer(text)]
    for m in _MENTION_RE.finditer(text):
        if m[2] is None and m[1].lower() in local:
            found.append((m.start(), m.end(), _mention_html(m[1], f"{base}/@{m[1]}")))
        elif m[2] is not None and (profile := remote.get(f"{m[1]}@{m[2]}".lower())):
            found.append((m.start(), m.end(), _mention_html(m[1], profile)))
    for m in _HASHTAG_RE.finditer(text):
        found.append((m.start(), m.end(), _hashtag_html(m[1], base)))
    return sorted(found)


def _link_html(url: str) -> str:
    prefix = re.match(r"https?://(www\.)?", url)
    cut = prefix.end() if prefix else 0
    shown, rest = url[cut : cut + 30], url[cut + 30 :]
    e = html.escape
    return (
        f'<a href="{e(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        f'<span class="invisible">{e(url[:cut])}</span>'
        f'<span class="{"ellipsis" if rest else ""}">{e(shown)}</span>'
        f'<span class="invisible">{e(rest)}</span></a>'
    )


def _mention_html(username: str, profile: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(profile)}" '
        f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>'
    )


def _hashtag_html(tag: str, base: str) -> str:
    return (
        f'<a href="{base}/tags/{tag.lower()}" class="mention hashtag" rel="tag">'
        f"#<span>{html.escape(tag)}</span></a>"
    )


# -- HTTP plumbing ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a killed client or a slow() answer must never block stop()

    def __init__(self, fake: FakeMastodon) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients killed mid-request (the end-to-end tests do it on purpose) are not errors.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive threads outlive a test.
    protocol_version = "HTTP/1.0"
    timeout = 30
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the recorded requests are the log."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Mastodon.py corrects X-RateLimit-Reset by the Date header, so both use the clock.
        return formatdate(self.server.fake._now() if timestamp is None else timestamp, usegmt=True)

    def _serve(self) -> None:
        fake = self.server.fake
        try:
            req = self._read_request(fake._now())
        except ValueError:  # an undecodable body, which Mastodon answers with 400
            self._write(_Reply(400, {"error": BAD_PARAMETERS}))
            return
        if req is None:  # the client went away before sending its whole body
            self.close_connection = True
            return
        fake._begin(req)
        try:
            before, after = fake._delays(req)
            fake._hold(before)
            reply = fake._respond(req)
            fake._hold(after)
        finally:
            fake._end(req)
        if reply.drop:
            self.close_connection = True
            return
        self._write(reply)

    def _read_request(self, now: float) -> RecordedRequest | None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            return None
        split = urlsplit(self.path)
        fields, files = _parse_body(self.headers.get("Content-Type", ""), body)
        return RecordedRequest(
            method=self.command,
            path=split.path.rstrip("/") or "/",
            trailing_slash=len(split.path) > 1 and split.path.endswith("/"),
            query=_tuples(parse_qs(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            fields=fields,
            files=files,
            at=now,
        )

    def _write(self, reply: _Reply) -> None:
        if reply.is_html:
            payload, ctype = str(reply.body).encode(), "text/html; charset=utf-8"
        else:
            payload, ctype = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _tuples(values: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in values.items()}


def _parse_body(content_type: str, body: bytes) -> tuple[Fields, Mapping[str, UploadedFile]]:
    """Form, JSON or multipart fields (and multipart files) of a request body."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _tuples(parse_qs(body.decode(), keep_blank_values=True)), {}
    if kind == "application/json" and body:
        return _json_fields(json.loads(body)), {}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return {}, {}


def _json_fields(data: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        return {}
    return {
        k: tuple(_scalar(x) for x in v) if isinstance(v, list) else (_scalar(v),)
        for k, v in data.items()
        if v is not None
    }


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _parse_multipart(content_type: str, body: bytes) -> tuple[Fields, Mapping[str, UploadedFile]]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        return {}, {}
    fields: dict[str, list[str]] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(b"--" + boundary[1].encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers = _part_headers(head.decode("utf-8", "replace"))
        data = data.removesuffix(b"\r\n")
        params = dict(re.findall(r'(\w+)="([^"]*)"', headers.get("content-disposition", "")))
        name = params.get("name", "")
        if "filename" in params:
            ctype = headers.get("content-type", "application/octet-stream")
            files[name] = UploadedFile(params["filename"], ctype, len(data))
        else:
            fields.setdefault(name, []).append(data.decode())
    return _tuples(fields), files


def _part_headers(head: str) -> dict[str, str]:
    pairs = (line.partition(":") for line in head.strip().splitlines())
    return {name.strip().lower(): value.strip() for name, _, value in pairs}
