"""The state file on real disks: symlinked paths, stale temporaries, and every way
writing it can fail (permission denied, read-only mount, disk full).

Failures are injected by patching the os calls in-process, in a child process
(`FAULTY`, for `repost` and the daemon as real processes), and, where this
machine allows it, made real: a read-only or a full tmpfs mounted in a private
mount namespace (`unshare -m`), and a folder without write permission.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.bundled import demo_archive
from bot.clock import FakeClock
from bot.errors import StateError
from bot.state import Posted, State, StateAccount, StateStore, load_state, resolve_state_path
from tests.support.archives import caught_up_archive, noon_zone
from tests.support.fake_mastodon import FakeMastodon
from tests.support.processes import clean_environ, wait_for

NOW = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
DAY = "2026-04-05"


def posted_state(*tweet_ids: str) -> State:
    state = State(account=StateAccount("1", "me", "https://example.social"))
    for tid in tweet_ids:
        state = state.mark_posted(tid, [f"9{tid}"], f"https://example.social/@me/9{tid}", NOW)
    return state


def save(store: StateStore, state: State) -> None:
    with store.lock():
        store.save(state)


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """A deployment keeping its state on another volume: deploy/state.json -> volume/…"""
    (tmp_path / "volume" / "tootback").mkdir(parents=True)
    (tmp_path / "deploy").mkdir()
    target = tmp_path / "volume" / "tootback" / "state.json"
    link = tmp_path / "deploy" / "state.json"
    link.symlink_to(target)
    return link, target


# --- a symlinked state path ------------------------------------------------------------


def test_a_symlinked_state_file_is_replaced_in_its_own_folder(linked: tuple[Path, Path]) -> None:
    link, target = linked
    store = StateStore(link, FakeClock(NOW))
    assert store.path == target
    save(store, posted_state("1"))
    save(store, posted_state("1", "2"))
    assert link.is_symlink() and link.resolve() == target
    assert load_state(link) == load_state(target) == posted_state("1", "2")
    # The lock and the backup are beside the real file, where every process finds them.
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "state.json",
        "state.json.bak",
        "state.json.lock",
    ]
    assert [p.name for p in link.parent.iterdir()] == ["state.json"]
    assert load_state(target.with_name("state.json.bak")) == posted_state("1")


def test_a_link_to_a_state_file_not_there_yet_creates_it_at_the_target(
    linked: tuple[Path, Path],
) -> None:
    link, target = linked
    shutil.rmtree(target.parent)
    save(StateStore(link, FakeClock(NOW)), posted_state("7"))
    assert link.is_symlink()
    assert load_state(target) == posted_state("7")
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_a_link_in_the_folder_path_is_followed_too(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    store = StateStore(tmp_path / "alias" / "state.json", FakeClock(NOW))
    save(store, posted_state("3"))
    assert store.path == tmp_path / "real" / "state.json"
    assert store.lock_path.parent == tmp_path / "real"
    assert resolve_state_path(Path("x/../state.json")) == Path.cwd() / "state.json"


def test_two_links_to_one_file_share_one_lock(linked: tuple[Path, Path], tmp_path: Path) -> None:
    link, target = linked
    other = tmp_path / "elsewhere.json"
    other.symlink_to(target)
    first = StateStore(link, FakeClock(NOW), lock_timeout=0)
    second = StateStore(other, FakeClock(NOW), lock_timeout=0)
    with first.lock(), pytest.raises(StateError, match="locked"), second.lock():
        pass


# --- stale temporary files -------------------------------------------------------------


def test_stale_temporaries_are_removed_under_the_lock_and_only_ours(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", FakeClock(NOW))
    save(store, posted_state("1"))
    ours = [".state.json.ab_12cd3", ".state.json.k9x0zzqq", "state.json.bak.tmp"]
    theirs = [".state.json.notours-long", ".other.json.abcdefgh", "notes.txt", ".state.json."]
    for name in ours + theirs:
        (tmp_path / name).write_text("left by a killed process")
    (tmp_path / ".state.json.dir12345").mkdir()  # our pattern, but a folder
    (tmp_path / ".state.json.link1234").symlink_to(tmp_path / "notes.txt")
    fresh = StateStore(tmp_path / "state.json", FakeClock(NOW))
    with fresh.lock():
        left = {p.name for p in tmp_path.iterdir()}
    assert not left & set(ours)
    assert set(theirs) | {".state.json.dir12345", ".state.json.link1234"} <= left
    assert load_state(store.path) == posted_state("1")


# --- every failure to write is a StateError (exit 2) naming the path ---------------------


def failing(code: int) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    return fail


def only_for(suffix: str, real: Callable[..., Any], code: int) -> Callable[..., Any]:
    """`real`, except when a path argument ends in suffix: that fails with code."""

    def call(*args: Any, **kwargs: Any) -> Any:
        paths = [os.fspath(a) for a in args if isinstance(a, str | os.PathLike)]
        if any(str(path).endswith(suffix) for path in paths):
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    return call


FAULTS: list[tuple[str, int, str]] = [
    ("mkdir", errno.EACCES, "cannot create its folder"),
    ("lock", errno.EROFS, "cannot open the lock file"),
    ("mkstemp", errno.ENOSPC, "cannot write a new state file in"),
    ("mkstemp", errno.EROFS, "cannot write a new state file in"),
    ("fsync", errno.ENOSPC, "cannot write a new state file in"),
    ("fchmod", errno.EPERM, "cannot write a new state file in"),
    ("backup", errno.EROFS, "cannot keep the backup"),
    ("replace", errno.EACCES, "cannot replace it"),
    ("holder", errno.ENOSPC, "cannot write the lock file"),
]


@pytest.mark.parametrize(("call", "code", "what"), FAULTS)
def test_every_write_failure_is_a_one_line_state_error_and_the_old_file_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int, what: str
) -> None:
    path = tmp_path / "state" / "state.json"
    store = StateStore(path, FakeClock(NOW))
    if call != "mkdir":
        save(store, posted_state("1"))
    before = path.read_bytes() if path.exists() else None
    patches: dict[str, tuple[Any, str, Callable[..., Any]]] = {
        "mkdir": (os, "mkdir", failing(code)),
        "lock": (os, "open", only_for(".lock", os.open, code)),
        "mkstemp": (tempfile, "mkstemp", failing(code)),
        "fsync": (os, "fsync", failing(code)),
        "fchmod": (os, "fchmod", failing(code)),
        "backup": (os, "link", failing(code)),
        "replace": (os, "replace", only_for("/state.json", os.replace, code)),
        "holder": (os, "pwrite", failing(code)),
    }
    module, name, fake = patches[call]
    monkeypatch.setattr(module, name, fake)
    if call == "backup":  # the fallback copy fails as well
        monkeypatch.setattr(shutil, "copyfile", failing(code))
    with pytest.raises(StateError) as info, store.lock():
        store.save(posted_state("1", "2"))
    monkeypatch.undo()
    error = info.value
    message = str(error)
    assert error.exit_code == 2
    assert "\n" not in message
    assert message.startswith(f"state file {path}: {what}")
    assert message.endswith(os.strerror(code))
    assert (path.read_bytes() if path.exists() else None) == before
    if path.parent.exists():
        assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_an_unreadable_state_file_is_a_state_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    save(StateStore(path, FakeClock(NOW)), posted_state("1"))
    monkeypatch.setattr(Path, "read_bytes", failing(errno.EACCES))
    with pytest.raises(StateError, match=f"{path}: cannot be read: Permission denied"):
        load_state(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_a_folder_without_write_permission_is_a_state_error(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    store = StateStore(folder / "state.json", FakeClock(NOW))
    save(store, posted_state("1"))
    folder.chmod(0o500)
    try:
        with pytest.raises(StateError, match="Permission denied"), store.lock():
            store.save(posted_state("1", "2"))
    finally:
        folder.chmod(0o700)


# --- as real processes: repost and the daemon exit 2, with no traceback ------------------

# Runs `tootback ARGS` with one os call failing for paths under $FAULT_DIR.
FAULTY = """
import errno, os, sys
where, call, code = os.environ["FAULT_DIR"], os.environ["FAULT_CALL"], os.environ["FAULT_ERRNO"]
real = getattr(os, call)
def broken(*args, **kwargs):
    first = args[0]
    name = os.readlink(f"/proc/self/fd/{first}") if isinstance(first, int) else os.fspath(first)
    if name.startswith(where):
        number = getattr(errno, code)
        raise OSError(number, os.strerror(number))
    return real(*args, **kwargs)
