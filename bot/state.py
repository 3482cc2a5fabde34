"""The state file (DESIGN §6): which tweets were posted, as which statuses.

Placeholder read-only view until the publishing issue builds the full store.
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.errors import StateCorrupt


def read_posted(path: Path) -> dict[str, str]:
    """Tweet id -> Mastodon status URL of every posted tweet; {} when no file.

    Never writes or locks. Raises StateCorrupt when the file is unreadable.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateCorrupt(path, f"cannot be read: {exc}") from None
    tweets = data.get("tweets", {}) if isinstance(data, dict) else {}
    return {
        tid: rec["url"]
        for tid, rec in tweets.items()
        if isinstance(rec, dict) and rec.get("status") == "posted" and rec.get("url")
    }
