"""The state file (docs/design.md, "The state file"): which tweets were posted, as which statuses.

The file is JSON and its shape is a contract that backups, `state rebuild` and
users' scripts rely on:

    {"version": 1,
     "account": {"id": "…", "acct": "me", "instance": "https://example.social"},
     "last_post_at": "<ISO 8601>",
     "server": {"instance": "https://example.social", "software": "mastodon",
                "version": "4.3.2", "read_at": "<ISO 8601>", "limits": {…},
                "api_versions": {"mastodon": 2}},
     "tweets": {"<tweet id>": {"status": "posted", "status_ids": ["…"], "url": "…",
                               "posted_at": "<ISO 8601>"},
                "<tweet id>": {"status": "pending", "key": "tootback-…", "since": "…",
                               "parts_done": 0, "status_ids": [],
                               "fingerprints": ["…"], "sent_at": "…"},
                "<tweet id>": {"status": "failed", "error": "422 …", "attempts": 1,
                               "failed_at": "…"}}}

`last_post_at`, and a record's `fingerprints` and `sent_at`, were added later
(issue 8); a file without them is read as before: a pending record without
`fingerprints` was written by an older tootback, which did not say which of
its parts had been sent.

`"server"` (the server profile, `bot.profile`) was added later: it is
written only once a run has read the server, and a file without it is read
as before.

`State` is an immutable value; its transitions return a new `State`.
`StateStore` does the I/O: an `flock` held per toot, validated loads, atomic
saves that keep the previous good file as `<name>.bak`. A file that cannot be
understood is reported and never overwritten.

The path is resolved once, links followed (`resolve_state_path`): a state
file kept on another volume behind a symlink is replaced in its own folder,
so the link keeps pointing at the latest state, and the lock and the backup
live beside the real file, where every process using it finds them. Every
failure to write (a read-only mount, a full disk, a folder without
permission) is a StateError naming the file, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from bot.clock import Clock
from bot.errors import AccountMismatch, StateCorrupt, StateError, StateLocked

if TYPE_CHECKING:  # the server profile is read only from state files that keep one
    from bot.profile import ServerProfile

VERSION = 1
LOCK_POLL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class StateAccount:
    """The Mastodon account a state file belongs to; `instance` is the base URL."""

    id: str
    acct: str
    instance: str


class AccountLike(Protocol):
    """Anything that names an account, such as `bot.client.Account`."""

    @property
    def id(self) -> str: ...

    @property
    def acct(self) -> str: ...

    @property
    def instance(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Posted:
    """The tweet went out as `status_ids` (a reply chain, first part first); `url` of the first."""

    status_ids: tuple[str, ...]
    url: str
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class Pending:
    """Posting started at `since` with Idempotency-Key `key`.

    status_ids: the parts the server confirmed, first part first.
    fingerprints: by part index, the fingerprint of every part whose status request
        went out (`bot.rebuild.fingerprint`), written before the request; one more
        than `status_ids` when the last request's outcome is unknown. None when an
        older tootback wrote the record and did not say.
    sent_at: when the last status request went out (None: none did, or not said).
    """

    key: str
    since: datetime
    parts_done: int = 0
    status_ids: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] | None = ()
    sent_at: datetime | None = None

    @property
    def unconfirmed(self) -> str | None:
        """The fingerprint of the part whose request went out and whose status is not
        known (part `len(status_ids)`); None when every request sent is confirmed.
        "" for a record of an older tootback: that part may or may not have gone out."""
        if self.fingerprints is None:
            return ""
        index = len(self.status_ids)
        return self.fingerprints[index] if index < len(self.fingerprints) else None


@dataclass(frozen=True, slots=True)
class Failed:
    """The server refused the tweet `attempts` times (or it kept failing); `error` is the
    last reason. `status_ids`, `fingerprints` and `sent_at` keep what a pending record
    knew (see Pending), so that `--retry-failed` resumes a chain and looks for a part
    whose outcome is unknown before sending it again; a record without them is read as
    "nothing known", and each part is looked for first."""

    error: str
    attempts: int = 1
    failed_at: datetime | None = None
    status_ids: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] | None = None
    sent_at: datetime | None = None


Record = Posted | Pending | Failed


@dataclass(frozen=True, slots=True)
class StateCounts:
    """How many tweets are in each state."""

    posted: int = 0
    pending: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.posted + self.pending + self.failed


@dataclass(frozen=True)
class State:
    """The whole state file as a value. Transitions return a new `State`.

    account: the account the file is bound to, None until the first bind.
    server: the server profile a run read last, None until one did.
    tweets: tweet id -> record; treat it as read-only.
    last_post_at: when the last status request went out, by any process (what
        `schedule.min_interval` counts from); None before the first.
    source: the file it was read from, for error messages (not compared).
    """

    account: StateAccount | None = None
    tweets: Mapping[str, Record] = field(default_factory=dict)
    last_post_at: datetime | None = None
    server: ServerProfile | None = None
    source: Path | None = field(default=None, compare=False, repr=False)

    def record(self, tweet_id: str) -> Record | None:
        """The record of `tweet_id`, None if the tweet was never attempted."""
        return self.tweets.get(tweet_id)

    def is_posted(self, tweet_id: str) -> bool:
        """True when `tweet_id` went out completely."""
        return isinstance(self.tweets.get(tweet_id), Posted)

    def posted_urls(self) -> dict[str, str]:
        """Tweet id -> Mastodon status URL of every posted tweet (for self-links)."""
        return {
            tid: rec.url for tid, rec in self.tweets.items() if isinstance(rec, Posted) and rec.url
        }

    def pending(self) -> dict[str, Pending]:
        """Tweet id -> record of every tweet whose posting was started but not finished."""
        return {tid: rec for tid, rec in self.tweets.items() if isinstance(rec, Pending)}

    def failed(self) -> dict[str, Failed]:
        """Tweet id -> record of every tweet the server refused."""
        return {tid: rec for tid, rec in self.tweets.items() if isinstance(rec, Failed)}

    def counts(self) -> StateCounts:
        """How many tweets are posted, pending and failed."""
        kinds = [type(rec) for rec in self.tweets.values()]
        return StateCounts(kinds.count(Posted), kinds.count(Pending), kinds.count(Failed))

    def last_posted(self) -> tuple[str, Posted] | None:
        """The most recently posted tweet id and its record, None if nothing was posted."""
        posted = [
            (rec.posted_at, tid, rec) for tid, rec in self.tweets.items() if isinstance(rec, Posted)
        ]
        if not posted:
            return None
        _, tid, rec = max(posted, key=lambda item: (item[0], item[1]))
        return tid, rec

    def bind_account(self, account: AccountLike) -> State:
        """Bind the state to `account`, or check that it is the account already bound.

        The account matches when its id and instance are the same; a changed
        `acct` (a renamed account) is taken over. Raises AccountMismatch otherwise.
        """
        new = StateAccount(account.id, account.acct, normalize_instance(account.instance))
        old = self.account
        if old is not None and (old.id, normalize_instance(old.instance)) != (new.id, new.instance):
            raise AccountMismatch(
                self.source or "state",
                f"belongs to @{old.acct} on {old.instance} (id {old.id}), but the access token "
                f"is for @{new.acct} on {new.instance} (id {new.id}); use the matching token "
                "or another state.path",
            )
        return self if old == new else replace(self, account=new)

    def with_server(self, profile: ServerProfile) -> State:
        """Remember the server's profile; the same State when it says what the kept one says
        (however long ago that was read), so an unchanged server writes nothing."""
        return self if profile.same_as(self.server) else replace(self, server=profile)

    def mark_pending(self, tweet_id: str, key: str, now: datetime) -> State:
        """Record that posting `tweet_id` starts with Idempotency-Key `key`.

        A tweet already pending with the same key keeps its record (`since`: the
        key's validity counts from its first use). A failed tweet becomes pending
        with what its record knew: the parts posted, the fingerprints sent. Raises
        ValueError if the tweet was posted: posting it again would duplicate it.
        """
        old = self.tweets.get(tweet_id)
        if isinstance(old, Posted):
            raise ValueError(f"tweet {tweet_id} is already posted")
        if isinstance(old, Pending) and old.key == key:
            return self
        new = Pending(key=key, since=_utc(now))
        if isinstance(old, Failed):
            new = replace(
                new,
                parts_done=len(old.status_ids),
                status_ids=old.status_ids,
                fingerprints=old.fingerprints,
                sent_at=old.sent_at,
            )
        return self._with(tweet_id, new)

    def mark_sending(self, tweet_id: str, index: int, fingerprint: str, now: datetime) -> State:
        """Record, before the request, that part `index` of pending `tweet_id` is being sent
        with `fingerprint`, now: the time `min_interval` counts from.

        Raises ValueError if the tweet is not pending or `index` is not its next part.
        """
        old = self.tweets.get(tweet_id)
        if not isinstance(old, Pending) or index != len(old.status_ids):
            raise ValueError(f"tweet {tweet_id}: part {index} is not the next one to send")
        sent = (*(old.fingerprints or ())[:index], fingerprint)
        if len(sent) < index + 1:  # an older record said nothing of its first parts
            sent = ("",) * (index - len(sent) + 1) + sent
        record = replace(old, fingerprints=sent, sent_at=_utc(now))
        return replace(self._with(tweet_id, record), last_post_at=_utc(now))

    def mark_part_done(self, tweet_id: str, status_id: str) -> State:
        """Record that one more part of pending `tweet_id` was posted as `status_id`.

        Raises ValueError if the tweet is not pending.
        """
        old = self.tweets.get(tweet_id)
        if not isinstance(old, Pending):
            raise ValueError(f"tweet {tweet_id} is not pending")
        done = replace(old, parts_done=old.parts_done + 1, status_ids=(*old.status_ids, status_id))
        return self._with(tweet_id, done)

    def mark_posted(
        self, tweet_id: str, status_ids: tuple[str, ...] | list[str], url: str, now: datetime
    ) -> State:
        """Record that `tweet_id` went out as `status_ids` (first part first) at `now`."""
        if not status_ids:
            raise ValueError(f"tweet {tweet_id}: a posted tweet needs at least one status id")
        return self._with(tweet_id, Posted(tuple(status_ids), url, _utc(now)))

    def mark_failed(
        self, tweet_id: str, error: str, now: datetime, *, refused: bool = True
    ) -> State:
        """Record that `tweet_id` failed with `error`; counts the attempts.

        What a pending record knew is kept. refused: the server refused the last
        request, so nothing came of it; otherwise (it kept failing, or its answer
        was lost) that request's outcome stays unknown, to be looked for first.
        """
        old = self.tweets.get(tweet_id)
        attempts = old.attempts + 1 if isinstance(old, Failed) else 1
        failed = Failed(error, attempts, _utc(now))
        if isinstance(old, Pending | Failed):
            prints = old.fingerprints
            if refused and prints is not None:
                prints = prints[: len(old.status_ids)]
            failed = replace(
                failed, status_ids=old.status_ids, fingerprints=prints, sent_at=old.sent_at
            )
        return self._with(tweet_id, failed)

    def forget(self, tweet_id: str) -> State:
        """The state without `tweet_id`'s record (the same State when it has none)."""
        if tweet_id not in self.tweets:
            return self
        return replace(self, tweets={t: r for t, r in self.tweets.items() if t != tweet_id})

    def _with(self, tweet_id: str, record: Record) -> State:
        return replace(self, tweets={**self.tweets, tweet_id: record})


def idempotency_key(account_id: str, instance: str, tweet_id: str, part_index: int) -> str:
    """The Idempotency-Key for one part of one tweet on one account.

    Deterministic, so a retry after a crash sends the same key and Mastodon
    answers with the status it already created. Returns "tootback-" and 40 hex digits.
    """
    material = "\n".join((normalize_instance(instance), account_id, tweet_id, str(part_index)))
    return "tootback-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def normalize_instance(url: str) -> str:
    """`url` with the scheme and host lower-cased and no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def resolve_state_path(path: Path) -> Path:
    """The real state file behind path: absolute, every symlink followed (a link
    to a file not there yet gives the path it will be created at)."""
    return Path(os.path.realpath(path))


def read_posted(path: Path) -> dict[str, str]:
    """Tweet id -> Mastodon status URL of every posted tweet; {} when no file.

    Never writes or locks. Raises StateCorrupt when the file is unreadable.
    """
    return load_state(path).posted_urls()


def load_state(path: Path) -> State:
    """Read and validate the state file without locking it; an empty State when missing.

    Raises StateCorrupt (naming the file and its backup) when the file is not
    JSON, has the wrong shape or an unknown version; StateError when it cannot
    be read.
    """
    path = resolve_state_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return State(source=path)
    except OSError as exc:
        raise StateError(path, f"cannot be read: {_why(exc)}") from None
    try:
        return replace(decode_state(raw), source=path)
    except ValueError as exc:
        raise _corrupt(path, str(exc)) from None


def decode_state(raw: bytes) -> State:
    """Parse the bytes of a state file. Raises ValueError saying what is wrong."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("is not a JSON object")
    version = data.get("version")
    if type(version) is not int:
        raise ValueError("has no integer 'version'")
    if version != VERSION:
        raise ValueError(f"has version {version}; this tootback reads version {VERSION} only")
    tweets = data.get("tweets", {})
    if not isinstance(tweets, dict):
        raise ValueError("'tweets' is not an object")
    account = data.get("account")
    server = data.get("server")
    return State(
        account=None if account is None else _parse_account(account),
        tweets={str(tid): _parse_record(str(tid), rec) for tid, rec in tweets.items()},
        last_post_at=_optional_time(data, "last_post_at", "the file"),
        server=None if server is None else _parse_server(server),
    )


def _parse_server(data: object) -> ServerProfile:
    from bot.profile import parse_profile  # only a state file that keeps a profile needs it

    return parse_profile(data)


def encode_state(state: State) -> bytes:
    """The bytes of the state file for `state`: indented JSON, tweets in id order."""
    account = state.account
    data: dict[str, Any] = {
        "version": VERSION,
        "account": None if account is None else _account_json(account),
    }
    if state.last_post_at is not None:
        data["last_post_at"] = state.last_post_at.isoformat()
    if state.server is not None:
        from bot.profile import profile_json

        data["server"] = profile_json(state.server)
    data["tweets"] = {
        tid: _record_json(state.tweets[tid]) for tid in sorted(state.tweets, key=_id_order)
    }
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class StateStore:
    """The state file on disk: lock, load, atomic save.

    path: the state file (its directory is created with mode 0700 if missing);
        resolved once, symlinks followed: `path` is the real file.
    clock: used to wait for the lock and to date the lock holder.
    lock_timeout: seconds `lock()` waits for another process; None waits forever.
    on_wait: called once, with a sentence naming the holder, when `lock()` has to
        wait (the CLI prints it so a waiting run says what it waits for).
    """

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        lock_timeout: float | None = 30.0,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = resolve_state_path(path)
        self.clock = clock
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        self._held = False
        self._swept = False

    @property
    def lock_path(self) -> Path:
        """The lock file beside the state file."""
        return self.path.with_name(self.path.name + ".lock")

    @property
    def backup_path(self) -> Path:
        """Where the previous good state file is kept."""
        return self.path.with_name(self.path.name + ".bak")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the state lock for the duration of the `with` block; hold it per toot.

        Waits up to `lock_timeout` seconds for another process, then raises
        StateLocked naming the holder's pid and command. Not re-entrant.
        Raises StateError when the lock file cannot be created or written.
        """
        if self._held:
            raise RuntimeError("the state lock is already held by this StateStore")
        self._ensure_dir()
        with self._writing(f"cannot open the lock file {self.lock_path}"):
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._acquire(fd)
            self._held = True
            try:
                with self._writing(f"cannot write the lock file {self.lock_path}"):
                    self._write_holder(fd)
                self._sweep()
                yield
            finally:
                self._held = False
                with contextlib.suppress(OSError):  # the lock goes with the fd anyway
                    os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def load(self) -> State:
        """Read and validate the state file; an empty State when there is none.

        Raises StateCorrupt naming the file and its backup; the file is left as is.
        """
        return load_state(self.path)

    def save(self, state: State) -> None:
        """Write `state` atomically, keeping the file it replaces as `<name>.bak`.

        Must be called inside `lock()`. The new file has mode 0600 and is on disk
        (file and directory fsynced) when this returns. Raises StateCorrupt,
        writing nothing, if the current file is not a valid state file, and
        StateError, leaving the current file as it was, when writing fails.
        """
        if not self._held:
            raise RuntimeError("StateStore.save() must be called inside StateStore.lock()")
        self._ensure_dir()
        replacing = self._check_current()
        folder = self.path.parent
        with self._writing(f"cannot write a new state file in {folder}"):
            fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.")
        tmp = Path(tmp_name)
        try:
            with (
                self._writing(f"cannot write a new state file in {folder}"),
                os.fdopen(fd, "wb") as f,
            ):
                f.write(encode_state(state))
                f.flush()
                os.fchmod(f.fileno(), 0o600)
                os.fsync(f.fileno())
            if replacing:
                with self._writing(f"cannot keep the backup {self.backup_path}"):
                    self._keep_backup()
            with self._writing("cannot replace it"):
                os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        with self._writing(f"cannot flush its folder {folder} to disk"):
            _fsync_dir(folder)

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Turn an OSError of the block into a StateError: `what` failed, and why."""
        try:
            yield
        except OSError as exc:
            raise StateError(self.path, f"{what}: {_why(exc)}") from None

    def _ensure_dir(self) -> None:
        folder = self.path.parent
        with self._writing(f"cannot create its folder {folder}"):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _sweep(self) -> None:
        """Remove the temporary files a killed process left (`.state.json.*` of
        `save`, `state.json.bak.tmp` of `_keep_backup`), once per store.

        Safe under the lock only: every writer holds it while its temporary
        file exists, so none found now can be in use. Only regular files named
        as `save` names them are touched.
        """
        if self._swept:
            return
        self._swept = True
        mine = re.compile(re.escape(f".{self.path.name}.") + r"[A-Za-z0-9_]{8}")
        staging = self.backup_path.name + ".tmp"
        with contextlib.suppress(OSError):  # an unlistable or read-only folder: left as is
            with os.scandir(self.path.parent) as entries:
                stale = [
                    entry.path
                    for entry in entries
                    if (mine.fullmatch(entry.name) or entry.name == staging)
                    and entry.is_file(follow_symlinks=False)
                ]
            for path in stale:
                os.unlink(path)

    def _check_current(self) -> bool:
        # Validating what is about to become the backup keeps a corrupt file from
        # being overwritten even when a caller saves without loading first.
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateError(self.path, f"cannot be read: {_why(exc)}") from None
        try:
            decode_state(raw)
        except ValueError as exc:
            raise _corrupt(self.path, str(exc)) from None
        return True

    def _keep_backup(self) -> None:
        staging = self.backup_path.with_name(self.backup_path.name + ".tmp")
        staging.unlink(missing_ok=True)
        try:
            # A hard link keeps the old inode as the backup with no copy and no
            # moment at which either name is missing.
            os.link(self.path, staging)
        except OSError:
            shutil.copyfile(self.path, staging)
            with staging.open("rb+") as f:
                os.fsync(f.fileno())
        os.chmod(staging, 0o600)
        os.replace(staging, self.backup_path)

    def _acquire(self, fd: int) -> None:
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StateError(self.lock_path, f"cannot lock: {exc.strerror}") from None
            if waited == 0 and self.on_wait is not None:
                self.on_wait(_holder(fd))
            if self.lock_timeout is not None and waited >= self.lock_timeout:
                raise StateLocked(self.path, f"{_holder(fd)}; gave up after {waited:g} s")
            step = LOCK_POLL_SECONDS
            if self.lock_timeout is not None:
                step = min(step, self.lock_timeout - waited)
            if not self.clock.sleep(step):
                raise StateLocked(self.path, f"{_holder(fd)}; stopped while waiting")
            waited += step

    def _write_holder(self, fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "command": _command_line(),
            "since": self.clock.now().isoformat(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return (
            f"locked by another tootback process: pid {int(info['pid'])} "
            f"({info.get('command', '?')}) since {info.get('since', '?')}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "locked by another process (holder unknown)"


def _command_line() -> str:
    args = [os.path.basename(sys.argv[0]) if sys.argv else "?", *sys.argv[1:]]
    return " ".join(args)[:200]


def _why(exc: OSError) -> str:
    """The reason of an OSError in a few words ("No space left on device")."""
    return exc.strerror or str(exc)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _corrupt(path: Path, problem: str) -> StateCorrupt:
    backup = path.with_name(path.name + ".bak")
    hint = (
        f"the previous good copy is {backup}"
        if backup.exists()
        else f"there is no backup ({backup} does not exist)"
    )
    return StateCorrupt(
        path, f"{problem}. It was left untouched: fix it by hand or restore it; {hint}"
    )


def _id_order(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("state times must be timezone-aware")
    return when.astimezone(UTC)


def _account_json(account: StateAccount) -> dict[str, str]:
    return {"id": account.id, "acct": account.acct, "instance": account.instance}


def _record_json(record: Record) -> dict[str, Any]:
    if isinstance(record, Posted):
        return {
            "status": "posted",
            "status_ids": list(record.status_ids),
            "url": record.url,
            "posted_at": record.posted_at.isoformat(),
        }
    if isinstance(record, Pending):
        data: dict[str, Any] = {
            "status": "pending",
            "key": record.key,
            "since": record.since.isoformat(),
            "parts_done": record.parts_done,
            "status_ids": list(record.status_ids),
        }
    else:
        data = {"status": "failed", "error": record.error, "attempts": record.attempts}
        if record.failed_at is not None:
            data["failed_at"] = record.failed_at.isoformat()
        if record.status_ids:
            data["status_ids"] = list(record.status_ids)
    if record.fingerprints is not None:
        data["fingerprints"] = list(record.fingerprints)
    if record.sent_at is not None:
        data["sent_at"] = record.sent_at.isoformat()
    return data


def _parse_account(raw: Any) -> StateAccount:
    if not isinstance(raw, dict):
        raise ValueError("'account' is not an object")
    return StateAccount(
        id=_text(raw, "id", "account"),
        acct=_text(raw, "acct", "account"),
        instance=_text(raw, "instance", "account"),
    )


def _parse_record(tweet_id: str, raw: Any) -> Record:
    where = f"tweet {tweet_id}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: record is not an object")
    status = raw.get("status")
    if status == "posted":
        return Posted(
            status_ids=_ids(raw, "status_ids", where, required=True),
            url=_text(raw, "url", where),
            posted_at=_time(raw, "posted_at", where),
        )
    if status == "pending":
        return Pending(
            key=_text(raw, "key", where),
            since=_time(raw, "since", where),
            parts_done=_count(raw, "parts_done", where, default=0),
            status_ids=_ids(raw, "status_ids", where, required=False),
            fingerprints=_fingerprints(raw, where),
            sent_at=_optional_time(raw, "sent_at", where),
        )
    if status == "failed":
        return Failed(
            error=_text(raw, "error", where),
            attempts=_count(raw, "attempts", where, default=1),
            failed_at=_optional_time(raw, "failed_at", where),
            status_ids=_ids(raw, "status_ids", where, required=False),
            fingerprints=_fingerprints(raw, where),
            sent_at=_optional_time(raw, "sent_at", where),
        )
    raise ValueError(f"{where}: unknown status {status!r} (posted, pending or failed)")


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string")
    return value


def _count(raw: dict[str, Any], key: str, where: str, *, default: int) -> int:
    value = raw.get(key, default)
    if type(value) is not int or value < 0:
        raise ValueError(f"{where}: {key!r} must be a whole number")
    return value


def _ids(raw: dict[str, Any], key: str, where: str, *, required: bool) -> tuple[str, ...]:
    value = raw.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings")
    if required and not value:
        raise ValueError(f"{where}: {key!r} is empty")
    return tuple(value)


def _fingerprints(raw: dict[str, Any], where: str) -> tuple[str, ...] | None:
    return _ids(raw, "fingerprints", where, required=False) if "fingerprints" in raw else None


def _optional_time(raw: dict[str, Any], key: str, where: str) -> datetime | None:
    return None if raw.get(key) is None else _time(raw, key, where)


def _time(raw: dict[str, Any], key: str, where: str) -> datetime:
    value = _text(raw, key, where)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {key!r} is not an ISO 8601 time: {value!r}") from None
    # A hand-edited time without an offset is taken as UTC, as the file writes UTC.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