setattr(os, call, broken)
from bot.cli import main
sys.argv[0] = "tootback"
main()
"""


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """A copy of the demo archive as the user's own (posting refuses the bundled one)."""
    return Path(shutil.copytree(demo_archive(), tmp_path / "archive"))


def run_env(server: FakeMastodon, state: Path, archive: Path, **extra: str) -> dict[str, str]:
    return clean_environ(
        MASTODON_API_BASE_URL=server.url,
        MASTODON_ACCESS_TOKEN=server.token,
        TOOTBACK_STATE__PATH=str(state),
        TOOTBACK_ARCHIVE__PATH=str(archive),
        TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
        PYTHONUNBUFFERED="1",
        **extra,
    )


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], path: Path, why: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("tootback:")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"tootback: state file {path}: ")
    assert errors[0].endswith(why)


@pytest.mark.parametrize(
    ("call", "code", "why"),
    [("fsync", "ENOSPC", "No space left on device"), ("open", "EROFS", "Read-only file system")],
)
def test_repost_on_a_failing_disk_exits_2_with_one_line(
    tmp_path: Path, server: FakeMastodon, archive: Path, call: str, code: str, why: str
) -> None:
    state = tmp_path / "state" / "state.json"
    env = run_env(server, state, archive, FAULT_DIR=str(tmp_path / "state"), FAULT_CALL=call)
    env["FAULT_ERRNO"] = code
    done = run([sys.executable, "-c", FAULTY, "repost", "--date", DAY], tmp_path, env)
    assert_one_line_exit_2(done, state, why)


