"""The outbox sender's in-memory file_ids: bounded, least recently used out first."""

from __future__ import annotations

from bot.sender import FileIds


def test_file_ids_keep_the_most_recently_used() -> None:
    ids = FileIds(size=2)
    ids.put("a", "A")
    ids.put("b", "B")
    assert ids.get("a") == "A"  # used: "b" is now the least recent
    ids.put("c", "C")
    assert (ids.get("a"), ids.get("b"), ids.get("c")) == ("A", None, "C")
    ids.put("a", "A2")  # a new file_id for a known media
    ids.drop("c")
    assert len(ids) == 1 and ids.get("a") == "A2" and ids.get("c") is None
