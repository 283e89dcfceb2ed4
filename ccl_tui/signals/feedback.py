"""What a user's prompt says about the agent's last work, and what it was about.

``classify_feedback`` sorts a prompt written after agent work into friction categories (a correction, "it
still fails", a request to revert or stop, an error pasted back, the same request sent again) or praise.
Praise that carries a remaining problem ("better, but it still doesn't show up") is a complaint, not
delight. Words inside a pasted log never count as the user's own words.

``object_of`` names what the user reacted to: the agent's last action with an effect in the turn before
(its edits, a command such as ``git push``), or its answer when it only talked. Issues are grouped and titled
by that, never by a lexicon word the user may not have written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ccl_tui.model.events import Event, EventKind
from ccl_tui.signals.lexicon import REVERT, STOP, is_positive
from ccl_tui.signals.session_view import SessionView
from ccl_tui.sources.outcome import is_redacted

K = EventKind
_F = re.I

CORRECTION = re.compile(
    r"\b(?:i|we) (?:didn'?t|did not|never|don'?t|do not) (?:ask|tell|want|say|request|need)\w*\b"
    r"|\b(?:that'?s|this is|it'?s|that is) not what (?:i|we) (?:asked|wanted|meant|said|requested)\b"
    r"|\bnot what (?:i|we) (?:asked|wanted|meant|said|requested)\b"
    r"|\b(?:as )?(?:i|we) (?:said|told you|already told you|already said|explained)\b"
    r"|\byou (?:were supposed to|should have|shouldn'?t have|should not have|weren'?t supposed to)\b"
    r"|\byou (?:have to|must|need to|should) [^.!?\n]{1,80}\b(?:first|before|after)\b"
    r"|\bwhy (?:did|would|are|do) you\b"
    r"|\b(?:that'?s|this is|it'?s|you'?re|that is|this was) (?:wrong|not right|incorrect|not correct|not it)\b"
    r"|\bwrong (?:file|approach|fix|place|branch|function|answer|direction|way|command|directory|folder|repo|version)\b"
    r"|\byou (?:didn'?t|did not|haven'?t|have not|ignored|misunderstood|missed|forgot|removed|deleted|changed)\b"
    r"|\b(?:don'?t|do not|never) (?:touch|chang|modify|edit|delet|remov|add|us|run|commit|push|rewrit|refactor|mess"
    r"|creat|install|mock|skip|disabl|hardcod)\w*\b"
    r"|\binstead of\b[^.!?\n]{0,60}\b(?:you|it)\b"
    r"|\bas (?:specified|instructed|requested|described|agreed|i asked|we agreed|discussed)\b",
    _F,
)
STILL_FAILING = re.compile(
    r"\b(?:still|again)\b[^.!?\n]{0,40}\b(?:fail\w*|broken|error\w*|crash\w*|not|n'?t|no|same|wrong|missing|empty"
    r"|blank|red|hangs?|stuck)\b|\b(?:fail\w*|broken|crash\w*|erroring)\b[^.!?\n]{0,20}\bagain\b"
    r"|\b(?:doesn'?t|does not|didn'?t|did not|won'?t|isn'?t|is not|aren'?t|are not|not|never|can'?t|cannot)"
    r" (?:\w+ )?(?:work|working|compil\w*|build\w*|pass\w*|show\w*|appear\w*|load\w*|render\w*|display\w*"
    r"|start\w*|open\w*|fix\w*|do anything|happen\w*|updat\w*|respond\w*|connect\w*|find\w*|resolv\w*)\b"
    r"|\bnothing (?:happens|happened|changed|shows|works|is showing|appears)\b"
    r"|\bsame (?:error|issue|problem|result|thing|failure|bug)\b"
    r"|\b(?:is|are|it'?s|still|now) (?:broken|blank|empty|stuck|hanging|crashing)\b"
    r"|\byou broke\b|\bbroke (?:the|my|it|everything)\b|\bregress\w*\b"
    r"|\b(?:but|however|though|although|except|yet)\b[^.!?\n]{0,80}\b(?:missing|no longer|wrong|broken|fail\w*"
    r"|error\w*|issue|problem|bug|still)\b",
    _F,
)
#: Text that looks like something the user copied from a terminal or browser, not typed.
PASTED_ERROR = re.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w$.<>\[\]/ -]+ \(?[^()\n]*:\d+(?::\d+)?\)?\s*$"
    r"|\b(?:Uncaught )?(?:TypeError|ReferenceError|SyntaxError|RangeError|ValueError|KeyError|AttributeError"
    r"|ImportError|ModuleNotFoundError|RuntimeError|AssertionError|NullPointerException|IndexError|NameError"
    r"|ZeroDivisionError|FileNotFoundError|PermissionError|OSError|ConnectionError|UnhandledPromiseRejection\w*"
    r"|Unhandled Runtime Error|Error): [^\n]{3,}"
    r"|^error(?:\[E\d+\])?: |npm ERR!|^\s*E\s{2,}\w|panicked at|Failed to compile|Module not found: "
    r"|\b[45]\d\d \((?:Internal Server Error|Not Found|Bad Request|Unauthorized|Forbidden)\)"
    r"|^\s*\[?(?:ERROR|FATAL|CRITICAL)\]?[: ]|^\s*(?:FAILED|ERROR) [\w/.-]+::",
    _F | re.M,
)
#: Lines of a paste (stack frames, log lines, code): excluded from the user's own words.
_LOG_LINE = re.compile(
    r"^\s*(?:at |File \"|Traceback|\w+Error\b|\w+Exception\b|npm ERR!|error[\[:]|warning[\[:]|E\s{2,}|\d{2}:\d{2}:\d{2}"
    r"|(?:ERROR|FAILED|FAIL|PASS|WARN\w*|INFO|DEBUG|FATAL|CRITICAL|TRACE)\b"
    r"|\[\w+\]|\$ |> |[{}\[\]();<>]|def |class |import |from \S+ import|const |let |function )",
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Feedback:
    category: str  # correction | still failing | revert | stop | pasted error | repeat | praise
    severity: float

    @property
    def friction(self) -> bool:
        return self.category != "praise"

    @property
    def label(self) -> str:
        return LABELS[self.category]


LABELS = {
    "revert": "the user asked to undo the agent's work",
    "stop": "the user told the agent to stop",
    "correction": "the user corrected the agent",
    "still failing": "the user reported it still does not work",
    "pasted error": "the user pasted an error back",
    "repeat": "the user sent the same request again",
    "praise": "the user praised the work",
}
_SEVERITY = {
    "revert": 0.55,
    "correction": 0.5,
    "still failing": 0.5,
    "pasted error": 0.5,
    "stop": 0.45,
    "repeat": 0.45,
    "praise": 0.0,
}


def own_words(text: str) -> str:
    """The user's typed prose: the message without pasted log lines, stack frames and code."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not _LOG_LINE.match(ln)]
    return "\n".join(lines)[:2000]


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _squeeze(text: str) -> str:
    return "".join(_WORD.findall(text.lower()))


