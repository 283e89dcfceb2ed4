"""Plain dataclasses for Harbor task generation: what was selected from a session, and what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Task flavours. "fix": the agent must get a failing check to pass. "keep-green": a check that passed in the
#: session (a delight signal) must still pass after the agent does the same request.
FIX = "fix"
KEEP_GREEN = "keep-green"

#: Environment modes (see environment.py).
SNAPSHOT = "snapshot"  # git archive of the local checkout at the recorded commit, bundled in environment/
CLONE = "clone"  # the Dockerfile clones the recorded repository url at the recorded commit
NEEDS_REPOSITORY = "needs-repository"  # neither possible: the task is written but cannot be built yet


class TaskError(Exception):
    """A task cannot be generated (unknown issue or signal, nothing to verify, output exists...)."""


@dataclass(slots=True)
class Check:
    """A shell command from the session that serves as the task's verifier."""

    command: str  # as recorded (not yet redacted)
    workdir: str | None  # absolute directory it ran in, as recorded (None: the session cwd)
    seq: int  # evidence seq of its outcome
    call_seq: int  # seq of the call record (or the first result when the call was not recorded)
    call_id: str | None
    turn: int
    exit_code: int | None
    ok: bool | None
    duration_ms: int | None = None
    output: str = ""


@dataclass(slots=True)
class PatchRef:
    """One successful apply_patch of the session, with the records its diff can be rebuilt from."""

    call_seq: int
    seq: int  # evidence seq of its outcome
    call_id: str | None
    patch_text: str | None  # Codex patch text (``*** Begin Patch``...), None when the call was not recorded
    patch_truncated: bool
    changes: dict[str, Any] | None  # patch_apply_end ``changes`` (2026 rollouts): exact unified diffs


@dataclass(slots=True)
class TaskPlan:
    """Everything chosen from one session for one task. Texts here are raw: render.py redacts them."""

    flavour: str  # FIX | KEEP_GREEN
    session_id: str
    signal_kind: str
    signal_seq: int
    signal_detail: str
    signal_severity: float
    cwd: str | None
    repo_name: str | None
    repo_url: str | None
    commit: str | None
    branch: str | None
    prompts: list[tuple[str, str]]  # (label, text): the request(s) the agent gets
    verifier: Check
    verifier_reason: str
    verifier_strategy: str  # failed-check | failed-check-in-turn | later-success-check | last-success-check
    start_seq: int  # the task starts in the state just before this event (setup = patches before it)
    failure: Check | None  # the failing check as recorded (None for keep-green)
    success: Check | None  # where the session later got past the failure (or the keep-green pass)
    setup_patches: list[PatchRef] = field(default_factory=list)
    solution_patches: list[PatchRef] = field(default_factory=list)
    solution_reason: str = ""
    programs: list[str] = field(default_factory=list)  # programs the session ran (language detection)
    touched_files: list[str] = field(default_factory=list)  # files the session patched (language detection)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IssueInfo:
    """The issue a task was made for (absent for tasks made from one chosen signal)."""

    id: str
    title: str
    kind: str
    signature: str
    impact: float
    formula: str
    sessions: int
    session_ids: list[str]
    evidence: list[dict[str, Any]]


@dataclass(slots=True)
class TaskResult:
    """What ``write_task_for_issue`` / ``write_task_for_signal`` produced."""

    path: Path
    name: str
    flavour: str
    environment_mode: str
    needs_repository: bool
    reason: str  # why the environment is what it is (and what is missing when it needs the repository)
    has_solution: bool
    solution_reason: str
    verifier_command: str  # redacted, as written to the task
    verifier_reason: str
    files: list[str] = field(default_factory=list)  # written, relative to path
    valid: bool | None = None  # Harbor's loader accepted it (None: harbor is not installed)
    problems: list[str] = field(default_factory=list)  # Harbor validation findings
    issue_id: str | None = None
    session_id: str | None = None
    signal_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "name": self.name,
            "flavour": self.flavour,
            "environment_mode": self.environment_mode,
            "needs_repository": self.needs_repository,
            "reason": self.reason,
            "has_solution": self.has_solution,
            "solution_reason": self.solution_reason,
            "verifier_command": self.verifier_command,
            "verifier_reason": self.verifier_reason,
            "files": self.files,
            "valid": self.valid,
            "problems": self.problems,
            "issue_id": self.issue_id,
            "session_id": self.session_id,
            "signal_seq": self.signal_seq,
        }
