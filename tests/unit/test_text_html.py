"""Markdown → Telegram HTML, splitting, plain fallback and streaming previews.

The validator below is written from Telegram's "HTML style" rules, independently of the code
under test: only the supported tags and attributes, every tag balanced and nested the way
Telegram allows, no raw `<`/`>` in text, and `&` only as &lt; &gt; &amp; &quot; or numeric entities.
"""

from __future__ import annotations

import random
import re

import pytest

from services.text import (
    StreamPreview,
    close_dangling_markdown,
    escape,
    html_to_plain,
    markdown_to_telegram_html,
    preview_html,
    sanitize_html,
    split_html,
    split_text,
    truncate_html,
    utf16_len,
    visible_length,
)

# ---- an independent strict validator ---------------------------------------------------------

_SIMPLE = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "pre"}
_FORMAT = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "span"}
_TAG = re.compile(r"<(/?)([a-z-]+)((?: [^<>]*)?)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


def _check_open(name: str, attrs: str) -> None:
    if name in _SIMPLE:
        assert attrs == "", f"<{name}> takes no attributes: {attrs!r}"
    elif name == "a":
        assert re.fullmatch(r' href="(https?|tg)://[^"<>\s]+"', attrs), f"bad link {attrs!r}"
    elif name == "code":
        assert attrs == "" or re.fullmatch(r' class="language-[A-Za-z0-9_+#.-]+"', attrs), attrs
    elif name == "span":
        assert attrs == ' class="tg-spoiler"', attrs
    elif name == "blockquote":
        assert attrs in ("", " expandable"), attrs
    else:
        raise AssertionError(f"tag <{name}> is not supported by Telegram")


def validate_telegram_html(html: str) -> str:
    """Assert `html` is accepted by Telegram's HTML parse mode; return its visible text."""
    stack: list[tuple[str, str]] = []  # (name, attrs)
    visible: list[str] = []
    pos = 0
    pre_has_text = False
    for match in _TAG.finditer(html):
        _check_text(html[pos : match.start()], visible)
        if match.start() > pos and stack and stack[-1][0] == "pre":
            pre_has_text = True
        closing, name, attrs = match.groups()
        if closing:
            assert attrs == "", f"closing tag with attributes: {match.group(0)!r}"
            assert stack, f"unbalanced close {match.group(0)!r}"
            assert stack[-1][0] == name, f"{match.group(0)!r} closes <{stack[-1][0]}>"
            stack.pop()
        else:
            _check_open(name, attrs)
            names = [n for n, _ in stack]
            if "code" in names:
                raise AssertionError(f"<{name}> inside <code>")
            if "pre" in names:
                assert name == "code" and names[-1] == "pre" and not pre_has_text, f"<{name}> inside <pre>"
            if name == "blockquote":
                assert "blockquote" not in names, "nested blockquote"
            if name in ("a", "code", "pre"):
                assert "a" not in names, f"<{name}> inside a link"
            if name == "pre":
                pre_has_text = False
            stack.append((name, attrs))
        pos = match.end()
    _check_text(html[pos:], visible)
    assert not stack, f"unclosed tags {stack}"
    return "".join(visible)


def _check_text(chunk: str, visible: list[str]) -> None:
    assert "<" not in chunk, f"raw '<' in text: {chunk[:80]!r}"
    assert ">" not in chunk, f"raw '>' in text: {chunk[:80]!r}"
    stripped = _ENTITY.sub("", chunk)
    assert "&" not in stripped, f"bad entity in {chunk[:80]!r}"
    visible.append(
        _ENTITY.sub(
            lambda m: (
                {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"'}.get(m.group(0))
                or chr(int(m.group(0)[3:-1], 16) if m.group(0)[2] == "x" else int(m.group(0)[2:-1]))
            ),
            chunk,
        )
    )


def test_validator_rejects_what_telegram_rejects() -> None:
    for bad in (
        "<b>x",
        "x</b>",
        "<b><i>x</b></i>",
        "<div>x</div>",
        "a < b",
        "a & b",
        "&nbsp;",
        '<a href="javascript:alert(1)">x</a>',
        "<code><b>x</b></code>",
        "<blockquote><blockquote>x</blockquote></blockquote>",
        '<a href="http://a.b"><a href="http://a.b">x</a></a>',
        '<code class="python">x</code>',
    ):
        with pytest.raises(AssertionError):
            validate_telegram_html(bad)
    assert validate_telegram_html('<pre><code class="language-py">a &lt; b</code></pre>') == "a < b"


# ---- conversion --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("md", "expected"),
    [
        ("**bold** and *it* and _it2_", "<b>bold</b> and <i>it</i> and <i>it2</i>"),
        ("`x < y`", "<code>x &lt; y</code>"),
        ("~~gone~~", "<s>gone</s>"),
        ("# Title\n\ntext", "<b>Title</b>\n\ntext"),
        ("## **Bold** title", "<b>Bold title</b>"),
        ("[site](https://example.com/a?b=1&c=2)", '<a href="https://example.com/a?b=1&amp;c=2">site</a>'),
        ("[bad](javascript:alert(1))", "[bad](javascript:alert(1))"),
        ("[rel](/relative/path)", "rel"),
        ("[`code` link](https://x.io)", '<a href="https://x.io">code link</a>'),
        ("- a\n- b", "• a\n• b"),
        ("1. one\n2. two", "1. one\n2. two"),
        ("3. three\n4. four", "3. three\n4. four"),
        ("- a\n  - b\n    - c", "• a\n  • b\n    • c"),
        ("> quoted", "<blockquote>quoted</blockquote>"),
        ("> outer\n> > inner", "<blockquote>outer\ninner</blockquote>"),
        ("```python\nx = 1 < 2\n```", '<pre><code class="language-python">x = 1 &lt; 2</code></pre>'),
        ("```\nplain\n```", "<pre>plain</pre>"),
        ('```evil"lang\nx\n```', "<pre>x</pre>"),
        ("    indented code", "<pre>indented code</pre>"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<b>not really bold</b>", "&lt;b&gt;not really bold&lt;/b&gt;"),
        ("line one<br>line two", "line one\nline two"),
        ("**unbalanced bold", "**unbalanced bold"),
        ("*unbalanced it", "*unbalanced it"),
        ("`unclosed code", "`unclosed code"),
        ("```js\nconsole.log(1)", '<pre><code class="language-js">console.log(1)</code></pre>'),
        ("比特币 **突破** 70000", "比特币 <b>突破</b> 70000"),
        # CommonMark leaves these unparsed (punctuation inside the markers); models write them a lot
        ("**支撑位：**65,200", "<b>支撑位：</b>65,200"),
        ("价格在**“关键区域”**附近", "价格在<b>“关键区域”</b>附近"),
        ("**Support:**65,200", "<b>Support:</b>65,200"),
        ("# **标题：**副标题", "<b>标题：副标题</b>"),
        ("a ** b ** c", "a ** b ** c"),
        ("---", "──────────"),
        ("a\n\n---\n\nb", "a\n\n──────────\n\nb"),
        ("&amp; &lt;tag&gt; &copy;", "&amp; &lt;tag&gt; ©"),
        ("![chart](https://x.io/c.png)", "chart"),
        ("", ""),
        ("   \n\n  ", ""),
        ("```\n```", "```\n```"),
        ("> " * 200 + "deep", "&gt; " * 200 + "deep"),
    ],
)
def test_markdown_conversion(md: str, expected: str) -> None:
    html = markdown_to_telegram_html(md)
    assert html == expected
    validate_telegram_html(html)


def test_table_becomes_monospace_grid() -> None:
    html = markdown_to_telegram_html("| Level | Price |\n|---|--:|\n| R1 | 68,500 |\n| 支撑 | 65,000 |")
    validate_telegram_html(html)
    assert html.startswith("<pre>") and html.endswith("</pre>")
    lines = html_to_plain(html).splitlines()
    assert lines[0].startswith("Level") and "Price" in lines[0]
    assert lines[2].endswith("68,500") and lines[3].endswith("65,000")  # right-aligned column


def test_wide_table_becomes_lines() -> None:
    header = "| Coin | " + " | ".join(f"Column number {i}" for i in range(5)) + " |"
    sep = "|---" * 6 + "|"
    row = "| BTC | " + " | ".join(f"value {i}" for i in range(5)) + " |"
    html = markdown_to_telegram_html(f"{header}\n{sep}\n{row}")
    validate_telegram_html(html)
    assert "<pre>" not in html
    assert html.startswith("• <b>BTC</b> — Column number 0: value 0;")


def test_blockquote_may_contain_code_and_links() -> None:
    html = markdown_to_telegram_html("> see `x` and [doc](https://a.io)\n>\n> ```\n> code\n> ```")
    validate_telegram_html(html)
    assert html.startswith("<blockquote>") and "<pre>code</pre>" in html


@pytest.mark.parametrize(
    "md",
    [
        "**bold *both** it*",
        "***",
        "**a `b** c`",
        "[link **bold](https://x.io) rest**",
        '[a](https://x.io "title") [b](<https://y.io>)',
        "- item\n\n  ```\n  code in list\n  ```\n- next",
        "> quote\n> - list in quote\n> ```\n> code in quote",
        "1. a\n   > quote in list\n2. b",
        "| a | b |\n|---|\n| 1 | 2 | 3 |",
        "|||\n|-|-|\n",
        "<pre><code>x</code></pre> <a href='http://x'>y</a> &#0; &#xD800; &#99999999;",
        "# \n## ##\n###### six",
        "* * *\n_ _ _",
        "\\*escaped\\* \\`tick\\`",
        "emoji 🚀🚀 and 👨‍👩‍👧 family **粗体** _斜体_",
        "a" * 5000,
        "\x00\x01\x1b[31m control chars \ufffe",
    ],
)
def test_broken_markdown_is_still_valid(md: str) -> None:
    html = markdown_to_telegram_html(md)
    text = validate_telegram_html(html)
    assert "\x00" not in text or "\x00" in md


def test_sanitize_html_balances_and_drops_unsupported() -> None:
    cases = {
        "<b>x": "<b>x</b>",
        "x</b>": "x",
        "<b><i>x</b>y</i>": "<b><i>x</i></b><i>y</i>",
        "<div><b>x</b></div>": "&lt;div&gt;<b>x</b>&lt;/div&gt;",
        "<code><b>x</b></code>": "<code>x</code>",
        '<a href="javascript:x">t</a>': "t",
        "<span>s</span>": "s",
        '<span class="tg-spoiler">s</span>': "<tg-spoiler>s</tg-spoiler>",
        "<blockquote><blockquote>q</blockquote></blockquote>": "<blockquote>q</blockquote>",
        "<strong>s</strong><em>e</em>": "<b>s</b><i>e</i>",
        "<b></b>empty": "empty",
        "a & b &amp; &nbsp;": "a &amp; b &amp; &amp;nbsp;",
    }
    for raw, expected in cases.items():
        assert sanitize_html(raw) == expected, raw
        validate_telegram_html(sanitize_html(raw))


def _random_markdown(rng: random.Random) -> str:
    pieces = [
        "**", "*", "_", "__", "`", "```", "```py\n", "~~", "[", "]", "(", ")", "](https://ex.com/x?a=1&b=2)",
        "<", ">", "&", "&amp;", "&#x1F600;", "&lt;", "<b>", "</b>", "<script>", "</i>", "<a href=x>",
        "\n", "\n\n", "\n- ", "\n1. ", "\n> ", "\n# ", "\n    ", "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "比特币", "大饼", "😀", "👍🏽", " ", " ", "word", "BTC", "68,500", "\\", "!", "|", "---",
    ]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))


