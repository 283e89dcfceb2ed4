"""A detector-friendly view of one session: its calls with their authoritative outcome, and cost helpers.

Codex often records a call's result more than once (the function output, then ``exec_command_end``;
unified exec splits output across ``write_stdin`` polls). Detectors must count a call once, so they read
calls from here rather than raw result events.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from functools import cached_property

from ccl_tui.model.events import Event, EventKind, ts_epoch
from ccl_tui.signals.signature import command_program, failure_signature
from ccl_tui.sources.outcome import is_redacted

K = EventKind

#: Programs whose run is a verification step (tests, builds, type checks, linters).
VERIFY_PROGRAMS = (
    "pytest",
    "tox",
    "nox",
    "npm test",
    "npm run test",
    "npm run build",
    "npm run lint",
    "npm run typecheck",
    "yarn test",
    "pnpm test",
    "vitest",
    "jest",
    "tsc",
    "eslint",
    "ruff",
    "mypy",
    "pyright",
    "cargo test",
    "cargo build",
    "cargo check",
    "cargo clippy",
    "go test",
    "go build",
    "go vet",
    "make test",
    "make build",
    "make check",
    "make lint",
    "gradle test",
    "mvn test",
    "dotnet test",
    "bundle exec rspec",
    "rspec",
    "unittest",
)


#: Kinds whose text friction and delight are read from.
_READABLE = frozenset({K.USER_MESSAGE, K.ASSISTANT_MESSAGE, K.TOOL_OUTPUT, K.PATCH_APPLY})

_AUTHORITATIVE = frozenset({"event_msg/exec_command_end", "event_msg/patch_apply_end", "event_msg/mcp_tool_call_end"})


@functools.lru_cache(maxsize=4096)
def is_verification_program(program: str) -> bool:
    return any(program == v or program.startswith(v + " ") for v in VERIFY_PROGRAMS)


@dataclass(slots=True)
class Call:
    """A tool call and everything Codex recorded about its result."""

    call: Event | None  # None for results whose call was not recorded (compacted/forked history)
    results: list[Event] = field(default_factory=list)
    call_id: str | None = None
    _program: str | None = None
    _signature: tuple[str, str] | None = None
    _outcome: Event | None = None
    _resolved: bool = False  # results are complete when the view is built; outcome/denial are cached

    @property
    def first(self) -> Event:
        return self.call or self.results[0]

    @property
    def tool(self) -> str | None:
        for e in (self.call, *self.results):
            if e is not None and e.tool and e.tool != "write_stdin":
                return e.tool
        return None

    @property
    def command(self) -> str | None:
        for e in (self.call, *reversed(self.results)):
            if e is not None and e.command:
                return e.command
        return None

    @property
    def denial(self) -> Event | None:
        for e in self.results:
            if e.kind == K.DENIAL:
                return e
        return None

    @property
    def outcome(self) -> Event | None:
        """The authoritative result: exec_command_end / patch_apply_end first, else the last decisive one."""
        if not self._resolved:
            decisive = [
                e for e in self.results if e.kind != K.DENIAL and (e.exit_code is not None or e.success is not None)
            ]
            self._outcome = next((e for e in decisive if e.raw_type in _AUTHORITATIVE), None) or (
                decisive[-1] if decisive else None
            )
            self._resolved = True
        return self._outcome

    @property
    def exit_code(self) -> int | None:
        o = self.outcome
        return o.exit_code if o else None

    @property
    def ok(self) -> bool | None:
        o = self.outcome
        if o is None:
            return None
        if o.exit_code is not None:
            return o.exit_code == 0
        return o.success

    @property
    def output(self) -> str:
        """The fullest output text recorded for the call."""
        texts = [e.text for e in self.results if e.kind != K.DENIAL and e.text]
        return max(texts, key=len) if texts else ""

    @property
    def aborted(self) -> bool:
        return any(e.status == "aborted" for e in self.results)

    @property
    def timed_out(self) -> bool:
        o = self.outcome
        return o is not None and (o.status == "timeout" or o.exit_code == 124)

    @property
    def redacted(self) -> bool:
        """The call's result was scrubbed by a log redactor: its outcome cannot be read."""
        return any(e.data.get("redacted") for e in self.results)

    @property
    def rejection(self) -> str | None:
        """Who refused the call (user | guardian | policy | repeated), or None."""
        d = self.denial
        return str(d.data.get("rejection") or "user") if d is not None else None

    @property
    def is_edit(self) -> bool:
        """An apply_patch in any form (tool, custom tool, or through the shell) that applied."""
        return self.is_patch and self.ok is True

    @property
    def program(self) -> str:
        if self._program is None:
            if self.tool == "apply_patch":
                self._program = "apply_patch"
            else:
                cmd = self.command
                self._program = command_program(cmd) if cmd else (self.tool or "")
        return self._program

    @property
    def signature(self) -> tuple[str, str]:
        """(grouping key, masked detail) of this call's failure."""
        if self._signature is None:
            sig = failure_signature(
                self.command or self.tool or "", self.output, exit_code=self.exit_code, tool=self.tool
            )
            self._signature = (sig.key, sig.detail)
        return self._signature

    @property
    def is_patch(self) -> bool:
        return self.tool == "apply_patch" or any(e.kind == K.PATCH_APPLY for e in self.results)

    @property
    def is_verification(self) -> bool:
        return is_verification_program(self.program)

    @property
    def evidence_seq(self) -> int:
        o = self.outcome or self.denial
        return o.seq if o else self.first.seq


