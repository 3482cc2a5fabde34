"""What the daemon does about an error, as data.

A job that raises (connecting, planning a day, posting a toot) looks its
error up in POLICY, first match first, and acts:

- RETRY: log `retried` and run the same work again after the backoff (1, 2,
  4 … minutes, at most one hour apart); the toot stays pending or untouched.
- STOP: log `fatal` and end the daemon with the error's exit code (2), so a
  supervisor does not restart-loop it: waiting will not fix the cause.
- NEXT_TOOT: log `failed` for this toot only; the batch goes on with the next.

A stop request is not in the table: whatever a job raises while the daemon
is stopping is logged as abandoned. A 422 never reaches the daemon: the
publisher marks the tweet failed and returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bot.errors import ArchiveError, AuthError, MastodonError, StateLocked, TootbackError


class Action(Enum):
    """What the daemon does after an error."""

    RETRY = "retry later"
    STOP = "stop the daemon"
    NEXT_TOOT = "give up this toot, go on"


@dataclass(frozen=True, slots=True)
class Rule:
    """error: the class (and subclasses) the rule is for; posting: the action when the
    error came from posting one toot; other: when it came from connecting or planning."""

    error: type[Exception]
    posting: Action
    other: Action
    why: str


POLICY: tuple[Rule, ...] = (
    Rule(
        ArchiveError,
        Action.NEXT_TOOT,
        Action.STOP,
        "while posting, only this toot's media are unreadable (it stays pending for the next "
        "start); otherwise the archive itself is missing or unreadable",
    ),
    Rule(AuthError, Action.STOP, Action.STOP, "the token is refused (401, 403, Takahē's 400)"),
    Rule(
        MastodonError,
        Action.RETRY,
        Action.RETRY,
        "the server or the network is down or busy (5xx, 429, timeouts); it comes back",
    ),
    Rule(StateLocked, Action.RETRY, Action.RETRY, "another process holds the state lock"),
    Rule(
        TootbackError,
        Action.STOP,
        Action.STOP,
        "settings, a state file that is corrupt or another account's: waiting will not fix them",
    ),
    Rule(Exception, Action.RETRY, Action.RETRY, "anything else: logged with its type, retried"),
)


def action_for(exc: Exception, *, posting: bool) -> Action:
    """The action for `exc`; `posting` when it came from posting one toot."""
    rule = next(rule for rule in POLICY if isinstance(exc, rule.error))
    return rule.posting if posting else rule.other