def test_fuzz_markdown_always_produces_valid_html() -> None:
    rng = random.Random(20240601)
    for _ in range(1500):
        md = _random_markdown(rng)
        html = markdown_to_telegram_html(md)
        try:
            validate_telegram_html(html)
            for part in split_html(html, 40):
                assert utf16_len(validate_telegram_html(part)) <= 40
            validate_telegram_html(preview_html(md, 50, cursor=" ▌"))
        except AssertionError as exc:
            raise AssertionError(f"markdown {md!r} → {html!r}: {exc}") from exc


def test_fuzz_sanitize_arbitrary_html() -> None:
    rng = random.Random(7)
    pieces = [
        "<b>", "</b>", "<i>", "</i>", "<code>", "</code>", "<pre>", "</pre>", '<a href="https://a.b">',
        "</a>", "<blockquote>", "</blockquote>", '<code class="language-py">', "<span class=\"tg-spoiler\">",
        "</span>", "<u>", "</s>", "<x>", "</y>", "<", ">", "&", "&gt;", "text", " ", "\n", "中文", "🚀",
    ]  # fmt: skip
    for _ in range(2000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        try:
            validate_telegram_html(sanitize_html(raw))
        except AssertionError as exc:
            raise AssertionError(f"{raw!r} → {sanitize_html(raw)!r}: {exc}") from exc


# ---- splitting ---------------------------------------------------------------------------------


def _long_answer(rng: random.Random, size: int) -> str:
    blocks: list[str] = []
    total = 0
    n = 0
    while total < size:
        n += 1
        kind = n % 7
        if kind == 0:
            block = f"## Section {n}: **BTC/USDT** outlook"
        elif kind == 1:
            words = [rng.choice(["price", "support", "阻力位", "momentum", "RSI", "🚀", "`EMA20`", "**key**"])
                     for _ in range(rng.randint(20, 120))]  # fmt: skip
            block = " ".join(words)
        elif kind == 2:
            block = "\n".join(f"- level {i}: *{rng.randint(1, 99999)}* & more < less" for i in range(8))
        elif kind == 3:
            block = "```python\n" + "\n".join(f"    x{i} = {i} < {i + 1}" for i in range(30)) + "\n```"
        elif kind == 4:
            block = "> " + "quote " * rng.randint(5, 80)
        elif kind == 5:
            block = "| a | b |\n|---|---|\n" + "\n".join(f"| {i} | {i * 3} |" for i in range(10))
        else:
            block = "See [the docs](https://example.com/path?q=1&r=2) 比特币大饼以太坊 " * rng.randint(1, 10)
        blocks.append(block)
        total += len(block) + 2
    return "\n\n".join(blocks)


def _assert_parts(original_html: str, parts: list[str], limit: int) -> None:
    original = validate_telegram_html(original_html)
    pos = 0
    for part in parts:
        text = validate_telegram_html(part)
        assert 0 < utf16_len(text) <= limit
        assert text.strip(), "blank part"
        while pos < len(original) and original[pos].isspace():
            pos += 1
        body = text.lstrip()
        assert original.startswith(body, pos), f"text diverges at {pos}: {body[:40]!r}"
        pos += len(body)
    assert not original[pos:].strip(), "text lost at the end"


@pytest.mark.parametrize("size", [4000, 10_000, 30_000])
def test_split_long_formatted_answers(size: int) -> None:
    md = _long_answer(random.Random(size), size)
    html = markdown_to_telegram_html(md)
    parts = split_html(html)
    _assert_parts(html, parts, 4096)
    if visible_length(html) > 4096:
        assert len(parts) >= 2
        assert len(parts) <= visible_length(html) // 2048 + 2  # cuts are not wastefully early
    else:
        assert parts == [html]


def test_split_reopens_tags_across_cuts() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(800))
    html = markdown_to_telegram_html(f"**Intro**\n\n```python\n{code}\n```")
    parts = split_html(html, 1000)
    _assert_parts(html, parts, 1000)
    assert len(parts) > 3
    for part in parts[1:]:
        assert part.startswith('<pre><code class="language-python">') and part.endswith("</code></pre>")


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    para = "word " * 150  # 750 chars
    html = escape(f"{para.strip()}\n\n{para.strip()}")
    assert [utf16_len(p) for p in split_html(html, 1000)] == [749, 749]
    lines = escape("\n".join(["x" * 90] * 20))
    parts = split_html(lines, 1000)
    assert all(p.endswith("x") and p.startswith("x") for p in parts)
    assert [len(p) for p in parts] == [90 * 11 + 10, 90 * 9 + 8]  # 11 whole lines fit exactly
    words = escape(" ".join(["abcdefghi"] * 300))
    parts = split_html(words, 1000)
    _assert_parts(words, parts, 1000)
    assert all(p.endswith("i") and p.startswith("a") for p in parts)


