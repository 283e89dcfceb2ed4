"""Choose, inside one session, what a task is made of: the check that verifies it, the state it starts from,
the request the agent gets and the edits that got the session past the failure.

Verifier choice (recorded in the task's metadata with the reason):

1. ``failed-check``: the signal's own call is a check that failed (a test/build/lint run, or any command the
   session later re-ran successfully): the verifier re-runs it.
2. ``failed-check-in-turn``: otherwise the last check that failed in the signal's turn (or the turn before,
   for signals raised by the user's reply such as pushback).
3. ``later-success-check``: otherwise the session's own success check after the signal.
4. ``last-success-check``: otherwise (and for delight / keep-green tasks) the session's last successful check.

The task starts in the repository state just before the failing check (fix) or before the request's turn
(keep-green): the recorded commit plus every edit the agent had made until then: apply_patch in every form
Codex records (function or custom tool, ``["apply_patch", …]`` through the shell, a heredoc after ``cd DIR &&``)
and files written by simple shell redirections whose content is in the log (shellwrites.py). Changes that cannot
be replayed (``sed -i``, formatters, ``rm``…) are listed: a start state that misses one is not the state the
session recorded, which the task contract (contract.py) takes into account.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from dataclasses import dataclass

import orjson

from ccl_tui.model.events import Event, EventKind, agent_of
from ccl_tui.model.signals import DELIGHT_KINDS, Signal, SignalKind
from ccl_tui.signals.session_view import Call, SessionView
from ccl_tui.sources.claude_code import EDIT_TOOLS
from ccl_tui.store.db import SessionSummary
from ccl_tui.tasks import contract
from ccl_tui.tasks.model import FIX, KEEP_GREEN, Check, PatchRef, TaskError, TaskPlan
from ccl_tui.tasks.paths import portable_command, rel_path, workdir_rel
from ccl_tui.tasks.shellwrites import ignorable, shell_effects
from ccl_tui.tasks.text import clean, clean_line

K = EventKind
#: Signals raised by something the user said after the agent's work (the check to re-run came before it).
USER_RAISED = frozenset({SignalKind.USER_PUSHBACK, SignalKind.INTERRUPT})
#: Programs that only inspect the tree: re-running them proves nothing, so they never become a verifier.
READ_ONLY = frozenset(
    {
        "cat",
        "nl",
        "sed",
        "awk",
        "head",
        "tail",
        "less",
        "ls",
        "find",
        "fd",
        "rg",
        "grep",
        "ag",
        "wc",
        "tree",
        "echo",
        "pwd",
        "which",
        "file",
        "stat",
        "git status",
        "git diff",
        "git log",
        "git show",
        "git branch",
        "git grep",
        "jq",
    }
)


def norm_command(command: str) -> str:
    return " ".join(command.split())


def check_of(call: Call) -> Check | None:
    command = call.command
    if not command or call.is_patch:
        return None
    outcome = call.outcome
    return Check(
        command=command,
        workdir=next((e.workdir for e in (call.call, *call.results) if e is not None and e.workdir), None),
        seq=call.evidence_seq,
        call_seq=call.first.seq,
        call_id=call.call_id,
        turn=call.first.turn,
        exit_code=call.exit_code,
        ok=call.ok,
        duration_ms=outcome.duration_ms if outcome is not None else None,
        output=call.output,
    )


def _seqs(call: Call) -> set[int]:
    return {e.seq for e in (call.call, *call.results) if e is not None}


def anchor_call(view: SessionView, signal: Signal) -> Call | None:
    """The call the signal's primary evidence belongs to, if any."""
    primary = signal.evidence[0] if signal.evidence else -1
    for call in view.calls:
        if primary in _seqs(call):
            return call
    if signal.call_id:
        for call in view.calls:
            if call.call_id == signal.call_id:
                return call
    return None


def _is_check(call: Call) -> bool:
    return bool(call.command) and not call.is_patch and call.is_verification


def _rerunnable(call: Call) -> bool:
    """A failed non-check command that may serve as a verifier if the session later re-ran it successfully."""
    program = call.program
    return (
        call.ok is False
        and call.exit_code not in (None, 0)
        and program not in READ_ONLY
        and program.split(" ", 1)[0] not in READ_ONLY
    )


def _later_success(view: SessionView, failing: Call) -> Call | None:
    """The first later passing run of the same command; else (for checks) of the same verification program."""
    key = norm_command(failing.command or "")
    after = failing.first.seq
    passed = [c for c in view.calls if c.first.seq > after and c.ok is True and c.command and not c.is_patch]
    same = next((c for c in passed if norm_command(c.command or "") == key), None)
    if same is not None or not _is_check(failing):
        return same
    return next((c for c in passed if c.program == failing.program), None)


