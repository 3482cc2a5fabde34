"""Writing the two secrets into the `.env` file (`tootback login`).

The file may hold other lines, which are kept. It is written to a temporary
file of mode 0600 and renamed over the old one, so a reader never sees a
half-written file and only its owner can read the token.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr


def save_secrets(env_file: Path, base_url: str, token: SecretStr) -> None:
    """Write MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN into `env_file`.

    Other lines of the file are kept; the file ends up with mode 0600 (only
    its owner can read the token) and is replaced atomically.
    """
    secrets = {"MASTODON_API_BASE_URL": base_url, "MASTODON_ACCESS_TOKEN": token.get_secret_value()}
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in secrets]
    kept += [f"{name}={value}" for name, value in secrets.items()]
    tmp = env_file.with_name(env_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(kept) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, env_file)
