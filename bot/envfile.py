"""Writing the two secrets into the `.env` file (`tootback login`).

The file may hold other lines, which are kept; earlier lines for the same two
keys, written `KEY=…` or `export KEY=…`, are replaced. The new file is written
to a temporary file that `mkstemp` creates exclusively (O_EXCL: a planted
`.env.tmp` symlink cannot redirect the token) with mode 0600 in the same
folder, flushed to disk, and renamed over `.env`: a reader never sees a
half-written file, and only its owner can read the token. No link is followed
on the way: a `.env` that is a symlink is replaced by the new file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pydantic import SecretStr

from bot.errors import SettingsError, UsageError
from bot.settings import check_token

KEYS = ("MASTODON_API_BASE_URL", "MASTODON_ACCESS_TOKEN")


def save_secrets(env_file: Path, base_url: str, token: SecretStr) -> None:
    """Write MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN into `env_file`.

    Other lines of the file are kept; the file ends up with mode 0600 (only
    its owner can read the token) and is replaced atomically. Raises
    SettingsError when the token holds a character no token has (never
    showing it), UsageError naming the file when it cannot be written.
    """
    try:
        checked = check_token(token)
    except ValueError as exc:
        raise SettingsError([f"the token the server gave {exc}"]) from None
    if checked is None:
        raise SettingsError(["the server gave an empty token; run `tootback login` again"])
    values = {KEYS[0]: base_url, KEYS[1]: checked.get_secret_value()}
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError("--env-file", f"{env_file} cannot be read: {_why(exc)}") from None
    kept = [line for line in lines if _key(line) not in values]
    kept += [f"{name}={value}" for name, value in values.items()]
    try:
        _replace(env_file, ("\n".join(kept) + "\n").encode("utf-8"))
    except OSError as exc:
        raise UsageError("--env-file", f"{env_file} cannot be written: {_why(exc)}") from None


def _key(line: str) -> str:
    """The key a `.env` line sets ("" for a comment or blank line)."""
    name = line.split("=", 1)[0].strip()
    return name.removeprefix("export").strip() if name.startswith("export ") else name


def _replace(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
