"""Telegram HTML parsing and rendering of the fake Bot API (no server needed)."""

from __future__ import annotations

import pytest

from standins.telegram import (
    HtmlParseError,
    ManualClock,
    RateLimiter,
    RateLimits,
    detect_entities,
    html_to_text,
    image_size,
    make_png,
    parse_html,
    utf16_len,
)


def test_supported_tags_become_entities():
    parsed = parse_html(
        "<b>b</b><strong>s</strong><i>i</i><u>u</u><s>x</s><tg-spoiler>sp</tg-spoiler>"
        '<span class="tg-spoiler">sp2</span><code>c</code><pre><code class="language-python">p</code></pre>'
        "<blockquote>q</blockquote><blockquote expandable>e</blockquote>"
        '<a href="tg://user?id=42">m</a><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert parsed.text == "bsiuxspsp2cpqem👍"
    types = [(e["type"], e["offset"], e["length"]) for e in parsed.entities]
    assert types == [
        ("bold", 0, 1),
        ("bold", 1, 1),
        ("italic", 2, 1),
        ("underline", 3, 1),
        ("strikethrough", 4, 1),
        ("spoiler", 5, 2),
        ("spoiler", 7, 3),
        ("code", 10, 1),
        ("pre", 11, 1),
        ("blockquote", 12, 1),
        ("expandable_blockquote", 13, 1),
        ("text_mention", 14, 1),
        ("custom_emoji", 15, 2),
    ]
    assert parsed.entities[8]["language"] == "python"
    timed = parse_html('at <tg-time unix="1647531900" format="wDT">noon</tg-time>')
    assert timed.entities == [
        {"type": "date_time", "offset": 3, "length": 4, "unix_time": 1647531900, "date_time_format": "wDT"}
    ]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("ok <br/>", 'Unsupported start tag "br/" at byte offset 3'),
        ("a <b>c", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a</b>", "Unexpected end tag at byte offset 1"),
        ("<b>a</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
        ("x <", "Unclosed start tag at byte offset 2"),
        ("<b foo>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0'),
        ("é<p>", 'Unsupported start tag "p" at byte offset 2'),  # byte offsets, not characters
    ],
)
def test_parse_errors_match_the_bot_api(html, error):
    with pytest.raises(HtmlParseError) as raised:
        parse_html(html)
    assert str(raised.value) == error


def test_character_references_and_ampersands():
    assert parse_html("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42; &amp").text == '<b> & "q" AB &'
    # Like Telegram, a bare "&" (or an unknown entity) stays as text...
    assert parse_html("AT&T &copy; &#0;").text == "AT&T &copy; &#0;"
    # ...unless the fake is asked to be stricter.
    with pytest.raises(HtmlParseError, match='Unescaped "&" at byte offset 2'):
        parse_html("AT&T", strict_ampersand=True)


def test_offsets_are_utf16_and_links_render_for_people():
    parsed = parse_html("😀 <b>BTC</b>")
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 3}]
    assert utf16_len("😀") == 2
    assert html_to_text('<b>SOL</b> 4h: <a href="https://www.tradingview.com/x">chart</a> &lt;3') == (
        "SOL 4h: chart (https://www.tradingview.com/x) <3"
    )
    assert html_to_text('<a href="https://a.io">https://a.io</a>') == "https://a.io"
    assert html_to_text("broken <b>tag &amp; more") == "broken tag & more"


def test_entities_detected_in_user_text():
    entities = detect_entities("/start ref_1 比特币 #btc $ETH @trader_joe https://example.com/x")
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bot_command", 0, 6),
        ("hashtag", 17, 4),
        ("cashtag", 22, 4),
        ("mention", 27, 11),
        ("url", 39, 21),
    ]


def test_image_sizes():
    assert image_size(make_png(7, 3)) == (7, 3)
    assert image_size(b"GIF89a\x10\x00\x20\x00") == (16, 32)
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x01\x2c\x02\x58" + b"\x00" * 12
    assert image_size(jpeg) == (600, 300)
    assert image_size(b"plain text") is None


def test_private_bucket_and_group_window_limits():
    clock = ManualClock()
    limiter = RateLimiter(RateLimits(), clock)
    assert [limiter.acquire(1, True) for _ in range(4)] == [None, None, None, 1]
    clock.advance(0.5)
    assert limiter.acquire(1, True) == 1
    clock.advance(0.5)
    assert limiter.acquire(1, True) is None
    assert [limiter.acquire(-100, False) for _ in range(20)] == [None] * 20
    assert limiter.acquire(-100, False) == 60  # 20 in any minute: the window opens 60 s after the first
    clock.advance(59.5)
    assert limiter.acquire(-100, False) == 1
    clock.advance(0.5)
    assert limiter.acquire(-100, False) is None
