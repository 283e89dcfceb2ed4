"""The rule lexicons and the benign-exit list, case by case."""

from __future__ import annotations

import pytest

from ccl_tui.signals.lexicon import is_positive, pushback_category
from ccl_tui.signals.noise import is_benign_exit


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("no, that's wrong", "wrong"),
        ("No. Keep the old signature.", "wrong"),
        ("that's not what I asked for", "wrong"),
        ("you didn't update the tests", "wrong"),
        ("wrong file, the handler lives in api/", "wrong"),
        ("still failing", "still failing"),
        ("it's still broken on CI", "still failing"),
        ("tests are failing again", "still failing"),
        ("that doesn't work", "still failing"),
        ("you broke the login page", "still failing"),
        ("same error as before", "still failing"),
        ("revert that", "revert"),
        ("please undo the last change", "revert"),
        ("roll back the migration", "revert"),
        ("don't touch the migrations", "stop"),
        ("do not modify the public API", "stop"),
        ("stop, that is enough", "stop"),
        ("wait", "stop"),
        ("never commit directly to main", "stop"),
    ],
)
def test_pushback_positives(text: str, category: str) -> None:
    assert pushback_category(text) == category


@pytest.mark.parametrize(
    "text",
    [
        "no problem, thanks",
        "no worries, take your time",
        "no rush",
        "don't worry about the docs for now",
        "not bad at all",
        "now add the same validation to the edit form",
        "nothing else, that's all",
        "note: the staging db is read-only",
        "knowing that, add a cache",
        "",
        "   ",
    ],
)
def test_pushback_near_misses(text: str) -> None:
    assert pushback_category(text) is None


@pytest.mark.parametrize(
    "text",
    ["thanks!", "thank you, works perfectly", "perfect, ship it", "lgtm", "great job", "it works now 🎉",
     "awesome", "👍"],
)
def test_positive_feedback(text: str) -> None:
    assert is_positive(text)


@pytest.mark.parametrize(
    "text",
    ["no thanks", "no thank you, I'll do it", "thanks, but it's still failing", "not great",
     "it still doesn't work, thanks", "", "add a thank-you page"],
)
def test_not_positive(text: str) -> None:
    assert not is_positive(text)


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