def _call_dir(call: Call) -> str | None:
    return next((e.workdir for e in (call.call, *call.results) if e is not None and e.workdir), None)


def _patch_ref(call: Call, cwd: str | None) -> PatchRef:
    text: str | None = None
    truncated = False
    # Codex records apply_patch as a function or custom tool, or runs it through the shell (argv or a heredoc,
    # possibly after ``cd DIR &&``); the parser marks every form tool="apply_patch" with the patch text.
    if call.call is not None and call.call.tool == "apply_patch" and "*** Begin Patch" in call.call.text:
        text, truncated = call.call.text, call.call.truncated
    changes = next(
        (
            e.data["changes"]
            for e in call.results
            if e.kind == K.PATCH_APPLY and isinstance(e.data.get("changes"), dict)
        ),
        None,
    )
    base = _call_dir(call)
    # ``cd DIR && apply_patch <<'EOF'``: the patch's paths are relative to DIR. The call record keeps only the
    # patch; the shell command survives in exec_command_end (2026 rollouts).
    shell = next((e.command for e in call.results if e.command and "apply_patch" in e.command), None)
    m = _CD_PATCH.match(shell or "")
    if m is not None:
        into = next(g for g in m.groups() if g is not None)
        root = base or cwd
        if into.startswith("/") or root:
            base = posixpath.normpath(posixpath.join(root or "/", into))
    if base and cwd and posixpath.normpath(base) == posixpath.normpath(cwd):
        base = None
    return PatchRef(call.first.seq, call.evidence_seq, call.call_id, text, truncated, changes, base_dir=base)


_CD_PATCH = re.compile(r"^\s*cd\s+(?:'([^'$`]*)'|\"([^\"$`\\]*)\"|([^\s'\"$`;&|~\\]+))\s*&&\s*(?:apply_?patch)\b")


def patch_refs(view: SessionView) -> list[PatchRef]:
    """Every apply_patch the session applied successfully, in order."""
    return [_patch_ref(call, None) for call in view.calls if call.is_patch and call.ok is True]


@dataclass(slots=True)
class Edit:
    """A change the session made to its files: replayable (``ref``) or not (``gap`` says what it was)."""

    call_seq: int
    ref: PatchRef | None = None
    gap: str | None = None


def _resolve(path: str, base: str, call_dir: str | None, cwd: str | None) -> tuple[str | None, str]:
    """(path relative to the session cwd, where): "repo", "outside" (a host path such as /tmp) or "unknown"."""
    if base == "\0" or path == "\0":
        return None, "unknown"
    joined = path if path.startswith("/") or not base else posixpath.join(base, path)
    if joined.startswith("/"):
        absolute = posixpath.normpath(joined)
    elif call_dir or cwd:
        absolute = posixpath.normpath(posixpath.join(call_dir or cwd or "/", joined))
    else:
        norm = posixpath.normpath(joined)
        return (norm, "repo") if not norm.startswith("..") else (None, "unknown")
    if not cwd:
        return None, "outside"
    rel = rel_path(absolute, cwd)
    if rel is not None:
        return rel, "repo"
    return None, "outside" if joined.startswith("/") else "unknown"


def _claude_edit(call: Call, cwd: str | None) -> Edit:
    """A Claude Code Write / Edit / MultiEdit that applied, from its recorded input: a whole-file write, or text
    replacements; a gap when the input was cut, the file is outside the session's directory, or unknown."""
    assert call.call is not None
    tool = call.call.tool or "Edit"
    seq = call.first.seq
    where = f"{tool} at event {call.evidence_seq}"
    try:
        args = orjson.loads(call.call.text) if not call.call.truncated else None
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        return Edit(seq, gap=f"{where}: its input was not recorded whole")
    raw_path = args.get("file_path")
    if not isinstance(raw_path, str) or tool == "NotebookEdit":
        return Edit(seq, gap=f"{where}: no file it can replay")
    rel, spot = _resolve(raw_path, "", _call_dir(call), cwd)
    if spot == "outside" or (rel is not None and ignorable(rel)):
        return Edit(seq)  # a host path or build output: not part of the repository's start state
    if rel is None:
        return Edit(seq, gap=f"{where}: {clean_line(raw_path, 80)!r} is outside the session's directory")
    ref = PatchRef(seq, call.evidence_seq, call.call_id, None, False, None, what=tool)
    if tool == "Write":
        content = args.get("content")
        if not isinstance(content, str):
            return Edit(seq, gap=f"{where}: no content recorded")
        ref.writes = [(rel, content, False)]
        return Edit(seq, ref=ref)
    edits = args.get("edits") if tool == "MultiEdit" else [args]
    steps: list[tuple[str, str, str, bool]] = []
    for e in edits if isinstance(edits, list) else []:
        old, new = (e.get("old_string"), e.get("new_string")) if isinstance(e, dict) else (None, None)
        if not isinstance(old, str) or not isinstance(new, str):
            return Edit(seq, gap=f"{where}: an edit without its old and new text")
        steps.append((rel, old, new, bool(e.get("replace_all"))))
    if not steps:
        return Edit(seq, gap=f"{where}: no edits recorded")
    ref.replacements = steps
    return Edit(seq, ref=ref)


