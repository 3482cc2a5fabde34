"""Publishing exactly once: Publisher and Runner over the real MastodonClient.

`responses` sits at the HTTP layer, so the real Mastodon.py builds every
request; `Instance` below answers them like Mastodon would where it matters
(status ids, Idempotency-Key for an hour, own statuses as HTML) and can fail
on purpose. The clock is a FakeClock: nothing sleeps.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr

from bot.client import MastodonClient
from bot.clock import FakeClock
from bot.compose import ComposeOptions, Composer
from bot.compose.rewrite import LinkOptions
from bot.errors import AccountMismatch, AuthError, StateError
from bot.exactly_once import KEY_LIFETIME, Outcome, PostOptions, Publisher
from bot.model import Media, Toot, Tweet
from bot.pacing import Pacer, Runner, failed
from bot.rebuild import Matcher
from bot.selection import Due
from bot.settings import load_settings
from bot.state import Failed, Pending, Posted, State, StateStore, idempotency_key
from bot.wiring import open_run

BASE = "https://example.social"
TOKEN = "tok-SECRET-publish-4242"
ACCOUNT_ID = "109"
NOW = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
VERIFY = f"{BASE}/api/v1/accounts/verify_credentials"
INSTANCE = f"{BASE}/api/v2/instance/"
STATUSES = f"{BASE}/api/v1/statuses"
MEDIA = f"{BASE}/api/v2/media"
OWN = f"{BASE}/api/v1/accounts/{ACCOUNT_ID}/statuses"
TOO_LONG = "Validation failed: Text character limit of 500 exceeded"


# --- a Mastodon behind `responses` ---------------------------------------------------


@dataclass
class Instance:
    """Answers tootback's requests as Mastodon does; `script` injects failures.

    Each POST /api/v1/statuses first takes the next entry of `script`: an HTTP
    status (answered with an error, nothing created), "drop" (the status is
    created, then the connection fails) or None (normal).
    """

    clock: FakeClock
    statuses: list[dict[str, Any]] = field(default_factory=list)
    created: dict[str, datetime] = field(default_factory=dict)
    keys: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    script: list[int | str | None] = field(default_factory=list)
    next_id: int = 110_000

    def install(self, mock: responses.RequestsMock) -> None:
        mock.get(VERIFY, json={"id": ACCOUNT_ID, "acct": "me", "url": f"{BASE}/@me"})
        mock.get(INSTANCE, json={"configuration": {"statuses": {"max_characters": 500}}})
        mock.add_callback("POST", STATUSES, callback=self._post)
        mock.add_callback("POST", MEDIA, callback=self._media)
        mock.add_callback("GET", re.compile(re.escape(OWN) + r"(\?.*)?$"), callback=self._own)

    def add(self, text: str, *, reply_to: str | None = None, at: datetime | None = None) -> str:
        """Create a status directly (as if posted earlier); returns its id."""
        self.next_id += 1
        sid = str(self.next_id)
        self.statuses.append(
            {
                "id": sid,
                "url": f"{BASE}/@me/{sid}",
                "created_at": (at or self.clock.now()).isoformat(),
                "content": _html(text),
                "in_reply_to_id": reply_to,
                "text": text,
            }
        )
        self.created[sid] = at or self.clock.now()
        return sid

    def by_id(self, sid: str) -> dict[str, Any]:
        return next(s for s in self.statuses if s["id"] == sid)

    def _post(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        action = self.script.pop(0) if self.script else None
        if isinstance(action, int):
            return action, {}, json.dumps({"error": TOO_LONG if action == 422 else "nope"})
        key = str(request.headers.get("Idempotency-Key") or "")
        remembered = self.keys.get(key)
        if remembered and self.clock.now() - remembered[1] < timedelta(hours=1):
            return 200, {}, json.dumps(self.by_id(remembered[0]))
        fields = form(request)
        sid = self.add(fields["status"][0], reply_to=fields.get("in_reply_to_id", [None])[0])
        if key:
            self.keys[key] = (sid, self.clock.now())
        if action == "drop":
            raise requests.ConnectionError("connection reset after the status was created")
        return 200, {}, json.dumps(self.by_id(sid))

    def _media(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.next_id += 1
        body = {"id": str(self.next_id), "type": "image", "url": f"{BASE}/m/{self.next_id}"}
        return 200, {}, json.dumps(body)

    def _own(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(str(request.url)).query)
        limit = int(query.get("limit", ["20"])[0])
        newest = sorted(self.statuses, key=lambda s: int(s["id"]), reverse=True)
        if "max_id" in query:
            newest = [s for s in newest if int(s["id"]) < int(query["max_id"][0])]
        return 200, {}, json.dumps(newest[:limit])


def _html(text: str) -> str:
    paragraphs = html.escape(text, quote=False).split("\n\n")
    return "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs)


def body(call: Any) -> bytes:
    raw = call.request.body
    assert isinstance(raw, bytes)
    return raw


def form(request: Any) -> dict[str, list[str]]:
    body = request.body
    return parse_qs(body if isinstance(body, str) else (body or b"").decode())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def server(mock: responses.RequestsMock, clock: FakeClock) -> Instance:
    instance = Instance(clock)
    instance.install(mock)
    return instance


def sent(mock: responses.RequestsMock) -> list[tuple[str, str]]:
    """(method, path) of every request, in order."""
    return [(str(c.request.method), urlsplit(str(c.request.url)).path) for c in mock.calls]


def posts(mock: responses.RequestsMock) -> list[Any]:
    return [
        c.request for c in mock.calls if c.request.method == "POST" and c.request.url == STATUSES
    ]


def key(tweet_id: str, part: int) -> str:
    return idempotency_key(ACCOUNT_ID, BASE, tweet_id, part)


# --- tweets and wiring --------------------------------------------------------------


def tweet(tid: str, text: str, *, year: int = 2022, reply_to: str | None = None) -> Tweet:
    return Tweet(
        id=tid,
        created_at=datetime(year, 4, 5, 2, int(tid[-2:]) % 60, tzinfo=UTC),
        text=text,
        url=f"https://twitter.com/me/status/{tid}",
        in_reply_to_id=reply_to,
        in_reply_to_user="me" if reply_to else None,
    )


LONG = " ".join(f"Sentence number {i} of a tweet that goes on and on." for i in range(24))


@dataclass
class Wiring:
    client: MastodonClient
    store: StateStore
    publisher: Publisher
    runner: Runner
    seen: list[dict[str, str]]

    def run(self, *tweets: Tweet, retry_failed: bool = False) -> list[Outcome]:
        jobs = [Due(t, NOW) for t in tweets]
        return self.runner.run(jobs, retry_failed=retry_failed)


def wire(
    mock: responses.RequestsMock,
    tmp_path: Path,
    clock: FakeClock,
    tweets: list[Tweet],
    *,
    bind: bool = True,
) -> Wiring:
    """Client, state and runner as `open_run` builds them, on hand-made tweets.

    The two setup requests (account, limits) are made here and left out of `mock.calls`.
    """
    client = MastodonClient(BASE, SecretStr(TOKEN), clock, random=lambda: 0.5)
    client.account()
    client.limits()
    mock.calls.reset()
    store = StateStore(tmp_path / "state" / "state.json", clock)
    if bind:
        seed(store, State())
    links = LinkOptions(owner="me", owner_ids=frozenset(t.id for t in tweets))
    composer = Composer(ComposeOptions(links=links, owner="me"))
    seen: list[dict[str, str]] = []

    def compose(t: Tweet, due: datetime, posted: Any) -> Any:
        seen.append(dict(posted))
        return composer(t, due, posted)

    publisher = Publisher(
        store,
        client,
        lambda media: b"\x89PNG" + media.path.encode(),
        PostOptions(),
        clock,
        is_archive_toot=Matcher(tweets),
    )
    runner = Runner(publisher, compose, Pacer(clock, timedelta(seconds=60)))
    return Wiring(client, store, publisher, runner, seen)


def seed(store: StateStore, state: State, account_id: str = ACCOUNT_ID) -> None:
    """Write `state` bound to the account (an earlier run's file)."""
    bound = state.bind_account(_Acc(account_id, "me", BASE))
    with store.lock():
        store.save(bound)


@dataclass(frozen=True)
class _Acc:
    id: str
    acct: str
    instance: str


# --- a day through open_run -----------------------------------------------------------

ARCHIVE_MD = """\
First tweet of the day, with a picture ![](media/1511171364748771329-cat.jpg)

(Originally on Twitter: [Tue Apr 05 02:38:24 +0000 2022](https://twitter.com/me/status/1511171364748771329))
----
Second tweet of the day

(Originally on Twitter: [Tue Apr 05 02:55:21 +0000 2021](https://twitter.com/me/status/1378889966163959810))
----
A tweet of another day

(Originally on Twitter: [Wed Apr 06 03:34:44 +0000 2022](https://twitter.com/me/status/1511547929479323653))
"""


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    (root / "media").mkdir(parents=True)
    (root / "output.md").write_text(ARCHIVE_MD, encoding="utf-8")
    (root / "media" / "1511171364748771329-cat.jpg").write_bytes(b"\xff\xd8\xff JPEG")
    return root


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in __import__("os").environ if n.startswith(("TOOTBACK_", "MASTODON_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MASTODON_API_BASE_URL", BASE)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(tmp_path / "state" / "state.json"))
    monkeypatch.chdir(tmp_path)


def run_day(archive_dir: Path, clock: FakeClock, day: datetime) -> list[Outcome]:
    settings = load_settings(None, env_file=None)
    run = open_run(settings, archive_dir, clock)
    from bot.options import plan

    jobs, lost = run.runner.pending_jobs({t.id: t for t in run.archive.tweets})
    return lost + run.runner.run([*jobs, *plan(run.archive, day.date(), settings).due])


@pytest.mark.usefixtures("env")
def test_a_day_costs_the_setup_then_one_request_per_status_and_per_media(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, archive_dir: Path
) -> None:
    outcomes = run_day(archive_dir, clock, NOW)
    assert [o.result for o in outcomes] == ["posted", "posted"]
    assert sent(mock) == [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v2/instance/"),
        # A new state file: once, look whether the account already has this archive's toots.
        ("GET", f"/api/v1/accounts/{ACCOUNT_ID}/statuses"),
        ("POST", "/api/v2/media"),
        ("POST", "/api/v1/statuses"),
        ("POST", "/api/v1/statuses"),
    ]
    first, second = posts(mock)
    assert form(first)["media_ids[]"] == [str(server.next_id - 2)]
    assert b'name="description"' not in body(mock.calls[3])
    assert first.headers["Idempotency-Key"] == key("1511171364748771329", 0)
    assert second.headers["Idempotency-Key"] == key("1378889966163959810", 0)
    # The next day, state bound: the two setup requests, then one per status.
    mock.calls.reset()
    outcomes = run_day(archive_dir, clock, NOW + timedelta(days=1))
    assert [o.result for o in outcomes] == ["posted"]
    assert sent(mock) == [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v2/instance/"),
        ("POST", "/api/v1/statuses"),
    ]
    # The same day again: setup only, nothing posted twice.
    mock.calls.reset()
    again = run_day(archive_dir, clock, NOW)
    assert [o.result for o in again] == ["already posted", "already posted"]
    assert len(mock.calls) == 2
    assert len(server.statuses) == 3


@pytest.mark.usefixtures("env")
def test_toots_are_spaced_by_min_interval_on_the_clock(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, archive_dir: Path
) -> None:
    run_day(archive_dir, clock, NOW)
    assert clock.sleeps == [60.0]  # one wait, between the two posts; none before the first
    created = sorted(server.created.values())
    assert created[1] - created[0] == timedelta(seconds=60)


# --- reply chains, self-replies, self-links --------------------------------------------


def test_a_split_toot_is_a_reply_chain_with_one_key_per_part(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    w = wire(mock, tmp_path, clock, [long])
    [outcome] = w.run(long)
    requests_ = posts(mock)
    assert len(requests_) == 3
    assert [r.headers["Idempotency-Key"] for r in requests_] == [key(long.id, i) for i in range(3)]
    ids = [s["id"] for s in server.statuses]
    assert [form(r).get("in_reply_to_id") for r in requests_] == [None, [ids[0]], [ids[1]]]
    assert [form(r)["status"][0].count("/3)") for r in requests_] == [1, 1, 1]
    record = w.store.load().record(long.id)
    assert record == Posted(tuple(ids), f"{BASE}/@me/{ids[0]}", NOW)
    assert outcome == Outcome(long.id, "posted", f"{BASE}/@me/{ids[0]}")


def test_a_self_reply_answers_the_last_status_of_its_posted_parent(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    parent = tweet("1000000000000000001", LONG)
    child = tweet("1000000000000000002", "and a follow-up", reply_to=parent.id)
    w = wire(mock, tmp_path, clock, [parent, child])
    w.run(parent, child)
    parent_ids = w.store.load().tweets[parent.id]
    assert isinstance(parent_ids, Posted) and len(parent_ids.status_ids) == 3
    assert form(posts(mock)[-1])["in_reply_to_id"] == [parent_ids.status_ids[-1]]


def test_a_self_reply_whose_parent_is_not_posted_stands_alone(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    parent = tweet("1000000000000000001", "the start of a thread")
    child = tweet("1000000000000000002", "and a follow-up", reply_to=parent.id)
    w = wire(mock, tmp_path, clock, [parent, child])
    [outcome] = w.run(child)
    assert outcome.result == "posted"
    assert "in_reply_to_id" not in form(posts(mock)[0])


def test_a_self_link_points_at_the_earlier_toot(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    first = tweet("1000000000000000001", "the original")
    later = tweet("1000000000000000002", f"as I said: https://x.com/me/status/{first.id}?s=20")
    w = wire(mock, tmp_path, clock, [first, later])
    w.run(first, later)
    first_url = f"{BASE}/@me/{server.statuses[0]['id']}"
    assert form(posts(mock)[1])["status"][0].startswith(f"as I said: {first_url}\n\n")


def test_compose_sees_statuses_another_process_posted_meanwhile(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    first = tweet("1000000000000000001", "the original")
    later = tweet("1000000000000000002", f"see https://twitter.com/me/status/{first.id}")
    w = wire(mock, tmp_path, clock, [first, later])
    # Another process (the daemon) posts the first tweet after this run read its state.
    other = StateStore(w.store.path, clock)
    with other.lock():
        other.save(other.load().mark_posted(first.id, ["77"], f"{BASE}/@me/77", NOW))
    w.run(later)
    assert w.seen == [{first.id: f"{BASE}/@me/77"}]
    assert form(posts(mock)[0])["status"][0].startswith(f"see {BASE}/@me/77\n\n")


# --- server answers -----------------------------------------------------------------


def test_422_marks_the_tweet_failed_with_the_reason_and_the_run_goes_on(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a, b, c = (tweet(f"10000000000000000{i:02d}", f"tweet {i}") for i in (1, 2, 3))
    w = wire(mock, tmp_path, clock, [a, b, c])
    server.script = [None, 422, None]
    outcomes = w.run(a, b, c)
    assert [o.result for o in outcomes] == ["posted", "failed", "posted"]
    assert [o.tweet_id for o in failed(outcomes)] == [b.id]
    record = w.store.load().record(b.id)
    assert isinstance(record, Failed) and TOO_LONG in record.error and record.attempts == 1
    # Not retried by later runs unless asked; asked, it goes out.
    mock.calls.reset()
    again = w.run(a, b, c)
    assert [o.result for o in again] == ["already posted", "failed before", "already posted"]
    assert TOO_LONG in again[1].detail
    assert len(mock.calls) == 0
    assert w.run(b, retry_failed=True)[0].result == "posted"
    assert w.store.load().is_posted(b.id)


def test_a_refused_token_stops_the_run_and_marks_nothing_failed(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a, b = tweet("1000000000000000001", "one"), tweet("1000000000000000002", "two")
    w = wire(mock, tmp_path, clock, [a, b])
    server.script = [401]
    with pytest.raises(AuthError) as info:
        w.run(a, b)
    assert "access token" in str(info.value) and TOKEN not in str(info.value)
    state = w.store.load()
    assert state.failed() == {}
    assert isinstance(state.record(a.id), Pending)  # finished with the same key next time
    assert state.record(b.id) is None
    assert len(posts(mock)) == 1 and server.statuses == []
    # The next run finishes it with the key it started with.
    assert [o.result for o in w.run(a, b)] == ["posted", "posted"]
    assert posts(mock)[1].headers["Idempotency-Key"] == key(a.id, 0)


def test_5xx_then_success_posts_one_status(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(mock, tmp_path, clock, [a])
    server.script = [503, 502]
    [outcome] = w.run(a)
    assert outcome.result == "posted"
    assert len(server.statuses) == 1
    assert [r.headers["Idempotency-Key"] for r in posts(mock)] == [key(a.id, 0)] * 3
    assert len(clock.sleeps) == 2 and clock.sleeps[0] < clock.sleeps[1]  # backoff, no busy loop


def test_a_lost_answer_is_retried_with_the_same_key_and_gets_the_same_status(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(mock, tmp_path, clock, [a])
    server.script = ["drop"]
    [outcome] = w.run(a)
    [status] = server.statuses
    assert [r.headers["Idempotency-Key"] for r in posts(mock)] == [key(a.id, 0)] * 2
    assert outcome.url == status["url"]
    assert w.store.load().record(a.id) == Posted((status["id"],), status["url"], clock.now())


# --- a crash left a pending record --------------------------------------------------


def texts(w: Wiring, t: Tweet, due: datetime) -> list[str]:
    """The texts of `t`'s parts, as composed for `due` with nothing posted yet."""
    toot = w.runner.compose(t, due, {})
    assert isinstance(toot, Toot)
    return [p.text for p in toot.parts]


def crashed(w: Wiring, t: Tweet, since: datetime, done: tuple[str, ...] = ()) -> None:
    """The state a crash leaves: `t` pending since `since`, parts `done` recorded."""
    state = w.store.load().mark_pending(t.id, key(t.id, 0), since)
    for sid in done:
        state = state.mark_part_done(t.id, sid)
    with w.store.lock():
        w.store.save(state)


def test_pending_under_an_hour_resends_the_same_key(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(mock, tmp_path, clock, [a])
    # 50 minutes ago the status was created, and the process died before recording it.
    started = NOW - timedelta(minutes=50)
    sid = server.add("one", at=started)
    server.keys[key(a.id, 0)] = (sid, started)
    crashed(w, a, started)
    jobs, lost = w.runner.pending_jobs({a.id: a})
    assert lost == [] and jobs == [Due(a, started)]
    [outcome] = w.runner.run(jobs)
    assert outcome == Outcome(a.id, "posted", f"{BASE}/@me/{sid}")
    assert len(server.statuses) == 1
    assert sent(mock) == [("POST", "/api/v1/statuses")]  # no lookup while the key holds
    assert posts(mock)[0].headers["Idempotency-Key"] == key(a.id, 0)


def test_pending_older_than_the_key_is_found_among_own_statuses_not_reposted(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one & <two>\nthree")
    w = wire(mock, tmp_path, clock, [a])
    started = NOW - KEY_LIFETIME - timedelta(minutes=1)
    [text] = texts(w, a, started)
    sid = server.add(text, at=started)
    server.add("an ordinary post since then")
    crashed(w, a, started)
    outcome = w.runner.run(w.runner.pending_jobs({a.id: a})[0])[0]
    assert outcome == Outcome(a.id, "posted", f"{BASE}/@me/{sid}")
    assert posts(mock) == []
    assert len(server.statuses) == 2
    assert w.store.load().record(a.id) == Posted((sid,), f"{BASE}/@me/{sid}", NOW)


def test_stale_pending_not_found_is_posted_once(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "never made it")
    w = wire(mock, tmp_path, clock, [a])
    crashed(w, a, NOW - timedelta(hours=3))
    [outcome] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert outcome.result == "posted"
    assert sent(mock) == [
        ("GET", f"/api/v1/accounts/{ACCOUNT_ID}/statuses"),
        ("POST", "/api/v1/statuses"),
    ]
    assert len(server.statuses) == 1


def test_stale_pending_chain_resumes_after_the_recorded_parts(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    w = wire(mock, tmp_path, clock, [long])
    started = NOW - timedelta(hours=2)
    parts = texts(w, long, started)
    first = server.add(parts[0], at=started)
    second = server.add(parts[1], reply_to=first, at=started)  # posted, not recorded
    crashed(w, long, started, done=(first,))
    [outcome] = w.runner.run(w.runner.pending_jobs({long.id: long})[0])
    assert outcome.result == "posted"
    [third] = posts(mock)
    assert form(third)["in_reply_to_id"] == [second]
    assert third.headers["Idempotency-Key"] == key(long.id, 2)
    record = w.store.load().record(long.id)
    assert isinstance(record, Posted)
    assert record.status_ids == (first, second, server.statuses[-1]["id"])
    assert record.url == f"{BASE}/@me/{first}"


def test_stale_pending_with_a_remote_mention_is_recognised(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "thanks @pal for this")
    w = wire(mock, tmp_path, clock, [a])
    started = NOW - timedelta(hours=2)
    [text] = texts(w, a, started)
    assert "@pal@twitter.com" in text
    sid = server.add(text, at=started)
    # Mastodon shows a resolved remote mention as "@pal" only.
    server.by_id(sid)["content"] = _html(text).replace(
        "@pal@twitter.com",
        '<span class="h-card"><a href="https://twitter.com/@pal" class="u-url mention">'
        "@<span>pal</span></a></span>",
    )
    crashed(w, a, started)
    w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert posts(mock) == []
    assert len(server.statuses) == 1


def test_a_pending_tweet_missing_from_the_archive_is_reported(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(mock, tmp_path, clock, [a])
    crashed(w, a, NOW)
    jobs, lost = w.runner.pending_jobs({})
    assert jobs == []
    assert lost == [Outcome(a.id, "skipped", detail="pending, but not in this archive")]


# --- the account behind the state file ----------------------------------------------


def test_a_new_state_file_refuses_when_the_account_has_toots_of_this_archive(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    b = tweet("1000000000000000002", "another one")
    w = wire(mock, tmp_path, clock, [a, b], bind=False)
    server.add("a tweet with enough words to be recognised\n\n(tweeted 4 years ago, 2022-04-05)")
    with pytest.raises(StateError, match="state rebuild") as info:
        w.run(b)
    assert info.value.path == w.store.path
    assert posts(mock) == []
    assert not w.store.path.exists()


def test_a_new_account_needs_no_look_at_its_statuses(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    mock.replace(
        responses.GET,
        VERIFY,
        json={"id": ACCOUNT_ID, "acct": "me", "url": f"{BASE}/@me", "statuses_count": 0},
    )
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    w = wire(mock, tmp_path, clock, [a], bind=False)
    assert [o.result for o in w.run(a)] == ["posted"]
    assert not [c for c in mock.calls if c.request.method == "GET" and "/statuses" in c.request.url]


def test_a_new_state_file_for_an_account_with_ordinary_posts_is_fine(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    w = wire(mock, tmp_path, clock, [a], bind=False)
    server.add("just a normal day on the fediverse")
    assert [o.result for o in w.run(a)] == ["posted"]
    state = w.store.load()
    assert state.account is not None and state.account.id == ACCOUNT_ID
    assert state.account.instance == BASE


def test_another_accounts_state_file_is_refused(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(mock, tmp_path, clock, [a], bind=False)
    seed(w.store, State(), account_id="999")
    before = w.store.path.read_bytes()
    with pytest.raises(AccountMismatch, match="id 999"):
        w.run(a)
    assert posts(mock) == []
    assert w.store.path.read_bytes() == before


def test_media_go_up_before_their_status_with_alt_text(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    pics = tuple(Media(f"media/{i}.png", description=f"pic {i}") for i in range(5))
    t = Tweet(
        "1000000000000000001",
        NOW.replace(year=2022),
        "pictures",
        "https://twitter.com/me/status/1",
        media=pics,
    )
    w = wire(mock, tmp_path, clock, [t])
    w.run(t)
    assert [m for m, _ in sent(mock)] == ["POST"] * 7
    paths = [p for _, p in sent(mock)]
    assert paths == ["/api/v2/media"] * 4 + [
        "/api/v1/statuses",
        "/api/v2/media",
        "/api/v1/statuses",
    ]
    assert b"pic 0" in body(mock.calls[0])
    first, second = posts(mock)
    assert len(form(first)["media_ids[]"]) == 4 and len(form(second)["media_ids[]"]) == 1
    assert form(second)["in_reply_to_id"] == [server.statuses[0]["id"]]


def test_retrying_a_chain_refused_midway_does_not_repost_its_first_parts(
    mock: responses.RequestsMock, server: Instance, clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    w = wire(mock, tmp_path, clock, [long])
    server.script = [None, 422]
    [outcome] = w.run(long)
    assert outcome.result == "failed"
    [first] = server.statuses
    failure = w.store.load().record(long.id)
    assert isinstance(failure, Failed) and f"after parts {first['id']} were" in failure.error
    clock.advance(3 * 3600)  # the server has long forgotten the keys
    mock.calls.reset()
    [retried] = w.run(long, retry_failed=True)
    assert retried.result == "posted"
    second, third = posts(mock)
    assert form(second)["in_reply_to_id"] == [first["id"]]
    assert form(third)["in_reply_to_id"] == [server.statuses[1]["id"]]
    assert [s["text"].count("(1/3)") for s in server.statuses] == [1, 0, 0]
    record = w.store.load().record(long.id)
    assert isinstance(record, Posted) and record.status_ids[0] == first["id"]
    assert len(record.status_ids) == 3