def test_the_daemon_stops_with_exit_2_when_the_state_cannot_be_written(
    tmp_path: Path, server: FakeMastodon
) -> None:
    now = datetime.now(UTC)  # a daemon runs on the real clock (APScheduler)
    archive = tmp_path / "today"
    caught_up_archive(archive, now)
    state = tmp_path / "state" / "state.json"
    env = run_env(server, state, archive, FAULT_DIR=str(tmp_path / "state"), FAULT_CALL="fsync")
    env["FAULT_ERRNO"] = "ENOSPC"
    env["TOOTBACK_SELECTION__TIMEZONE"] = noon_zone(now)
    done = run([sys.executable, "-c", FAULTY, "daemon", "--log-format", "json"], tmp_path, env)
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert done.returncode == 2, done.stderr
    assert "retried" not in kinds and "Traceback" not in done.stderr
    (fatal,) = [e for e in events if e["event"] == "fatal"]
    assert fatal["exit_code"] == 2
    assert f"state file {state}" in fatal["error"] and "No space left" in fatal["error"]


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True
    )
    return probe.returncode == 0


MOUNTS = pytest.mark.skipif(not _can_mount(), reason="cannot mount a tmpfs in a namespace here")


def in_namespace(setup: str, mount: Path, args: list[str]) -> list[str]:
    """args run in a private mount namespace after the shell commands of setup
    (with $M the mount point)."""
    return [
        "unshare",
        "-m",
        "sh",
        "-ec",
        f'M="$0"; {setup}; shift; exec "$@"',
        str(mount),
        "-",
        *args,
    ]


@MOUNTS
@pytest.mark.parametrize(
    ("setup", "why"),
    [
        # An existing state file on a mount that is read-only now.
        (
            'mount -t tmpfs tmpfs "$M"; mkdir "$M/state"; cp "$SEED" "$M/state/state.json";'
            ' mount -o remount,ro "$M"',
            "Read-only file system",
        ),
        # A full disk: the state file is there, nothing more fits.
        (
            'mount -t tmpfs -o size=64k tmpfs "$M"; mkdir "$M/state";'
            ' cp "$SEED" "$M/state/state.json"; head -c 1000000 /dev/zero > "$M/fill" || true',
            "No space left on device",
        ),
    ],
    ids=["read-only", "full"],
)
def test_repost_on_a_real_read_only_or_full_mount_exits_2(
    tmp_path: Path, server: FakeMastodon, archive: Path, setup: str, why: str
) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"version": 1, "account": None, "tweets": {}}))
    mount = tmp_path / "mnt"
    mount.mkdir()
    state = mount / "state" / "state.json"
    env = run_env(server, state, archive, SEED=str(seed))
    args = [sys.executable, "-m", "bot", "repost", "--date", DAY]
    done = run(in_namespace(setup, mount, args), tmp_path, env)
    assert_one_line_exit_2(done, state, why)
    assert not [s for s in server.statuses()]  # nothing was posted without its record


# --- a symlinked state, a kill in the middle of a save ---------------------------------

# `tootback ARGS` whose n-th replacement of the state file stops just before it
# happens (the new file written, not yet in place) and waits there to be killed.
STOP_IN_SAVE = """
import os, sys, time
target, link, n, mark = sys.argv[1:5]
real_replace = os.replace
count = 0
def replace(src, dst, *args, **kwargs):
    global count
    if os.fspath(dst) in (target, link):
        count += 1
        if count == int(n):
            open(mark, "w").close()
            time.sleep(60)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
sys.argv[1:] = sys.argv[5:]
sys.argv[0] = "tootback"
from bot.cli import main
main()
"""


@pytest.mark.parametrize("kill_at", [1, 3, 6])
def test_a_kill_mid_save_through_a_symlink_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, server: FakeMastodon, archive: Path, linked: tuple[Path, Path], kill_at: int
) -> None:
    link, target = linked
    mark = tmp_path / "stopped"
    env = run_env(server, link, archive)
    args = [str(target), str(link), str(kill_at), str(mark), "repost", "--date", DAY]
    proc = subprocess.Popen(
        [sys.executable, "-c", STOP_IN_SAVE, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(mark.exists, proc)
        assert mark.exists(), proc.stderr.read().decode() if proc.stderr else ""
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    # Killed between writing the new file and putting it in place: the link still
    # points at the real file, which holds the last complete save.
    assert link.is_symlink() and link.resolve() == target
    before = load_state(target)
    assert len(before.tweets) <= 2
    stale = [p.name for p in target.parent.iterdir() if p.name.startswith(".state.json.")]
    assert len(stale) == 1
    rerun = run([sys.executable, "-m", "bot", "repost", "--date", DAY], tmp_path, env)
    assert rerun.returncode == 0, rerun.stderr
    statuses = server.statuses()
    keys = [s.idempotency_key for s in statuses]
    assert len(statuses) == 2 and len(set(keys)) == 2  # each of the day's two tweets once
    assert not server.duplicates()
    after = load_state(link)
    assert all(isinstance(after.record(t), Posted) for t in before.tweets)
    assert after.counts().posted == 2
    assert link.is_symlink() and link.resolve() == target
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []
    assert sorted(p.name for p in link.parent.iterdir()) == ["state.json"]