def test_split_hard_cut_and_astral_characters() -> None:
    html = "<b>" + "😀" * 3000 + "</b>"  # 6000 UTF-16 units, no spaces
    parts = split_html(html)
    _assert_parts(html, parts, 4096)
    assert [visible_length(p) for p in parts] == [4096, 1904]
    family = "👨‍👩‍👧" * 1000
    parts = split_html(escape(family), 4096)
    _assert_parts(escape(family), parts, 4096)
    assert all(not p.startswith("\u200d") and not p.endswith("\u200d") for p in parts)


def test_split_counts_entities_as_one_character() -> None:
    html = "&lt;&amp;&gt;" * 2000  # 6000 visible chars, 26000 bytes of markup
    parts = split_html(html)
    assert [visible_length(p) for p in parts] == [4096, 1904]


def test_split_short_and_empty() -> None:
    assert split_html("") == []
    assert split_html("  \n\n ") == []
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]


def test_html_to_plain() -> None:
    html = '<b>Bold</b> &lt;x&gt; <a href="https://a.io/?q=1&amp;r=2">docs</a> <a href="https://b.io">https://b.io</a>'
    assert html_to_plain(html) == "Bold <x> docs (https://a.io/?q=1&r=2) https://b.io"
    assert html_to_plain('<pre><code class="language-py">a &amp;&amp; b</code></pre>') == "a && b"


