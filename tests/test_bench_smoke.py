"""`python -m bench.run --quick` runs and prints its tables (a smoke test: no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_prints_its_tables() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Machine: ")
    rows = (
        "cold load, official folder",
        "cold load, compact variant",
        "peak RSS",
        "warm `preview`",
        "import pydantic_settings",
        "`status`",
        "`repost` of a day already posted",
        "daemon resident memory",
        "`calendar` of a year",
        "`python -c pass`",
    )
    for row in rows:
        assert row in out
    assert "| text only | 1 | " in out  # docs/design.md, "The client": one per status…
    assert "| one photo | 2 | " in out  # …and one per media file
    assert "✓" not in out and "✗" not in out  # quick mode passes no verdicts
