"""Every error tootback raises on purpose, as one tree.

    TootbackError                 base: the CLI catches it and prints its message
    ├── SettingsError             invalid settings (exit 2); .problems lists each
    ├── ArchiveError              archive missing, unreadable or of no known format (exit 2)
    ├── StateError                the state file cannot be used (exit 2)
    │   ├── StateCorrupt          unparseable or unknown version; never overwritten
    │   ├── StateLocked           another process holds the lock (exit 3)
    │   └── AccountMismatch       state belongs to another account
    └── MastodonError             anything the server or network did
        ├── AuthError             401/403: the token is wrong or lacks scopes (exit 2)
        ├── RateLimited           429 after our own waiting gave up
        ├── Rejected              422: this toot can never be posted as is
        ├── Unavailable           5xx or network failure after all retries
        └── Interrupted           a stop request (SIGTERM/SIGINT) ended a wait for the server

Each exception carries its context as attributes (the file, the key, the
status code) and never the access token.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


class TootbackError(Exception):
    """Base of every error tootback raises on purpose."""

    exit_code = EXIT_USAGE


class SettingsError(TootbackError):
    """Settings that cannot be used; one line per problem in `problems`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  {p}" for p in problems))


class ArchiveError(TootbackError):
    """The archive path is missing, unreadable or holds no known format."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"archive {path}: {reason}")


class StateError(TootbackError):
    """The state file cannot be used."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"state file {path}: {reason}")


class StateCorrupt(StateError):
    """The state file is unreadable or of an unknown version; it is left untouched."""


class StateLocked(StateError):
    """Another process holds the state lock."""

    exit_code = 3


class AccountMismatch(StateError):
    """The state file belongs to another account than the token's."""


class MastodonError(TootbackError):
    """The server or the network failed; `status` is the HTTP status, if any."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class AuthError(MastodonError):
    """401/403: the access token is invalid, revoked or lacks a scope."""

    exit_code = EXIT_USAGE


class RateLimited(MastodonError):
    """429 and the reset is further away than we are willing to wait."""


class Rejected(MastodonError):
    """422: the server refuses this status; retrying cannot help."""


class Unavailable(MastodonError):
    """5xx or network failure, after every retry."""


class Interrupted(MastodonError):
    """A stop request ended a wait (rate limit, backoff, media processing) for the server."""
