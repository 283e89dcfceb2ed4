"""Friction detectors: where a session went wrong, each signal pointing at its evidence events."""

from __future__ import annotations

import re
from collections import defaultdict

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.issues.signature import mask
from ccl_tui.signals.lexicon import pushback_category
from ccl_tui.signals.model import Signal
from ccl_tui.signals.model import SignalKind as S
from ccl_tui.signals.noise import is_benign_exit
from ccl_tui.signals.registry import detector
from ccl_tui.signals.session_view import Call, SessionView
from ccl_tui.sources.model import Event, EventKind
from ccl_tui.transcript import first_line

K = EventKind

_TIMEOUT_TEXT = re.compile(r"command timed out|timed out after|\btimeout of \d+|deadline exceeded", re.I)
_TRUNCATION = re.compile(r"\[\.\.\. omitted \d+ of \d+ lines \.\.\.\]|^Total output lines: \d+|tokens truncated", re.M)


def is_timeout(call: Call) -> bool:
    o = call.outcome
    if o is None:
        return False
    if o.exit_code == 124 or o.status == "timeout":
        return True
    return o.exit_code not in (None, 0) and bool(_TIMEOUT_TEXT.search(call.output[-3000:]))


def failed(call: Call) -> bool:
    """A call whose authoritative result is a failure (denials and benign probe exits excluded)."""
    if call.denial is not None or call.aborted:
        return False
    ok = call.ok
    if ok is None or ok:
        return False
    return not is_benign_exit(call.program, call.exit_code, call.output)


def signature_of(call: Call) -> tuple[str, str]:
    return call.signature


def _sig(view: SessionView, kind: str, evidence: list[int], severity: float, signature: str, detail: str,
         call_id: str | None = None) -> Signal:
    ev = view.by_seq[evidence[0]]
    return Signal(kind=str(kind), session_id=view.session_id, evidence=evidence, turn=ev.turn,
                  severity=round(min(max(severity, 0.0), 1.0), 3), signature=signature,
                  detail=detail[:240], call_id=call_id, timestamp=ev.timestamp)  # fmt: skip


