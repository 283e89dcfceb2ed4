"""Non-zero exits that are answers, not failures: the one place that lists them.

``grep``/``rg`` exit 1 means "no match"; ``diff``/``cmp`` exit 1 means "files differ"; ``test``/``[`` exit 1
means "false"; ``which``/``command -v`` exit 1 means "not installed". Agents run these as probes; counting
them as command failures would bury real friction under noise.
"""

from __future__ import annotations

from ccl_tui.signals.signature import exit_program

#: program (as ``command_program`` names it) -> exit codes that only report a negative answer.
BENIGN_EXITS: dict[str, frozenset[int]] = {
    "grep": frozenset({1}),
    "egrep": frozenset({1}),
    "fgrep": frozenset({1}),
    "rg": frozenset({1}),
    "ag": frozenset({1}),
    "ack": frozenset({1}),
    "git grep": frozenset({1}),
    "diff": frozenset({1}),
    "cmp": frozenset({1}),
    "git diff": frozenset({1}),
    "test": frozenset({1}),
    "[": frozenset({1}),
    "[[": frozenset({1}),
    "which": frozenset({1}),
    "command": frozenset({1}),
    "type": frozenset({1}),
    "pgrep": frozenset({1}),
    "git rev-parse": frozenset({1, 128}),
    "git show-ref": frozenset({1}),
    "git ls-files": frozenset({1}),
    "git merge-base": frozenset({1}),
}

#: An output that shows a benign-exit program actually failed (bad regex, unreadable file...).
_ERROR_HINTS = (
    "error:",
    "invalid",
    "unrecognized option",
    "usage:",
    "permission denied",
    "command not found",
    "no such file or directory",
    "not recognized as",
)


def is_benign_exit(program: str, exit_code: int | None, output: str = "", command: str = "") -> bool:
    """True when ``program`` exiting with ``exit_code`` is a negative answer rather than a failure.

    A pipeline exits with its last stage's status: ``ls | rg x`` exiting 1 is rg finding nothing, whatever
    program the command is grouped under."""
    if exit_code is None:
        # 2025 sandbox builds reported some probes as ``failed in sandbox: `` with no code and no text: a
        # grep/rg that found nothing, alone or ending a pipeline.
        if output.strip().lower().rstrip(":") != "failed in sandbox":
            return False
        last = exit_program(command) if command else program
        return 1 in BENIGN_EXITS.get(last or program, frozenset())
    if exit_code == 0:
        return False
    last = exit_program(command) if command and "|" in command else ""
    if last and last != program and is_benign_exit(last, exit_code, output):
        return True
    codes = BENIGN_EXITS.get(program)
    if codes is None or exit_code not in codes:
        return False
    low = output[-2000:].lower()
    return not any(h in low for h in _ERROR_HINTS)