def is_repeat(text: str, earlier: Sequence[Event], threshold: float = 0.8) -> bool:
    """The same request (or the same pasted log) already sent in this session, allowing for re-wrapped lines,
    small edits and punctuation. Short routine prompts ("run the tests again") are not requests repeated."""
    if len(text.strip()) < 40:
        return False
    mine = _shingles(text)
    squeezed = _squeeze(text)
    if not mine or not squeezed:
        return False
    for e in earlier:
        other = _squeeze(e.text)
        if other == squeezed:
            return True
        if len(squeezed) <= 4000 and len(other) <= 4000:
            sm = difflib.SequenceMatcher(None, squeezed, other, autojunk=False)
            if sm.quick_ratio() >= 0.9 and sm.ratio() >= 0.9:
                return True
            continue
        theirs = _shingles(e.text)
        if theirs and len(mine & theirs) / len(mine | theirs) >= threshold:
            return True
    return False


def classify_feedback(text: str, earlier: Sequence[Event] = (), *, answered_question: bool = False) -> Feedback | None:
    """The friction (or praise) a prompt written after agent work expresses; None when it is neither.

    ``answered_question``: the agent's last message asked something, so a bare "no" is an answer."""
    if not text.strip() or is_redacted(text):
        return None
    prose = own_words(text)
    category = None
    if REVERT.search(prose):
        category = "revert"
    elif STOP.search(prose):
        category = "stop"
    elif CORRECTION.search(prose) or (
        not answered_question and re.match(r"\s*(?:no|nope)\b\s*[,.!:-]\s*\S", prose, _F)
    ):
        category = "correction"
    elif STILL_FAILING.search(prose):
        category = "still failing"
    elif PASTED_ERROR.search(text[:20000]):
        category = "pasted error"
    elif is_repeat(text, earlier):
        category = "repeat"
    elif is_positive(prose):
        category = "praise"
    return Feedback(category, _SEVERITY[category]) if category else None


