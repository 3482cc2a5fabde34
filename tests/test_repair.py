"""Text repair: mojibake undone exactly, correct text never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.archive import repair
from bot.archive.text import clean_text

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# UTF-8 read as Mac Roman, as in seeds/tweets_2022-03.md.
MAC_ROMAN = [
    ("It‚Äôs", "It’s"),
    ("‚Äúprogram‚Äù", "“program”"),
    ("an eff‚Ä¶", "an eff…"),
    ("machines \uf8ffüòÇ", "machines 😂"),
    ("combinator \uf8ffü§£ We", "combinator 🤣 We"),
    ("caf√©", "café"),
    ("‚Äî and ‚Äì", "— and –"),
    ("‚úèÔ∏è", "✏️"),
    ("It‚Äôs \uf8ffü§£ and ‚Ä¶", "It’s 🤣 and …"),
    ("\uf8ffüòÇ\uf8ffü§£", "😂🤣"),
]

# UTF-8 read as cp1252 (0x81 0x8D 0x8F 0x90 0x9D kept as C1 controls).
CP1252 = [
    ("Itâ€™s", "It’s"),
    ("â€œhiâ€\x9d", "“hi”"),
    ("â€¦", "…"),
    ("â€“ and â€”", "– and —"),
    ("ðŸ˜‚", "😂"),
    ("ðŸ¤£ðŸ˜‚", "🤣😂"),
    ("cafÃ©", "café"),
    ("naÃ¯ve Ã¼ber", "naïve über"),
    ("âœ\x8fï¸\x8f", "✏️"),
    ("â€œquoteâ€\x9d ðŸ¤£", "“quote” 🤣"),
]

CORRECT = [
    "plain ascii & <stuff>",
    "café",
    "日本語",
    "😂",
    "“quoted”",
    "‘single’",
    "naïve",
    "Ü",
    "Straße",
    "Ελληνικά",
    "Привет",
    "— dash… and – en dash",
    "½ €5 «é» ™©®",
    "“École”",
    "“é”",
    "„Über“",
    "…ça",
    "¿Qué?",
    "√2 ≈ 1.414, π, µs, °C, ∆x",
    "e\u0301",  # decomposed é: not normalized
    "a\u00a0b",
    "👩\u200d👩\u200d👧",
    "✏️",
    "Œuvre",
    "ÿ Å",
    "Today’s mood: 🚀 — naïve café tests, “curly” quotes",
]


@pytest.mark.parametrize(("broken", "fixed"), MAC_ROMAN)
def test_mac_roman_mojibake_is_restored(broken: str, fixed: str) -> None:
    assert repair(broken) == fixed


@pytest.mark.parametrize(("broken", "fixed"), CP1252)
def test_cp1252_mojibake_is_restored(broken: str, fixed: str) -> None:
    assert repair(broken) == fixed


@pytest.mark.parametrize("text", CORRECT)
def test_correct_text_is_left_alone(text: str) -> None:
    assert repair(text) == text


def test_ascii_text_is_returned_as_is() -> None:
    text = "nothing to see here"
    assert repair(text) is text


def test_curly_quotes_stay_curly_after_repair() -> None:
    assert repair("‚Äúhi‚Äù ‚Äòthere‚Äô") == "“hi” ‘there’"
    assert repair("â€œhiâ€\x9d â€˜thereâ€™") == "“hi” ‘there’"


def _mojibake_lines() -> list[str]:
    text = (SEEDS / "tweets_2022-03.md").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if not line.isascii()]


def test_seed_file_has_mojibake_lines() -> None:
    assert len(_mojibake_lines()) == 11


@pytest.mark.parametrize("line", _mojibake_lines())
def test_every_mojibake_line_of_the_seeds_is_restored(line: str) -> None:
    # Every non-ASCII character of that file is mojibake, so the whole line
    # decodes; repair must find the same answer line by line.
    expected = line.encode("mac_roman").decode("utf-8")
    assert repair(line) == expected
    assert "‚Ä" not in repair(line)
    assert "\uf8ff" not in repair(line)


def test_repaired_seed_file_is_clean() -> None:
    text = (SEEDS / "tweets_2022-03.md").read_text(encoding="utf-8")
    fixed = repair(text)
    assert "‚Ä" not in fixed
    assert "\uf8ff" not in fixed
    assert "😂" in fixed and "🤣" in fixed and "“program" in fixed


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Lawall &amp; Danvy", "Lawall & Danvy"),
        ("&amp;amp;", "&amp;"),
        ("&lt;3 &gt;", "<3 >"),
        ("&quot;x&quot; &#39;y&#39; &#x1F602;", "\"x\" 'y' 😂"),
        ("AT&T &copy ?a=1&not=2", "AT&T &copy ?a=1&not=2"),
        ("&#0; &#xD83D; &bogus;", "&#0; &#xD83D; &bogus;"),
        ("It‚Äôs &amp; more", "It’s & more"),
    ],
)
def test_clean_text_unescapes_entities_exactly_once(raw: str, text: str) -> None:
    assert clean_text(raw) == text
