"""Which language a toot declares: the tweet's, as Twitter detected it, or the setting's.

Pure. Twitter writes `lang` as a BCP 47-style code: mostly ISO 639-1 ("en",
"ja"), a few ISO 639-3 ones ("ckb"), retired codes ("in", "iw"), and
pseudo-codes for text it could not or would not classify: "und"
(undetermined), "zxx" (no linguistic content), and the private-use range
"qaa"-"qtz" ("qme" media links only, "qht" hashtags only, "qam" mentions
only, "qct" cashtags only, "qst" very short text). Mastodon takes an ISO 639
code or nothing; a pseudo-code must become nothing, so the account's default
language applies.
"""

from __future__ import annotations

import re

# Not a language: undetermined, none, uncoded or several languages.
NO_LANGUAGE = frozenset({"und", "zxx", "mis", "mul"})
# ISO 639 reserves qaa-qtz for local use; Twitter's pseudo-codes live there.
_LOCAL_USE = re.compile(r"q[a-t][a-z]")
# Codes ISO 639 retired that Twitter still wrote.
RENAMED = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv"}
_CODE = re.compile(r"[a-z]{2,3}")


def toot_language(lang: str | None, setting: str = "") -> str | None:
    """The ISO 639 code the toot of a tweet whose archive `lang` is lang declares;
    None leaves the account's default.

    setting: `post.language`; when set it wins over the archive.
    """
    if setting:
        return setting
    if lang is None:
        return None
    primary = lang.split("-", 1)[0].lower()
    code = RENAMED.get(primary, primary)
    if code in NO_LANGUAGE or _LOCAL_USE.fullmatch(code) or not _CODE.fullmatch(code):
        return None
    return code