# ---------------------------------------------------------------------------------------------- object
#: Commands that only look: never what a user objects to.
_READ_ONLY = frozenset(
    {
        "cat",
        "ls",
        "rg",
        "grep",
        "sed",
        "find",
        "head",
        "tail",
        "pwd",
        "echo",
        "wc",
        "nl",
        "tree",
        "which",
        "file",
        "stat",
        "less",
        "awk",
        "jq",
        "git status",
        "git diff",
        "git log",
        "git show",
        "git branch",
        "git rev-parse",
        "git grep",
        "git ls-files",
        "git remote",
        "printf",
        "type",
        "command",
        "fd",
        "du",
        "df",
        "env",
        "date",
        "update_plan",
        "view_image",
        "list_mcp_resources",
        "write_stdin",
        "read_file",
        "sleep",
        "test",
        "[",
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # grouping key: "edits", "answer" or a program ("git push")
    label: str  # "the agent's edits", "`git push`", "the agent's answer"
    seq: int | None  # the event it points at


def object_of(view: SessionView, prompt: Event) -> Target:
    """The agent action a prompt reacts to: its last action with an effect before the prompt (edits, or a
    command other than a read-only probe or a check), else its answer."""
    turn = prompt.turn - 1
    calls = [c for c in view.calls if c.call is not None and c.first.turn == turn and c.first.seq < prompt.seq]
    for c in reversed(calls):
        if c.is_patch:
            return Target("edits", "the agent's edits", c.first.seq)
        program = c.program or c.tool or ""
        if not program or program in _READ_ONLY or c.is_verification:
            continue
        return Target(program, f"`{program}`", c.first.seq)
    answer = next(
        (
            e.seq
            for e in reversed(view.events[: view.index_of(prompt.seq)])
            if e.kind == K.ASSISTANT_MESSAGE and e.turn == turn
        ),
        None,
    )
    if not calls and answer is None:
        done = next((e.seq for e in view.events if e.kind == K.TURN_COMPLETED and e.turn == turn), None)
        return Target("silence", "a turn that produced nothing", done)
    if calls and answer is None:
        last = calls[-1]
        return Target(last.program or last.tool or "answer", f"`{last.program or last.tool}`", last.first.seq)
    return Target("answer", "the agent's answer", answer)


def asked_question(view: SessionView, prompt: Event) -> bool:
    """The agent's last message before ``prompt`` ended with a question."""
    for e in reversed(view.events[: view.index_of(prompt.seq)]):
        if e.kind == K.ASSISTANT_MESSAGE:
            return e.text.rstrip().endswith("?")
        if e.kind == K.USER_MESSAGE:
            return False
    return False
