"""What the tests (and the benchmark) share.

    fake_mastodon.py  the loopback fake Mastodon-API server
    profiles.py       its server profiles (how server software differs)
    archives.py       the one writer of archive files, for fixtures, tests and bench
    processes.py      running `tootback` as a process: a clean environment, forked runs

The fixtures built on them are in tests/conftest.py.
"""

from datetime import UTC, datetime

NOON = datetime(2026, 4, 5, 12, 0, tzinfo=UTC)
"""The tests' usual "now": noon on 2026-04-05, a day the seeds have toots for."""
