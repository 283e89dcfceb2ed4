"""The rule lexicons and the benign-exit list, case by case."""

from __future__ import annotations

import pytest

from ccl_tui.model.events import Event
from ccl_tui.signals.feedback import classify_feedback
from ccl_tui.signals.lexicon import is_positive
from ccl_tui.signals.noise import is_benign_exit


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("no, that's wrong", "correction"),
        ("No. Keep the old signature.", "correction"),
        ("that's not what I asked for", "correction"),
        ("I didn't ask you to commit anything", "correction"),
        ("you have to run the migration before seeding", "correction"),
        ("why did you delete the fixtures?", "correction"),
        ("you didn't update the tests", "correction"),
        ("wrong file, the handler lives in api/", "correction"),
        ("don't touch the migrations", "correction"),
        ("do not modify the public API", "correction"),
        ("never commit directly to main", "correction"),
        ("still failing", "still failing"),
        ("it's still broken on CI", "still failing"),
        ("tests are failing again", "still failing"),
        ("that doesn't work", "still failing"),
        ("you broke the login page", "still failing"),
        ("same error as before", "still failing"),
        ("better, but it still doesn't show up", "still failing"),
        ("thanks! but the button is still missing on mobile", "still failing"),
        ("nothing happens when I click save", "still failing"),
        ("revert that", "revert"),
        ("please undo the last change", "revert"),
        ("roll back the migration", "revert"),
        ("stop, that is enough", "stop"),
        ("wait", "stop"),
        (
            "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nKeyError: 'user'",
            "pasted error",
        ),
        (
            "TypeError: Cannot read properties of undefined (reading 'map')\n    at List (List.tsx:12:19)",
            "pasted error",
        ),
        ("thanks!", "praise"),
        ("perfect, ship it", "praise"),
    ],
)
def test_feedback_categories(text: str, category: str) -> None:
    fb = classify_feedback(text)
    assert fb is not None and fb.category == category


def test_a_pasted_log_is_not_the_users_own_words() -> None:
    # "still failing" inside a pasted log line is the program talking, not the user
    fb = classify_feedback("here is the output:\nERROR tests/test_a.py::test_x - still failing: assert 1 == 2")
    assert fb is not None and fb.category == "pasted error"


def test_a_repeated_request_is_friction() -> None:
    first = Event(
        seq=3,
        kind="user_message",
        raw_type="x",
        line=4,
        text="add a dark mode toggle to the settings page, stored per user in localStorage",
    )
    fb = classify_feedback("Add a dark mode toggle to the settings page,\n  stored per user in localStorage!", [first])
    assert fb is not None and fb.category == "repeat"  # re-wrapped and re-punctuated: the same request
    assert classify_feedback("add a dark mode toggle to the profile page too, also in localStorage", [first]) is None
    again = Event(seq=9, kind="user_message", raw_type="x", line=9, text="run the tests again")
    assert classify_feedback("run the tests again", [again]) is None  # a routine short prompt


def test_a_bare_no_answers_the_agents_question() -> None:
    assert classify_feedback("no, just the API", answered_question=True) is None
    fb = classify_feedback("no, just the API")
    assert fb is not None and fb.category == "correction"


@pytest.mark.parametrize(
    "text",
    [
        "no worries, take your time",
        "no rush",
        "don't worry about the docs for now",
        "not bad at all",
        "now add the same validation to the edit form",
        "nothing else, that's all",
        "note: the staging db is read-only",
        "knowing that, add a cache",
        "[REDACTED_TEXT len=108 sha=fc56d2e9]",
        "",
        "   ",
    ],
)
def test_feedback_near_misses(text: str) -> None:
    assert classify_feedback(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "thank you, works perfectly",
        "perfect, ship it",
        "lgtm",
        "great job",
        "it works now 🎉",
        "awesome",
        "👍",
    ],
)
def test_positive_feedback(text: str) -> None:
    assert is_positive(text)


@pytest.mark.parametrize(
    "text",
    ["no thanks", "no thank you, I'll do it", "not great", "", "add a thank-you page"],
)
def test_not_positive(text: str) -> None:
    assert not is_positive(text)


@pytest.mark.parametrize(
    "text",
    ["thanks, but it's still failing", "it still doesn't work, thanks", "great, however the header is still wrong"],
)
def test_praise_that_carries_a_complaint_is_a_complaint(text: str) -> None:
    fb = classify_feedback(text)
    assert fb is not None and fb.friction and fb.category == "still failing"


@pytest.mark.parametrize(
    ("program", "code", "output", "benign"),
    [
        ("grep", 1, "", True),
        ("rg", 1, "", True),
        ("rg", 2, "rg: src: No such file or directory (os error 2)", False),
        ("grep", 2, "grep: Unmatched ( or \\(", False),
        ("grep", 1, "grep: invalid option -- 'Q'\nUsage: grep [OPTION]...", False),
        ("diff", 1, "--- a\n+++ b", True),
        ("test", 1, "", True),
        ("[", 1, "", True),
        ("which", 1, "", True),
        ("git diff", 1, "diff --git a/x b/x", True),
        ("pytest", 1, "1 failed", False),
        ("grep", 0, "", False),
        ("grep", None, "", False),
    ],
)
def test_benign_exits(program: str, code: int | None, output: str, benign: bool) -> None:
    assert is_benign_exit(program, code, output) is benign
