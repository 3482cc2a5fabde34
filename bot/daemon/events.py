"""The daemon's log: one line per event, plain text or JSON, to a stream (stderr).

Every line carries the time, the event name and a sentence; JSON lines add the
event's fields (`tweet_id`, `due`, `url`, `reason`, `error`, `retry_at`, …) for
log shippers. Event names are a contract, listed in README "Running for months":
started, planned, due, would-post, posted, skipped, retried, failed, missed,
waiting, clock, stopping, stopped, fatal.

Lines are written whole under a lock and flushed at once, so lines from the
posting and planning threads never interleave and none is lost on a hard exit.
"""

from __future__ import annotations

import json
import threading
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from bot.clock import Clock

LogFormat = Literal["text", "json"]
FieldValue = str | int | float | bool | None


class EventLog:
    """Writes events to `stream`.

    stream: where lines go (the daemon passes stderr).
    clock: dates each line.
    fmt: "text" (`<time> <event> <message>`) or "json" (one object per line).
    zone: the time zone the times are written in (the daemon's `selection.timezone`).
    """

    def __init__(
        self, stream: TextIO, clock: Clock, fmt: LogFormat = "text", zone: ZoneInfo | None = None
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.fmt = fmt
        self.zone = zone or ZoneInfo("UTC")
        self._lock = threading.Lock()

    def emit(self, event: str, message: str, **fields: FieldValue) -> None:
        """Write one line for `event`.

        event: the event name (see the module doc).
        message: one human sentence; it must never contain a secret.
        fields: machine-readable details, written by the JSON format only
            (None values are left out).
        """
        when = self.clock.now().astimezone(self.zone).isoformat(timespec="seconds")
        if self.fmt == "json":
            data: dict[str, FieldValue] = {"time": when, "event": event, "message": message}
            data.update({k: v for k, v in fields.items() if v is not None})
            line = json.dumps(data, ensure_ascii=False)
        else:
            line = f"{when} {event:<10} {message}"
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
