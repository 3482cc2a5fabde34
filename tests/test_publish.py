"""Publishing exactly once: Publisher and Runner over the real MastodonClient.

The server is the loopback fake Mastodon, so the real Mastodon.py builds every
request and the tests assert on what the server received (path, form fields,
Idempotency-Key, how many). The fake and the client share one FakeClock:
nothing sleeps, and "an hour later" is a clock that moved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.archive.source import ArchiveSource
from bot.client import MastodonClient
from bot.clock import FakeClock
from bot.compose import ComposeOptions, Composer
from bot.compose.rewrite import LinkOptions
from bot.errors import AccountMismatch, AuthError, StateError, StateLocked, Unavailable
from bot.exactly_once import Outcome, PostOptions, Publisher, Recovery
from bot.model import InstanceLimits, Media, Toot, Tweet
from bot.pacing import Runner, failed
from bot.profile import ServerProfile
from bot.rebuild import Matcher, fingerprint
from bot.selection import Due
from bot.settings import load_settings
from bot.software import MASTODON as MASTODON_SOFTWARE
from bot.software import TAKAHE as TAKAHE_SOFTWARE
from bot.state import (
    Failed,
    Pending,
    Posted,
    State,
    StateStore,
    idempotency_key,
    load_state,
)
from bot.wiring import open_run, repost_jobs
from tests.support import NOON
from tests.support.archives import JPEG, write_old_markdown
from tests.support.fake_mastodon import FakeMastodon, RecordedRequest
from tests.support.profiles import MASTODON, PROFILES

TOKEN = "tok-SECRET-publish-4242"
STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"
TOO_LONG = "Validation failed: Text character limit of 500 exceeded"


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeMastodon]:
    with FakeMastodon(token=TOKEN, clock=clock) as fake:
        yield fake


def sent(server: FakeMastodon) -> list[tuple[str, str]]:
    """(method, path) of every request, in order."""
    return [(r.method, r.path) for r in server.requests()]


def posts(server: FakeMastodon) -> list[RecordedRequest]:
    """The status requests, in order."""
    return server.requests("POST", STATUSES)


def field(request: RecordedRequest, name: str) -> str | None:
    """The one value of form field `name`, None when it was not sent."""
    values = request.fields.get(name)
    return values[0] if values else None


def key(server: FakeMastodon, tweet_id: str, part: int) -> str:
    return idempotency_key(server.account_id, server.url, tweet_id, part)


def status_url(server: FakeMastodon, status_id: str) -> str:
    return f"{server.url}/@me/{status_id}"


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


SPACED = Recovery(min_interval=timedelta(seconds=60))
PUBLIC = PostOptions()
LONG = " ".join(f"Sentence number {i} of a tweet that goes on and on." for i in range(24))


@dataclass
class Wiring:
    client: MastodonClient
    store: StateStore
    publisher: Publisher
    runner: Runner
    seen: list[dict[str, str]]

    def run(self, *tweets: Tweet, retry_failed: bool = False) -> list[Outcome]:
        jobs = [Due(t, NOON) for t in tweets]
        return self.runner.run(jobs, retry_failed=retry_failed)


def wire(
    server: FakeMastodon,
    tmp_path: Path,
    clock: FakeClock,
    tweets: list[Tweet],
    *,
    bind: bool = True,
    recovery: Recovery = SPACED,
    post: PostOptions = PUBLIC,
    timeout: float = 30.0,
    **options: Any,
) -> Wiring:
    """Client, state and runner as `open_run` builds them, on hand-made tweets.

    The two setup requests (account, limits) are made here and left out of `server.requests()`.
    options: more ComposeOptions fields (`quote_posts=True`).
    """
    client = MastodonClient(
        server.url, SecretStr(TOKEN), clock, random=lambda: 0.5, timeout=timeout
    )
    client.account()
    client.limits()
    server.clear_requests()
    store = StateStore(tmp_path / "state" / "state.json", clock)
    if bind:
        seed(store, State(), server.account_id, server.url)
    links = LinkOptions(owner="me", owner_ids=frozenset(t.id for t in tweets))
    composer = Composer(ComposeOptions(links=links, owner="me", **options))
    seen: list[dict[str, str]] = []

    def compose(t: Tweet, due: datetime, posted: Any) -> Any:
        seen.append(dict(posted))
        return composer(t, due, posted)

    publisher = Publisher(
        store,
        client,
        lambda media: b"\x89PNG" + media.path.encode(),
        post,
        clock,
        is_archive_toot=Matcher(tweets),
        recovery=recovery,
    )
    runner = Runner(publisher, compose)
    return Wiring(client, store, publisher, runner, seen)


def seed(store: StateStore, state: State, account_id: str, instance: str) -> None:
    """Write `state` bound to the account (an earlier run's file)."""
    bound = state.bind_account(_Acc(account_id, "me", instance))
    with store.lock():
        store.save(bound)


@dataclass(frozen=True)
class _Acc:
    id: str
    acct: str
    instance: str


# --- a day through open_run -----------------------------------------------------------

ARCHIVE = [
    (
        "1511171364748771329",
        datetime(2022, 4, 5, 2, 38, 24, tzinfo=UTC),
        "First tweet of the day, with a picture ![](media/1511171364748771329-cat.jpg)",
    ),
    ("1378889966163959810", datetime(2021, 4, 5, 2, 55, 21, tzinfo=UTC), "Second tweet of the day"),
    ("1511547929479323653", datetime(2022, 4, 6, 3, 34, 44, tzinfo=UTC), "A tweet of another day"),
]


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    media = {"media/1511171364748771329-cat.jpg": JPEG}
    return write_old_markdown(tmp_path / "archive", ARCHIVE, media=media)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, isolated: Path, server: FakeMastodon) -> None:
    monkeypatch.setenv("MASTODON_API_BASE_URL", server.url)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TOOTBACK_STATE__PATH", str(isolated / "state" / "state.json"))


