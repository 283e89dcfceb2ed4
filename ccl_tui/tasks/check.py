"""``ccl-tui tasks check``: validate task folders with Harbor's own loader and, on request, prove them.

Validation (no Docker): ``Task.is_valid_dir``, ``Task(dir)`` and ``lint_task`` with the validity rules, plus
``bash -n`` on every script. ``execute=True`` additionally runs the verifier on the repository snapshot in a
temporary copy, without Docker: before the solution (a fix task must fail there) and after ``solve.sh`` (it
must pass). That runs the session's recorded commands on this machine, so it is opt-in, and confined:

* every path the recorded check (``tests/check.sh``) names is read the way the shell would read it: quoted
  or not, ``~``/``~user``, ``$HOME``/``${HOME}`` (as the real home: what the session meant), other variables
  with the values the run gets, ``//``, ``/./``, ``..`` and symlinks resolved, inside ``bash -c '...'``
  strings and here-documents too. References to the session's checkout were rewritten to the copy when the
  task was written (paths.portable_command); anything that still resolves outside the temporary directory,
  except devices such as ``/dev/null`` and system directories outside any git checkout (``/usr``, ``/etc``,
  ``/opt`` ...), makes the run refuse with the reason, before anything is unpacked or run;
* the verifier and ``solve.sh`` run with ``HOME`` and ``TMPDIR`` inside the temporary directory and without
  ``OLDPWD``/``CDPATH``/``XDG_*_HOME``, so ``cd``, ``cd -`` and tools writing to ``~`` stay there too.

What a program does on its own (a test that writes to an absolute path it computes) cannot be seen from the
command; the Docker run Harbor makes is the real sandbox.

The task contract (contract.py): every report carries the task's class (proven fix, keep-green, unproven,
refused) with its evidence and reason. The class planned when the task was written (``[metadata.contract]``)
is re-checked here: a check that depends on the host is refused and never run. ``execute=True`` then proves an
unproven task (fails before, passes after: proven fix, evidence "executed") or demotes it (passes before:
keep-green), and records the outcome beside task.toml in ``ccl-tui-check.json``. Before the run, dependencies
are installed best effort when a lockfile exists (``npm ci``, ``uv sync``…, with a timeout, never fatal); a
task whose environment has no network (``network_mode = "no-network"``) runs its verifier without network
(``unshare -rn``) where this machine allows it. A task without a local snapshot is cloned at its commit only
with ``clone=True`` (``--clone``); offline, that fails with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccl_tui import __version__
from ccl_tui.tasks import contract
from ccl_tui.tasks.contract import Contract
from ccl_tui.tasks.diffs import GIT_APPLY_ARGS
from ccl_tui.tasks.model import CLONE, SNAPSHOT
from ccl_tui.tasks.paths import SAFE_GIT, is_commit, path_refs, rel_path
from ccl_tui.tasks.text import clean, clean_line

VALIDITY_RULES = ("invalid-task-config", "unknown-config-field", "invalid-task-files")
SCRIPT_TIMEOUT = 60
_GIT = (*SAFE_GIT, "-c", "commit.gpgsign=false", "-c", "user.name=ccl-tui", "-c", "user.email=ccl-tui@localhost")


#: The outcome of ``tasks check --execute``, written beside task.toml.
CHECK_RECORD = "ccl-tui-check.json"
INSTALL_TIMEOUT = 600
CLONE_TIMEOUT = 300


@dataclass(slots=True)
class CheckReport:
    path: str
    name: str
    valid: bool | None = None  # None: harbor is not installed
    problems: list[str] = field(default_factory=list)
    scripts: int = 0
    script_errors: list[str] = field(default_factory=list)
    flavour: str = ""  # fix (proven only) | keep-green | unproven | refused (from the contract)
    environment_mode: str = ""
    needs_repository: bool = False
    has_solution: bool = False
    executed: bool = False
    reward_before: float | None = None
    reward_after: float | None = None
    reproducible: bool | None = None
    note: str = ""
    klass: str = contract.UNPROVEN  # the contract class: proven-fix | keep-green | unproven | refused
    evidence: str = contract.NO_EVIDENCE
    reason: str = ""  # why the task is in its class
    planned_class: str = ""  # the class written in task.toml when the task was made
    contract_notes: list[str] = field(default_factory=list)
    network_mode: str = "public"
    network_isolated: bool | None = None  # the verifier ran without network (None: not needed / not run)
    install: list[dict[str, Any]] = field(default_factory=list)  # dependency installation steps, best effort
    recorded: str = ""  # where the outcome was recorded (ccl-tui-check.json)
    checked_at: str = ""  # when --execute last ran (this run or the recorded one)
    issue_id: str | None = None
    session_id: str | None = None
    signal_seq: int | None = None

    @property
    def valid_ok(self) -> bool:
        """Harbor accepts the task and its scripts parse."""
        return self.valid is not False and not self.script_errors

    @property
    def ok(self) -> bool:
        """Valid, and its class can be trusted: a proven fix or keep-green, not disproved by a run. An unproven
        task is never ok."""
        return (
            self.valid_ok
            and self.klass in (contract.PROVEN_FIX, contract.KEEP_GREEN)
            and self.reproducible is not False
        )

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["class"] = doc.pop("klass")
        return {**doc, "ok": self.ok, "valid_ok": self.valid_ok}


def harbor_problems(task_dir: Path) -> tuple[bool | None, list[str]]:
    """Harbor's verdict on a task folder: (valid, problems); (None, [why]) when Harbor is not importable."""
    try:
        from harbor.lint import LintRule, lint_task
        from harbor.models.task.task import Task
    except ImportError:
        return None, ["harbor is not installed (pip install 'ccl-tui[harbor]', Python >= 3.12)"]
    problems: list[str] = []
    if not Task.is_valid_dir(task_dir):
        problems.append("Task.is_valid_dir: not a valid task directory")
    try:
        Task(task_dir)
    except Exception as exc:  # Harbor raises pydantic/OS/value errors; report them all
        problems.append(f"Task(): {type(exc).__name__}: {str(exc)[:300]}")
    rules = {LintRule(r) for r in VALIDITY_RULES}
    for finding in lint_task(task_dir, selected_rules=rules):
        problems.append(f"lint {finding.rule.value}: {finding.message}")
    return not problems, problems


