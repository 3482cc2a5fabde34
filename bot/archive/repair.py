"""Text repair: undo UTF-8 that some exporter decoded with the wrong codec.

Two kinds of damage occur in Twitter exports:

- UTF-8 read as cp1252 (`â€™` for `’`, `ðŸ˜‚` for 😂): ftfy's `fix_encoding`
  undoes it, and unlike `ftfy.fix_text` it leaves curly quotes curly.
- UTF-8 read as Mac Roman (`‚Äô` for `’`, `\\uf8ffüòÇ` for 😂): ftfy fixes the
  punctuation but not the emoji, because Mac Roman byte 0xF0 (the lead byte of
  every 4-byte UTF-8 sequence) became U+F8FF, a private-use character ftfy's
  heuristics do not consider. We decode those runs ourselves and accept only a
  clean strict decode, so correct text can never be damaged by this step.
- Short or non-Latin mojibake, which ftfy's heuristics leave alone: Cyrillic
  read as Mac Roman (`–ü—Ä–∏–≤–µ—Ç` for `Привет`: its lead bytes became the
  dashes `–` and `—`, which pass for punctuation), or a two-character CJK
  tweet read as cp1252. So before ftfy, a text whose every non-ASCII run
  decodes strictly from one of the two codecs (bytes that are valid UTF-8)
  is decoded whole, when one run gives two characters or more and none starts
  with a combining mark. Correct text never passes: Cyrillic, Greek and CJK
  letters cannot be encoded in either codec, and accented Latin letters are
  not valid UTF-8 byte sequences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable


def _chars(codec: str, low: int, high: int) -> str:
    """The characters bytes low..high decode to in codec (undefined ones skipped)."""
    return "".join(bytes([b]).decode(codec, "ignore") for b in range(low, high + 1))


# Any UTF-8 sequence read through one of these codecs leaves a lead byte's
# character (0xC2-0xF4) directly followed by a continuation byte's (0x80-0xBF);
# stray C1 controls are the other trace. Text without either cannot be mojibake,
# so the common case (emoji, CJK, curly quotes, accents) skips ftfy entirely.
_LEADS = "".join(sorted(set(_chars("latin-1", 0xC2, 0xF4) + _chars("mac_roman", 0xC2, 0xF4))))
_CONTINUATIONS = "".join(
    sorted(
        set(
            _chars("latin-1", 0x80, 0xBF)
            + _chars("cp1252", 0x80, 0xBF)
            + _chars("mac_roman", 0x80, 0xBF)
        )
    )
)
_SUSPECT = re.compile(f"[{re.escape(_LEADS)}][{re.escape(_CONTINUATIONS)}]|[\x80-\x9f]")
# U+F8FF (Mac Roman 0xF0) inside a run of non-ASCII characters: the trace of a
# 4-byte UTF-8 sequence (emoji) read as Mac Roman.
_APPLE_RUN = re.compile(r"[^\x00-\x7f]*\uf8ff[^\x00-\x7f]*")
# One 4-byte sequence: U+F8FF plus its three continuation bytes.
_APPLE_ONE = re.compile(r"\uf8ff[^\x00-\x7f]{3}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# What a strict decode may not produce: controls, unassigned, surrogates.
_NOT_TEXT = frozenset({"Cc", "Cn", "Cs"})


def repair(text: str) -> str:
    """Restore text whose UTF-8 bytes were decoded as cp1252 or Mac Roman.

    text: one tweet's text (or alt text), possibly damaged.
    Returns the original text; correct text (ASCII or not) comes back unchanged.
    """
    if text.isascii() or _SUSPECT.search(text) is None:
        return text
    for codec in (_strict_mac_roman, _strict_cp1252):
        whole = _decoded_whole(text, codec)
        if whole is not None:
            return whole
    import ftfy  # here: most archives never need it, and it costs ~40 ms to import

    fixed: str = ftfy.fix_encoding(text)
    if "\uf8ff" in fixed:
        fixed = _APPLE_RUN.sub(_mac_roman_run, fixed)
    return fixed


def _decoded_whole(text: str, codec: Callable[[str], str | None]) -> str | None:
    """text with every non-ASCII run decoded by codec, or None unless every
    run decodes to text and one gives two characters or more."""
    pieces: list[str] = []
    done, evidence = 0, False
    for match in _NON_ASCII.finditer(text):
        decoded = codec(match.group())
        if decoded is None or not _is_text(decoded):
            return None
        evidence = evidence or len(decoded) >= 2
        pieces += [text[done : match.start()], decoded]
        done = match.end()
    return "".join([*pieces, text[done:]]) if evidence else None


def _is_text(decoded: str) -> bool:
    """No control, unassigned or surrogate character, no leading combining mark,
    nothing from U+0180-U+036F (Latin Extended-B, IPA, modifier letters and
    combining marks: what stray Latin-1 pairs decode to, rarely what mojibake
    hides; ftfy still gets the text when this refuses it)."""
    if unicodedata.category(decoded[0]).startswith("M"):
        return False
    return not any(
        "\u0180" <= c <= "\u036f" or unicodedata.category(c) in _NOT_TEXT for c in decoded
    )


def _mac_roman_run(match: re.Match[str]) -> str:
    """Decode one run as Mac Roman mojibake, or each emoji in it when the run
    mixes in characters that are not mojibake."""
    run = match.group()
    decoded = _strict_mac_roman(run)
    if decoded is not None:
        return decoded
    return _APPLE_ONE.sub(lambda m: _strict_mac_roman(m.group()) or m.group(), run)


def _strict_mac_roman(run: str) -> str | None:
    """The run re-encoded as Mac Roman and decoded as UTF-8, or None if that
    is not a clean round trip."""
    try:
        return run.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return None


def _strict_cp1252(run: str) -> str | None:
    """The run re-encoded as cp1252 (its five unassigned bytes kept as the C1
    controls they decode to) and decoded as UTF-8, or None."""
    try:
        raw = bytes(ord(c) if 0x80 <= ord(c) <= 0x9F else c.encode("cp1252")[0] for c in run)
        return raw.decode("utf-8")
    except UnicodeError:
        return None