def run_day(archive_dir: Path, clock: FakeClock, day: datetime) -> list[Outcome]:
    settings = load_settings(None, env_file=None)
    run = open_run(settings, ArchiveSource(archive_dir, settings.archive.index_dir), clock)
    jobs, lost = repost_jobs(settings, run.source, run.store.load(), day.date(), (), day)
    return lost + run.runner.run(jobs)


@pytest.mark.usefixtures("env")
def test_a_day_costs_the_setup_then_one_request_per_status_and_per_media(
    server: FakeMastodon, clock: FakeClock, archive_dir: Path
) -> None:
    server.add_status("an ordinary post from before tootback")
    outcomes = run_day(archive_dir, clock, NOON)
    assert [o.result for o in outcomes] == ["posted", "posted"]
    assert sent(server) == [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v2/instance"),
        # No server profile in the state file yet: its software's name, once.
        ("GET", "/.well-known/nodeinfo"),
        ("GET", "/nodeinfo/2.0"),
        # A new state file: once, look whether the account already has this archive's toots.
        ("GET", f"/api/v1/accounts/{server.account_id}/statuses"),
        ("POST", MEDIA),
        ("POST", STATUSES),
        ("POST", STATUSES),
    ]
    first, second = posts(server)
    [upload] = server.requests("POST", MEDIA)
    assert first.fields["media_ids[]"] == server.statuses()[1].media_ids
    assert "description" not in upload.fields
    assert first.headers["idempotency-key"] == key(server, "1511171364748771329", 0)
    assert second.headers["idempotency-key"] == key(server, "1378889966163959810", 0)
    mastodon = InstanceLimits(
        500, 4, 23, 1500, 16777216, 103809024, MASTODON.limits.media_types, quote_posts=False
    )
    assert load_state(Path(os.environ["TOOTBACK_STATE__PATH"])).server == ServerProfile(
        server.url, "mastodon", "4.3.0", mastodon, NOON, (("mastodon", 2),)
    )
    # The next day, state bound, profile kept: the two setup requests, then one per status.
    server.clear_requests()
    outcomes = run_day(archive_dir, clock, NOON + timedelta(days=1))
    assert [o.result for o in outcomes] == ["posted"]
    assert sent(server) == [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v2/instance"),
        ("POST", STATUSES),
    ]
    # The same day again: setup only, nothing posted twice.
    server.clear_requests()
    again = run_day(archive_dir, clock, NOON)
    assert [o.result for o in again] == ["already posted", "already posted"]
    assert len(server.requests()) == 2
    assert len(server.statuses()) == 1 + 3


@pytest.mark.usefixtures("env")
def test_toots_are_spaced_by_min_interval_on_the_clock(
    server: FakeMastodon, clock: FakeClock, archive_dir: Path
) -> None:
    run_day(archive_dir, clock, NOON)
    assert clock.sleeps == [60.0]  # one wait, between the two posts; none before the first
    created = [s.created_at for s in server.statuses()]
    assert created[1] - created[0] == 60


# --- reply chains, self-replies, self-links --------------------------------------------