class SessionView:
    """Ordered events of one session plus derived indexes, built once per detection."""

    def __init__(self, session_id: str, events: list[Event], origin: str | None = None) -> None:
        self.session_id = session_id
        self.events = events
        self.origin = origin
        self.by_seq = {e.seq: e for e in events}
        self.friction: list | None = None  # set by detect_session before the delight detectors run
        self.cache: dict[str, object] = {}  # results detectors share within one detection pass

    def index_of(self, seq: int) -> int:
        """Position of event ``seq`` in ``events`` (seqs are dense from 0 within a session)."""
        if 0 <= seq < len(self.events) and self.events[seq].seq == seq:
            return seq
        return next((i for i, e in enumerate(self.events) if e.seq == seq), len(self.events))

    @cached_property
    def call_at(self) -> dict[int, Call]:
        """Calls by the seq of their first record."""
        return {c.first.seq: c for c in self.calls}

    @cached_property
    def calls(self) -> list[Call]:
        """Calls in order of their first record; results without a call id stand alone."""
        calls: dict[str, Call] = {}
        ordered: list[Call] = []
        for e in self.events:
            if e.kind == K.TOOL_CALL:
                if e.tool == "write_stdin":
                    continue  # a poll of an earlier exec call, not a call of its own
                c = Call(e, call_id=e.call_id)
                if e.call_id:
                    calls[e.call_id] = c
                ordered.append(c)
            elif e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL):
                owner = calls.get(e.call_id or "")
                if owner is None:
                    owner = Call(None, call_id=e.call_id)
                    if e.call_id:
                        calls[e.call_id] = owner
                    ordered.append(owner)
                owner.results.append(e)
        return ordered

    @cached_property
    def prompts(self) -> list[Event]:
        return [e for e in self.events if e.kind == K.USER_MESSAGE]

    @cached_property
    def redacted_events(self) -> list[Event]:
        """Prompts, answers and tool results whose text a log scrubber replaced with a placeholder."""
        return [e for e in self.events if e.kind in _READABLE and (e.data.get("redacted") or is_redacted(e.text))]

    @cached_property
    def unverifiable(self) -> bool:
        """Some of the text that friction and delight are read from is redacted: claims cannot be checked."""
        return bool(self.redacted_events)

    @cached_property
    def completions(self) -> list[int]:
        """Seqs where a turn visibly completed: ``task_complete`` where Codex wrote it (2026), else (older
        files have none) the last assistant answer of each turn that was not aborted."""
        done = [e.seq for e in self.events if e.kind == K.TURN_COMPLETED and e.status != "failed"]
        if done or any(e.kind == K.TURN_STARTED for e in self.events):
            return done
        last: dict[int, int] = {}
        aborted: set[int] = set()
        for e in self.events:
            if e.kind == K.ASSISTANT_MESSAGE and e.status in (None, "final_answer"):
                last[e.turn] = e.seq
            elif e.kind == K.TURN_ABORTED:
                aborted.add(e.turn)
        return sorted(seq for turn, seq in last.items() if turn not in aborted)

    def completion_after(self, seq: int) -> int | None:
        i = bisect.bisect_right(self.completions, seq)
        return self.completions[i] if i < len(self.completions) else None

    @cached_property
    def last_turn(self) -> int:
        return max((e.turn for e in self.events), default=0)

    @cached_property
    def _token_points(self) -> tuple[list[int], list[int], int]:
        """Seqs and cumulative session tokens of each token count, and the count before the first one.

        Tokens are those not served from the prompt cache (new input + output): re-sending the same context
        with every request is not work lost. Older stores without that figure fall back to Codex's total."""
        seqs: list[int] = []
        totals: list[int] = []
        best = 0
        before_first = 0
        for e in self.events:
            if e.kind != K.TOKEN_COUNT:
                continue
            d = e.data
            key, last_key = ("fresh", "last_fresh") if isinstance(d.get("fresh"), int) else ("total", "last")
            value = d.get(key)
            if not isinstance(value, int):
                continue
            if not seqs:
                last = d.get(last_key)
                before_first = max(value - last, 0) if isinstance(last, int) else 0
            best = max(best, value)
            seqs.append(e.seq)
            totals.append(best)
        return seqs, totals, before_first

    def tokens_at(self, seq: int) -> int:
        """Cumulative session tokens at (or just before) event ``seq``; before the first count, the count
        that first record started from."""
        seqs, totals, before_first = self._token_points
        i = bisect.bisect_right(seqs, seq) - 1
        return totals[i] if i >= 0 else before_first

    def tokens_between(self, a: int, b: int) -> int:
        """Tokens spent from event ``a`` to event ``b``: a delta of the cumulative count, never a total."""
        return max(self.tokens_at(b) - self.tokens_at(a), 0)

    def seconds_between(self, a: int, b: int) -> float:
        ta, tb = ts_epoch(self._ts_near(a)), ts_epoch(self._ts_near(b, forward=False))
        return max(tb - ta, 0.0) if ta is not None and tb is not None else 0.0

    def _ts_near(self, seq: int, forward: bool = True) -> str | None:
        e = self.by_seq.get(seq)
        if e is not None and e.timestamp:
            return e.timestamp
        rng = self.events if forward else reversed(self.events)
        for x in rng:
            if (x.seq >= seq if forward else x.seq <= seq) and x.timestamp:
                return x.timestamp
        return None

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0
