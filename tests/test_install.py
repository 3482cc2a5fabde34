"""`pip install .` (or pipx) gives a tootback that works from any folder: the wheel holds the
demo archive and the default settings, and installs without a deprecation warning.

The wheel is built offline with this environment's setuptools (the `test` extra) and
installed without its dependencies into a fresh venv that borrows this one's packages
through a path file, so nothing is downloaded and the source tree is not on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_wheel_installs_and_previews_the_demo_from_any_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, ROOT, cwd=tmp_path,
    )  # fmt: skip
    assert "deprecat" not in built.lower() and "BuildBackendWarning" not in built, built
    [wheel] = dist.glob("tootback-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "bot/seeds/000_431246c2810b9def.txt",
        "bot/seeds/001_b2ac579df868b715.txt",
        "bot/defaults/tootback.toml",
        "bot/defaults/handles.toml",
    ):
        assert shipped in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "License-Expression: MIT" in metadata

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path)
    # This environment's packages (the dependencies), after the venv's own.
    Path(site.strip(), "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOTBACK_", "MASTODON_"))}
    env.pop("PYTHONPATH", None)
    where = run(python, "-c", "import bot; print(bot.__file__)", cwd=elsewhere, env=env)
    assert where.startswith(str(venv)), where
    shown = run(
        venv / "bin" / "tootback", "preview", "--date", "2026-04-05", cwd=elsewhere, env=env
    )
    assert "tweet 1511171364748771329" in shown
    assert shown.rstrip().endswith(
        "2 toots (2 statuses), 4 skipped (--show-skipped lists them). Nothing was posted."
    )
    refused = subprocess.run(
        [venv / "bin" / "tootback", "repost"], cwd=elsewhere, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "bundled demo" in refused.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == []  # nothing written where it ran
