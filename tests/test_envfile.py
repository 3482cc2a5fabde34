"""`.env` as `tootback login` writes it: atomically, privately, following no link."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values
from pydantic import SecretStr

from bot.envfile import save_secrets
from bot.errors import SettingsError, UsageError

URL = "https://example.social"
TOKEN = "tok-NEW-2718"


def test_old_lines_for_the_keys_go_with_or_without_export_and_the_rest_stays(
    tmp_path: Path,
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# my settings\n"
        "export MASTODON_ACCESS_TOKEN=tok-OLD-1\n"
        "MASTODON_ACCESS_TOKEN = tok-OLD-2\n"
        "export  MASTODON_API_BASE_URL=https://old.example\n"
        "TOOTBACK_SELECTION__TIMEZONE=Europe/Berlin\n"
        "export OTHER=1\n"
    )
    save_secrets(env, URL, SecretStr(TOKEN + "\n"))
    text = env.read_text()
    assert "OLD" not in text and "old.example" not in text
    assert text.splitlines() == [
        "# my settings",
        "TOOTBACK_SELECTION__TIMEZONE=Europe/Berlin",
        "export OTHER=1",
        f"MASTODON_API_BASE_URL={URL}",
        f"MASTODON_ACCESS_TOKEN={TOKEN}",
    ]
    assert dotenv_values(env)["MASTODON_ACCESS_TOKEN"] == TOKEN
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_a_planted_temporary_symlink_is_not_followed(tmp_path: Path) -> None:
    """The old writer opened `.env.tmp` with O_CREAT|O_TRUNC: a symlink planted there
    received the token."""
    outside = tmp_path / "outside"
    outside.mkdir()
    bait = outside / "stolen"
    bait.write_text("nothing yet\n")
    (tmp_path / ".env.tmp").symlink_to(bait)
    save_secrets(tmp_path / ".env", URL, SecretStr(TOKEN))
    assert bait.read_text() == "nothing yet\n"
    assert (tmp_path / ".env.tmp").is_symlink()
    assert TOKEN in (tmp_path / ".env").read_text()


def test_a_symlinked_env_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.env"
    target.write_text("OTHER=1\n")
    env = tmp_path / ".env"
    env.symlink_to(target)
    save_secrets(env, URL, SecretStr(TOKEN))
    assert not env.is_symlink() and target.read_text() == "OTHER=1\n"
    assert env.read_text().splitlines()[0] == "OTHER=1"  # its lines were kept


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("MASTODON_ACCESS_TOKEN=tok-OLD\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(UsageError, match=r"\.env cannot be written: No space left on device"):
        save_secrets(env, URL, SecretStr(TOKEN))
    assert env.read_text() == "MASTODON_ACCESS_TOKEN=tok-OLD\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def test_a_token_no_token_can_be_is_refused_unshown(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        save_secrets(tmp_path / ".env", URL, SecretStr("tok\x00SECRET"))
    assert "SECRET" not in str(info.value)
    assert not (tmp_path / ".env").exists()
