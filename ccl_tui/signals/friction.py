"""Friction detectors: where a session went wrong, each signal pointing at its evidence events.

What a call's result *means* (ok, failed, timed out, refused, aborted) is decided once, at parse time, by
``ccl_tui.sources.outcome`` for every shape Codex writes; detectors read that decision from the view.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.events import Event, EventKind, ts_epoch
from ccl_tui.model.signals import Signal, snippet
from ccl_tui.model.signals import SignalKind as S
from ccl_tui.signals.feedback import asked_question, classify_feedback, object_of
from ccl_tui.signals.noise import is_benign_exit
from ccl_tui.signals.registry import detector
from ccl_tui.signals.session_view import Call, SessionView
from ccl_tui.signals.signature import mask
from ccl_tui.sources.outcome import is_mcp
from ccl_tui.text.redact import redact

K = EventKind

#: What an agent says (in its message or reasoning summary) before a check it expects to fail: test first,
#: "confirm it fails", reproducing a reported bug.
_EXPECTS_FAILURE = re.compile(
    r"\b(?:confirm|verify|check|ensure|make sure|see|show|prove|demonstrate)s?\b[^.\n]{0,60}\b(?:fail|fails|failing|red)\b"
    r"|\b(?:should|expect(?:ed)?(?: it)? to|will|to|must|would) (?:still )?(?:fail|be red|error)\b"
    r"|\b(?:fail|fails|failing)(?: test)? first\b|\bred (?:step|phase|test|bar)\b|\btest[- ]first\b|\bTDD\b"
    r"|\bfailing (?:test|spec|case)s?\b|\breproduc(?:e|es|ing)\b[^.\n]{0,60}\b(?:fail\w*|bug|error|issue|crash\w*)\b"
    r"|\b(?:before|without) (?:the|my|a|any) (?:fix|change|implementation)\b",
    re.I,
)
_REJECTION_LABEL = {
    "user": "the user denied",
    "guardian": "the approval reviewer refused",
    "policy": "a policy blocked",
    "repeated": "asked again after a denial of",
}


def is_timeout(call: Call) -> bool:
    return call.timed_out


def failed(call: Call) -> bool:
    """A call whose authoritative result is a failure (refusals, interrupts and benign probe exits excluded)."""
    if call.denial is not None or call.aborted:
        return False
    ok = call.ok
    if ok is None or ok:
        return False
    return not is_benign_exit(call.program, call.exit_code, call.output, call.command or "")


def signature_of(call: Call) -> tuple[str, str]:
    return call.signature


def _sig(
    view: SessionView,
    kind: str,
    evidence: list[int],
    severity: float,
    signature: str,
    detail: str,
    call_id: str | None = None,
) -> Signal:
    ev = view.by_seq[evidence[0]]
    return Signal(
        kind=str(kind),
        session_id=view.session_id,
        evidence=evidence,
        turn=ev.turn,
        severity=round(min(max(severity, 0.0), 1.0), 3),
        signature=signature,
        detail=redact(detail)[:240],
        call_id=call_id,
        timestamp=ev.timestamp,
    )


def expected_failures(view: SessionView) -> dict[int, Event]:
    """Failing checks the agent announced would fail (test first, "confirm it fails", reproduce the bug) and
    that a later run of the same program passed: first-call seq -> the announcement."""
    cached = view.cache.get("expected")
    if isinstance(cached, dict):
        return cached
    out: dict[int, Event] = {}
    calls = view.calls
    for i, c in enumerate(calls):
        if not c.is_verification or not failed(c) or c.timed_out:
            continue
        if not any(later.program == c.program and later.ok is True for later in calls[i + 1 :]):
            continue  # never went green: a real failure
        said = _announcement(view, c)
        if said is not None:
            out[c.first.seq] = said
    view.cache["expected"] = out
    return out


def _announcement(view: SessionView, call: Call) -> Event | None:
    """The agent's words before ``call`` in the same turn, since the last run of the same program, that expect
    it to fail (a test written first, "confirm it fails", reproducing the bug)."""
    first = call.first
    by_first = view.call_at
    texts = 0
    for e in reversed(view.events[: view.index_of(first.seq)]):
        if e.turn != first.turn or e.kind == K.USER_MESSAGE:
            return None
        if e.kind == K.TOOL_CALL:
            other = by_first.get(e.seq)
            if other is not None and other.program == call.program:
                return None
        elif e.kind in (K.ASSISTANT_MESSAGE, K.REASONING):
            if _EXPECTS_FAILURE.search(e.text[-1500:]):
                return e
            texts += 1
            if texts >= 8:
                return None
    return None


@detector(S.COMMAND_FAILURE)
def command_failures(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    expected = expected_failures(view)
    for c in view.calls:
        if c.is_patch or is_mcp(c.tool) or not failed(c) or c.timed_out or c.first.seq in expected:
            continue  # patches and MCP tools have kinds of their own
        key, detail = signature_of(c)
        sev = th.severity.verification_failure if c.is_verification else th.severity.command_failure
        cmd = snippet(c.command or c.tool or "", 80)
        out.append(
            _sig(
                view,
                S.COMMAND_FAILURE,
                [c.evidence_seq, c.first.seq],
                sev,
                key,
                f"`{cmd}` exited {c.exit_code}: {detail}" if c.exit_code is not None else f"{cmd}: {detail}",
                c.call_id,
            )
        )
    return out


@detector(S.EXPECTED_FAILURE)
def expected_failure_notes(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """Recorded, never ranked: the red step of a test-first loop is the agent working as intended."""
    out = []
    by_first = {c.first.seq: c for c in view.calls}
    for seq, said in expected_failures(view).items():
        c = by_first[seq]
        out.append(
            _sig(
                view,
                S.EXPECTED_FAILURE,
                [c.evidence_seq, seq, said.seq],
                0.0,
                f"expected | {c.program}",
                f"`{snippet(c.command or c.program, 60)}` failed as the agent announced "
                f"(\u201c{snippet(said.text, 80)}\u201d), then passed",
                c.call_id,
            )
        )
    return out


@detector(S.TIMEOUT)
def timeouts(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for c in view.calls:
        if c.denial is None and c.timed_out:
            program = c.program or c.tool or "command"
            out.append(
                _sig(
                    view,
                    S.TIMEOUT,
                    [c.evidence_seq, c.first.seq],
                    th.severity.timeout,
                    f"{program} | timeout",
                    f"`{snippet(c.command or program, 80)}` timed out",
                    c.call_id,
                )
            )
    return out


@detector(S.PATCH_FAILURE)
def patch_failures(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for c in view.calls:
        if not c.is_patch or c.denial is not None or c.aborted:
            continue
        if c.ok is False:
            key, detail = signature_of(c)
            files: list[str] = next(
                (f for e in [*c.results, c.call] if e is not None and (f := e.data.get("files"))), []
            )
            where = f" in {files[0]}" if files else ""
            out.append(
                _sig(
                    view,
                    S.PATCH_FAILURE,
                    [c.evidence_seq, c.first.seq],
                    th.severity.patch_failure,
                    key,
                    f"patch failed to apply{where}: {detail}",
                    c.call_id,
                )
            )
    return out


@detector(S.DENIAL)
def denials(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """Every refused call: by the user at an approval prompt, by the approval reviewer, by a policy (URL,
    network, exec policy, hooks), or a repeat of a request already denied. Later refusals in the same
    session weigh more: each one is a person interrupted again."""
    out = []
    refused = [c for c in view.calls if c.denial is not None]
    for i, c in enumerate(refused):
        who = c.rejection or "user"
        program = c.program or c.tool or "command"
        what = snippet(c.command or program, 60)
        step = th.severity.denial_step
        sev = th.severity.denial + step * min(i, 4) + (step if who == "repeated" else 0.0)
        n = f"; {len(refused)} refusal(s) in the session" if len(refused) > 1 else ""
        reason = snippet(c.denial.text, 100) if c.denial is not None and who != "user" else ""
        out.append(
            _sig(
                view,
                S.DENIAL,
                [c.evidence_seq, c.first.seq],
                sev,
                f"denied | {program}",
                f"{_REJECTION_LABEL.get(who, who)} `{what}`" + (f": {reason}" if reason else "") + n,
                c.call_id,
            )
        )
    return out


@detector(S.APPROVAL_WAIT)
def approval_waits(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """A call whose result came minutes after the call, beyond its own run time: it waited on a person.

    Counted only where the wait can be told from the run: the run time is known, or the call asked for
    escalation, or it ended refused. Legacy files (no per-line times) never qualify."""
    out = []
    for c in view.calls:
        if c.call is None or not c.results or c.call.data.get("ts_from"):
            continue
        t_call, t_res = ts_epoch(c.call.timestamp), ts_epoch(c.results[0].timestamp)
        if t_call is None or t_res is None:
            continue
        ran = (c.outcome.duration_ms if c.outcome is not None else None) or 0
        known = (c.outcome is not None and c.outcome.duration_ms is not None) or c.denial is not None
        if not known and not c.call.data.get("escalated"):
            continue
        waited = t_res - t_call - ran / 1000
        if waited < th.approval_wait_min_s:
            continue
        minutes = waited / 60
        program = c.program or c.tool or "command"
        ended = " and was then refused" if c.denial is not None else ""
        s = _sig(
            view,
            S.APPROVAL_WAIT,
            [c.evidence_seq, c.first.seq],
            th.severity.approval_wait + min(minutes / 30, th.severity.approval_wait_max_extra),
            f"approval wait | {program}",
            f"`{snippet(c.command or program, 60)}` waited {minutes:.0f} min for a person{ended}",
            c.call_id,
        )
        s.cost.seconds = round(waited, 1)
        out.append(s)
    return out


@detector(S.CONTEXT_TRUNCATION)
def context_pressure(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for e in view.events:
        if e.kind == K.COMPACTION:
            out.append(
                _sig(
                    view,
                    S.CONTEXT_TRUNCATION,
                    [e.seq],
                    th.severity.compaction,
                    "context | compaction",
                    "history compacted: the agent lost detail of earlier turns",
                )
            )
        elif e.kind == K.ERROR and e.status == "context_window_exceeded":
            out.append(
                _sig(
                    view,
                    S.CONTEXT_TRUNCATION,
                    [e.seq],
                    th.severity.context_exceeded,
                    "context | window exceeded",
                    f"context window exceeded: {snippet(e.text, 120)}",
                )
            )
    peak = next(
        (
            e
            for e in view.events
            if e.kind == K.TOKEN_COUNT
            and e.data.get("input")
            and e.data.get("window")
            and e.data["input"] / e.data["window"] >= th.context_fill_threshold
        ),
        None,
    )
    if peak is not None:
        pct = 100 * peak.data["input"] / peak.data["window"]
        out.append(
            _sig(
                view,
                S.CONTEXT_TRUNCATION,
                [peak.seq],
                th.severity.context_full,
                f"context | window >= {round(th.context_fill_threshold * 100)}% full",
                f"context window {pct:.0f}% full ({peak.data['input']:,} of {peak.data['window']:,} tokens)",
            )
        )
    # Codex's own markers, read from the full output at parse time (before any storage cap).
    truncated = [e for e in view.events if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY) and e.data.get("truncation")]
    if len(truncated) >= th.long_output_marker_min:
        lost = sum(e.data["truncation"].get("omitted_lines", 0) for e in truncated)
        tokens = sum(e.data["truncation"].get("tokens_truncated", 0) for e in truncated)
        what = ", ".join(x for x in (f"{lost:,} lines" if lost else "", f"{tokens:,} tokens" if tokens else "") if x)
        out.append(
            _sig(
                view,
                S.CONTEXT_TRUNCATION,
                [e.seq for e in truncated],
                th.severity.output_truncated,
                "context | tool output truncated",
                f"{len(truncated)} tool output(s) truncated before the model saw them"
                + (f" ({what} cut)" if what else ""),
            )
        )
    return out


@detector(S.ERROR)
def errors(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    seen_stream_turns: set[int] = set()
    for e in view.events:
        if e.kind == K.ERROR and e.status != "context_window_exceeded":
            cls = e.status or mask(snippet(e.text, 60)).lower() or "error"
            sev = (
                th.severity.account_error
                if e.status in ("usage_limit_exceeded", "unauthorized")
                else th.severity.codex_error
            )
            # Claude Code's API errors (read from its "assistant/…" records) are its own, not Codex's.
            agent, label = ("claude code", "Claude Code") if e.raw_type.startswith("assistant/") else ("codex", "Codex")
            out.append(
                _sig(
                    view,
                    S.ERROR,
                    [e.seq],
                    sev,
                    f"{agent} error | {cls}",
                    f"{label} error: {snippet(e.text, 160)}",
                )
            )
        elif e.kind == K.STREAM_ERROR and e.turn not in seen_stream_turns:
            seen_stream_turns.add(e.turn)
            burst = [x.seq for x in view.events if x.kind == K.STREAM_ERROR and x.turn == e.turn]
            retried = e.raw_type.startswith("system/")  # Claude Code retrying a failed API request
            out.append(
                _sig(
                    view,
                    S.ERROR,
                    burst,
                    th.severity.stream_error,
                    "stream error | reconnecting",
                    f"API request failed and was retried {len(burst)}x"
                    if retried
                    else f"model stream dropped and reconnected {len(burst)}x",
                )
            )
    for c in view.calls:
        o = c.outcome
        tool = c.tool or (o.tool if o is not None else None) or ""
        if o is None or c.denial is not None or c.ok is not False or not is_mcp(tool):
            continue
        server = tool.split("__")[-2] if tool.count("__") >= 2 else tool.split("__")[0]
        out.append(
            _sig(
                view,
                S.ERROR,
                [o.seq, c.first.seq],
                th.severity.mcp_error,
                f"tool error | mcp {server}",
                f"MCP tool {tool} failed: {snippet(o.text, 120)}",
                c.call_id,
            )
        )
    return out


@detector(S.INTERRUPT)
def interrupts(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """Turns the user stopped: ``turn_aborted`` (interrupted / replaced), or, where Codex wrote no such record,
    a call left without a result and the user's next prompt instead (inferred, and said so)."""
    out = []
    for stop in stopped_turns(view):
        if stop.how == "replaced":
            out.append(
                _sig(
                    view,
                    S.INTERRUPT,
                    stop.evidence,
                    th.severity.turn_replaced,
                    "interrupt | replaced by a new prompt",
                    "a new prompt replaced the running turn",
                )
            )
        elif stop.how == "interrupted":
            out.append(_interrupt(view, th, stop.evidence, stop.running, "user interrupted the turn"))
        else:
            out.append(
                _interrupt(
                    view,
                    th,
                    stop.evidence,
                    stop.running,
                    "turn stopped while a call was running (no result; the user's next prompt followed)",
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Stop:
    turn: int
    how: str  # interrupted | replaced | inferred
    evidence: list[int]
    running: Call | None


def stopped_turns(view: SessionView) -> list[Stop]:
    cached = view.cache.get("stops")
    if isinstance(cached, list):
        return cached
    stops: list[Stop] = []
    seen: set[int] = set()
    for e in view.events:
        if e.kind != K.TURN_ABORTED or e.status not in ("interrupted", "replaced"):
            continue
        seen.add(e.turn)
        running = _running_call(view, e.turn, e.seq)
        stops.append(Stop(e.turn, str(e.status), [e.seq] + ([running.first.seq] if running else []), running))
    # No turn_aborted record: an orphaned call (no result at all) followed by the user's next prompt.
    for p in view.prompts:
        prev = p.turn - 1
        if prev < 1 or prev in seen:
            continue
        running = _running_call(view, prev, p.seq)
        if running is None or running.results:
            continue
        if any(e.kind in (K.TURN_COMPLETED, K.TURN_ABORTED) and e.turn == prev for e in view.events):
            continue
        seen.add(prev)
        stops.append(Stop(prev, "inferred", [running.first.seq, p.seq], running))
    view.cache["stops"] = stops
    return stops


def _interrupt(view: SessionView, th: SignalThresholds, evidence: list[int], running: Call | None, what: str) -> Signal:
    program = running.program if running else ""
    sig = f"interrupt | during {program}" if program else "interrupt | while the agent was working"
    during = f" during `{snippet(running.command or program, 60)}`" if running else ""
    return _sig(
        view, S.INTERRUPT, evidence, th.severity.interrupt, sig, f"{what}{during}", running.call_id if running else None
    )


def _running_call(view: SessionView, turn: int, before: int) -> Call | None:
    """The last call of ``turn`` (before event ``before``) if it never got a result or was aborted."""
    for c in reversed(view.calls):
        if c.call is None or c.first.turn != turn or c.first.seq > before:
            continue
        if not c.results or c.aborted or (c.outcome is None and c.denial is None and not c.redacted):
            return c
        return None
    return None


@detector(S.USER_PUSHBACK)
def pushback(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """A prompt that objects to what the agent did: a correction, "it still fails", a request to revert or
    stop, an error the user pasted back, or the same request sent again. Grouped by what was objected to
    (the agent's action before it), never by a word the user did not write."""
    out = []
    # Turns the agent worked in, and turns that completed without producing anything (a silent turn is
    # something to object to as well); a turn the user aborted before any output is not.
    agent_turns = {e.turn for e in view.events if e.kind in (K.ASSISTANT_MESSAGE, K.TOOL_CALL, K.TURN_COMPLETED)}
    earlier: list[Event] = []
    for p in view.prompts:
        prior, earlier = earlier, [*earlier, p]
        if p.turn <= 1 or p.data.get("redacted") or p.text.lstrip().startswith("<"):
            continue
        if not any(p.turn - g in agent_turns for g in range(1, th.pushback_max_gap_turns + 1)):
            continue
        fb = classify_feedback(p.text, prior, answered_question=asked_question(view, p))
        if fb is None or not fb.friction:
            continue
        obj = object_of(view, p)
        out.append(
            _sig(
                view,
                S.USER_PUSHBACK,
                [p.seq, *([obj.seq] if obj.seq is not None else [])],
                fb.severity,
                f"pushback | {fb.category} | {obj.key}",
                f"{fb.label} after {obj.label}: \u201c{snippet(p.text, 140)}\u201d",
            )
        )
    return out


@detector(S.RETRY_LOOP)
def retry_loops(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """The same failure signature, or the very same failing command, min-times or more in one session."""
    by_signature: dict[str, list[Call]] = defaultdict(list)
    by_command: dict[str, list[Call]] = defaultdict(list)
    keys: dict[int, str] = {}
    expected = expected_failures(view)
    for c in view.calls:
        if c.denial is not None or c.first.seq in expected or not (failed(c) or c.timed_out):
            continue
        key = f"{c.program or c.tool} | timeout" if c.timed_out else signature_of(c)[0]
        keys[c.first.seq] = key
        by_signature[key].append(c)
        if c.command:
            by_command[" ".join(c.command.split())].append(c)
    out: list[Signal] = []
    covered: list[set[int]] = []
    for key, calls in by_signature.items():
        if len(calls) >= th.retry_loop_min:
            out.append(_loop(view, th, key, calls, f"the same failure {len(calls)}x in one session: {key}"))
            covered.append({c.first.seq for c in calls})
    for command, calls in by_command.items():
        seqs = {c.first.seq for c in calls}
        if len(calls) >= th.retry_loop_min and not any(seqs <= done for done in covered):
            common = max({keys[s] for s in seqs}, key=lambda k: sum(keys[s] == k for s in seqs))
            out.append(_loop(view, th, common, calls, f"`{snippet(command, 60)}` failed {len(calls)}x in one session"))
    return out


def _loop(view: SessionView, th: SignalThresholds, key: str, calls: list[Call], detail: str) -> Signal:
    sev = th.severity.retry_loop + th.severity.retry_loop_step * (len(calls) - 2)
    return _sig(view, S.RETRY_LOOP, [c.evidence_seq for c in calls], sev, key, detail, calls[0].call_id)
