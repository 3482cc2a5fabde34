"""The hostile corpus through `check`, `preview` and `repost`, as real processes under
resource limits: at most LIMIT_AS of address space and LIMIT_CPU seconds of CPU,
set in the child (`resource.setrlimit`), so a run that would exhaust the machine
is killed instead. Each must exit 0 or its documented code, report every bad
item, upload nothing the server would refuse and show no traceback.

`pytest -s` prints the table of every run (exit code, wall time, peak RSS), and
TOOTBACK_CORPUS_TABLE=path also writes it as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.support import hostile
from tests.support.fake_mastodon import FakeMastodon
from tests.support.hostile import DAY, Entry
from tests.support.processes import clean_environ

pytestmark = pytest.mark.slow

LIMIT_AS = 300 * 1024 * 1024
LIMIT_CPU = 30
MEDIA = "/api/v2/media"
STATUSES = "/api/v1/statuses"
NAMES = [make.__name__.replace("_", "-") for make in hostile.BUILDERS]


@dataclass
class Run:
    entry: str
    command: str
    code: int
    seconds: float
    peak_rss_mb: float
    output: str


TABLE: list[Run] = []


def limited() -> None:
    """In the child, before it runs tootback: the limits."""
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))
    resource.setrlimit(resource.RLIMIT_CPU, (LIMIT_CPU, LIMIT_CPU))


def run(entry: Entry, command: str, args: list[str], env: dict[str, str], cwd: Path) -> Run:
    """`tootback ARGS` under the limits, cold (a day index of its own, none yet); its
    exit code, wall time and peak RSS."""
    out = cwd / f"{entry.name}-{command}.out"
    env = {**env, "XDG_CACHE_HOME": str(cwd / f"cache-{command}")}
    with out.open("wb") as sink:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=limited,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
    result = Run(
        entry.name,
        command,
        proc.returncode,
        round(seconds, 2),
        round(usage.ru_maxrss / 1024, 1),
        out.read_text(encoding="utf-8", errors="replace"),
    )
    TABLE.append(result)
    return result


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Entry]]:
    yield hostile.build(tmp_path_factory.mktemp("hostile-runs"))
    _print_table()


def _print_table() -> None:
    lines = [f"{'input':24} {'command':8} {'exit':>4} {'seconds':>8} {'peak RSS MB':>11}"]
    lines += [
        f"{r.entry:24} {r.command:8} {r.code:>4} {r.seconds:>8.2f} {r.peak_rss_mb:>11.1f}"
        for r in TABLE
    ]
    print("\n" + "\n".join(lines))
    if path := os.environ.get("TOOTBACK_CORPUS_TABLE"):
        rows = [{k: v for k, v in asdict(r).items() if k != "output"} for r in TABLE]
        Path(path).write_text(json.dumps(rows, indent=2), encoding="utf-8")


def reported(output: str, entry: Entry) -> list[str]:
    """The expected problems `check` did not print."""
    return [f"{e.where}…: {e.reason}" for e in entry.problems if not _printed(output, e)]


def _printed(output: str, expect: hostile.Expect) -> bool:
    for line in output.splitlines():
        where, _, reason = line.strip().partition(": ")
        if where.startswith(expect.where) and expect.reason in reason:
            return True
    return False


def env_for(entry: Entry, home: Path, **extra: str) -> dict[str, str]:
    return clean_environ(
        TOOTBACK_STATE__PATH=str(home / "state" / "state.json"),
        TOOTBACK_SCHEDULE__MIN_INTERVAL="0",
        PYTHONUNBUFFERED="1",
        **entry.env,
        **extra,
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_hostile_input_through_check_preview_and_repost(
    corpus: dict[str, Entry], name: str, tmp_path: Path
) -> None:
    entry = corpus[name]
    path = str(entry.path)
    check = run(entry, "check", ["check", "--archive", path], env_for(entry, tmp_path), tmp_path)
    args = ["preview", "--date", DAY, "--json", "--show-skipped", "--archive", path]
    preview = run(entry, "preview", args, env_for(entry, tmp_path), tmp_path)
    with FakeMastodon() as server:
        env = env_for(
            entry, tmp_path, MASTODON_API_BASE_URL=server.url, MASTODON_ACCESS_TOKEN=server.token
        )
        repost = run(entry, "repost", ["repost", "--date", DAY, "--archive", path], env, tmp_path)
        uploads = server.requests("POST", MEDIA)
        posted = server.requests("POST", STATUSES)
        statuses, duplicates = server.statuses(), server.duplicates()
    for result in (check, preview, repost):
        assert "Traceback" not in result.output, result.output
        assert result.seconds < 30 and result.peak_rss_mb < 300, result
    assert check.code == 0 and preview.code == 0, check.output + preview.output
    assert reported(check.output, entry) == [], check.output
    skipped = {s["tweet_id"]: s["reason"] for s in json.loads(preview.output)["skipped"]}
    assert {t: skipped.get(t) for t in entry.skipped} == entry.skipped
    assert repost.code in (0, 1), repost.output
    assert all(r.status in (200, 202) for r in uploads), [r.status for r in uploads]
    assert len(uploads) <= entry.uploads
    assert all(r.status == 200 for r in posted), repost.output
    if entry.posts is not None:
        assert len(statuses) == entry.posts, repost.output
    assert not duplicates