def test_split_text_plain() -> None:
    text = "a < b & c\n\n" * 1000
    parts = split_text(text, 4096)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


# ---- previews ----------------------------------------------------------------------------------


def test_truncate_html_adds_ellipsis_and_stays_valid() -> None:
    html = markdown_to_telegram_html("**" + ("long bold text " * 500).strip() + "**")
    cut = truncate_html(html, 100)
    assert utf16_len(validate_telegram_html(cut)) <= 100
    assert cut.endswith("…") and cut.startswith("<b>")
    assert truncate_html("<i>short</i>", 100) == "<i>short</i>"


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        ("Support at **68", "Support at **68**"),
        ("Use `ema", "Use `ema`"),
        ("**bold `code", "**bold `code`**"),
        ("Done **", "Done"),
        ("**a** b", "**a** b"),
        ("```\ncode **", "```\ncode **"),
        ("p1 **x\n\np2 ~~y", "p1 **x\n\np2 ~~y~~"),
    ],
)
def test_close_dangling_markdown(partial: str, expected: str) -> None:
    assert close_dangling_markdown(partial) == expected


def test_stream_preview_throttles_and_skips_unchanged() -> None:
    now = [0.0]
    preview = StreamPreview(limit=60, min_interval=1.0, cursor=" ▌", clock=lambda: now[0])
    assert preview.poll() is None  # nothing yet
    preview.feed("**BTC** holds ")
    first = preview.poll()
    assert first == "<b>BTC</b> holds ▌"
    preview.feed("support at `68k")
    assert preview.poll() is None  # too soon
    now[0] = 1.5
    second = preview.poll()
    assert second is not None and "<code>68k</code>" in second
    now[0] = 3.0
    assert preview.poll() is None  # unchanged
    preview.feed(" and " + "more words " * 20)
    now[0] = 4.5
    long = preview.poll()
    assert long is not None and long.endswith("…")
    assert utf16_len(validate_telegram_html(long)) <= 60
    assert preview.text.startswith("**BTC** holds support at `68k and more")
    parts = preview.final_parts()
    assert len(parts) >= 2
    for part in parts:
        assert utf16_len(validate_telegram_html(part)) <= 60