def bash_syntax(task_dir: Path) -> tuple[int, list[str]]:
    scripts = sorted(p for p in task_dir.rglob("*.sh") if p.is_file())
    errors = []
    for script in scripts:
        proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=SCRIPT_TIMEOUT)
        if proc.returncode != 0:
            errors.append(f"{script.relative_to(task_dir)}: {proc.stderr.strip()[:300]}")
    return len(scripts), errors


def _metadata(task_dir: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads((task_dir / "task.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    meta = doc.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _table(meta: dict[str, Any], key: str) -> dict[str, Any]:
    value = meta.get(key)
    return value if isinstance(value, dict) else {}


def _timeout(task_dir: Path) -> float:
    try:
        doc = tomllib.loads((task_dir / "task.toml").read_text())
        return float(doc.get("verifier", {}).get("timeout_sec", 600.0))
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError):
        return 600.0


def _extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            for member in tar.getmembers():
                target = (dest / member.name).resolve()
                if not target.is_relative_to(dest.resolve()) or member.islnk():
                    raise ValueError(f"unsafe archive member {member.name!r}")
            tar.extractall(dest)  # members checked above


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _reward(logs: Path) -> float | None:
    try:
        return float((logs / "reward.txt").read_text().strip())
    except (OSError, ValueError):
        return None


def prepare_repo(task_dir: Path, app: Path, archive: Path | None = None) -> None:
    """The Dockerfile's steps, locally: unpack the snapshot (or ``archive``, a clone's ``git archive``), make it
    a fresh git repo, replay the setup edits (files a shell write replaced are removed first)."""
    env_dir = task_dir / "environment"
    app.mkdir(parents=True)
    _extract(archive if archive is not None else env_dir / "repo.tar.gz", app)
    base = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "--allow-empty", "-m", "snapshot"]):
        proc = _run([*_GIT, *args], app, base, SCRIPT_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"git {args[0]} failed: {proc.stderr.strip()[:200]}")
    _remove_listed(env_dir / "setup-overwritten.txt", app)
    if (env_dir / "setup.patch").is_file():
        proc = _run([*_GIT, *GIT_APPLY_ARGS, str(env_dir / "setup.patch")], app, base, SCRIPT_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"setup.patch does not apply: {proc.stderr.strip()[:300]}")
    _remove_listed(env_dir / "setup-deleted.txt", app)


