"""What tootback asks a Mastodon-API server, and what comes back as frozen values.

`MastodonClient` is the one object that holds a connection: the account of
the token and the instance's limits (each asked once, then cached), media
uploads (polled until processed), statuses with an Idempotency-Key (sent
once: a lost answer is Unconfirmed, never retried blindly), one status by id,
and the account's own recent statuses, from its own list or, where a server
leaves some visibilities out of that list, its home timeline. Every request
goes through `RequestPolicy`
(rate limits, retries, errors in the project's tree; see `bot.client.policy`).
Mastodon.py does the HTTP; its dicts never leave this module, and the access
token appears in no message and no repr.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import mastodon
import requests
from pydantic import SecretStr

from bot.client.budgets import Budgets
from bot.client.content import html_to_text
from bot.client.identity import USER_AGENT, mastodon_api
from bot.client.instance import get_json, read_profile
from bot.client.policy import OnWait, RequestPolicy
from bot.clock import Clock
from bot.errors import AuthError, Rejected, Unavailable, Unconfirmed
from bot.model import InstanceLimits
from bot.profile import ServerProfile

MEDIA_POLLS = 60
RECENT_BOOSTS = 80  # the account's latest statuses searched for a boost whose answer was lost
MEDIA_FIRST_DELAY = 1.0
MEDIA_MAX_DELAY = 10.0
PAGE_SIZE = 40


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
    """One of the account's own statuses, its HTML content reduced to plain text.

    boost_of: for a boost, the id of the status it boosts (its text is then empty).
    """

    id: str
    url: str
    text_plain: str
    created_at: datetime
    in_reply_to_id: str | None
    visibility: str = "public"
    media_count: int = 0
    boost_of: str | None = None


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
    on_wait: told before every wait for the server (an outage, a rate limit): what
        was being done, why it waits, until when.
    budgets: spend the statuses and media budgets evenly (a backfill); see
        `budgets.Budgets`, kept as `self.budgets` for the ETA.
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
        on_wait: OnWait | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.budgets = budgets
        secret = token.get_secret_value()
        self._policy = RequestPolicy(
            clock,
            secret,
            server=self.base_url,
            max_retries=max_retries,
            max_wait=max_wait,
            random=random,
            on_wait=on_wait,
            budgets=budgets,
        )
        self._account: Account | None = None
        self._profile: ServerProfile | None = None
        self._timeout = timeout
        self._api = mastodon_api(
            self.base_url, session=session, timeout=timeout, ratelimit_method="throw"
        )
        # Set after construction: Mastodon.py reads `access_token` as a file name
        # when a file of that name happens to exist.
        self._api.access_token = secret
        self._api.session.hooks["response"].append(self._policy.observe)

    def __repr__(self) -> str:
        return f"MastodonClient(base_url={self.base_url!r})"

    def account(self) -> Account:
        """The token's account; asks the server once (verify_credentials), then caches it.

        Raises AuthError when the token is refused, or another MastodonError.
        """
        if self._account is None:
            raw = self._policy.call(
                "checking the access token", self._api.account_verify_credentials
            )
            self._account = Account(
                id=str(raw["id"]),
                acct=str(raw["acct"]),
                url=str(raw.get("url") or ""),
                instance=self.base_url,
                statuses_count=_count(raw.get("statuses_count")),
            )
        return self._account

    def profile(self, remembered: ServerProfile | None = None) -> ServerProfile:
        """What the server says about itself (bot.client.instance); read once, then cached.

        One request for the instance document (two when v2 is missing), and two
        for nodeinfo unless `remembered` (the profile the state file keeps)
        shows the same instance with the same version.
        """
        if self._profile is None:
            now = self.clock.now()
            self._profile = read_profile(self._get, self.base_url, now, remembered)
        return self._profile

    def limits(self) -> InstanceLimits:
        """The instance's limits, from its profile; Mastodon's defaults where it says nothing."""
        return self.profile().limits

    def scopes(self) -> tuple[str, ...] | None:
        """The token's scopes, from GET /api/v1/apps/verify_credentials.

        None when the server does not say: Mastodon reports them since 4.3;
        GoToSocial has no such endpoint (404, or 403 for a token without
        `read:applications`); Takahē refuses it a token without plain `read`
        (403). Call `account()` first: only a token that passed it has its
        403 taken as "not said" rather than as a refusal.
        """
        try:
            raw = self._policy.call("reading the token's scopes", self._api.app_verify_credentials)
        except (AuthError, Rejected) as exc:
            if self._account is None or exc.status not in (403, 404):
                raise
            return None
        scopes = raw.get("scopes")
        return tuple(str(s) for s in scopes) if isinstance(scopes, list) else None

    def _get(self, what: str, path: str, *, token: bool = True) -> Any:
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {self._api.access_token}"
        url = self.base_url + path
        return self._policy.call(
            what,
            lambda: get_json(self._api.session, url, headers=headers, timeout=self._timeout),
        )

    def upload_media(
        self, data: bytes, filename: str, mime_type: str, description: str | None
    ) -> str:
        """Upload one file with its alt text and return the media id.

        Video and GIFs are processed after the upload (HTTP 202): this polls
        GET /api/v1/media/:id with growing delays until the file is ready,
        at most MEDIA_POLLS times, then raises Unavailable.
        """
        what = f"uploading {filename}"
        media = self._policy.call(
            what,
            lambda: self._api.media_post(
                data, mime_type=mime_type, description=description or None, file_name=filename
            ),
            "media",
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
        sensitive: bool = False,
        quoted_status_id: str | None = None,
    ) -> PostedStatus:
        """POST /api/v1/statuses with an Idempotency-Key, once (a 429 is waited out).

        Empty `language`, `spoiler_text` or `quoted_status_id` (a quote post
        of that status, Mastodon API 7) are left out. Returns the created
        status with the URL the server gave (asked with GET when the answer has
        none). Raises Unconfirmed when the outcome is unknown: the answer was lost
        (network failure, timeout, 5xx), or it came without the status (2xx with no
        id, 409 while a request with the same key is under way); the caller looks
        for the status before sending it again. Raises Rejected (4xx) with the
        server's reason, AuthError, RateLimited or Interrupted.
        """
        what = "posting a status"
        try:
            status = self._policy.call(
                what,
                lambda: self._api.status_post(
                    text,
                    in_reply_to_id=in_reply_to_id,
                    media_ids=list(media_ids) or None,
                    visibility=visibility,
                    language=language or None,
                    spoiler_text=spoiler_text or None,
                    sensitive=sensitive,
                    quoted_status_id=quoted_status_id or None,
                    idempotency_key=idempotency_key,
                ),
                "statuses",
                resend=False,
            )
        except Rejected as exc:
            if exc.status == 409:
                message = f"{exc} (a request with the same key is under way)"
                raise Unconfirmed(message, 409, answered=True) from None
            raise
        status_id = status.get("id") if isinstance(status, Mapping) else None
        if not status_id:
            raise Unconfirmed(
                f"{what}: the server answered without the status (a repeated "
                "Idempotency-Key answered with no body)",
                answered=True,
            )
        url = str(status.get("url") or status.get("uri") or "")
        return PostedStatus(
            id=str(status_id),
            url=url or self.status(str(status_id)).url,
            created_at=self._time(status.get("created_at")),
        )

    def reblog(self, status_id: str, *, visibility: str = "public") -> PostedStatus:
        """POST /api/v1/statuses/:id/reblog: boost one of the account's statuses, once.

        Sent once, as statuses are (a 429 is waited out): a boost whose answer
        was lost raises Unconfirmed, and the caller looks for it (`own_boost`)
        before boosting again; Mastodon answers a second boost with the first,
        but not every server does. Returns the boost; raises Rejected (the status
        is gone, or cannot be boosted), AuthError, RateLimited or Interrupted.
        """
        what = "boosting a status"
        status = self._policy.call(
            what,
            lambda: self._api.status_reblog(status_id, visibility=visibility),
            resend=False,
        )
        boost_id = status.get("id") if isinstance(status, Mapping) else None
        if not boost_id:
            raise Unconfirmed(f"{what}: the server answered without the boost", answered=True)
        return PostedStatus(
            id=str(boost_id),
            url=str(status.get("url") or status.get("uri") or ""),
            created_at=self._time(status.get("created_at")),
        )

    def own_boost(self, status_id: str, limit: int = RECENT_BOOSTS) -> str | None:
        """The id of the account's boost of status `status_id`, among its latest
        statuses (boosts included); None when there is none. Recovery only: a boost
        whose answer was lost is looked for before it is sent again."""
        fetch = partial(self._api.account_statuses, self.account().id)
        for page in self._pages("reading the account's boosts", fetch, limit):
            for raw in page:
                if _boosted(raw) == status_id:
                    return str(raw["id"])
        return None

    def status(self, status_id: str) -> OwnStatus:
        """GET /api/v1/statuses/:id: one status, with the `url` the server gives it."""
        raw = self._policy.call(f"reading status {status_id}", partial(self._api.status, status_id))
        return self._own_status(raw)

    def own_statuses(
        self,
        limit: int = 200,
        *,
        since: datetime | None = None,
        home: bool = False,
        boosts: bool = False,
    ) -> list[OwnStatus]:
        """The account's most recent statuses, newest first.

        limit: read at most this many statuses.
        since: stop after the first page that reaches back before this time.
        home: read the home timeline (keeping the account's own statuses) instead of
            the account's own list, which some servers (Takahe) show without the
            owner's private and direct statuses.
        boosts: keep the account's boosts too (`OwnStatus.boost_of`).

        Pages of PAGE_SIZE; stops at a short page, so requests = ceil(limit / 40) at most.
        """
        account_id = self.account().id
        fetch: Callable[..., Any]
        if home:
            fetch, what = self._api.timeline_home, "reading the home timeline"
        else:
            fetch = partial(self._api.account_statuses, account_id, exclude_reblogs=not boosts)
            what = "reading the account's statuses"
        author = account_id if home else None  # the own list holds nobody else's
        found: list[OwnStatus] = []
        for page in self._pages(what, fetch, limit):
            found += [self._own_status(r) for r in page if _kept(r, author, boosts)]
            if since is not None and page and self._time(page[-1].get("created_at")) < since:
                break
        return found

    def _pages(self, what: str, fetch: Callable[..., Any], limit: int) -> Iterator[list[Any]]:
        """The pages of a list of statuses, newest first, PAGE_SIZE at a time (`fetch`
        takes `max_id` and `limit`), `limit` statuses at most; a short page is the last."""
        max_id: str | None = None
        read = 0
        while read < limit:
            size = min(PAGE_SIZE, limit - read)
            page = self._policy.call(what, partial(fetch, max_id=max_id, limit=size))
            yield page
            read += len(page)
            if len(page) < size:
                return
            max_id = str(page[-1]["id"])

    def reachable(self) -> bool:
        """Whether the server answers a plain request now: one verify_credentials, no
        retry. Tells an outage from a request that only one toot keeps failing."""
        try:
            self._api.account_verify_credentials()
        except mastodon.MastodonError:
            return False
        return True

    @property
    def max_retries(self) -> int:
        """Retries after a 5xx, network failure or 429 before giving up."""
        return self._policy.max_retries

    def retry_delay(self, failures: int) -> float:
        """Seconds to wait after `failures` failed attempts (the policy's backoff)."""
        return self._policy.backoff(failures)

    def wait(self, what: str, seconds: float, why: str) -> None:
        """Wait `seconds` on the client's clock, told to `on_wait` like the client's own
        waits; raises Interrupted when a stop request ends it."""
        self._policy.sleep(what, seconds, why)

    def _wait_for_media(self, media_id: str, filename: str) -> None:
        delay = MEDIA_FIRST_DELAY
        waited = 0.0
        for _ in range(MEDIA_POLLS):
            self._policy.sleep(f"waiting for {filename} to be processed", delay)
            waited += delay
            media = self._policy.call(f"checking {filename}", lambda: self._api.media(media_id))
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
            visibility=str(raw.get("visibility") or "public"),
            media_count=len(raw.get("media_attachments") or ()),
            boost_of=_boosted(raw),
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


def _kept(raw: Mapping[str, Any], author: str | None, boosts: bool) -> bool:
    """Whether a listed status is wanted: by `author` (None: anyone), and a boost only
    when `boosts` (a server may ignore `exclude_reblogs`; a timeline holds boosts)."""
    account = raw.get("account") or {}
    by_author = author is None or str(account.get("id")) == author
    return by_author and (boosts or _boosted(raw) is None)


def _boosted(raw: Mapping[str, Any]) -> str | None:
    """The id of the status `raw` boosts; None when it is no boost."""
    boosted = raw.get("reblog")
    return str(boosted["id"]) if isinstance(boosted, Mapping) and "id" in boosted else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
