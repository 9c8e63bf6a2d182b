"""LLM Markdown → Telegram HTML, through markdown-it-py's syntax tree.

Raw HTML in the model's output is never passed through: markdown-it runs with `html` off, so
`<script>` and friends arrive as text and are escaped. Every construct Telegram cannot show is
mapped to something it can (headings → bold lines, lists → "•" lines, tables → monospace `<pre>`).
The result always goes through `sanitize_html`, so it is balanced and nests the way Telegram
requires even if this renderer has a bug.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from services.text.html import escape, safe_href, sanitize_html, visible_text

__all__ = ["markdown_to_telegram_html"]

_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
# CommonMark's flanking rules leave "**支撑位：**65,200" and "在**“关键”**附近" unparsed (punctuation
# inside the markers, a letter outside). Chinese answers do this all the time, so such leftover
# pairs inside one text run are made bold here. Not after an ASCII letter or digit: "2**10".
_LEFTOVER_BOLD_RE = re.compile(r"(?<![A-Za-z0-9*\\])\*\*(?=[^\s*])(.+?)(?<=[^\s*\\])\*\*(?!\*)")
_LANGUAGE_RE = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")
_BULLET = "•"
_RULE = "──────────"
# Tables wider than this (in monospace cells) are shown as lines instead of a grid.
_MAX_TABLE_WIDTH = 48


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def markdown_to_telegram_html(md: str) -> str:
    """Convert a model's Markdown answer to HTML that Telegram's HTML parse mode accepts."""
    if not md.strip():
        return ""
    tree = SyntaxTreeNode(_parser().parse(md.replace("\r\n", "\n").replace("\r", "\n")))
    html = sanitize_html(_Renderer().blocks(tree.children, depth=0, sep="\n\n").strip())
    if not visible_text(html).strip():
        # Only markup and nothing to show (an empty code fence, nesting too deep to parse): show
        # the source rather than send an empty message.
        return escape(md.strip())
    return html


def _display_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


class _Renderer:
    def __init__(self) -> None:
        self._in_link = 0
        self._in_quote = 0
        self._in_bold = 0

    # ---- blocks -------------------------------------------------------------------------
    def blocks(self, nodes: list[SyntaxTreeNode], *, depth: int, sep: str) -> str:
        rendered = (self.block(node, depth=depth) for node in nodes)
        return sep.join(part for part in rendered if part.strip())

    def block(self, node: SyntaxTreeNode, *, depth: int) -> str:
        kind = node.type
        if kind == "paragraph":
            return self.inline(node)
        if kind == "heading":
            self._in_bold += 1
            try:
                inner = self.inline(node)
            finally:
                self._in_bold -= 1
            return f"<b>{inner}</b>" if inner.strip() else ""
        if kind in ("bullet_list", "ordered_list"):
            return self.list_block(node, depth=depth)
        if kind == "blockquote":
            return self.quote(node, depth=depth)
        if kind in ("fence", "code_block"):
            return self.code_block(node)
        if kind == "table":
            return self.table(node)
        if kind == "hr":
            return _RULE
        if kind == "html_block":
            return escape(node.content.rstrip("\n"))
        if node.children:
            return self.blocks(node.children, depth=depth, sep="\n\n")
        return escape(node.content)

    def list_block(self, node: SyntaxTreeNode, *, depth: int) -> str:
        ordered = node.type == "ordered_list"
        start = str(node.attrs.get("start", 1)) if ordered else "1"
        number = int(start) if start.isdigit() else 1
        lines: list[str] = []
        indent = "  " * depth
        for item in node.children:
            marker = f"{item.info or number}." if ordered else _BULLET
            number += 1
            parts: list[str] = []
            for child in item.children:
                if child.type in ("bullet_list", "ordered_list"):
                    parts.append(self.list_block(child, depth=depth + 1))
                else:
                    rendered = self.block(child, depth=depth + 1)
                    if rendered.strip():
                        parts.append(rendered)
            if not parts:
                lines.append(f"{indent}{marker}")
                continue
            first, rest = parts[0], parts[1:]
            if item.children[0].type in ("bullet_list", "ordered_list"):
                lines.append(f"{indent}{marker}")
                lines.append(first)
            else:
                lines.append(f"{indent}{marker} {first}")
            lines.extend(rest)
        return "\n".join(lines)

    def quote(self, node: SyntaxTreeNode, *, depth: int) -> str:
        self._in_quote += 1
        try:
            inner = self.blocks(node.children, depth=depth, sep="\n")
        finally:
            self._in_quote -= 1
        if self._in_quote or not inner.strip():
            return inner  # Telegram cannot nest blockquotes: the outer one holds the text
        return f"<blockquote>{inner}</blockquote>"

    def code_block(self, node: SyntaxTreeNode) -> str:
        code = node.content.rstrip("\n")
        if not code.strip():
            return ""
        language = (node.info or "").strip().split(" ", 1)[0] if node.type == "fence" else ""
        if language and _LANGUAGE_RE.match(language):
            return f'<pre><code class="language-{escape(language)}">{escape(code)}</code></pre>'
        return f"<pre>{escape(code)}</pre>"

    def table(self, node: SyntaxTreeNode) -> str:
        rows: list[list[str]] = []
        aligns: list[str] = []
        for section in node.children:
            for row in section.children:
                cells = [self.plain(cell).strip() for cell in row.children]
                if not aligns:
                    aligns = [str(cell.attrs.get("style", "")) for cell in row.children]
                rows.append(cells)
        if not rows:
            return ""
        columns = max(len(r) for r in rows)
        for r in rows:
            r.extend([""] * (columns - len(r)))
        aligns.extend([""] * (columns - len(aligns)))
        widths = [max(_display_width(r[i]) for r in rows) for i in range(columns)]
        if sum(widths) + 3 * (columns - 1) > _MAX_TABLE_WIDTH and len(rows) > 1:
            return self._table_as_lines(rows)
        lines: list[str] = []
        for index, r in enumerate(rows):
            cells = []
            for i, cell in enumerate(r):
                pad = " " * (widths[i] - _display_width(cell))
                cells.append(pad + cell if "right" in aligns[i] else cell + pad)
            lines.append(" │ ".join(cells).rstrip())
            if index == 0 and len(rows) > 1:
                lines.append("─┼─".join("─" * w for w in widths))
        return f"<pre>{escape(chr(10).join(lines))}</pre>"

    @staticmethod
    def _table_as_lines(rows: list[list[str]]) -> str:
        header, body = rows[0], rows[1:]
        lines = []
        for r in body:
            first = escape(r[0]) if r[0] else ""
            pairs = [
                f"{escape(h)}: {escape(v)}" if h else escape(v) for h, v in zip(header[1:], r[1:], strict=False) if v
            ]
            head = f"{_BULLET} <b>{first}</b>" if first else _BULLET
            lines.append(f"{head} — {'; '.join(pairs)}" if pairs else head)
        return "\n".join(lines)

    # ---- inline -------------------------------------------------------------------------
    def inline(self, node: SyntaxTreeNode) -> str:
        return "".join(self.span(child) for child in node.children)

    def span(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "inline":
            return self.inline(node)
        if kind == "text":
            return self.text(_BR_RE.sub("\n", node.content))
        if kind in ("softbreak", "hardbreak"):
            return "\n"
        if kind == "code_inline":
            if self._in_link:
                return escape(node.content)  # Telegram: a link cannot contain code
            return f"<code>{escape(node.content)}</code>"
        if kind in ("strong", "em", "s"):
            tag = {"strong": "b", "em": "i", "s": "s"}[kind]
            bold = kind == "strong"
            self._in_bold += bold
            try:
                inner = self.inline(node)
            finally:
                self._in_bold -= bold
            if not inner or (bold and self._in_bold):
                return inner  # already bold (e.g. inside a heading): no nested <b>
            return f"<{tag}>{inner}</{tag}>"
        if kind == "link":
            return self.link(node)
        if kind == "image":
            return self.inline(node)  # alt text only
        return escape(node.content)

    def text(self, content: str) -> str:
        parts: list[str] = []
        pos = 0
        for match in _LEFTOVER_BOLD_RE.finditer(content):
            parts.append(escape(content[pos : match.start()]))
            inner = escape(match.group(1))
            parts.append(inner if self._in_bold else f"<b>{inner}</b>")
            pos = match.end()
        parts.append(escape(content[pos:]))
        return "".join(parts)

    def link(self, node: SyntaxTreeNode) -> str:
        href = safe_href(str(node.attrs.get("href", "")))
        if href is None or self._in_link:
            return self.inline(node)
        self._in_link += 1
        try:
            inner = self.inline(node)
        finally:
            self._in_link -= 1
        if not inner.strip():
            inner = escape(href)
        return f'<a href="{escape(href).replace(chr(34), "&quot;")}">{inner}</a>'

    def plain(self, node: SyntaxTreeNode) -> str:
        """Text of a node without markup (for table cells, which become monospace)."""
        if node.type == "text":
            return _LEFTOVER_BOLD_RE.sub(r"\1", _BR_RE.sub(" ", node.content))
        if node.type == "code_inline":
            return node.content
        if node.type in ("softbreak", "hardbreak"):
            return " "
        return "".join(self.plain(child) for child in node.children)
