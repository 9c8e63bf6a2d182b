"""The text of a signal, as pushed to a chat (the caption of its chart) and shown in an admin's preview.

`signal_text(signal, t, commentary=…)` is Telegram HTML in the translator's language: direction,
pair, timeframe and exchange; entry; stop with its distance; each target with its distance and its R
multiple; the signal time and how long it stays valid (UTC); the confidence (a score of the rules
that fired — never called a probability or an accuracy); the reasons rendered from the rule codes
(`signal-reason-<code>`; a code without a text reads as a neutral "another rule of the strategy",
never as the code); the note of a manual signal; the model's commentary, marked as the model's;
a short risk footer.

Everything typed by people or models (note, commentary) is escaped by the translator. The whole
fits `limit` visible characters (a photo caption's 1,024 by default): the commentary is cut first,
then the note, then the reasons, then the footer goes. Pure: no database, no clock, no aiogram.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from services.delivery.message import CAPTION_LIMIT
from services.format import exchange_name, format_duration, format_pct, format_price
from services.i18n import Translator
from services.signals.model import SignalIdea, SignalRecord
from services.text.html import utf16_len, visible_length

QUOTE = "USDT"
ELLIPSIS = "…"
MIN_COMMENTARY = 24  # visible characters: below this, a cut commentary is left out instead
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")

SignalLike = SignalIdea | SignalRecord


def pair(symbol: str) -> str:
    return f"{symbol}/{QUOTE}"


def utc_time(when: datetime) -> str:
    """A full UTC time ("2026-12-01 16:00 UTC"): a signal can be read hours or days later."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_r(value: float) -> str:
    return f"{value:.1f}"


def cut(text: str, units: int) -> str:
    """`text` shortened to at most `units` UTF-16 units (as Telegram counts), ending in "…" when cut."""
    if utf16_len(text) <= units:
        return text
    if units <= 0:
        return ""
    kept: list[str] = []
    used = utf16_len(ELLIPSIS)
    for char in text:
        size = utf16_len(char)
        if used + size > units:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + ELLIPSIS


def reason_phrase(t: Translator, code: str) -> str:
    """The text of one rule code; an unknown (or malformed) code reads as a neutral generic phrase."""
    if _CODE.match(code):
        key = f"signal-reason-{code.replace('_', '-')}"
        text = t(key)
        if text != key:
            return text
    return t("signal-reason-other")


def reasons_text(t: Translator, codes: tuple[str, ...]) -> str:
    """The phrases of the codes, in order, each once."""
    separator = "；" if t.locale == "zh" else "; "
    return separator.join(dict.fromkeys(reason_phrase(t, code) for code in codes))


def _change(price: float, entry: float) -> str:
    return format_pct((price / entry - 1.0) * 100.0)


def _signal_time(signal: SignalLike) -> datetime:
    if signal.signal_at is not None:
        return signal.signal_at
    return getattr(signal, "created_at", signal.valid_until)  # a stored row always has one or the other


def _core(signal: SignalLike, t: Translator) -> list[str]:
    head = "signal-head-long" if signal.direction == "long" else "signal-head-short"
    lines = [t(head, pair=pair(signal.symbol), timeframe=signal.timeframe, exchange=exchange_name(signal.exchange))]
    if signal.source == "manual":
        lines.append(t("signal-manual"))
    lines.append(t("signal-entry", price=format_price(signal.entry)))
    lines.append(t("signal-stop", price=format_price(signal.stop), pct=_change(signal.stop, signal.entry)))
    for n, (target, r) in enumerate(zip(signal.targets, signal.r_multiples(), strict=True), start=1):
        lines.append(
            t("signal-target", n=n, price=format_price(target), pct=_change(target, signal.entry), r=format_r(r))
        )
    at = _signal_time(signal)
    lines.append(
        t(
            "signal-time",
            at=utc_time(at),
            until=utc_time(signal.valid_until),
            duration=format_duration(signal.valid_until - at, t.locale),
        )
    )
    lines.append(t("signal-confidence", value=int(signal.confidence)))
    return lines


def _fitted(
    fixed_before: list[str], fixed_after: list[str], text: str, line: Callable[[str], str], limit: int
) -> str | None:
    """`line(text)` with `text` cut so that everything fits `limit`; None when not even a little fits."""
    if not text:
        return None
    used = visible_length("\n".join([*fixed_before, *fixed_after])) + 1  # + this line's newline
    room = limit - used - visible_length(line(""))
    if room < min(MIN_COMMENTARY, utf16_len(text)):
        return None
    return line(cut(text, room))


def signal_text(signal: SignalLike, t: Translator, *, commentary: str | None = None, limit: int = CAPTION_LIMIT) -> str:
    """The signal's message in `t`'s language (see the module docstring); at most `limit` visible characters.

    `commentary`: the model's commentary (a stored signal's own `commentary` when not given)."""
    if commentary is None:
        commentary = getattr(signal, "commentary", None)
    # Cut to the limit before formatting (Fluent refuses a placeable over 2,500 characters).
    commentary = cut((commentary or "").strip(), limit)
    note = cut(signal.note.strip(), limit)
    core = _core(signal, t)
    footer = [t("signal-footer")]
    reasons = reasons_text(t, signal.reason)

    def reason_line(text: str) -> str:
        return t("signal-reasons", reasons=text)

    def note_line(text: str) -> str:
        return t("signal-note", note=text)

    def commentary_line(text: str) -> str:
        return t("signal-commentary", text=text)

    lines_reason = [reason_line(reasons)] if reasons else []
    lines_note = [note_line(note)] if note else []
    if visible_length("\n".join([*core, *lines_reason, *lines_note, *footer])) > limit:
        # Only an unusually long note or reason list gets here: cut the note, then the reasons, then
        # drop the footer; the levels themselves always fit (a few hundred characters at most).
        fitted = _fitted([*core, *lines_reason], footer, note, note_line, limit)
        lines_note = [fitted] if fitted else []
        if visible_length("\n".join([*core, *lines_reason, *lines_note, *footer])) > limit:
            fitted = _fitted(core, footer, reasons, reason_line, limit)
            lines_reason = [fitted] if fitted else []
        if visible_length("\n".join([*core, *lines_reason, *lines_note, *footer])) > limit:
            footer = []
    body = [*core, *lines_reason, *lines_note]
    fitted_commentary = _fitted(body, footer, commentary, commentary_line, limit)
    if fitted_commentary is not None:
        body.append(fitted_commentary)
    return "\n".join([*body, *footer])
