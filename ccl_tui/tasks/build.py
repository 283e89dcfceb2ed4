"""Assemble a task's files from a TaskPlan: environment, diffs, scripts, instruction and metadata.

Synchronous (it runs git and builds archives): the async API calls it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccl_tui import __version__
from ccl_tui.signals.signature import command_program
from ccl_tui.tasks import contract, render
from ccl_tui.tasks.diffs import Contents, Diff, DiffError, combine
from ccl_tui.tasks.environment import Environment, build_environment, probe_local
from ccl_tui.tasks.model import (
    CLONE,
    KEEP_GREEN,
    NEEDS_REPOSITORY,
    IssueInfo,
    PatchRef,
    TaskError,
    TaskPlan,
)
from ccl_tui.tasks.paths import join_rel, portable_command, workdir_rel
from ccl_tui.tasks.snapshot import SECRETS_POLICY, infer_commit, read_text_at
from ccl_tui.tasks.text import clean, clean_line
from ccl_tui.text.ansi import strip_control
from ccl_tui.text.redact import contains_secret

EXECUTABLE = 0o755
REGULAR = 0o644
MAX_EVIDENCE = 25
MAX_SESSIONS = 100


@dataclass(slots=True)
class BuiltTask:
    """The files of one task (relative path -> bytes, mode) and the facts reported about it."""

    files: dict[str, tuple[bytes, int]]
    environment: Environment
    command: str
    workdir: str
    has_solution: bool
    solution_reason: str
    metadata: dict[str, Any] = field(default_factory=dict)
    contract: contract.Contract | None = None


def _diff(
    refs: list[PatchRef], cwd: str | None, prefix: str, what: str, notes: list[str], contents: Contents | None = None
) -> Diff | None:
    if not refs:
        return None
    try:
        diff = combine(refs, cwd, prefix, contents)
    except DiffError as exc:
        notes.append(f"{what} could not be rebuilt: {clean_line(str(exc), 240)}")
        return None
    if contains_secret(diff.text):
        notes.append(f"{what} left out: it contains a credential that spans lines and cannot be redacted in a diff")
        return None
    return diff


def build_task(
    plan: TaskPlan, issue: IssueInfo | None, title: str | Callable[[TaskPlan], str], *, allow_local: bool = True
) -> BuiltTask:
    """The task's files. ``title`` may depend on the task's final contract (a callable gets the plan)."""
    notes = list(plan.notes)
    if not plan.commit and allow_local:
        # Claude Code records the branch, not the commit: the branch's last commit before the session started is
        # the likely start. The session's evidence was recorded in a state ccl-tui cannot confirm: the task is at
        # best unproven until `tasks check --execute` runs it.
        inferred = infer_commit(plan.cwd, plan.branch, plan.started_at)
        if inferred is not None:
            plan.commit = inferred
            why = (
                f"the start commit {inferred[:12]} is inferred (the last commit on {plan.branch or 'HEAD'} before the"
                " session started; the session recorded no commit)"
            )
            notes.append(why)
            if plan.contract is not None:
                plan.contract = contract.inexact_start(plan.contract, why)
    if not plan.commit and plan.contract is not None:
        # no commit, recorded or inferred: whichever checkout the task is later run on, it is not known to be
        # the state the session's evidence was recorded in
        plan.contract = contract.inexact_start(plan.contract, "the session recorded no commit to start from")
    local, local_reason = probe_local(plan.cwd, plan.commit, allow_local, plan.repo_url, plan.repo_name)
    prefix = local.prefix if local is not None else ""
    # A Claude Code Edit replaces text in a file: its content comes from the start commit, or from the session's
    # own earlier writes and edits (the solution continues from the start state's contents).
    read = (lambda path: read_text_at(local, path)) if local is not None else None
    contents = Contents(read)
    setup = _diff(plan.setup_patches, plan.cwd, prefix, "the edits applied before the failure", notes, contents)
    if plan.setup_patches and setup is None:
        contents = Contents(read)  # the task starts from the commit: so does the solution
    solution = _diff(plan.solution_patches, plan.cwd, prefix, "the solution", notes, contents)
    raw_command = clean(plan.verifier.command)
    # references to the checkout become $CCL_REPO_ROOT: that is the repository's root, so a session that ran in
    # a subdirectory (prefix) has the root above its cwd, and /repo/pkg/x must become ${CCL_REPO_ROOT}/pkg/x
    root = plan.cwd
    if prefix and root and root.rstrip("/").endswith("/" + prefix.strip("/")):
        root = root.rstrip("/")[: -len(prefix.strip("/")) - 1] or "/"
    command = portable_command(raw_command, root)
    rel = workdir_rel(plan.verifier.workdir, plan.cwd)
    if plan.verifier.workdir and rel == "." and plan.verifier.workdir.rstrip("/") != (plan.cwd or "").rstrip("/"):
        notes.append("the check ran outside the session's working directory; the task runs it at the repository root")
    workdir = join_rel(prefix, rel)
    env = build_environment(
        local=local,
        local_reason=local_reason,
        commit=plan.commit,
        repo_url=plan.repo_url,
        language_hint=(plan.programs, plan.touched_files, command_program(plan.verifier.command)),
        setup=setup,
        verifier_command=plan.verifier.command,
        tool_versions=plan.tool_versions,
    )
    if plan.setup_patches and setup is None:
        notes.append("the task starts from the recorded commit without the agent's earlier edits")
        if plan.contract is not None:
            plan.contract = contract.inexact_start(plan.contract, "the agent's earlier edits could not be rebuilt")

    has_solution = bool(solution and not solution.empty) and env.mode != NEEDS_REPOSITORY
    solution_reason = plan.solution_reason
    if plan.solution_patches and not has_solution:
        solution_reason = (
            "the repository is needed first"
            if env.mode == NEEDS_REPOSITORY
            else "the session's edits could not be rebuilt as a diff"
        ) + f" ({plan.solution_reason})"

    has_setup = any(name.startswith("setup") for name in env.files)
    heading = title(plan) if callable(title) else title
    instruction = render.instruction(plan, heading, command, workdir, has_setup=has_setup)
    metadata = _metadata(plan, issue, env, command, workdir, has_solution, solution_reason, setup, solution, notes)
    build_timeout = {CLONE: 1200.0, NEEDS_REPOSITORY: 60.0}.get(env.mode, 600.0)
    files: dict[str, tuple[bytes, int]] = {
        "instruction.md": (instruction.encode(), REGULAR),
        "task.toml": (render.task_toml(metadata, plan, build_timeout).encode(), REGULAR),
        "tests/test.sh": (render.TEST_SH.encode(), EXECUTABLE),
        "tests/check.sh": (render.check_script(command).encode(), EXECUTABLE),
        "tests/workdir": ((workdir + "\n").encode(), REGULAR),
    }
    for name, data in env.files.items():
        files[f"environment/{name}"] = (data, REGULAR)
    if has_solution and solution is not None:
        files["solution/solve.sh"] = (render.SOLVE_SH.encode(), EXECUTABLE)
        if solution.sections:
            files["solution/fix.patch"] = (solution.text.encode(), REGULAR)
        if solution.deleted:
            files["solution/deleted-files"] = ("".join(p + "\n" for p in solution.deleted).encode(), REGULAR)
        if solution.overwritten:
            files["solution/overwritten-files"] = ("".join(p + "\n" for p in solution.overwritten).encode(), REGULAR)
    _guard(files)
    return BuiltTask(files, env, command, workdir, has_solution, solution_reason, metadata, plan.contract)


def _guard(files: dict[str, tuple[bytes, int]]) -> None:
    """Fail closed if any text file still carries a credential (the repository snapshot was redacted itself)."""
    for name, (data, _mode) in files.items():
        if name.endswith(".tar.gz"):
            continue
        if contains_secret(data.decode("utf-8", "replace")):
            raise TaskError(f"refusing to write the task: {name} would contain a credential")


def _check_meta(check: Any) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "seq": check.seq,
        "command": clean_line(check.command, 500),
        "exit_code": check.exit_code,
        "duration_ms": check.duration_ms,
    }


def _metadata(
    plan: TaskPlan,
    issue: IssueInfo | None,
    env: Environment,
    command: str,
    workdir: str,
    has_solution: bool,
    solution_reason: str,
    setup: Diff | None,
    solution: Diff | None,
    notes: list[str],
) -> dict[str, Any]:
    verdict = plan.contract
    keep_green = verdict.cls == contract.KEEP_GREEN if verdict is not None else plan.flavour == KEEP_GREEN
    flavour = verdict.flavour if verdict is not None else plan.flavour
    sessions = issue.session_ids[:MAX_SESSIONS] if issue else [plan.session_id]
    evidence = [
        {
            "session_id": plan.session_id,
            "seq": plan.signal_seq,
            "kind": plan.signal_kind,
            "detail": clean_line(plan.signal_detail, 240),
        }
    ]
    for ev in issue.evidence if issue else []:
        if (ev["session_id"], ev["seq"]) != (plan.session_id, plan.signal_seq):
            evidence.append(ev)
    snap = env.snapshot
    patches = [p for p in plan.setup_patches if p.what == "apply_patch"]
    writes = [p for p in plan.setup_patches if p.what == "shell write"]
    tools = [p for p in plan.setup_patches if p.what not in ("apply_patch", "shell write")]  # Claude Code's
    start_state = "recorded commit"
    if setup is not None:
        made = f"{len(patches)} apply_patch edit(s) and {len(writes)} shell write(s)"
        if tools:
            made = f"{len(tools)} Write/Edit change(s), " + made
        start_state += f" + {made} the session made before " + ("the check ran" if keep_green else "the check failed")
    if plan.start_gaps:
        start_state += "; not replayed: " + "; ".join(plan.start_gaps[:3])
    network_reason = ""
    if plan.network_failure:
        network_reason = f"the recorded failure shows no network access: {clean_line(plan.network_failure, 200)}"
    meta: dict[str, Any] = {
        "generator": "ccl-tui",
        "ccl_tui_version": __version__,
        "task_flavour": flavour,
        "planned_flavour": plan.flavour,
        "contract": verdict.to_json() if verdict is not None else None,
        "category": f"{plan.agent.replace('_', '-')}-{'keep-green' if keep_green else 'friction'}",
        "source_agent": plan.agent,
        "difficulty": "easy" if keep_green else ("hard" if plan.signal_severity >= 0.7 else "medium"),
        "tags": list(dict.fromkeys(t for t in ("ccl-tui", plan.signal_kind, env.language, flavour) if t)),
        "needs_repository": env.mode == NEEDS_REPOSITORY,
        "needs_repository_reason": env.reason if env.mode == NEEDS_REPOSITORY else "",
        "signal_kind": plan.signal_kind,
        "signal_severity": round(float(plan.signal_severity), 3),
        "source_session_ids": sessions,
        "evidence_events": evidence[:MAX_EVIDENCE],
        "notes": [clean_line(n, 300) for n in notes + env.notes],
        "issue": None
        if issue is None
        else {
            "id": issue.id,
            "title": clean_line(issue.title, 200),
            "kind": issue.kind,
            "signature": clean_line(issue.signature, 300),
            "impact": round(float(issue.impact), 4),
            "impact_formula": issue.formula,
            "sessions": issue.sessions,
        },
        "source": {
            "session_id": plan.session_id,
            "signal_seq": plan.signal_seq,
            "start_seq": plan.start_seq,
            "failure": _check_meta(plan.failure),
            "success": _check_meta(plan.success),
        },
        "repository": {
            "name": clean_line(plan.repo_name, 200),
            "url": clean_line(plan.repo_url, 500),
            "commit": plan.commit or "",
            "branch": clean_line(plan.branch, 200),
            "cwd_prefix": env.prefix,
        },
        "verifier": {
            "command": command,
            "workdir": workdir,
            "strategy": plan.verifier_strategy,
            "reason": clean_line(plan.verifier_reason, 500),
            "session_id": plan.session_id,
            "seq": plan.verifier.seq,
            "exit_code": plan.verifier.exit_code,
            "expect_fail_before_solution": verdict is not None and verdict.before == contract.FAILS,
            "redacted": clean(plan.verifier.command) != strip_control(plan.verifier.command),
        },
        "environment": {
            "mode": env.mode,
            "verified": env.verified,
            "reason": env.reason,
            "language": env.language,
            "base_image": env.base_image,
            "clone_url": env.clone_url or "",
            "start_state": start_state,
            "setup_edits": len(plan.setup_patches) if setup is not None else 0,
            "setup_shell_writes": len(writes) if setup is not None else 0,
            "setup_event_seqs": [p.seq for p in plan.setup_patches] if setup is not None else [],
            "start_gaps": [clean_line(g, 300) for g in plan.start_gaps[:20]],
            "network_mode": render.NO_NETWORK if plan.network_failure else "public",
            "network_reason": network_reason,
            "tool_versions": dict(plan.tool_versions),
            "dependencies": "best-effort install in the Dockerfile, not verified",
            "snapshot_files": snap.files if snap else 0,
            "snapshot_bytes": snap.size if snap else 0,
            "excluded_files": [f"{clean_line(p, 200)} ({why})" for p, why in (snap.excluded[:50] if snap else [])],
            "excluded_count": len(snap.excluded) if snap else 0,
            "redacted_files": [clean_line(p, 200) for p in (snap.redacted[:50] if snap else [])],
            "secrets_policy": SECRETS_POLICY if snap else "",
        },
        "solution": {
            "available": has_solution,
            "reason": clean_line(solution_reason, 500),
            "edits": len(plan.solution_patches) if has_solution else 0,
            "patch_event_seqs": [p.seq for p in plan.solution_patches] if has_solution else [],
            "redacted": bool(solution and solution.redacted),
            "overwritten_files": list(solution.overwritten) if has_solution and solution else [],
            "not_replayed": [clean_line(g, 300) for g in plan.solution_gaps[:20]],
        },
    }
    return meta