def session_edits(view: SessionView, cwd: str | None) -> list[Edit]:
    """Every change to files the session made, in order: applied patches, shell writes with their content,
    and changes ccl-tui cannot replay (changes outside the session's directory or in build output ignored)."""
    out: list[Edit] = []
    for call in view.calls:
        if call.call is not None and call.call.tool in EDIT_TOOLS:
            if call.ok is True:
                out.append(_claude_edit(call, cwd))
            continue
        if call.is_patch:
            if call.ok is True:
                out.append(Edit(call.first.seq, ref=_patch_ref(call, cwd)))
            continue
        cmd = call.command
        if not cmd or call.denial is not None or call.exit_code is None:
            continue
        fx = shell_effects(cmd)
        if not fx.writes and not fx.changes:
            continue
        call_dir = _call_dir(call)
        writes: list[tuple[str, str, bool]] = []
        gaps: list[str] = []
        for w in fx.writes:
            rel, where = _resolve(w.path, w.base, call_dir, cwd)
            if where == "outside" or (rel is not None and ignorable(rel)):
                continue
            if rel is None:
                gaps.append(f"a shell write to {clean_line(w.path, 80)!r} outside the session's directory")
            elif call.ok is not True and not w.leading:
                gaps.append(f"a shell write to {rel} in a command that failed (it may not have run)")
            else:
                writes.append((rel, w.content, w.append))
        for c in fx.changes:
            if c.known_paths:
                spots = [_resolve(p, c.base, call_dir, cwd) for p in c.paths]
                if all(where == "outside" or (rel is not None and ignorable(rel)) for rel, where in spots):
                    continue
            gaps.append(clean_line(c.what, 80))
        if writes:
            ref = PatchRef(
                call.first.seq, call.evidence_seq, call.call_id, None, False, None, writes=writes, what="shell write"
            )
            out.append(Edit(call.first.seq, ref=ref))
        if gaps:
            shown = clean_line(cmd, 100)
            out.append(
                Edit(call.first.seq, gap=f"{', '.join(dict.fromkeys(gaps))} (`{shown}` at event {call.evidence_seq})")
            )
    return out


def _same_check(call: Call, key: str, workdir: str | None, cwd: str | None) -> bool:
    if not call.command or call.is_patch or call.denial is not None or norm_command(call.command) != key:
        return False
    return workdir_rel(_call_dir(call), cwd) == workdir_rel(workdir, cwd)


def _runs(
    view: SessionView, verifier: Check, start_seq: int, edits: list[Edit], cwd: str | None
) -> tuple[list[contract.Run], contract.Run | None]:
    """The finished runs of the verifier command in exactly the start state (no edit between them and the
    start), and the first passing run after edits."""
    key = norm_command(verifier.command)
    seqs = sorted(e.call_seq for e in edits)

    def version(seq: int) -> int:
        return bisect.bisect_left(seqs, seq)

    at = version(start_seq)
    same = [c for c in view.calls if _same_check(c, key, verifier.workdir, cwd) and c.exit_code is not None]
    start = [contract.Run(c.evidence_seq, c.exit_code) for c in same if version(c.first.seq) == at]
    later = next(
        (
            contract.Run(c.evidence_seq, c.exit_code)
            for c in same
            if c.first.seq > start_seq and c.exit_code == 0 and version(c.first.seq) != at
        ),
        None,
    )
    return start, later


def tool_versions(view: SessionView, cli_version: str | None) -> dict[str, str]:
    """Tool versions the session showed (``node --version``…) and the Codex CLI's own."""
    out: dict[str, str] = {}
    for call in view.calls:
        if call.ok is True and call.command:
            found = contract.version_from(call.command, call.output)
            if found is not None:
                out.setdefault(found[0], found[1])
    if cli_version:
        out["codex_cli"] = clean_line(cli_version, 40)
    return out