def _remove_listed(listing: Path, app: Path) -> None:
    """Remove the repository files ``listing`` names (one relative path a line; nothing outside ``app``)."""
    if not listing.is_file():
        return
    for line in listing.read_text().splitlines():
        target = (app / line).resolve()
        if line and target.is_relative_to(app.resolve()) and target.is_file():
            target.unlink()


#: Places outside the temporary copy a check may name: devices, and system directories (only outside any git
#: checkout, so a repository under /opt or /usr/local/src is still refused).
DEVICES = contract.DEVICES
SYSTEM_DIRS = contract.SYSTEM_DIRS
#: Variables a verifier does not inherit: they could lead it back into the user's directories.
DROPPED_ENV = (
    "OLDPWD",
    "CDPATH",
    "PWD",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _in_git_checkout(path: str) -> bool:
    probe = path
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return True
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent


def check_command(task_dir: Path) -> str:
    """The recorded check of a task (tests/check.sh without its header)."""
    text = (task_dir / "tests" / "check.sh").read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines)


def outside_paths(
    command: str, *, tmp: Path, app: Path, workdir: Path, env: dict[str, str], home: str | None = None
) -> list[str]:
    """Every path ``command`` names that resolves outside ``tmp`` (the run's temporary directory), as
    ``'spelling' (resolved)``. ``~`` and ``$HOME`` are the real home (``home``): what the session meant."""
    real_home = home if home is not None else os.path.expanduser("~")
    allowed_root = os.path.realpath(tmp)

    def var(name: str) -> str | None:
        if name == "CCL_REPO_ROOT":
            return str(app)
        if name == "HOME":
            return real_home
        if name == "PWD":
            return str(workdir)
        value = env.get(name, "")
        return "" if ":" in value else value  # PATH-like lists are the environment's own, not the command's

    def user_home(user: str) -> str | None:
        if not user:
            return real_home
        found = os.path.expanduser("~" + user)
        return found if found.startswith("/") else None

    problems: list[str] = []
    for ref in path_refs(command):
        value = ref.expand(var, user_home)
        if not value:
            continue
        if value.startswith("/"):
            target = value
        elif ref.has_parent_step():
            target = os.path.join(workdir, value)
        else:
            continue
        resolved = os.path.realpath(os.path.normpath(target))
        if _under(resolved, allowed_root):
            continue
        if any(_under(resolved, p) for p in (*DEVICES, *SYSTEM_DIRS)) and not _in_git_checkout(resolved):
            continue
        problems.append(f"{ref.spelling(command)!r} ({resolved})")
    return list(dict.fromkeys(problems))


