"""Context Codex injects into a session: base instructions, AGENTS.md, environment and permission blocks."""

from __future__ import annotations

from ccl_tui.demo.clock import TIMEZONE
from ccl_tui.demo.repos import GO, PY, RS, TS, Repo

BASE_INSTRUCTIONS = (
    "You are Codex, a coding agent based on GPT-5. You and the user share one workspace, and your job is to "
    "collaborate with them until their goal is genuinely handled.\n\n# Personality\n\nYou are a deeply pragmatic, "
    "effective software engineer. Keep the user informed with short, factual updates.\n\n# Tools\n\nUse "
    "`exec_command` for shell commands and `apply_patch` to edit files."
)
COLLABORATION = "# Collaboration Mode: Default\n\nYou are now in Default mode."
TURN_ABORTED = (
    "<turn_aborted>\nThe user interrupted the previous turn on purpose. Any running unified exec processes may still "
    "be running in the background. If any tools/commands were aborted, they may have partially executed; verify "
    "current state before retrying.\n</turn_aborted>"
)
SUMMARY_PREFIX = (
    "Another language model started to solve this problem and produced a summary of its thinking process. You also "
    "have access to the state of the tools that were used by that language model. Use this to build on the work that "
    "has already been done and avoid duplicating work. Here is the summary produced by the other language model, use "
    "the information in this summary to assist with your own analysis:\n"
)

_TOOLING = {
    PY: ("- Python 3.12; dependencies are managed with uv.", "- Tests: `pytest -q`. Lint: `ruff check .`."),
    TS: (
        "- Node 20 with npm; never commit `node_modules`.",
        "- Tests: `npm test`. Types: `npx tsc --noEmit`.",
    ),
    RS: ("- Stable Rust; keep `cargo clippy -- -D warnings` clean.", "- Tests: `cargo test`."),
    GO: ("- Go 1.23; run `gofmt` on touched files.", "- Tests: `go test ./...`."),
}


def agents_md(repo: Repo, post_fix: bool) -> str:
    lines = [f"# {repo.name}", "", *_TOOLING[repo.lang]]
    if repo.lang == PY and post_fix:
        lines.append("- Run `uv sync` first, then run tests with `uv run pytest -q` (the venv is not activated).")
    lines.append("- Keep changes small and focused; don't touch generated files or migrations by hand.")
    return "\n".join(lines)


def agents_message(cwd: str, agents: str) -> str:
    return f"# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n{agents}\n</INSTRUCTIONS>"


def user_instructions(agents: str) -> str:
    return f"<user_instructions>\n\n{agents}\n\n</user_instructions>"


def environment_legacy(cwd: str, approval: str, shell: str) -> str:
    return (
        f"<environment_context>\n  <cwd>{cwd}</cwd>\n  <approval_policy>{approval}</approval_policy>\n"
        f"  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
        f"  <shell>{shell}</shell>\n</environment_context>"
    )


def environment(cwd: str, shell: str, day: str) -> str:
    return (
        f"<environment_context>\n  <cwd>{cwd}</cwd>\n  <shell>{shell}</shell>\n  <current_date>{day}</current_date>\n"
        f"  <timezone>{TIMEZONE}</timezone>\n</environment_context>"
    )


def permissions(approval: str) -> str:
    ask = (
        "Commands that need to run outside the sandbox must set `sandbox_permissions` to `require_escalated` "
        "with a short `justification`; the user approves or denies them."
        if approval != "never"
        else "Approvals are disabled: never ask for escalation, work within the sandbox."
    )
    return (
        "<permissions instructions>\nFilesystem sandboxing defines which files can be read or written. "
        "`sandbox_mode` is `workspace-write`: the sandbox permits reading files, and editing files in `cwd` and "
        f"`writable_roots`. Network access is restricted.\n{ask}\n</permissions instructions>"
    )
