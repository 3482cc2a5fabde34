"""Text repair: mojibake undone exactly, correct text never touched."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.archive import repair
from bot.archive.text import clean_text
from bot.bundled import demo_archive

SEEDS = demo_archive()

# UTF-8 read as Mac Roman, as in bot/seeds/001_b2ac579df868b715.txt.
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
    "Съешь же ещё этих мягких французских булок, да выпей чаю",
    "я и ты — “вместе”",
    "Καλημέρα κόσμε, “πάντα” — Ω π",
    "日本語のテキスト、こんにちは。",
    "中文测试：你好，世界！",
    "한국어 텍스트 😂",
    "שלום עולם",
    "السلام عليكم",
    "Ё ё Ђ",
]


def as_mac_roman(text: str) -> str:
    """UTF-8 bytes decoded as Mac Roman, as in bot/seeds/001_b2ac579df868b715.txt."""
    return text.encode("utf-8").decode("mac_roman")


def as_cp1252(text: str) -> str:
    """UTF-8 bytes decoded as cp1252; its five unassigned bytes kept as C1 controls."""
    return "".join(
        chr(byte) if byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([byte]).decode("cp1252")
        for byte in text.encode("utf-8")
    )


# Non-Latin scripts, which ftfy alone leaves broken in the cases marked.
NON_LATIN = [
    "Привет, мир! Как дела?",  # Mac Roman: ftfy takes `–` and `—` for punctuation
    "Ёлка, ёжик и я",  # Mac Roman; one-letter words
    "Съешь же ещё этих мягких французских булок",
    "Καλημέρα κόσμε",
    "Ελλάδα — “πάντα”",
    "日本語のテキスト、こんにちは。",
    "、文",  # Mac Roman: too short for ftfy
    "んん",  # cp1252: too short for ftfy
    "中文测试：你好，世界！",
    "한국어 텍스트",
    "שלום עולם",
    "Здравствуйте 😂 café",
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


@pytest.mark.parametrize("codec", [as_mac_roman, as_cp1252])
@pytest.mark.parametrize("text", NON_LATIN)
def test_non_latin_mojibake_is_restored(text: str, codec: Any) -> None:
    assert repair(codec(text)) == text


CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
GREEK = "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ"
CJK = "日本語中文测试你好世界のテキストこんにちは。、！？한국어텍스트"
WORDS = st.one_of(
    *(st.text(alphabet=script, min_size=2, max_size=8) for script in (CYRILLIC, GREEK, CJK)),
    st.text(alphabet=" .,!?:;-—–“”‘’…()0123456789abcxyz", max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=8))
def test_non_latin_text_is_left_alone_and_its_mojibake_restored(words: list[str]) -> None:
    text = " ".join(words)
    assert repair(text) == text
    if any(len(word) >= 2 and not word.isascii() for word in words):
        assert repair(as_mac_roman(text)) == text
        assert repair(as_cp1252(text)) == text


def test_ascii_text_is_returned_as_is() -> None:
    text = "nothing to see here"
    assert repair(text) is text


def test_curly_quotes_stay_curly_after_repair() -> None:
    assert repair("‚Äúhi‚Äù ‚Äòthere‚Äô") == "“hi” ‘there’"
    assert repair("â€œhiâ€\x9d â€˜thereâ€™") == "“hi” ‘there’"


def _mojibake_lines() -> list[str]:
    text = (SEEDS / "001_b2ac579df868b715.txt").read_text(encoding="utf-8")
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
    text = (SEEDS / "001_b2ac579df868b715.txt").read_text(encoding="utf-8")
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
    assert clean_text(raw) == (text, 0)
