"""Word lists for user messages: revert and stop requests, and praise.

Near-misses are excluded explicitly ("no problem, thanks" is not a complaint, "no thanks" is not praise).
``ccl_tui.signals.feedback`` combines these with corrections, complaints, pasted errors and repeats; a
semantic detector (ccl_tui.semantic) catches what rules miss.
"""

from __future__ import annotations

import re

_F = re.IGNORECASE

REVERT = re.compile(
    r"\b(?:revert|undo|roll ?back|put (?:it|that|them) back|restore the (?:old|original|previous)"
    r"|go back to (?:the )?(?:old|original|previous|how it was))\b",
    _F,
)
STOP = re.compile(r"^\s*(?:stop|wait|hold on|hang on|pause|abort|cancel that)\b", _F)

_NOT_PRAISE = re.compile(
    r"\b(?:no,? thanks?|no thank you|thanks for nothing|not (?:great|perfect|good|nice|working|quite))\b", _F
)
PRAISE = re.compile(
    r"\b(?:thanks|thank you|thx|ty|cheers|perfect|awesome|great(?: job| work)?|excellent|amazing|brilliant|fantastic|"
    r"nice(?: work| job)?|well done|lgtm|looks good|ship it|works (?:now|great|perfectly|fine)|it works|that works|"
    r"that did it|nailed it)\b|👍|🎉|🙏|❤️|✅",
    _F,
)


def is_positive(text: str) -> bool:
    """Thanks or praise that is not negated ("no thanks"). Whether it also carries a complaint is decided
    by ``feedback.classify_feedback``, which looks for complaints first."""
    t = text.strip()
    return bool(t) and not _NOT_PRAISE.search(t) and bool(PRAISE.search(t))