def run_env(tmp: Path, app: Path) -> dict[str, str]:
    """The verifier's environment: this one, with HOME and TMPDIR inside the temporary directory."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    env.update(CCL_REPO_ROOT=str(app), HOME=str(tmp / "home"), TMPDIR=str(tmp / "tmp"))
    return env


def _workdir(task_dir: Path, app: Path) -> Path:
    try:
        rel = (task_dir / "tests" / "workdir").read_text().split("\n", 1)[0].strip() or "."
    except OSError:
        rel = "."
    return app / rel if rel_path(rel, None) is not None else app


# ----------------------------------------------------------------------------------------------------------
# --execute: clone (opt-in), install (best effort), run before/after, judge, record
# ----------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RunOptions:
    """How ``--execute`` runs: whether a task without a snapshot may be cloned, whether dependencies are
    installed, and their time limit. One instance is shared by the tasks of a dataset (clone cache)."""

    clone: bool = False
    install: bool = True
    install_timeout: float = INSTALL_TIMEOUT
    clone_timeout: float = CLONE_TIMEOUT
    _archives: dict[tuple[str, str], Path | str] = field(default_factory=dict)  # (url, commit) -> archive | error
    _cache: Path | None = None
    _unshare: bool | None = None

    def cache_dir(self) -> Path:
        if self._cache is None:
            self._cache = Path(tempfile.mkdtemp(prefix="ccl-task-clones-"))
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            shutil.rmtree(self._cache, ignore_errors=True)
            self._cache = None

    def can_unshare(self) -> bool:
        """Whether this machine can run a command without network (``unshare -rn``, no root needed)."""
        if self._unshare is None:
            try:
                self._unshare = (
                    shutil.which("unshare") is not None
                    and subprocess.run(
                        ["unshare", "-rn", "true"], capture_output=True, timeout=10, check=False
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.TimeoutExpired):
                self._unshare = False
        return bool(self._unshare)


def clone_archive(url: str, commit: str, opts: RunOptions) -> Path:
    """A ``git archive`` (tar.gz) of ``url`` at ``commit``, fetched once per run; RuntimeError when it cannot
    be fetched (offline, unknown commit), with git's reason."""
    from ccl_tui.tasks.environment import clone_url

    safe, why = clone_url(url)
    if safe is None or not is_commit(commit):
        raise RuntimeError(f"cannot clone: {why or 'no valid commit was recorded'}")
    key = (safe, commit)
    cached = opts._archives.get(key)
    if isinstance(cached, Path):
        return cached
    if isinstance(cached, str):
        raise RuntimeError(cached)
    work = Path(tempfile.mkdtemp(prefix="src-", dir=opts.cache_dir()))
    # https only (unless the user's own environment allows more), no prompts, no user config from a home
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "HOME": str(work),
        "GIT_ALLOW_PROTOCOL": os.environ.get("GIT_ALLOW_PROTOCOL", "https:http"),
    }
    archive = opts.cache_dir() / f"{hashlib.sha256(f'{safe}@{commit}'.encode()).hexdigest()[:16]}.tar.gz"

    def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = _run([*_GIT, *args], work, env, opts.clone_timeout)
        if check and proc.returncode != 0:
            said = clean_line((proc.stderr or proc.stdout).strip(), 300)
            raise RuntimeError(
                f"cannot fetch {safe} at commit {commit} (git {args[0]}: {said}); offline? A clone"
                " needs network access to the repository: write the task where the checkout exists"
                " (snapshot mode) to check it offline"
            )
        return proc

    try:
        git("init", "-q", ".")
        git("remote", "add", "origin", safe)
        if git("fetch", "-q", "--depth", "1", "origin", commit, check=False).returncode != 0:
            git("fetch", "-q", "origin")
        git("archive", "--format=tar.gz", "-o", str(archive), commit)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        message = (
            clean(str(exc), 600)
            if not isinstance(exc, subprocess.TimeoutExpired)
            else (f"cannot fetch {safe} at commit {commit}: git timed out after {opts.clone_timeout:.0f}s")
        )
        opts._archives[key] = message
        raise RuntimeError(message) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    opts._archives[key] = archive
    return archive


#: Lockfile -> (command shown, argv, tool). Only lockfiles: an install that resolves versions anew is not the
#: session's environment.
_INSTALLERS: tuple[tuple[tuple[str, ...], str, list[str], str], ...] = (
    (("package-lock.json", "npm-shrinkwrap.json"), "npm ci", ["npm", "ci", "--no-audit", "--no-fund"], "npm"),
    (("pnpm-lock.yaml",), "pnpm install --frozen-lockfile", ["pnpm", "install", "--frozen-lockfile"], "pnpm"),
    (("yarn.lock",), "yarn install --frozen-lockfile", ["yarn", "install", "--frozen-lockfile"], "yarn"),
    (("bun.lockb", "bun.lock"), "bun install --frozen-lockfile", ["bun", "install", "--frozen-lockfile"], "bun"),
    (("uv.lock",), "uv sync --frozen", ["uv", "sync", "--frozen"], "uv"),
    (("poetry.lock",), "poetry install --no-root", ["poetry", "install", "--no-root", "--no-interaction"], "poetry"),
    (("Cargo.lock",), "cargo fetch --locked", ["cargo", "fetch", "--locked"], "cargo"),
    (("go.sum",), "go mod download", ["go", "mod", "download"], "go"),
)
_ONE_OF = ({"npm", "pnpm", "yarn", "bun"}, {"uv", "poetry"})


