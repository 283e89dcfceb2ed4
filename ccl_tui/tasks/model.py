"""Plain dataclasses for Harbor task generation: what was selected from a session, and what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccl_tui.tasks.contract import Contract, Run

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


class TaskSkipped(TaskError):
    """A task was planned but not written (its contract class was not asked for): ``reason`` says why."""

    def __init__(self, message: str, reason: str, contract: Contract | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.contract = contract


class TaskRefused(TaskSkipped):
    """No task: the check depends on the host (processes, network endpoints, paths outside the repository,
    time) rather than on the repository."""


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
    base_dir: str | None = None  # absolute directory relative patch paths resolve against (None: the session cwd)
    #: files written by a shell redirection (``cat > f <<EOF``...): (path relative to the session cwd, content,
    #: appended). Set instead of patch_text/changes.
    writes: list[tuple[str, str, bool]] | None = None
    #: Claude Code Edit / MultiEdit: (path relative to the session cwd, old text, new text, replace every
    #: occurrence), applied in order to the file's content as the session had written it. Set instead of
    #: patch_text/changes.
    replacements: list[tuple[str, str, str, bool]] | None = None
    what: str = "apply_patch"  # apply_patch | shell write | Write | Edit | MultiEdit


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
    #: The session's finished runs of the verifier command in exactly the start state (see contract.classify).
    start_runs: list[Run] = field(default_factory=list)
    start_state: int = 0  # how many edits the session had made before the start (identifies the state)
    later_pass: Run | None = None  # a later passing run of the verifier command (after edits)
    start_gaps: list[str] = field(default_factory=list)  # why the start state differs from the session's
    solution_gaps: list[str] = field(default_factory=list)  # changes between start and success not replayed
    network_failure: str | None = None  # the recorded output line showing a failed network access
    tool_versions: dict[str, str] = field(default_factory=dict)  # tool -> version the session showed
    contract: Contract | None = None  # decided by select.plan_from_session, refined by build_task
    agent: str = "codex"  # which agent wrote the session (model.events.agent_of)
    started_at: str | None = None  # when the session started (a commit is inferred from it when none was recorded)


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
    contract: Contract | None = None
    network_mode: str = "public"
    start_seq: int | None = None  # the session event the task starts just before
    start_state: int | None = None  # how many edits the session had made before the start
    verifier_key: str = ""  # the verifier command, normalised (with the start state: what makes a task the same)

    def to_json(self) -> dict[str, Any]:
        contract = self.contract.to_json() if self.contract is not None else None
        return {
            "class": contract["class"] if contract else None,
            "evidence": contract["evidence"] if contract else None,
            "contract_reason": contract["reason"] if contract else None,
            "contract": contract,
            "network_mode": self.network_mode,
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
            "start_seq": self.start_seq,
        }
