"""Rule lexicons for user messages: pushback (corrections, rejections) and positive feedback.

Rules are ordered, each with a category; near-misses are excluded explicitly ("no problem, thanks" is not
pushback, "no thanks" is not praise). A semantic detector (ccl_tui.semantic) catches what rules miss.
"""

from __future__ import annotations

import re

_F = re.IGNORECASE

# Phrases that look like pushback/praise words but are not.
_NOT_PUSHBACK = re.compile(
    r"\b(no (problem|worries|rush|pressure|need to (apologi[sz]e|worry))|don'?t worry|do not worry|"
    r"no,? (that'?s|it'?s) (fine|ok(ay)?|great|perfect|alright)|not (a )?(problem|bad))\b",
    _F,
)

#: (category, pattern). Categories name issues: "user pushback: still failing".
PUSHBACK_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("revert", re.compile(r"\b(revert|undo|roll ?back|put (it|that|them) back|restore the (old|original|previous))\b", _F)),
    ("still failing", re.compile(
        r"\b(still|again) (fail\w*|broken|red|erroring|crashing|not (working|passing|fixed)|the same (error|failure))\b"
        r"|\b(it|this|that|tests?|the build|ci) (is|are|keeps?) (still )?(fail\w*|broken|crashing|red)\b"
        r"|\b(doesn'?t|does not|didn'?t|did not|won'?t|still doesn'?t) (work|compile|build|pass|fix (it|anything|the))\b"
        r"|\byou broke\b|\bbroke (the|my|it|everything)\b|\bsame error\b", _F)),
    ("wrong", re.compile(
        r"\b(that'?s|this is|it'?s|you'?re|that is) (wrong|not right|incorrect|not what i (asked|wanted|meant))\b"
        r"|\bnot what i (asked|wanted|meant|said)\b|\bwrong (file|approach|fix|place|branch|function|answer)\b"
        r"|\byou (didn'?t|did not|haven'?t|have not|ignored|misunderstood|missed)\b"
        r"|^\s*(no|nope)\s*[,.!-]", _F)),
    ("stop", re.compile(
        r"^\s*(stop|wait|hold on|hang on)\b"
        r"|\b(don'?t|do not|never|stop) (touch\w*|chang\w*|modify\w*|edit\w*|delet\w*|remov\w*|add\w*|us(e|ing)|"
        r"run\w*|commit\w*|push\w*|rewrit\w*|refactor\w*|mess\w*)\b", _F)),
)

_NOT_PRAISE = re.compile(
    r"\b(no,? thanks?|no thank you|thanks,? but|thanks for nothing|not (great|perfect|good|nice|working))\b", _F
)
PRAISE = re.compile(
    r"\b(thanks|thank you|thx|ty|cheers|perfect|awesome|great( job| work)?|excellent|amazing|brilliant|fantastic|"
    r"nice( work| job)?|well done|lgtm|looks good|ship it|works (now|great|perfectly|fine)|it works|that works|"
    r"that did it|nailed it)\b|👍|🎉|🙏|❤️|✅",
    _F,
)


def pushback_category(text: str) -> str | None:
    """The pushback category of a user message, or None."""
    t = text.strip()
    if not t:
        return None
    probe = _NOT_PUSHBACK.sub(" ", t)
    for category, pattern in PUSHBACK_RULES:
        if pattern.search(probe):
            return category
    return None


def is_positive(text: str) -> bool:
    """Thanks/praise that is not negated ("no thanks") and not mixed with pushback."""
    t = text.strip()
    if not t or _NOT_PRAISE.search(t):
        return False
    if not PRAISE.search(t):
        return False
    return pushback_category(t) is None