def install_dependencies(root: Path, env: dict[str, str], timeout: float) -> list[dict[str, Any]]:
    """Install the dependencies a lockfile in ``root`` pins, best effort: every step is reported (ok, failed,
    timeout, skipped), none is fatal. A virtual environment it creates (``.venv``) is put on PATH."""
    steps: list[dict[str, Any]] = []
    done: set[str] = set()
    for names, shown, argv, tool in _INSTALLERS:
        if not any((root / n).is_file() for n in names):
            continue
        if any(tool in group and done & group for group in _ONE_OF):
            continue
        done.add(tool)
        step: dict[str, Any] = {
            "command": shown,
            "dir": str(root.name),
            "status": "skipped",
            "seconds": 0.0,
            "detail": "",
        }
        steps.append(step)
        if shutil.which(tool, path=env.get("PATH")) is None:
            step["detail"] = f"{tool} is not installed on this machine"
            continue
        started = time.monotonic()
        try:
            proc = _run(argv, root, {**env, "POETRY_VIRTUALENVS_IN_PROJECT": "true", "CI": "1"}, timeout)
        except subprocess.TimeoutExpired:
            step.update(status="timeout", detail=f"gave up after {timeout:.0f}s")
        except OSError as exc:
            step.update(status="failed", detail=clean_line(str(exc), 300))
        else:
            step["status"] = "ok" if proc.returncode == 0 else "failed"
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
            step["detail"] = clean_line(" | ".join(tail), 300) if proc.returncode != 0 else ""
        step["seconds"] = round(time.monotonic() - started, 1)
    venv = root / ".venv" / "bin"
    if venv.is_dir() and any(s["status"] == "ok" for s in steps):
        env["PATH"] = f"{venv}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv.parent)
    return steps


