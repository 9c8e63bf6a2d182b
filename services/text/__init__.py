"""Telegram text: Markdown → safe HTML, splitting at 4096 visible units, plain fallback, previews."""

from services.text.html import (
    escape,
    html_to_plain,
    safe_href,
    sanitize_html,
    unescape,
    utf16_len,
    visible_length,
    visible_text,
)
from services.text.markdown import markdown_to_telegram_html
from services.text.preview import StreamPreview, close_dangling_markdown, preview_html
from services.text.split import TELEGRAM_LIMIT, split_html, split_text, truncate_html

__all__ = [
    "TELEGRAM_LIMIT",
    "StreamPreview",
    "close_dangling_markdown",
    "escape",
    "html_to_plain",
    "markdown_to_telegram_html",
    "preview_html",
    "safe_href",
    "sanitize_html",
    "split_html",
    "split_text",
    "truncate_html",
    "unescape",
    "utf16_len",
    "visible_length",
    "visible_text",
]
