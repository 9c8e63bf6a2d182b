"""What of a model's commentary is kept: one plain line, within its length, never a promise."""

from __future__ import annotations

import pytest

from services.signals.commentary import clean


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("  Momentum\nturned   up. ", "Momentum turned up."),
        ("", None),
        (" \n\t ", None),
        ("A guaranteed move higher.", None),
        ("Risk-free entry here.", None),
        ("This setup has 90% accuracy.", None),
        ("比特币必涨。", None),
        ("稳赚不赔", None),
        ("趋势向上，动能转强。", "趋势向上，动能转强。"),
    ],
)
def test_clean(text: str, kept: str | None) -> None:
    assert clean(text, 300) == kept


def test_long_commentary_is_cut_at_a_word() -> None:
    text = "word " * 100
    cut = clean(text, 40)
    assert cut is not None and len(cut) <= 40 and cut.endswith("…") and "wor…" not in cut
    unbroken = clean("x" * 100, 10)
    assert unbroken == "x" * 9 + "…"