def _network_mode(task_dir: Path) -> str:
    try:
        doc = tomllib.loads((task_dir / "task.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return "public"
    env = doc.get("environment")
    mode = env.get("network_mode") if isinstance(env, dict) else None
    return str(mode) if isinstance(mode, str) else "public"


def execute(task_dir: Path, report: CheckReport, opts: RunOptions | None = None) -> None:
    """Run the verifier before and after the solution in a temporary copy of the start state (no Docker)."""
    opts = opts or RunOptions()
    meta = _metadata(task_dir)
    repo_meta, env_meta = _table(meta, "repository"), _table(meta, "environment")
    archive: Path | None = None
    has_snapshot = report.environment_mode == SNAPSHOT and (task_dir / "environment" / "repo.tar.gz").is_file()
    if not has_snapshot:
        if report.environment_mode != CLONE:
            report.note = (
                f"not executed: no local repository snapshot (environment mode {report.environment_mode or '?'})"
            )
            return
        url, commit = str(env_meta.get("clone_url") or ""), str(repo_meta.get("commit") or "")
        if not opts.clone:
            report.note = (
                f"not executed: no local repository snapshot (environment mode clone); --clone fetches"
                f" {clean_line(url, 200)} at commit {commit[:12]} (needs network access)"
            )
            return
    timeout = _timeout(task_dir)
    tmp = Path(tempfile.mkdtemp(prefix="ccl-task-check-"))
    try:
        app = tmp / "app"
        env = run_env(tmp, app)
        refusal = confinement_note(task_dir, tmp, app, env)
        if refusal:
            report.note = refusal
            return
        try:
            if not has_snapshot:
                archive = clone_archive(url, commit, opts)
            prepare_repo(task_dir, app, archive)
        except (RuntimeError, OSError, ValueError, tarfile.TarError, subprocess.TimeoutExpired) as exc:
            report.note = f"not executed: {clean(str(exc), 600)}"
            return
        if opts.install:
            prefix = str(repo_meta.get("cwd_prefix") or "")
            root = app / prefix if prefix and rel_path(prefix, None) is not None and (app / prefix).is_dir() else app
            report.install = install_dependencies(root, env, opts.install_timeout)
        report.network_mode = _network_mode(task_dir)
        wrap: list[str] = []
        if report.network_mode != "public":
            report.network_isolated = opts.can_unshare()
            if report.network_isolated:
                wrap = ["unshare", "-rn"]
        report.executed = True
        report.reward_before = _verify(task_dir, env, tmp / "logs-before", timeout, wrap)
        if report.has_solution:
            try:
                proc = _run(["bash", str(task_dir / "solution" / "solve.sh")], app, env, timeout)
            except subprocess.TimeoutExpired:
                report.note = "solve.sh timed out"
                return
            if proc.returncode != 0:
                report.note = f"solve.sh failed: {clean((proc.stderr or proc.stdout).strip())[-300:]}"
                report.reproducible = False
                return
            report.reward_after = _verify(task_dir, env, tmp / "logs-after", timeout, wrap)
        report.reproducible = _verdict(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def confinement_note(task_dir: Path, tmp: Path, app: Path, env: dict[str, str]) -> str:
    """Why the check may not run in the temporary copy (it names paths outside it), or ""."""
    try:
        outside = outside_paths(check_command(task_dir), tmp=tmp, app=app, workdir=_workdir(task_dir, app), env=env)
    except OSError as exc:
        return f"not executed: {exc}"
    if not outside:
        return ""
    return clean(
        "not executed: the recorded check names paths outside its temporary copy, which a local run could"
        f" change: {', '.join(outside[:5])}. Run it in Docker (harbor run), or edit tests/check.sh.",
        1000,
    )


def _verify(
    task_dir: Path, env: dict[str, str], logs: Path, timeout: float, wrap: list[str] | None = None
) -> float | None:
    try:
        _run(
            [*(wrap or []), "bash", str(task_dir / "tests" / "test.sh")],
            task_dir,
            {**env, "CCL_VERIFIER_DIR": str(logs)},
            timeout,
        )
    except subprocess.TimeoutExpired:
        return 0.0
    return _reward(logs)


def _verdict(r: CheckReport) -> bool | None:
    """Whether the run reproduced what the task claims: fails before and passes after (a fix), or passes before
    (and after: keep-green). None when one run cannot tell (no solution, no reward)."""
    before, after = r.reward_before, r.reward_after
    if before is None:
        r.note = r.note or "the verifier gave no reward before the solution"
        return None
    if before >= 1:
        if r.has_solution:
            return after is not None and after >= 1
        return True
    if not r.has_solution:
        r.note = r.note or "no solution: the verifier ran once on the start state (it fails there)"
        return None
    ok = after is not None and after >= 1
    if not ok:
        r.note = r.note or (
            f"expected the check to fail before the solution and pass after it; rewards were {before} and {after}"
        )
    return ok


def _inconclusive(r: CheckReport) -> str:
    """Why this run cannot overrule the task's recorded evidence, or ""."""
    why: list[str] = []
    passed_before = r.reward_before is not None and r.reward_before >= 1
    if passed_before and r.network_mode != "public" and not r.network_isolated:
        why.append("the task has no network in Harbor, but this machine could not run the check without network")
    failed = [s for s in r.install if s["status"] in ("failed", "timeout")]
    if not passed_before and failed:
        why.append(
            "dependencies could not be installed (" + "; ".join(f"{s['command']}: {s['status']}" for s in failed) + ")"
        )
    return "; ".join(why)


def task_dirs(path: Path) -> list[Path]:
    """``path`` itself when it is a task, else its child task folders (a dataset)."""
    path = Path(path)
    if (path / "task.toml").is_file():
        return [path]
    return sorted(
        p for p in path.iterdir() if p.is_dir() and (p / "task.toml").is_file() and not p.name.startswith(".")
    )


def _legacy_contract(meta: dict[str, Any]) -> Contract:
    """The class of a task written before the contract existed: nothing proven."""
    flavour = str(meta.get("task_flavour") or "fix")
    return Contract(
        contract.UNPROVEN,
        contract.NO_EVIDENCE,
        "written by a ccl-tui without the task contract:"
        " nothing says its check fails at the start; `tasks check --execute` can prove it",
        "keep-green" if flavour == "keep-green" else "fix",
    )


def read_record(task_dir: Path) -> dict[str, Any] | None:
    """The recorded outcome of the last ``--execute`` (ccl-tui-check.json), if any."""
    try:
        doc = json.loads((task_dir / CHECK_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("generator") == "ccl-tui" else None


def task_contract(task_dir: Path) -> tuple[Contract | None, dict[str, Any] | None]:
    """A task's current class: the last ``--execute`` outcome when recorded, else the one planned in task.toml
    (None for a folder ccl-tui did not write); and the record itself."""
    meta = _metadata(Path(task_dir))
    if meta.get("generator") != "ccl-tui":
        return None, None
    record = read_record(Path(task_dir))
    if record is not None:
        found = Contract.from_json(record.get("contract"))
        if found is not None:
            return found, record
    return Contract.from_json(meta.get("contract")) or _legacy_contract(meta), None


def _write_record(task_dir: Path, report: CheckReport, planned: Contract, refined: Contract) -> None:
    doc = {
        "generator": "ccl-tui",
        "ccl_tui_version": __version__,
        "checked_at": report.checked_at,
        "task": report.name,
        "executed": report.executed,
        "reward_before": report.reward_before,
        "reward_after": report.reward_after,
        "reproducible": report.reproducible,
        "note": report.note,
        "install": report.install,
        "network_mode": report.network_mode,
        "network_isolated": report.network_isolated,
        "planned": planned.to_json(),
        "contract": refined.to_json(),
    }
    path = task_dir / CHECK_RECORD
    tmp = path.with_name(f".{CHECK_RECORD}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    report.recorded = str(path)


def _apply(report: CheckReport, c: Contract) -> None:
    report.klass, report.evidence, report.reason = c.cls, c.evidence, c.reason
    report.contract_notes = list(c.notes)
    report.flavour = c.flavour


def check_task(task_dir: Path, *, run: bool = False, opts: RunOptions | None = None) -> CheckReport:
    task_dir = Path(task_dir).resolve()
    meta = _metadata(task_dir)
    env_meta, sol_meta = _table(meta, "environment"), _table(meta, "solution")
    src_meta, issue_meta = _table(meta, "source"), _table(meta, "issue")
    report = CheckReport(
        path=str(task_dir),
        name=task_dir.name,
        flavour=str(meta.get("task_flavour", "")),
        environment_mode=str(env_meta.get("mode", "")),
        needs_repository=bool(meta.get("needs_repository")),
        has_solution=bool(sol_meta.get("available")) and (task_dir / "solution" / "solve.sh").is_file(),
        network_mode=_network_mode(task_dir),
        issue_id=issue_meta.get("id"),
        session_id=src_meta.get("session_id"),
        signal_seq=src_meta.get("signal_seq"),
    )
    report.valid, report.problems = harbor_problems(task_dir)
    report.scripts, report.script_errors = bash_syntax(task_dir)
    planned = Contract.from_json(meta.get("contract")) or _legacy_contract(meta)
    report.planned_class = planned.cls
    current, record = task_contract(task_dir) if meta.get("generator") == "ccl-tui" else (planned, None)
    _apply(report, current or planned)
    if record is not None:
        report.checked_at = str(record.get("checked_at", ""))
        report.reward_before, report.reward_after = record.get("reward_before"), record.get("reward_after")
        report.reproducible = record.get("reproducible")
    try:
        workdir = (task_dir / "tests" / "workdir").read_text().split("\n", 1)[0].strip() or "."
        host = contract.host_dependency(check_command(task_dir), workdir)
    except OSError:
        host = None
    if host:  # the check as it is now (tests/check.sh may have been edited): never run
        _apply(report, Contract(contract.REFUSED, contract.NO_EVIDENCE, host, planned.planned))
        if run:
            tmp = Path(tempfile.mkdtemp(prefix="ccl-task-check-"))
            try:
                report.note = confinement_note(task_dir, tmp, tmp / "app", run_env(tmp, tmp / "app"))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            report.note = report.note or f"not executed: refused ({host})"
        return report
    if run:
        if not report.valid_ok:
            report.note = "not executed: the task is not valid"
            return report
        report.reward_before = report.reward_after = report.reproducible = None
        execute(task_dir, report, opts)
        if report.executed:
            report.checked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            refined = contract.refine(
                planned,
                before=report.reward_before,
                after=report.reward_after,
                has_solution=report.has_solution,
                inconclusive=_inconclusive(report),
            )
            _apply(report, refined)
            try:
                _write_record(task_dir, report, planned, refined)
            except OSError as exc:
                report.note = (report.note + "; " if report.note else "") + f"outcome not recorded: {exc}"
    elif report.needs_repository:
        report.note = "needs the session's repository before it can run"
    return report


def check_path(path: Path, *, run: bool = False, opts: RunOptions | None = None) -> list[CheckReport]:
    opts = opts or RunOptions()
    try:
        return [check_task(d, run=run, opts=opts) for d in task_dirs(path)]
    finally:
        opts.close()


def dataset_refused(path: Path) -> list[dict[str, Any]]:
    """The plans ``tasks export`` refused for this dataset folder (from its manifest), each with its reason."""
    try:
        doc = json.loads((Path(path) / "ccl-tui-dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    refused = doc.get("refused") if isinstance(doc, dict) else None
    return [r for r in refused if isinstance(r, dict)] if isinstance(refused, list) else []
