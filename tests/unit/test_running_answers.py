"""Running answers: a stop reaches the answer it names, from its asker only, and only while it runs."""

from __future__ import annotations

from services.chat.stops import RunningAnswers


def test_a_stop_reaches_only_its_own_answer_and_only_from_the_asker() -> None:
    answers = RunningAnswers()
    mine = answers.start(chat_id=-100, asker_id=1)
    other = answers.start(chat_id=-100, asker_id=2)
    assert mine.answer_id != other.answer_id and 0 < mine.answer_id < 2**31 and len(answers) == 2
    assert answers.stop(-100, mine.answer_id, by=2) == "not_yours" and not mine.stopped.is_set()
    assert answers.stop(-200, mine.answer_id, by=1) == "unknown"  # another chat's button
    assert answers.stop(-100, mine.answer_id, by=1) == "stopped" and mine.stopped.is_set()
    assert not other.stopped.is_set()
    answers.finish(mine)
    assert answers.stop(-100, mine.answer_id, by=1) == "unknown" and len(answers) == 1


def test_a_private_draft_stop_needs_no_presser() -> None:
    answers = RunningAnswers()
    running = answers.start(chat_id=42, asker_id=42)
    assert answers.stop(42, running.answer_id) == "stopped" and running.stopped.is_set()
    answers.finish(running)
    answers.finish(running)  # twice is harmless
    assert len(answers) == 0
