"""Every error tootback raises on purpose, as one tree.

    TootbackError                 base: the CLI catches it and prints its message
    ├── UsageError                a command-line argument that cannot be used (exit 2); .option
    ├── SettingsError             invalid settings (exit 2); .problems lists each
    ├── ArchiveError              archive missing, unreadable or of no known format (exit 2)
    │   └── DemoArchive           the bundled demo archive given to a posting command (exit 2)
    ├── StateError                the state file cannot be used (exit 2)
    │   ├── StateCorrupt          unparseable or unknown version; never overwritten
    │   ├── StateLocked           another process holds the lock (exit 3)
    │   └── AccountMismatch       state belongs to another account
    └── MastodonError             anything the server or network did (exit 4)
        ├── AuthError             the token refused (401, 403, Takahē's 400 …) (exit 2)
        ├── RateLimited           429 after our own waiting gave up
        ├── Rejected              another 4xx (422, a 400 "too long"): never to be posted as is
        ├── Unavailable           5xx or network failure after all retries
        │   └── Unconfirmed       a status request whose outcome is unknown; .answered
        └── Interrupted           a stop request (SIGTERM/SIGINT) ended a wait (exit 130)

Each exception carries its context as attributes (the file, the key, the
status code) and never the access token. Its `exit_code` is the process's exit
code when it reaches the command line; EXIT_CODES says what each code means
(the README's table, kept equal by a test). A 422 while posting never gets
there: the toot is marked failed and the run goes on (exit 1 at the end).
"""

from __future__ import annotations

import re
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_SERVER = 4
EXIT_INTERRUPTED = 130

# One meaning per code; the README's "Exit codes" table says the same (a test checks).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILED: "some toots failed: the server refused them, or they kept failing while the "
    "server answered other requests (each is listed, with the command that retries it), or "
    "one stays pending unconfirmed; the others went out",
    EXIT_USAGE: "a usage or settings error: a bad argument, setting, archive, handles or state "
    "file (a state file or folder that cannot be written too: permission denied, a read-only "
    "mount, a full disk), or a token the server refuses; the message names it, and running "
    "again cannot help",
    EXIT_LOCKED: "the state file is locked by another process",
    EXIT_SERVER: "the server could not be reached, kept failing or rate-limiting, or answered "
    "something unusable; nothing was lost: try again later",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or a stop request); a toot in flight is finished by "
    "the next run",
}


def one_line(text: str) -> str:
    """`text` with its control characters escaped (`\\n`), so that a path or value
    holding a line break cannot split a message."""
    return _CONTROL.sub(lambda match: repr(match[0])[1:-1], text)


# Control characters, and whatever else str.splitlines() breaks at (NEL, U+2028, U+2029).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class TootbackError(Exception):
    """Base of every error tootback raises on purpose."""

    exit_code = EXIT_USAGE

    def lines(self) -> list[str]:
        """The message as printed: one line."""
        return [one_line(str(self))]


class UsageError(TootbackError):
    """A command-line argument that cannot be used; `option` names it (`--tweet`)."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")


class SettingsError(TootbackError):
    """Settings that cannot be used; one line per problem in `problems`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  {p}" for p in problems))

    def lines(self) -> list[str]:
        """A header, then one line per problem."""
        return ["invalid settings:", *(f"  {one_line(p)}" for p in self.problems)]


class ArchiveError(TootbackError):
    """The archive path is missing, unreadable or holds no known format; `source` says
    where the path came from ("--archive", "archive.path, from environment …"), if known."""

    def __init__(self, path: Path | str, reason: str, source: str | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.source = source
        super().__init__(f"archive {path}: {reason}" + (f" ({source})" if source else ""))


class DemoArchive(ArchiveError):
    """The bundled demo archive (someone else's tweets) given to a command that posts."""

    def __init__(self, path: Path | str, command: str) -> None:
        self.path = Path(path)
        self.command = command
        self.reason = (
            f"`tootback {command}` posts, and the archive is tootback's bundled demo "
            "(someone else's tweets, for looking only). Point archive.path at your own "
            "archive: --archive PATH, TOOTBACK_ARCHIVE__PATH=PATH, or path in the [archive] "
            "section of config/tootback.toml"
        )
        TootbackError.__init__(self, self.reason)


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

    exit_code = EXIT_LOCKED


class AccountMismatch(StateError):
    """The state file belongs to another account than the token's."""


class MastodonError(TootbackError):
    """The server or the network failed; `status` is the HTTP status, if any."""

    exit_code = EXIT_SERVER

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class AuthError(MastodonError):
    """The server refused the access token (401, 403, or another form of
    `bot.software.REFUSED_TOKEN`): invalid, revoked or lacking a scope."""

    exit_code = EXIT_USAGE


class RateLimited(MastodonError):
    """429 and the reset is further away than we are willing to wait."""


class Rejected(MastodonError):
    """A 4xx other than a refused token (422, a 400 "too long"): the server refuses
    this request; retrying cannot help."""


class Unavailable(MastodonError):
    """5xx or network failure, after every retry."""


class Unconfirmed(Unavailable):
    """A status request whose outcome is unknown: the status may or may not exist.

    answered: False when the answer was lost (a network failure, a timeout, a 5xx);
    True when the server answered without the status: a repeated Idempotency-Key
    answered 2xx with no status in the body, or 409 while the first request with
    that key is still under way. Either way the status is looked for before it is
    sent again (docs/design.md, "Exactly once, as the code does it").
    """

    def __init__(self, message: str, status: int | None = None, *, answered: bool) -> None:
        self.answered = answered
        super().__init__(message, status)


class Interrupted(MastodonError):
    """A stop request ended a wait (rate limit, backoff, media processing) for the server."""

    exit_code = EXIT_INTERRUPTED