def _prompts(view: SessionView, start_seq: int, signal: Signal) -> list[tuple[str, str]]:
    prompts = [e for e in view.prompts if e.text.strip()]
    if not prompts:
        return []
    before = [e for e in prompts if e.seq <= start_seq]
    main: Event = before[-1] if before else prompts[0]
    out: list[tuple[str, str]] = []
    first = prompts[0]
    if first.seq < main.seq and norm_command(first.text) != norm_command(main.text):
        out.append(("Earlier in the session the user asked", first.text))
    out.append(("The user asked", main.text))
    raised = view.by_seq.get(signal.seq)
    if raised is not None and raised.kind == K.USER_MESSAGE and raised.seq > main.seq:
        out.append(("Then the user said", raised.text))
    return out


def _turn_start(view: SessionView, turn: int, fallback: int) -> int:
    return next((e.seq for e in view.prompts if e.turn == turn), fallback)


@dataclass(slots=True)
class _Choice:
    verifier: Call
    failing: Call | None
    success: Call | None
    strategy: str
    reason: str


def _choose_failing(view: SessionView, signal: Signal, anchor: Call | None) -> _Choice | None:
    """Strategies 1-3 for friction: the failed check itself, one in its turn, or the later success check."""
    if anchor is not None and anchor.command and not anchor.is_patch and anchor.ok is not True:
        later = _later_success(view, anchor)
        if _is_check(anchor) or (later is not None and _rerunnable(anchor)):
            return _Choice(anchor, anchor, later, "failed-check", "re-runs the check that failed in the session")
    turns = {signal.turn, signal.turn - 1} if signal.kind in USER_RAISED else {signal.turn}
    in_turn = [c for c in view.calls if _is_check(c) and c.ok is False and c.first.turn in turns]
    before = [c for c in in_turn if c.first.seq <= signal.seq]
    pick = before[-1] if before else (in_turn[0] if in_turn else None)
    if pick is not None:
        return _Choice(
            pick,
            pick,
            _later_success(view, pick),
            "failed-check-in-turn",
            "re-runs the check that failed in the signal's turn",
        )
    later_ok = [c for c in view.calls if _is_check(c) and c.ok is True and c.first.seq > signal.seq]
    if later_ok:
        return _Choice(
            later_ok[0],
            None,
            later_ok[0],
            "later-success-check",
            "no failing check was recorded; uses the session's own success check after the signal",
        )
    return None


def _choose_last_success(view: SessionView, signal: Signal, keep_green: bool) -> _Choice:
    """Strategy 4 (and keep-green): the last check that passed (before the signal, for friction)."""
    limit = view.last_seq if keep_green else signal.seq
    passed = [c for c in view.calls if _is_check(c) and c.ok is True and c.first.seq <= limit]
    if not passed and keep_green:
        passed = [c for c in view.calls if _is_check(c) and c.ok is True]
    if not passed:
        raise TaskError(
            f"session {view.session_id} records no check (test, build, lint or type-check run) to verify a task with"
        )
    reason = (
        "keep-green: the session's final success check must still pass"
        if keep_green
        else "no failing check was recorded; uses the session's last successful check"
    )
    return _Choice(passed[-1], None, passed[-1], "last-success-check", reason)


