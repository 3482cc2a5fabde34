"""The state file: contract shape, validation, atomic saves, the lock, transitions."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.errors import AccountMismatch, StateCorrupt, StateError, StateLocked
from bot.model import InstanceLimits
from bot.profile import ServerProfile
from bot.state import (
    Failed,
    Pending,
    Posted,
    State,
    StateAccount,
    StateCounts,
    StateStore,
    idempotency_key,
    load_state,
    read_posted,
)
from tests.support import NOON

ACCOUNT = StateAccount("109", "me", "https://example.social")
PROFILE = ServerProfile(
    "https://example.social",
    "takahe",
    "takahe/0.11.0",
    InstanceLimits(
        500, 4, 23, 1500, 10485760, 0, ("image/png", "image/jpeg"), False, "code points"
    ),
    NOON,
    (("mastodon", 2),),
)
SERVER_JSON = {
    "instance": "https://example.social",
    "software": "takahe",
    "version": "takahe/0.11.0",
    "read_at": "2026-04-05T12:00:00+00:00",
    "limits": {
        "max_characters": 500,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
        "description_limit": 1500,
        "image_size_limit": 10485760,
        "video_size_limit": 0,
        "media_types": ["image/png", "image/jpeg"],
    },
    "api_versions": {"mastodon": 2},
}


@dataclass(frozen=True)
class Acc:
    id: str
    acct: str
    instance: str


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> StateStore:
    return StateStore(tmp_path / "state" / "state.json", clock, lock_timeout=1.0)


def full_state() -> State:
    return (
        State()
        .bind_account(Acc("109", "me", "https://example.social"))
        .mark_posted("1511171364748771329", ["1124"], "https://example.social/@me/1124", NOON)
        .mark_pending("1511175633543565315", "tootback-abc", NOON)
        .mark_failed("1510052366862766091", "422 Text character limit of 500 exceeded", NOON)
    )


def write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def save(store: StateStore, state: State) -> None:
    with store.lock():
        store.save(state)


# --- load / save -------------------------------------------------------------


def test_missing_file_loads_as_empty_state(store: StateStore) -> None:
    state = store.load()
    assert state == State()
    assert state.counts() == StateCounts(0, 0, 0)
    assert not store.path.parent.exists()


def test_saved_file_has_the_contract_shape(store: StateStore) -> None:
    save(store, full_state())
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data == {
        "version": 1,
        "account": {"id": "109", "acct": "me", "instance": "https://example.social"},
        "tweets": {
            "1510052366862766091": {
                "status": "failed",
                "error": "422 Text character limit of 500 exceeded",
                "attempts": 1,
                "failed_at": "2026-04-05T12:00:00+00:00",
            },
            "1511171364748771329": {
                "status": "posted",
                "status_ids": ["1124"],
                "url": "https://example.social/@me/1124",
                "posted_at": "2026-04-05T12:00:00+00:00",
            },
            "1511175633543565315": {
                "status": "pending",
                "key": "tootback-abc",
                "since": "2026-04-05T12:00:00+00:00",
                "parts_done": 0,
                "status_ids": [],
                "fingerprints": [],
            },
        },
    }


def test_save_then_load_round_trips(store: StateStore) -> None:
    state = full_state().mark_part_done("1511175633543565315", "1125")
    save(store, state)
    loaded = store.load()
    assert loaded == state
    assert loaded.source == store.path


def test_loads_the_design_example_without_optional_fields(store: StateStore) -> None:
    write(
        store.path,
        {
            "version": 1,
            "account": {"id": "109", "acct": "me", "instance": "https://example.social"},
            "tweets": {
                "1": {"status": "pending", "key": "tootback-x", "since": "2026-04-05T12:00:00Z"},
                "2": {"status": "failed", "error": "422 …", "attempts": 2},
            },
        },
    )
    state = store.load()
    # No fingerprints: an older tootback wrote it, so part 0 may or may not have gone out.
    assert state.record("1") == Pending("tootback-x", NOON, 0, (), fingerprints=None)
    assert state.record("1").unconfirmed == ""  # type: ignore[union-attr]
    assert state.record("2") == Failed("422 …", 2, None)
    assert state.last_post_at is None


def test_save_keeps_the_previous_file_as_backup(store: StateStore) -> None:
    first = State().mark_posted("1", ["11"], "https://example.social/@me/11", NOON)
    second = first.mark_posted("2", ["22"], "https://example.social/@me/22", NOON)
    save(store, first)
    first_bytes = store.path.read_bytes()
    assert not store.backup_path.exists()
    save(store, second)
    assert store.backup_path.read_bytes() == first_bytes
    assert load_state(store.backup_path) == first
    assert store.load() == second
    leftovers = [p.name for p in store.path.parent.iterdir()]
    assert sorted(leftovers) == ["state.json", "state.json.bak", "state.json.lock"]


def test_files_are_private_and_directory_created_0700(store: StateStore) -> None:
    save(store, full_state())
    save(store, full_state().mark_failed("9", "x", NOON))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.backup_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.lock_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_save_outside_the_lock_is_refused(store: StateStore) -> None:
    with pytest.raises(RuntimeError, match="inside"):
        store.save(State())
    assert not store.path.exists()


def test_a_failed_write_leaves_the_old_file(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(store, full_state())
    before = store.path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StateError, match="No space"), store.lock():
        store.save(State())
    assert store.path.read_bytes() == before
    leftovers = [p.name for p in store.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


# --- corrupt files -----------------------------------------------------------


def test_corrupt_json_is_reported_and_never_overwritten(store: StateStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b'{"version": 1, "tweets": {')
    with pytest.raises(StateCorrupt) as info:
        store.load()
    message = str(info.value)
    assert str(store.path) in message
    assert str(store.backup_path) in message
    assert "not valid JSON" in message
    with pytest.raises(StateCorrupt), store.lock():
        store.save(full_state())
    assert store.path.read_bytes() == b'{"version": 1, "tweets": {'
    assert not store.backup_path.exists()


def test_corrupt_file_message_points_to_an_existing_backup(store: StateStore) -> None:
    save(store, full_state())
    save(store, full_state())
    store.path.write_bytes(b"\x00garbage")
    with pytest.raises(StateCorrupt, match=r"previous good copy is .*state\.json\.bak"):
        store.load()


def test_unknown_version_is_corrupt(store: StateStore) -> None:
    write(store.path, {"version": 2, "tweets": {}})
    with pytest.raises(StateCorrupt, match="version 2"):
        store.load()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not a JSON object"),
        ({"tweets": {}}, "no integer 'version'"),
        ({"version": "1", "tweets": {}}, "no integer 'version'"),
        ({"version": True, "tweets": {}}, "no integer 'version'"),
        ({"version": 1, "tweets": []}, "'tweets' is not an object"),
        ({"version": 1, "account": "me", "tweets": {}}, "'account' is not an object"),
        ({"version": 1, "account": {"id": 109, "acct": "me", "instance": "x"}}, "'id'"),
        ({"version": 1, "tweets": {"7": "posted"}}, "tweet 7: record is not an object"),
        ({"version": 1, "tweets": {"7": {"status": "done"}}}, "unknown status 'done'"),
        (
            {"version": 1, "tweets": {"7": {"status": "posted", "status_ids": [], "url": "u"}}},
            "'status_ids' is empty",
        ),
        (
            {"version": 1, "tweets": {"7": {"status": "posted", "status_ids": [1], "url": "u"}}},
            "'status_ids' must be a list of strings",
        ),
        (
            {
                "version": 1,
                "tweets": {"7": {"status": "pending", "key": "k", "since": "yesterday"}},
            },
            "'since' is not an ISO 8601 time",
        ),
        (
            {"version": 1, "tweets": {"7": {"status": "failed", "error": "x", "attempts": -1}}},
            "'attempts' must be a whole number",
        ),
        ({"version": 1, "server": [], "tweets": {}}, "'server' is not an object"),
        (
            {"version": 1, "server": {**SERVER_JSON, "read_at": "noon"}, "tweets": {}},
            "'server': 'read_at' is not an ISO 8601 time",
        ),
        (
            {"version": 1, "server": {**SERVER_JSON, "limits": {"max_characters": "500"}}},
            "'server': 'limits.max_characters' must be a whole number",
        ),
        (
            {"version": 1, "server": {**SERVER_JSON, "api_versions": {"mastodon": "2"}}},
            "'api_versions' must map names to whole numbers",
        ),
    ],
)
def test_wrong_shapes_are_corrupt(store: StateStore, data: object, problem: str) -> None:
    write(store.path, data)
    before = store.path.read_bytes()
    with pytest.raises(StateCorrupt) as info:
        store.load()
    assert problem in str(info.value)
    assert store.path.read_bytes() == before


# --- the server profile --------------------------------------------------------


def test_the_server_profile_is_kept_under_server(store: StateStore) -> None:
    save(store, full_state().with_server(PROFILE))
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert list(data) == ["version", "account", "server", "tweets"]
    assert data["server"] == SERVER_JSON
    assert store.load().server == PROFILE


def test_a_file_without_a_server_profile_is_written_as_before(store: StateStore) -> None:
    save(store, full_state())
    assert "server" not in json.loads(store.path.read_text(encoding="utf-8"))
    assert store.load().server is None


def test_a_profile_from_a_later_tootback_keeps_what_this_one_knows(store: StateStore) -> None:
    later = {**SERVER_JSON, "quirks": ["new"], "limits": {"max_characters": 5000, "polls": 4}}
    write(store.path, {"version": 1, "server": later, "tweets": {}})
    server = store.load().server
    assert server is not None
    assert server.limits == InstanceLimits(
        max_characters=5000, quote_posts=False, length_rule="code points"
    )


def test_the_same_profile_read_again_changes_nothing() -> None:
    state = State().with_server(PROFILE)
    assert state.with_server(replace(PROFILE, read_at=NOON + timedelta(days=9))) is state
    bigger = replace(PROFILE, limits=InstanceLimits(max_characters=5000))
    assert state.with_server(bigger).server == bigger


# --- read_posted (used by preview) -------------------------------------------


def test_read_posted_lists_urls_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert read_posted(path) == {}
    assert list(tmp_path.iterdir()) == []
    write(
        path,
        {
            "version": 1,
            "tweets": {
                "1": {
                    "status": "posted",
                    "status_ids": ["11"],
                    "url": "https://example.social/@me/11",
                    "posted_at": "2026-04-05T12:00:00+00:00",
                },
                "2": {"status": "pending", "key": "k", "since": "2026-04-05T12:00:00+00:00"},
            },
        },
    )
    assert read_posted(path) == {"1": "https://example.social/@me/11"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_read_posted_raises_on_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(StateCorrupt):
        read_posted(path)


# --- the lock ----------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from bot.clock import SystemClock
from bot.state import StateStore
store = StateStore(Path(sys.argv[1]), SystemClock())
with store.lock():
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def holder(store: StateStore) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock until its stdin is closed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.path), "repost", "--date", "2026-04-05"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline() == "locked\n"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=10)


def test_lock_held_by_another_process_names_its_pid(
    holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    clock = FakeClock(NOON)
    told: list[str] = []
    store = StateStore(
        tmp_path / "state" / "state.json", clock, lock_timeout=0.5, on_wait=told.append
    )
    with pytest.raises(StateLocked) as info, store.lock():
        pytest.fail("the lock should be held by the other process")
    message = str(info.value)
    assert f"pid {holder.pid}" in message
    assert "repost --date 2026-04-05" in message
    assert info.value.exit_code == 3
    assert sum(clock.sleeps) == pytest.approx(0.5)
    assert len(told) == 1 and f"pid {holder.pid}" in told[0]


def test_lock_is_free_again_after_the_holder_exits(
    holder: subprocess.Popen[str], store: StateStore
) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)
    with store.lock():
        store.save(State())
    assert store.load() == State()


def test_lock_records_the_holder_and_clears_it_on_release(store: StateStore) -> None:
    with store.lock():
        info = json.loads(store.lock_path.read_text(encoding="utf-8"))
        assert info["pid"] == os.getpid()
        assert info["since"] == NOON.isoformat()
    assert store.lock_path.read_text(encoding="utf-8") == ""


def test_waiting_for_the_lock_stops_on_a_stop_request(store: StateStore) -> None:
    other = StateStore(store.path, FakeClock(NOON), lock_timeout=None)
    assert isinstance(other.clock, FakeClock)
    other.clock.stop()
    with store.lock(), pytest.raises(StateLocked, match="stopped while waiting"), other.lock():
        pass


def test_lock_is_not_reentrant(store: StateStore) -> None:
    with store.lock(), pytest.raises(RuntimeError, match="already held"), store.lock():
        pass


def test_zero_timeout_fails_at_once(store: StateStore, clock: FakeClock) -> None:
    other = StateStore(store.path, clock, lock_timeout=0)
    with store.lock(), pytest.raises(StateLocked, match=f"pid {os.getpid()}"), other.lock():
        pass
    assert clock.sleeps == []


# --- transitions -------------------------------------------------------------


def test_transitions_return_new_states_and_leave_the_old_one() -> None:
    empty = State()
    pending = empty.mark_pending("7", "tootback-k", NOON)
    assert empty.tweets == {}
    assert pending.record("7") == Pending("tootback-k", NOON)

    later = NOON + timedelta(minutes=5)
    one = pending.mark_part_done("7", "71")
    two = one.mark_part_done("7", "72")
    assert two.record("7") == Pending("tootback-k", NOON, 2, ("71", "72"))
    assert one.record("7") == Pending("tootback-k", NOON, 1, ("71",))

    posted = two.mark_posted("7", ("71", "72"), "https://example.social/@me/71", later)
    assert posted.record("7") == Posted(("71", "72"), "https://example.social/@me/71", later)
    assert posted.is_posted("7") and not two.is_posted("7")


def test_pending_again_with_the_same_key_keeps_since_and_parts() -> None:
    state = State().mark_pending("7", "k", NOON).mark_part_done("7", "71")
    again = state.mark_pending("7", "k", NOON + timedelta(minutes=30))
    assert again.record("7") == Pending("k", NOON, 1, ("71",))
    fresh = state.mark_pending("7", "other", NOON + timedelta(minutes=30))
    assert fresh.record("7") == Pending("other", NOON + timedelta(minutes=30))


def test_a_posted_tweet_cannot_become_pending_again() -> None:
    state = State().mark_posted("7", ["71"], "u", NOON)
    with pytest.raises(ValueError, match="already posted"):
        state.mark_pending("7", "k", NOON)


def test_part_done_needs_a_pending_tweet() -> None:
    with pytest.raises(ValueError, match="not pending"):
        State().mark_part_done("7", "71")


def test_failures_count_attempts_and_a_retry_can_go_pending() -> None:
    state = State().mark_failed("7", "422 too long", NOON).mark_failed("7", "422 still", NOON)
    assert state.record("7") == Failed("422 still", 2, NOON)
    assert isinstance(state.mark_pending("7", "k", NOON).record("7"), Pending)


def test_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        State().mark_pending("7", "k", datetime(2026, 4, 5))


def test_queries_posted_urls_counts_last_posted() -> None:
    state = (
        State()
        .mark_posted("1", ["11"], "https://e.social/@me/11", NOON)
        .mark_posted("2", ["21", "22"], "https://e.social/@me/21", NOON + timedelta(hours=1))
        .mark_pending("3", "k", NOON)
        .mark_failed("4", "x", NOON)
    )
    assert state.posted_urls() == {"1": "https://e.social/@me/11", "2": "https://e.social/@me/21"}
    assert state.counts() == StateCounts(posted=2, pending=1, failed=1)
    assert state.counts().total == 4
    assert set(state.pending()) == {"3"} and set(state.failed()) == {"4"}
    last = state.last_posted()
    assert last is not None and last[0] == "2"
    assert State().last_posted() is None


# --- the account -------------------------------------------------------------


def test_binding_the_same_account_takes_a_new_acct() -> None:
    state = State().bind_account(Acc("109", "me", "https://example.social/"))
    assert state.account == ACCOUNT
    assert state.bind_account(Acc("109", "me", "https://Example.Social")) is state
    renamed = state.bind_account(Acc("109", "newname", "https://example.social"))
    assert renamed.account == StateAccount("109", "newname", "https://example.social")


@pytest.mark.parametrize(
    "other",
    [Acc("110", "me", "https://example.social"), Acc("109", "me", "https://other.social")],
)
def test_another_account_is_refused(store: StateStore, other: Acc) -> None:
    save(store, State().bind_account(Acc("109", "me", "https://example.social")))
    with pytest.raises(AccountMismatch) as info:
        store.load().bind_account(other)
    message = str(info.value)
    assert str(store.path) in message
    assert "@me on https://example.social (id 109)" in message
    assert other.instance in message


# --- idempotency keys --------------------------------------------------------


def test_idempotency_key_is_deterministic_and_distinct() -> None:
    key = idempotency_key("109", "https://example.social", "1511171364748771329", 0)
    assert key == idempotency_key("109", "https://example.social/", "1511171364748771329", 0)
    assert key.startswith("tootback-") and len(key) == len("tootback-") + 40
    others = {
        idempotency_key("109", "https://example.social", "1511171364748771329", 1),
        idempotency_key("110", "https://example.social", "1511171364748771329", 0),
        idempotency_key("109", "https://other.social", "1511171364748771329", 0),
        idempotency_key("109", "https://example.social", "1511171364748771320", 0),
    }
    assert key not in others and len(others) == 4


# --- what was sent: fingerprints, the last post, forgetting ------------------------------


def sending(state: State, index: int, fingerprint: str, at: datetime) -> State:
    return state.mark_sending("7", index, fingerprint, at)


def test_a_part_is_unconfirmed_from_its_request_until_its_status_is_recorded() -> None:
    state = State().mark_pending("7", "k", NOON)
    assert state.record("7").unconfirmed is None  # type: ignore[union-attr]
    state = sending(state, 0, "fp0", NOON + timedelta(seconds=1))
    record = state.record("7")
    assert isinstance(record, Pending)
    assert (record.fingerprints, record.unconfirmed) == (("fp0",), "fp0")
    assert record.sent_at == state.last_post_at == NOON + timedelta(seconds=1)
    state = sending(state.mark_part_done("7", "70"), 1, "fp1", NOON + timedelta(seconds=2))
    record = state.record("7")
    assert isinstance(record, Pending)
    assert (record.status_ids, record.fingerprints, record.unconfirmed) == (
        ("70",),
        ("fp0", "fp1"),
        "fp1",
    )
    assert state.mark_part_done("7", "71").record("7").unconfirmed is None  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not the next one"):
        sending(state, 0, "again", NOON)


def test_sending_goes_on_from_a_record_of_an_older_tootback() -> None:
    old = State(tweets={"7": Pending("k", NOON, 1, ("70",), fingerprints=None)})
    record = sending(old, 1, "fp1", NOON).record("7")
    assert isinstance(record, Pending)
    assert record.fingerprints == ("", "fp1") and record.unconfirmed == "fp1"


def test_a_failure_keeps_what_was_sent_and_a_refusal_drops_the_refused_part() -> None:
    state = sending(
        State()
        .mark_pending("7", "k", NOON)
        .mark_sending("7", 0, "fp0", NOON)
        .mark_part_done("7", "70"),
        1,
        "fp1",
        NOON,
    )
    refused = state.mark_failed("7", "422 too long", NOON)
    lost = state.mark_failed("7", "503 (gave up)", NOON, refused=False)
    assert refused.record("7") == Failed("422 too long", 1, NOON, ("70",), ("fp0",), NOON)
    assert lost.record("7") == Failed("503 (gave up)", 1, NOON, ("70",), ("fp0", "fp1"), NOON)
    again = lost.mark_pending("7", "k", NOON + timedelta(hours=1)).record("7")
    assert again == Pending("k", NOON + timedelta(hours=1), 1, ("70",), ("fp0", "fp1"), NOON)
    assert again.unconfirmed == "fp1"


def test_what_was_sent_and_the_last_post_round_trip(store: StateStore) -> None:
    state = sending(State().mark_pending("7", "k", NOON), 0, "fp0", NOON)
    state = state.mark_pending("8", "k8", NOON).mark_sending("8", 0, "fp8", NOON)
    state = state.mark_failed("8", "503", NOON, refused=False)
    save(store, state)
    assert store.load() == state
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["last_post_at"] == "2026-04-05T12:00:00+00:00"
    assert data["tweets"]["7"]["fingerprints"] == ["fp0"]
    assert data["tweets"]["8"] == {
        "status": "failed",
        "error": "503",
        "attempts": 1,
        "failed_at": "2026-04-05T12:00:00+00:00",
        "fingerprints": ["fp8"],
        "sent_at": "2026-04-05T12:00:00+00:00",
    }


def test_forget_removes_one_record_of_any_kind() -> None:
    state = full_state()
    for tid in state.tweets:
        assert state.forget(tid).record(tid) is None
        assert len(state.forget(tid).tweets) == len(state.tweets) - 1
    assert state.forget("nothing") is state
