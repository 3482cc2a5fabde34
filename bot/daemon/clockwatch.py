"""Noticing when the host clock jumps: changed by hand or by NTP, or the machine suspended.

The daemon's heartbeat compares how far the wall clock moved with how much
time elapsed (a monotonic clock) since the last beat; a difference of more
than JUMP_SECONDS is a jump. Due times are always compared with the wall
clock, so a jump changes nothing by itself; it is only reported.
"""

from __future__ import annotations

from datetime import datetime

JUMP_SECONDS = 5.0


class ClockWatch:
    """Remembers the last beat; `jump` reports a move of the wall clock against elapsed time."""

    def __init__(self, threshold: float = JUMP_SECONDS) -> None:
        self.threshold = threshold
        self._last: tuple[datetime, float] | None = None

    def jump(self, wall: datetime, elapsed: float) -> float | None:
        """Seconds the wall clock moved beyond elapsed time since the last call, when more
        than the threshold (either way); None otherwise, and on the first call.

        wall: the wall-clock time now; elapsed: a monotonic reading in seconds.
        """
        last, self._last = self._last, (wall, elapsed)
        if last is None:
            return None
        moved = (wall - last[0]).total_seconds() - (elapsed - last[1])
        return moved if abs(moved) > self.threshold else None