def plan_from_session(signal: Signal, session: SessionSummary, events: list[Event]) -> TaskPlan:
    """Select verifier, start state, request and solution for ``signal`` in its session."""
    view = SessionView(session.id, events, session.origin)
    calls = view.calls
    keep_green = signal.kind in DELIGHT_KINDS
    anchor = None if keep_green else anchor_call(view, signal)
    choice = None if keep_green else _choose_failing(view, signal, anchor)
    if choice is None:
        choice = _choose_last_success(view, signal, keep_green)
    verifier, failing, success, strategy, reason = (
        choice.verifier,
        choice.failing,
        choice.success,
        choice.strategy,
        choice.reason,
    )
    anchor_seq = signal.seq

    check = check_of(verifier)
    if check is None:  # pragma: no cover - _is_check guarantees a command
        raise TaskError("the selected check has no command")
    if failing is not None:
        start_seq = failing.first.seq
        if strategy == "failed-check" and not _is_check(failing):
            reason += " (the session re-ran this command successfully later)"
    elif strategy == "later-success-check":
        start_seq = anchor_seq
    else:
        start_seq = _turn_start(view, verifier.first.turn, verifier.first.seq)
    reason += f": `{clean_line(check.command, 200)}`"  # redacted before it is normalised and cut
    if failing is not None:
        code = check.exit_code
        reason += f" exited {code}" if code is not None else " did not finish"
        reason += f" at event {check.seq}"
    else:
        reason += f" passed at event {check.seq}"

    edits = session_edits(view, session.cwd)
    patches = [e.ref for e in edits if e.ref is not None]
    setup = [p for p in patches if p.call_seq < start_seq]
    start_gaps = [e.gap for e in edits if e.gap is not None and e.call_seq < start_seq]
    solution: list[PatchRef] = []
    solution_gaps: list[str] = []
    if success is None:
        solution_reason = "the session never got past the failure"
    else:
        # strictly after the start: a verifier that writes files itself re-writes them when it runs
        solution = [p for p in patches if start_seq < p.call_seq < success.first.seq]
        solution_gaps = [e.gap for e in edits if e.gap is not None and start_seq < e.call_seq < success.first.seq]
        if solution:
            solution_reason = (
                f"{len(solution)} edit(s) the agent made after event {start_seq} until the check"
                f" passed at event {success.evidence_seq}"
            )
        else:
            solution_reason = (
                f"the check passed again at event {success.evidence_seq} without file edits"
                " (the session changed the command or the environment, not the code)"
            )
        if solution_gaps:
            solution_reason += f"; also changed files in ways ccl-tui cannot replay: {'; '.join(solution_gaps[:2])}"
    start_runs, later_pass = _runs(view, check, start_seq, edits, session.cwd)
    start_state = sum(1 for e in edits if e.call_seq < start_seq)
    planned = KEEP_GREEN if keep_green else FIX
    portable = portable_command(clean(check.command), session.cwd)
    host = contract.host_dependency(portable, workdir_rel(check.workdir, session.cwd))
    fail_run = contract.Run(check.seq, check.exit_code) if failing is not None else None
    success_run = contract.Run(success.evidence_seq, 0) if success is not None else None
    recorded_network = contract.network_failure(
        *(c.output for c in (failing, anchor) if c is not None and c.ok is False)
    )
    verdict = contract.classify(
        planned=planned,
        command=check.command,
        host_reason=host,
        start_runs=start_runs,
        start_gaps=start_gaps,
        strategy=strategy,
        later_pass=later_pass,
        failure=fail_run,
        solution_complete=not solution_gaps,
        has_solution_edits=bool(solution),
        success=success_run,
        network_failure=recorded_network,
        success_command=success.command if success is not None else None,
    )

    failure = check_of(failing) if failing is not None else None
    if failure is None and verdict.cls == contract.PROVEN_FIX:  # e.g. a delight turn that began with a failing run
        recorded = next((c for c in calls if c.evidence_seq == verdict.recorded_seq), None)
        failure = check_of(recorded) if recorded is not None else None
    # The friction's condition: a recorded failure (of the check, else of the signal's own call) without network.
    network = contract.network_failure(*(c.output for c in (failure, anchor) if c is not None and c.ok is False))

    touched: list[str] = []
    for call in calls:
        for e in (call.call, *call.results):
            if e is not None:
                touched.extend(str(f) for f in e.data.get("files", []) if isinstance(f, str))
    return TaskPlan(
        flavour=planned,
        session_id=session.id,
        signal_kind=str(signal.kind),
        signal_seq=signal.seq,
        signal_detail=signal.detail,
        signal_severity=signal.severity,
        agent=agent_of(session.originator),
        started_at=session.started_at,
        cwd=session.cwd,
        repo_name=session.repo,
        repo_url=session.git_repo_url,
        commit=session.git_commit,
        branch=session.git_branch,
        prompts=_prompts(view, start_seq, signal),
        verifier=check,
        verifier_reason=reason,
        verifier_strategy=strategy,
        start_seq=start_seq,
        failure=failure,
        success=check_of(success) if success is not None else None,
        setup_patches=setup,
        solution_patches=solution,
        solution_reason=solution_reason,
        programs=sorted({c.program for c in calls if c.program}),
        touched_files=sorted(set(touched))[:500],
        start_runs=start_runs,
        start_state=start_state,
        later_pass=later_pass,
        start_gaps=start_gaps,
        solution_gaps=solution_gaps,
        network_failure=network,
        tool_versions=tool_versions(view, session.cli_version),
        contract=verdict,
    )


def find_signal(signals: list[Signal], seq: int, kind: str | None = None) -> Signal | None:
    """The signal whose primary evidence is ``seq`` (preferring ``kind``), else one that cites ``seq``."""
    primary = [s for s in signals if s.evidence and s.evidence[0] == seq]
    if kind is not None:
        exact = [s for s in primary if s.kind == kind]
        if exact:
            return exact[0]
    if primary:
        return max(primary, key=lambda s: s.severity)
    cited = [s for s in signals if seq in s.evidence]
    return max(cited, key=lambda s: s.severity) if cited else None