def test_a_split_toot_is_a_reply_chain_with_one_key_per_part(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    w = wire(server, tmp_path, clock, [long])
    [outcome] = w.run(long)
    requests = posts(server)
    assert len(requests) == 3
    keys = [r.headers["idempotency-key"] for r in requests]
    assert keys == [key(server, long.id, i) for i in range(3)]
    ids = [s.id for s in server.statuses()]
    assert [field(r, "in_reply_to_id") for r in requests] == [None, ids[0], ids[1]]
    assert [(field(r, "status") or "").count("/3)") for r in requests] == [1, 1, 1]
    record = w.store.load().record(long.id)
    assert record == Posted(tuple(ids), status_url(server, ids[0]), NOON)
    assert outcome == Outcome(long.id, "posted", status_url(server, ids[0]))


def test_a_self_reply_answers_the_last_status_of_its_posted_parent(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    parent = tweet("1000000000000000001", LONG)
    child = tweet("1000000000000000002", "and a follow-up", reply_to=parent.id)
    w = wire(server, tmp_path, clock, [parent, child])
    w.run(parent, child)
    parent_ids = w.store.load().tweets[parent.id]
    assert isinstance(parent_ids, Posted) and len(parent_ids.status_ids) == 3
    assert field(posts(server)[-1], "in_reply_to_id") == parent_ids.status_ids[-1]


def test_a_self_reply_whose_parent_is_not_posted_stands_alone(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    parent = tweet("1000000000000000001", "the start of a thread")
    child = tweet("1000000000000000002", "and a follow-up", reply_to=parent.id)
    w = wire(server, tmp_path, clock, [parent, child])
    [outcome] = w.run(child)
    assert outcome.result == "posted"
    assert field(posts(server)[0], "in_reply_to_id") is None


def test_a_self_link_points_at_the_earlier_toot(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    first = tweet("1000000000000000001", "the original")
    later = tweet("1000000000000000002", f"as I said: https://x.com/me/status/{first.id}?s=20")
    w = wire(server, tmp_path, clock, [first, later])
    w.run(first, later)
    first_url = status_url(server, server.statuses()[0].id)
    assert (field(posts(server)[1], "status") or "").startswith(f"as I said: {first_url}\n\n")


def test_compose_sees_statuses_another_process_posted_meanwhile(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    first = tweet("1000000000000000001", "the original")
    later = tweet("1000000000000000002", f"see https://twitter.com/me/status/{first.id}")
    w = wire(server, tmp_path, clock, [first, later])
    # Another process (the daemon) posts the first tweet after this run read its state.
    other = StateStore(w.store.path, clock)
    elsewhere = status_url(server, "77")
    with other.lock():
        other.save(other.load().mark_posted(first.id, ["77"], elsewhere, NOON))
    w.run(later)
    assert w.seen == [{first.id: elsewhere}]
    assert (field(posts(server)[0], "status") or "").startswith(f"see {elsewhere}\n\n")


# --- server answers -----------------------------------------------------------------


def test_422_marks_the_tweet_failed_with_the_reason_and_the_run_goes_on(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a, b, c = (tweet(f"10000000000000000{i:02d}", f"tweet {i}") for i in (1, 2, 3))
    w = wire(server, tmp_path, clock, [a, b, c])
    server.fail_next(STATUSES, 422, method="POST", skip=1, error=TOO_LONG)
    outcomes = w.run(a, b, c)
    assert [o.result for o in outcomes] == ["posted", "failed", "posted"]
    assert [o.tweet_id for o in failed(outcomes)] == [b.id]
    record = w.store.load().record(b.id)
    assert isinstance(record, Failed) and TOO_LONG in record.error and record.attempts == 1
    # Not retried by later runs unless asked; asked, it goes out.
    server.clear_requests()
    again = w.run(a, b, c)
    assert [o.result for o in again] == ["already posted", "failed before", "already posted"]
    assert TOO_LONG in again[1].detail
    assert server.requests() == []
    assert w.run(b, retry_failed=True)[0].result == "posted"
    assert w.store.load().is_posted(b.id)


def test_a_refused_token_stops_the_run_and_marks_nothing_failed(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a, b = tweet("1000000000000000001", "one"), tweet("1000000000000000002", "two")
    w = wire(server, tmp_path, clock, [a, b])
    server.fail_next(STATUSES, 401, method="POST")
    with pytest.raises(AuthError) as info:
        w.run(a, b)
    assert "access token" in str(info.value) and TOKEN not in str(info.value)
    state = w.store.load()
    assert state.failed() == {}
    assert isinstance(state.record(a.id), Pending)  # finished with the same key next time
    assert state.record(b.id) is None
    assert len(posts(server)) == 1 and server.statuses() == []
    # The next run finishes it with the key it started with.
    assert [o.result for o in w.run(a, b)] == ["posted", "posted"]
    assert posts(server)[1].headers["idempotency-key"] == key(server, a.id, 0)


def lookups(server: FakeMastodon) -> list[RecordedRequest]:
    """The looks at the account's statuses (own list or home timeline), in order."""
    return [
        r
        for r in server.requests("GET")
        if r.path.endswith(f"/accounts/{server.account_id}/statuses")
        or r.path == "/api/v1/timelines/home"
    ]


def test_a_5xx_is_looked_for_before_the_status_is_sent_again_with_the_same_key(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a])
    server.fail_next(STATUSES, 503, method="POST")
    server.fail_next(STATUSES, 502, method="POST")
    [outcome] = w.run(a)
    assert outcome.result == "posted"
    assert len(server.statuses()) == 1
    assert sent(server) == [
        ("POST", STATUSES),
        ("GET", f"/api/v1/accounts/{server.account_id}/statuses"),
        ("POST", STATUSES),
        ("GET", f"/api/v1/accounts/{server.account_id}/statuses"),
        ("POST", STATUSES),
    ]
    assert [r.headers["idempotency-key"] for r in posts(server)] == [key(server, a.id, 0)] * 3
    # The backoff, then what is left of lookup_delay (30 s after the request), each time.
    assert clock.sleeps == [2.0, 28.0, 4.0, 26.0]


@pytest.mark.parametrize("profile", ["mastodon", "gotosocial", "takahe", "pleroma"])
def test_a_lost_answer_is_found_by_the_lookup_and_never_sent_twice(
    clock: FakeClock, tmp_path: Path, profile: str
) -> None:
    a = tweet("1000000000000000001", "one")
    with FakeMastodon(token=TOKEN, clock=clock, profile=PROFILES[profile]) as server:
        w = wire(server, tmp_path, clock, [a])
        server.drop_after_create()
        [outcome] = w.run(a)
        [status] = server.statuses()
        assert len(posts(server)) == 1 and len(lookups(server)) == 1
        assert outcome.url == status.url  # the server's own shape of URL
        assert w.store.load().record(a.id) == Posted((status.id,), status.url, clock.now())


def test_a_server_known_to_keep_keys_is_looked_at_without_waiting(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a], recovery=Recovery(software=MASTODON_SOFTWARE))
    server.fail_next(STATUSES, 503, method="POST")
    assert w.run(a)[0].result == "posted"
    assert clock.sleeps == [2.0]  # the backoff only: a second request with the key is safe
    assert len(lookups(server)) == 1 and len(posts(server)) == 2


def test_a_toot_that_keeps_failing_is_marked_failed_and_the_run_goes_on(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a, b = tweet("1000000000000000001", "one"), tweet("1000000000000000002", "two")
    w = wire(server, tmp_path, clock, [a, b])
    server.fail_next(STATUSES, 500, times=6, method="POST")
    outcomes = w.run(a, b)
    assert [o.result for o in outcomes] == ["failed", "posted"]
    assert "500" in outcomes[0].detail and "answers other requests" in outcomes[0].detail
    record = w.store.load().record(a.id)
    assert isinstance(record, Failed)
    # The last request's outcome stays unknown: a retry looks for it before sending.
    assert record.fingerprints == (fingerprint(texts(w, a, NOON)[0]),)
    assert len(posts(server)) == 6 + 1 and len(lookups(server)) == 5
    server.clear_requests()
    assert w.run(a, retry_failed=True)[0].result == "posted"
    assert sent(server) == [
        ("GET", f"/api/v1/accounts/{server.account_id}/statuses"),
        ("POST", STATUSES),
    ]
    assert not server.duplicates()


def test_a_server_that_answers_nothing_stops_the_run_and_the_toot_stays_pending(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a, b = tweet("1000000000000000001", "one"), tweet("1000000000000000002", "two")
    w = wire(server, tmp_path, clock, [a, b])
    server.fail_next("/api/v1/", 503, times=8)  # the request, six looks, the check
    with pytest.raises(Unavailable):
        w.run(a, b)
    record = w.store.load().record(a.id)
    assert isinstance(record, Pending) and record.unconfirmed
    assert w.store.load().record(b.id) is None
    assert [o.result for o in w.run(a, b)] == ["posted", "posted"]  # found nothing, sent
    assert len(server.statuses()) == 2


def test_a_stuck_video_does_not_stop_the_days_other_toots(clock: FakeClock, tmp_path: Path) -> None:
    video = Media("media/clip.mp4")
    a = Tweet("1000000000000000001", NOON.replace(year=2022), "a clip", "u1", media=(video,))
    b = tweet("1000000000000000002", "the day goes on")
    # Takahe answers every video upload with a 500 page.
    takahe = replace(
        PROFILES["takahe"], refused_media=frozenset({"video"}), media_refusal=(500, "Error")
    )
    with FakeMastodon(token=TOKEN, clock=clock, profile=takahe) as server:
        w = wire(server, tmp_path, clock, [a, b])
        outcomes = w.run(a, b)
        assert [o.result for o in outcomes] == ["failed", "posted"]
        assert "uploading clip.mp4: 500" in outcomes[0].detail
        record = w.store.load().record(a.id)
        assert isinstance(record, Failed) and record.fingerprints == ()  # no status was sent
        assert len(server.requests("POST", MEDIA)) == 6
        assert [field(r, "status") for r in posts(server)] == [texts(w, b, NOON)[0]]
        # The next run of the day is not held up by it either.
        assert [o.result for o in w.run(a, b)] == ["failed before", "already posted"]


# --- replayed keys answered without the status ----------------------------------------


def test_a_replay_without_a_body_never_records_an_empty_id_and_stays_pending(
    clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    # A server that keeps keys, answers a replay without the status, and hides private
    # statuses from the owner's own list (tootback not knowing it yet).
    profile = replace(
        PROFILES["replay-no-body"],
        own_list_visibilities=PROFILES["takahe"].own_list_visibilities,
    )
    private = PostOptions(visibility="private")
    with FakeMastodon(token=TOKEN, clock=clock, profile=profile) as server:
        w = wire(server, tmp_path, clock, [a], post=private)
        server.drop_after_create()
        [outcome] = w.run(a)
        assert outcome.result == "left pending"
        assert "without the status" in outcome.detail and "looks for it again" in outcome.detail
        assert failed([outcome]) == [outcome]
        record = w.store.load().record(a.id)
        assert isinstance(record, Pending) and record.status_ids == ()
        assert len(server.statuses()) == 1
        # Told that the own list hides private statuses, the next run finds it at home.
        w2 = wire(
            server,
            tmp_path,
            clock,
            [a],
            bind=False,
            post=private,
            recovery=Recovery(software=TAKAHE_SOFTWARE),
        )
        [again] = w2.runner.run(w2.runner.pending_jobs({a.id: a})[0])
        [status] = server.statuses()
        assert again == Outcome(a.id, "posted", status.url)
        assert w2.store.load().record(a.id) == Posted((status.id,), status.url, clock.now())


def test_409_while_the_first_request_runs_then_found_by_the_next_run(
    clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    with FakeMastodon(token=TOKEN, clock=clock, profile=PROFILES["replay-no-body"]) as server:
        recovery = Recovery(software=MASTODON_SOFTWARE)  # the key is kept an hour
        w = wire(server, tmp_path, clock, [a], recovery=recovery, timeout=0.3)
        server.slow(STATUSES, 10.0, times=1)  # the first request is held, still running
        [outcome] = w.run(a)
        assert outcome.result == "left pending" and "409" in outcome.detail
        # The first request is still held (not yet answered, so not yet recorded): the
        # five others were told it is under way.
        assert [r.status for r in posts(server)] == [409] * 5
        server.release_held()
        while server.in_flight():
            pass
        [status] = server.statuses()
        server.clear_requests()
        [again] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
        assert again == Outcome(a.id, "posted", status.url)
        assert posts(server) == []


# --- a crash left a pending record --------------------------------------------------


def texts(w: Wiring, t: Tweet, due: datetime) -> list[str]:
    """The texts of `t`'s parts, as composed for `due` with nothing posted yet."""
    toot = w.runner.compose(t, due, {})
    assert isinstance(toot, Toot)
    return [p.text for p in toot.parts]


def crashed(
    w: Wiring,
    server: FakeMastodon,
    t: Tweet,
    since: datetime,
    done: tuple[str, ...] = (),
    sent: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """The state a crash leaves: `t` pending since `since`, parts `done` recorded, and the
    next part's request sent (with fingerprint `sent`, at `sent_at`) when `sent` is given."""
    state = w.store.load().mark_pending(t.id, key(server, t.id, 0), since)
    for index, sid in enumerate(done):
        state = state.mark_sending(t.id, index, "", since).mark_part_done(t.id, sid)
    if sent is not None:
        state = state.mark_sending(t.id, len(done), sent, sent_at or since)
    with w.store.lock():
        w.store.save(state)


@pytest.mark.parametrize("age", [timedelta(minutes=50), timedelta(days=3)])
def test_a_status_made_before_a_crash_is_found_whatever_the_age_of_the_record(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path, age: timedelta
) -> None:
    a = tweet("1000000000000000001", "one & <two>\nthree")
    w = wire(server, tmp_path, clock, [a])
    started = NOON - age
    [text] = texts(w, a, started)
    # The status was created, and the process died before recording it.
    sid = server.add_status(text, at=started, idempotency_key=key(server, a.id, 0))
    server.add_status("an ordinary post since then")
    crashed(w, server, a, started, sent=fingerprint(text), sent_at=started)
    jobs, lost = w.runner.pending_jobs({a.id: a})
    assert lost == [] and jobs == [Due(a, started)]
    [outcome] = w.runner.run(jobs)
    assert outcome == Outcome(a.id, "posted", status_url(server, sid))
    assert sent(server) == [("GET", f"/api/v1/accounts/{server.account_id}/statuses")]
    assert len(server.statuses()) == 2 and clock.sleeps == []
    assert w.store.load().record(a.id) == Posted((sid,), status_url(server, sid), NOON)


def test_the_lookup_compares_what_was_sent_not_what_settings_make_now(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a])
    started = NOON - timedelta(hours=2)
    # Sent with another footer, before the settings changed and the process crashed.
    old_text = "one\n\n(originally on Twitter, April 5 2022)"
    sid = server.add_status(old_text, at=started)
    crashed(w, server, a, started, sent=fingerprint(old_text))
    [outcome] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert outcome == Outcome(a.id, "posted", status_url(server, sid))
    assert posts(server) == []
    assert fingerprint(old_text) != fingerprint(texts(w, a, started)[0])


def test_a_recent_crash_waits_for_the_request_to_end_before_looking(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "never made it")
    w = wire(server, tmp_path, clock, [a])
    crashed(w, server, a, NOON - timedelta(seconds=5), sent=fingerprint("never made it"))
    [outcome] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert outcome.result == "posted"
    assert clock.sleeps == [25.0]  # lookup_delay (30 s) after the request, then one look
    assert sent(server) == [
        ("GET", f"/api/v1/accounts/{server.account_id}/statuses"),
        ("POST", STATUSES),
    ]
    assert len(server.statuses()) == 1


def test_a_pending_record_whose_request_never_went_out_is_sent_without_a_look(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "never sent")
    w = wire(server, tmp_path, clock, [a])
    crashed(w, server, a, NOON - timedelta(seconds=5))  # killed before the request
    assert w.runner.run(w.runner.pending_jobs({a.id: a})[0])[0].result == "posted"
    assert sent(server) == [("POST", STATUSES)] and clock.sleeps == []


def test_an_older_tootbacks_pending_record_is_looked_for_by_its_text(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "from before the upgrade")
    w = wire(server, tmp_path, clock, [a])
    started = NOON - timedelta(hours=2)
    [text] = texts(w, a, started)
    sid = server.add_status(text, at=started)
    old = State(tweets={a.id: Pending(key(server, a.id, 0), started, fingerprints=None)})
    seed(w.store, old, server.account_id, server.url)
    [outcome] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert outcome == Outcome(a.id, "posted", status_url(server, sid))
    assert posts(server) == []


def test_a_pending_chain_resumes_after_its_recorded_parts_with_the_servers_urls(
    clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    with FakeMastodon(token=TOKEN, clock=clock, profile=PROFILES["takahe"]) as server:
        w = wire(server, tmp_path, clock, [long])
        started = NOON - timedelta(hours=2)
        parts = texts(w, long, started)
        first = server.add_status(parts[0], at=started)
        second = server.add_status(parts[1], in_reply_to_id=first, at=started)  # not recorded
        crashed(w, server, long, started, done=(first,), sent=fingerprint(parts[1]))
        [outcome] = w.runner.run(w.runner.pending_jobs({long.id: long})[0])
        assert outcome.result == "posted"
        [third] = posts(server)
        assert field(third, "in_reply_to_id") == second
        assert third.headers["idempotency-key"] == key(server, long.id, 2)
        record = w.store.load().record(long.id)
        assert isinstance(record, Posted)
        assert record.status_ids == (first, second, server.statuses()[-1].id)
        # The first status's URL, asked of the server, in Takahe's shape: never built here.
        assert record.url == f"https://takahe.test/@me/posts/{first}/"
        assert ("GET", f"{STATUSES}/{first}") in sent(server)


def test_a_pending_status_with_a_remote_mention_is_recognised(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "thanks @pal for this")
    w = wire(server, tmp_path, clock, [a])
    started = NOON - timedelta(hours=2)
    [text] = texts(w, a, started)
    assert "@pal@twitter.com" in text
    # Mastodon shows a resolved remote mention as "@pal" only.
    server.add_remote_account("pal@twitter.com")
    server.add_status(text, at=started)
    crashed(w, server, a, started, sent=fingerprint(text))
    w.runner.run(w.runner.pending_jobs({a.id: a})[0])
    assert posts(server) == []
    assert len(server.statuses()) == 1


def test_a_private_status_is_looked_for_where_the_server_shows_it(
    clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "for my followers only")
    with FakeMastodon(token=TOKEN, clock=clock, profile=PROFILES["takahe"]) as server:
        w = wire(
            server,
            tmp_path,
            clock,
            [a],
            post=PostOptions(visibility="private"),
            recovery=Recovery(software=TAKAHE_SOFTWARE),
        )
        started = NOON - timedelta(hours=2)
        [text] = texts(w, a, started)
        sid = server.add_status(text, at=started, visibility="private")
        crashed(w, server, a, started, sent=fingerprint(text))
        [outcome] = w.runner.run(w.runner.pending_jobs({a.id: a})[0])
        assert outcome.url == f"https://takahe.test/@me/posts/{sid}/"
        assert posts(server) == []
        assert [r.path for r in lookups(server)][-1] == "/api/v1/timelines/home"


def test_a_pending_tweet_missing_from_the_archive_or_excluded_is_reported(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a])
    crashed(w, server, a, NOON)
    jobs, lost = w.runner.pending_jobs({})
    assert jobs == []
    assert lost == [Outcome(a.id, "skipped", detail="pending, but not in this archive")]
    excluding = Runner(w.publisher, w.runner.compose, frozenset({a.id}))
    jobs, dropped = excluding.pending_jobs({a.id: a})
    assert jobs == [] and [o.result for o in dropped] == ["skipped"]
    assert "selection.exclude_ids" in dropped[0].detail
    assert isinstance(w.store.load().record(a.id), Pending)  # kept: `state forget` removes it


# --- spacing across processes -------------------------------------------------------


def test_min_interval_counts_from_the_last_post_of_any_process(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a])
    # Another process (the daemon, or the run before a restart) posted 20 s ago.
    with w.store.lock():
        other = w.store.load()
        other = other.mark_pending("9", "k", NOON).mark_sending(
            "9", 0, "", NOON - timedelta(seconds=20)
        )
        w.store.save(other)
    assert w.run(a)[0].result == "posted"
    assert clock.sleeps == [40.0]
    assert server.statuses()[0].created_at == (NOON + timedelta(seconds=40)).timestamp()
    assert w.store.load().last_post_at == NOON + timedelta(seconds=40)


# --- the account behind the state file ----------------------------------------------


def test_a_new_state_file_refuses_when_the_account_has_toots_of_this_archive(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    b = tweet("1000000000000000002", "another one")
    server.add_status(
        "a tweet with enough words to be recognised\n\n(tweeted 4 years ago, 2022-04-05)"
    )
    w = wire(server, tmp_path, clock, [a, b], bind=False)
    with pytest.raises(StateError, match="state rebuild") as info:
        w.run(b)
    assert info.value.path == w.store.path
    assert posts(server) == []
    assert not w.store.path.exists()


def test_a_new_account_needs_no_look_at_its_statuses(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    w = wire(server, tmp_path, clock, [a], bind=False)
    assert w.client.account().statuses_count == 0
    assert [o.result for o in w.run(a)] == ["posted"]
    assert [r for r in server.requests("GET") if r.path.endswith("/statuses")] == []


def test_a_new_state_file_for_an_account_with_ordinary_posts_is_fine(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "a tweet with enough words to be recognised")
    server.add_status("just a normal day on the fediverse")
    w = wire(server, tmp_path, clock, [a], bind=False)
    assert [o.result for o in w.run(a)] == ["posted"]
    assert len(server.requests("GET", f"/api/v1/accounts/{server.account_id}/statuses")) == 1
    state = w.store.load()
    assert state.account is not None and state.account.id == server.account_id
    assert state.account.instance == server.url


def test_another_accounts_state_file_is_refused(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "one")
    w = wire(server, tmp_path, clock, [a], bind=False)
    seed(w.store, State(), "999", server.url)
    before = w.store.path.read_bytes()
    with pytest.raises(AccountMismatch, match="id 999"):
        w.run(a)
    assert posts(server) == []
    assert w.store.path.read_bytes() == before


def test_media_go_up_before_their_status_with_alt_text(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    pics = tuple(Media(f"media/{i}.png", description=f"pic {i}") for i in range(5))
    t = Tweet(
        "1000000000000000001",
        NOON.replace(year=2022),
        "pictures",
        "https://twitter.com/me/status/1",
        media=pics,
    )
    w = wire(server, tmp_path, clock, [t])
    w.run(t)
    assert sent(server) == [("POST", MEDIA)] * 4 + [
        ("POST", STATUSES),
        ("POST", MEDIA),
        ("POST", STATUSES),
    ]
    uploads = server.requests("POST", MEDIA)
    assert [field(u, "description") for u in uploads] == [f"pic {i}" for i in range(5)]
    first, second = posts(server)
    assert len(first.fields["media_ids[]"]) == 4 and len(second.fields["media_ids[]"]) == 1
    assert field(second, "in_reply_to_id") == server.statuses()[0].id


def test_retrying_a_chain_refused_midway_does_not_repost_its_first_parts(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    long = tweet("1000000000000000001", LONG)
    w = wire(server, tmp_path, clock, [long])
    server.fail_next(STATUSES, 422, method="POST", skip=1, error=TOO_LONG)
    [outcome] = w.run(long)
    assert outcome.result == "failed"
    [first] = server.statuses()
    failure = w.store.load().record(long.id)
    assert isinstance(failure, Failed) and failure.status_ids == (first.id,)
    assert f"after parts {first.id} were posted" in outcome.detail
    clock.advance(3 * 3600)  # the server has long forgotten the keys
    server.clear_requests()
    [retried] = w.run(long, retry_failed=True)
    assert retried.result == "posted"
    second, third = posts(server)
    assert field(second, "in_reply_to_id") == first.id
    assert field(third, "in_reply_to_id") == server.statuses()[1].id
    assert [s.text.count("(1/3)") for s in server.statuses()] == [1, 0, 0]
    record = w.store.load().record(long.id)
    assert isinstance(record, Posted) and record.status_ids[0] == first.id
    assert len(record.status_ids) == 3


# --- what the tweet was, said the fediverse's way --------------------------------------------


def test_each_status_declares_its_language_and_sensitivity(
    server: FakeMastodon, tmp_path: Path, clock: FakeClock
) -> None:
    german = replace(tweet("1201", "Guten Morgen"), lang="de", sensitive=True)
    unknown = replace(tweet("1202", "🚀🚀🚀"), lang="und")
    w = wire(server, tmp_path, clock, [german, unknown])
    assert [o.result for o in w.run(german, unknown)] == ["posted", "posted"]
    first, second = posts(server)
    assert (field(first, "language"), field(first, "sensitive")) == ("de", "1")
    assert (field(second, "language"), field(second, "sensitive")) == (None, "0")


@pytest.mark.parametrize("quote_posts", [True, False])
def test_a_quote_post_carries_quoted_status_id_where_the_server_takes_them(
    server: FakeMastodon, tmp_path: Path, clock: FakeClock, quote_posts: bool
) -> None:
    original = tweet("1301", "Caches are just memoization with anxiety")
    quoting = replace(
        tweet("1302", "Still true https://twitter.com/me/status/1301?s=20"), quote_of="1301"
    )
    w = wire(server, tmp_path, clock, [original, quoting], quote_posts=quote_posts)
    assert [o.result for o in w.run(original, quoting)] == ["posted", "posted"]
    first, second = posts(server)
    record = w.store.load().record("1301")
    assert isinstance(record, Posted)
    assert field(first, "quoted_status_id") is None
    if quote_posts:  # a quote post: the quoted status, and the link left out
        assert field(second, "quoted_status_id") == record.status_ids[0]
        assert field(second, "status") == "Still true\n\n(tweeted 4 years ago, 2022-04-05)"
    else:  # the link, to the quoted toot
        assert field(second, "quoted_status_id") is None
        assert (
            field(second, "status")
            == f"Still true {record.url}\n\n(tweeted 4 years ago, 2022-04-05)"
        )


# --- composing before the state lock (issue 11, finding 5) ------------------------------


def test_the_toot_is_composed_before_the_state_lock_is_taken(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path
) -> None:
    a = tweet("1000000000000000001", "hello")
    w = wire(server, tmp_path, clock, [a])
    free: list[bool] = []

    def compose(t: Tweet, due: datetime, posted: Any) -> Any:
        probe = StateStore(w.store.path, clock, lock_timeout=0)
        try:
            with probe.lock():
                free.append(True)
        except StateLocked:
            free.append(False)
        return w.runner.compose(t, due, posted)

    outcomes = replace(w.runner, compose=compose).run([Due(a, NOON)])
    assert [o.result for o in outcomes] == ["posted"]
    assert free == [True]  # nothing holds the lock while a toot is composed


def posted_elsewhere(w: Wiring, clock: FakeClock, tweet_id: str, url: str) -> None:
    """Another process (the daemon) records `tweet_id` as posted."""
    other = StateStore(w.store.path, clock)
    with other.lock():
        other.save(other.load().mark_posted(tweet_id, [url.rsplit("/", 1)[1]], url, NOON))


@pytest.mark.parametrize("meanwhile", ["the linked tweet", "another tweet"])
def test_composed_again_under_the_lock_only_when_a_linked_tweet_was_posted_meanwhile(
    server: FakeMastodon, clock: FakeClock, tmp_path: Path, meanwhile: str
) -> None:
    first = tweet("1000000000000000001", "the original")
    other = tweet("1000000000000000003", "something else")
    later = tweet("1000000000000000002", f"see https://twitter.com/me/status/{first.id}")
    w = wire(server, tmp_path, clock, [first, other, later])
    elsewhere = status_url(server, "77")
    calls: list[dict[str, str]] = []

    def compose(t: Tweet, due: datetime, posted: Any) -> Any:
        if not calls:  # between composing and taking the lock, another process posts
            target = first if meanwhile == "the linked tweet" else other
            posted_elsewhere(w, clock, target.id, elsewhere)
        calls.append(dict(posted))
        return w.runner.compose(t, due, posted)

    replace(w.runner, compose=compose).run([Due(later, NOON)])
    text = field(posts(server)[0], "status") or ""
    if meanwhile == "the linked tweet":
        assert calls == [{}, {first.id: elsewhere}]
        assert text.startswith(f"see {elsewhere}\n\n")
    else:
        assert calls == [{}]  # the draft stands: nothing it links to changed
        assert text.startswith(f"see https://twitter.com/me/status/{first.id}\n\n")