@detector(S.COMMAND_FAILURE)
def command_failures(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for c in view.calls:
        if c.is_patch or not failed(c) or is_timeout(c):
            continue
        key, detail = signature_of(c)
        sev = 0.6 if c.is_verification else 0.45
        cmd = first_line(c.command or c.tool or "", 80)
        out.append(_sig(view, S.COMMAND_FAILURE, [c.evidence_seq, c.first.seq], sev, key,
                        f"`{cmd}` exited {c.exit_code}: {detail}" if c.exit_code is not None else f"{cmd}: {detail}",
                        c.call_id))
    return out


@detector(S.TIMEOUT)
def timeouts(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for c in view.calls:
        if c.denial is None and is_timeout(c):
            program = c.program or c.tool or "command"
            out.append(_sig(view, S.TIMEOUT, [c.evidence_seq, c.first.seq], 0.6, f"{program} | timeout",
                            f"`{first_line(c.command or program, 80)}` timed out", c.call_id))
    return out


@detector(S.PATCH_FAILURE)
def patch_failures(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for c in view.calls:
        if not c.is_patch or c.denial is not None:
            continue
        if c.ok is False:
            key, detail = signature_of(c)
            files = next((e.data.get("files") for e in [*c.results, c.call] if e is not None and e.data.get("files")), [])
            where = f" in {files[0]}" if files else ""
            out.append(_sig(view, S.PATCH_FAILURE, [c.evidence_seq, c.first.seq], 0.5, key,
                            f"patch failed to apply{where}: {detail}", c.call_id))
    return out


@detector(S.REPEATED_DENIAL)
def repeated_denials(view: SessionView, th: SignalThresholds) -> list[Signal]:
    denied = [c for c in view.calls if c.denial is not None]
    if not denied:
        return []
    by_program: dict[str, list[Call]] = defaultdict(list)
    for c in denied:
        by_program[c.program or c.tool or "command"].append(c)
    repeated_session = len(denied) >= th.repeated_denial_min
    out = []
    for program, calls in by_program.items():
        if not repeated_session and len(calls) < 2:
            continue
        n = len(calls)
        evidence = [c.evidence_seq for c in calls]
        sev = 0.4 + 0.15 * (len(denied) - 1)
        what = first_line(calls[0].command or program, 60)
        out.append(_sig(view, S.REPEATED_DENIAL, evidence, sev, f"denied | {program}",
                        f"user denied `{what}`" + (f" ({n}x)" if n > 1 else "") +
                        f"; {len(denied)} denial(s) in the session", calls[0].call_id))
    return out


@detector(S.CONTEXT_TRUNCATION)
def context_pressure(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for e in view.events:
        if e.kind == K.COMPACTION:
            out.append(_sig(view, S.CONTEXT_TRUNCATION, [e.seq], 0.5, "context | compaction",
                            "history compacted: the agent lost detail of earlier turns"))
        elif e.kind == K.ERROR and e.status == "context_window_exceeded":
            out.append(_sig(view, S.CONTEXT_TRUNCATION, [e.seq], 0.8, "context | window exceeded",
                            f"context window exceeded: {first_line(e.text, 120)}"))
    peak = next(
        (e for e in view.events if e.kind == K.TOKEN_COUNT and e.data.get("input") and e.data.get("window")
         and e.data["input"] / e.data["window"] >= th.context_fill_threshold),
        None,
    )  # fmt: skip
    if peak is not None:
        pct = 100 * peak.data["input"] / peak.data["window"]
        out.append(_sig(view, S.CONTEXT_TRUNCATION, [peak.seq], 0.4,
                        f"context | window >= {round(th.context_fill_threshold * 100)}% full",
                        f"context window {pct:.0f}% full ({peak.data['input']:,} of {peak.data['window']:,} tokens)"))
    truncated = [e.seq for e in view.events if e.kind == K.TOOL_OUTPUT and e.text and _TRUNCATION.search(e.text[:3000])]
    if len(truncated) >= th.long_output_marker_min:
        out.append(_sig(view, S.CONTEXT_TRUNCATION, truncated, 0.2, "context | tool output truncated",
                        f"{len(truncated)} tool output(s) truncated before the model saw them"))
    return out


@detector(S.ERROR)
def errors(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    seen_stream_turns: set[int] = set()
    for e in view.events:
        if e.kind == K.ERROR and e.status != "context_window_exceeded":
            cls = e.status or mask(first_line(e.text, 60)).lower() or "error"
            sev = 0.7 if e.status in ("usage_limit_exceeded", "unauthorized") else 0.6
            out.append(_sig(view, S.ERROR, [e.seq], sev, f"codex error | {cls}", f"Codex error: {first_line(e.text, 160)}"))
        elif e.kind == K.STREAM_ERROR and e.turn not in seen_stream_turns:
            seen_stream_turns.add(e.turn)
            burst = [x.seq for x in view.events if x.kind == K.STREAM_ERROR and x.turn == e.turn]
            out.append(_sig(view, S.ERROR, burst, 0.3, "stream error | reconnecting",
                            f"model stream dropped and reconnected {len(burst)}x"))
    for c in view.calls:
        o = c.outcome
        if o is not None and o.tool and o.tool.startswith("mcp__") and o.success is False:
            server = o.tool.split("__")[1] if o.tool.count("__") >= 2 else o.tool
            out.append(_sig(view, S.ERROR, [o.seq], 0.4, f"tool error | mcp {server}",
                            f"MCP tool {o.tool} failed: {first_line(o.text, 120)}", c.call_id))
    return out


@detector(S.INTERRUPT)
def interrupts(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    for e in view.events:
        if e.kind != K.TURN_ABORTED or e.status not in ("interrupted", "replaced"):
            continue
        running = _running_call(view, e)
        evidence = [e.seq] + ([running.first.seq] if running else [])
        if e.status == "replaced":
            out.append(_sig(view, S.INTERRUPT, evidence, 0.3, "interrupt | replaced by a new prompt",
                            "a new prompt replaced the running turn"))
            continue
        program = running.program if running else ""
        sig = f"interrupt | during {program}" if program else "interrupt | while the agent was working"
        what = f" during `{first_line(running.command or program, 60)}`" if running else ""
        out.append(_sig(view, S.INTERRUPT, evidence, 0.6, sig, f"user interrupted the turn{what}",
                        running.call_id if running else None))
    return out


def _running_call(view: SessionView, abort: Event) -> Call | None:
    """The call in the aborted turn that never got a result (or was aborted), if any."""
    for c in reversed(view.calls):
        if c.first.turn != abort.turn or c.first.seq > abort.seq:
            continue
        if not c.results or c.aborted or c.outcome is None:
            return c
        return None
    return None


@detector(S.USER_PUSHBACK)
def pushback(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    agent_turns = {e.turn for e in view.events if e.kind in (K.ASSISTANT_MESSAGE, K.TOOL_CALL)}
    for p in view.prompts:
        if p.turn <= 1:
            continue  # the first prompt cannot push back on the agent's work
        if not any(p.turn - g in agent_turns for g in range(1, th.pushback_max_gap_turns + 1)):
            continue
        category = pushback_category(p.text)
        if category:
            # Pushback is a symptom: what the agent did wrong is in the turn before it. Rated below
            # concrete failures so root causes outrank their echoes.
            sev = 0.55 if category == "revert" else 0.45
            out.append(_sig(view, S.USER_PUSHBACK, [p.seq], sev, f"pushback | {category}",
                            f"user: {first_line(p.text, 160)}"))
    return out


@detector(S.RETRY_LOOP)
def retry_loops(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """The same failure signature, or the very same failing command, min-times or more in one session."""
    by_signature: dict[str, list[Call]] = defaultdict(list)
    by_command: dict[str, list[Call]] = defaultdict(list)
    keys: dict[int, str] = {}
    for c in view.calls:
        if c.denial is not None or not (failed(c) or is_timeout(c)):
            continue
        key = f"{c.program or c.tool} | timeout" if is_timeout(c) else signature_of(c)[0]
        keys[c.first.seq] = key
        by_signature[key].append(c)
        if c.command:
            by_command[" ".join(c.command.split())].append(c)
    out: list[Signal] = []
    covered: list[set[int]] = []
    for key, calls in by_signature.items():
        if len(calls) >= th.retry_loop_min:
            out.append(_loop(view, key, calls, f"the same failure {len(calls)}x in one session: {key}"))
            covered.append({c.first.seq for c in calls})
    for command, calls in by_command.items():
        seqs = {c.first.seq for c in calls}
        if len(calls) >= th.retry_loop_min and not any(seqs <= done for done in covered):
            common = max({keys[s] for s in seqs}, key=lambda k: sum(keys[s] == k for s in seqs))
            out.append(_loop(view, common, calls, f"`{first_line(command, 60)}` failed {len(calls)}x in one session"))
    return out


def _loop(view: SessionView, key: str, calls: list[Call], detail: str) -> Signal:
    sev = 0.5 + 0.1 * (len(calls) - 2)
    return _sig(view, S.RETRY_LOOP, [c.evidence_seq for c in calls], sev, key, detail, calls[0].call_id)
