"""Headless Chromium for tests: a screenshot and the rendered DOM of a local page.

Debian's `chromium` package, run as root, so with `--no-sandbox`; every
background service that could reach the network is switched off, and each
run gets a fresh profile. `.ci/run` installs chromium when it is missing; a
test that needs it is skipped only outside CI (`CI` unset) when it is absent.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT = 120  # seconds; a first start on a cold disk takes a few


def chromium() -> str:
    """The chromium binary; the calling test is skipped (or fails, in CI) without one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found


def _run(page: Path, *args: str, size: tuple[int, int] = (720, 1600)) -> bytes:
    with tempfile.TemporaryDirectory(prefix="tootback-chromium-") as profile:
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size[0]},{size[1]}",
                *args,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=TIMEOUT,
            cwd=profile,
            check=False,
        )
    if result.returncode != 0:
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]!r}")
    return result.stdout


def screenshot(page: Path, out: Path, size: tuple[int, int] = (720, 1600)) -> Image.Image:
    """Render `page` and save a PNG screenshot of the window to `out`."""
    _run(page, f"--screenshot={out.resolve()}", size=size)
    return Image.open(io.BytesIO(out.read_bytes())).convert("RGB")


def dump_dom(page: Path) -> str:
    """The DOM of `page` after Chromium has parsed and laid it out, serialized."""
    return _run(page, "--dump-dom").decode("utf-8")


@dataclass(frozen=True)
class Ink:
    """How much a screenshot shows: its distinct colours, and the share of
    pixels that differ from the most common (background) colour."""

    colours: int
    share: float


def ink(image: Image.Image) -> Ink:
    """Measure `image` (a blank or failed render is one or two colours)."""
    counts = image.getcolors(maxcolors=1 << 24) or []
    total = image.width * image.height
    background = max((n for n, _ in counts), default=total)
    return Ink(len(counts), 1 - background / total)
