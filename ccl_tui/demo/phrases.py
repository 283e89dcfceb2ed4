"""Text pools: what users type back to the agent, and how the agent narrates its work."""

from __future__ import annotations

PRAISE = (
    "thanks, works perfectly",
    "perfect, ship it",
    "lgtm 👍",
    "great, thanks!",
    "awesome, that fixed it",
    "nice, tests are green now 🎉",
    "works, thank you",
    "excellent — exactly what I wanted",
    "thanks! merged",
    "perfect, thanks a lot",
)

# Follow-ups that contain "no", "don't", "stop", ... but are neither corrections nor praise.
NEAR_MISS = (
    "no rush — when you get a chance, also add a short doc comment to the function",
    "Don't forget to run the linter before you finish.",
    "No other changes needed elsewhere; can you just list the files you touched?",
    "is there a way to run only the tests for this module?",
    "not urgent: can you add a line about this to the CHANGELOG?",
    "does this also work on Python 3.11 / Node 20?",
)

# Corrections, keyed by what the agent does next.
PUSHBACK_REVERT = (
    "revert that",
    "undo that change, it breaks the public API",
    "no, that's wrong — the endpoint must stay backwards compatible. revert it",
)
PUSHBACK_RECHECK = (
    "still failing",
    "still failing for me, same error",
    "this doesn't work, I still see the old behaviour",
    "you didn't run the tests, did you?",
)
PUSHBACK_SCOPE = (
    "don't touch the migrations",
    "that's not what I asked — only change the handler, not the tests",
    "no, use the existing helper instead of adding a new one",
    "please don't add new dependencies for this",
)
PUSHBACK_AFTER_ABORT = (
    "stop, this is going in the wrong direction. just run the focused test",
    "no, don't run the whole suite, it takes forever",
    "stop — only look at the file I mentioned",
)
GIVE_UP = (
    "forget it, I'll do it myself",
    "ok never mind, I'll fix it by hand",
)
CONTINUE = (
    "continue",
    "go on",
    "keep going",
)
DONE_ACK = (
    "Glad it works! Nothing else is pending on my side.",
    "Great — the change is ready to commit.",
    "Thanks! Let me know if you want a follow-up PR for the tests.",
)

THINK_EXPLORE = (
    "**Inspecting {symbol} implementation**",
    "**Locating {symbol} and its tests**",
    "**Reviewing {path}**",
    "**Exploring repository structure**",
)
THINK_IMPLEMENT = (
    "**Planning the change to {symbol}**",
    "**Preparing patch for {path}**",
    "**Implementing the requested change**",
)
THINK_VERIFY = (
    "**Running focused tests**",
    "**Verifying the change with tests**",
    "**Checking tests after the patch**",
)
THINK_DEBUG = (
    "**Investigating the failure**",
    "**Diagnosing the error output**",
    "**Figuring out why the command failed**",
)

SAY_EXPLORE = (
    "I'll start by finding where `{symbol}` is defined and how it's tested.",
    "Let me look at `{path}` and the related tests before changing anything.",
    "First I'm checking the current implementation of `{symbol}`.",
)
SAY_IMPLEMENT = (
    "I have enough context; applying the change to `{path}` now.",
    "Making the edit in `{symbol}` next.",
)
SAY_VERIFY = (
    "Patch applied. Running the focused tests.",
    "Now verifying with `{test}`.",
)
