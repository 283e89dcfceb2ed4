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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccl_tui.tasks.diffs import GIT_APPLY_ARGS
from ccl_tui.tasks.model import KEEP_GREEN, SNAPSHOT
from ccl_tui.tasks.paths import path_refs, rel_path
from ccl_tui.tasks.text import clean

VALIDITY_RULES = ("invalid-task-config", "unknown-config-field", "invalid-task-files")
SCRIPT_TIMEOUT = 60
_GIT = ("git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "commit.gpgsign=false",
        "-c", "user.name=ccl-tui",
        "-c", "user.email=ccl-tui@localhost")  # fmt: skip


@dataclass(slots=True)
class CheckReport:
    path: str
    name: str
    valid: bool | None = None  # None: harbor is not installed
    problems: list[str] = field(default_factory=list)
    scripts: int = 0
    script_errors: list[str] = field(default_factory=list)
    flavour: str = ""
    environment_mode: str = ""
    needs_repository: bool = False
    has_solution: bool = False
    executed: bool = False
    reward_before: float | None = None
    reward_after: float | None = None
    reproducible: bool | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.valid is not False and not self.script_errors

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


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


def prepare_repo(task_dir: Path, app: Path) -> None:
    """The Dockerfile's steps, locally: unpack the snapshot, make it a fresh git repo, replay setup edits."""
    env_dir = task_dir / "environment"
    app.mkdir(parents=True)
    _extract(env_dir / "repo.tar.gz", app)
    base = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "--allow-empty", "-m", "snapshot"]):
        proc = _run([*_GIT, *args], app, base, SCRIPT_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"git {args[0]} failed: {proc.stderr.strip()[:200]}")
    if (env_dir / "setup.patch").is_file():
        proc = _run([*_GIT, *GIT_APPLY_ARGS, str(env_dir / "setup.patch")], app, base, SCRIPT_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"setup.patch does not apply: {proc.stderr.strip()[:300]}")
    deleted = env_dir / "setup-deleted.txt"
    if deleted.is_file():
        for line in deleted.read_text().splitlines():
            target = (app / line).resolve()
            if line and target.is_relative_to(app.resolve()) and target.is_file():
                target.unlink()


#: Places outside the temporary copy a check may name: devices, and system directories (only outside any git
#: checkout, so a repository under /opt or /usr/local/src is still refused).
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/stdin", "/dev/stdout", "/dev/stderr",
           "/dev/tty", "/dev/fd", "/proc/self")  # fmt: skip
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/nix", "/snap",
               "/System", "/Library")  # fmt: skip
#: Variables a verifier does not inherit: they could lead it back into the user's directories.
DROPPED_ENV = ("OLDPWD", "CDPATH", "PWD", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
               "XDG_RUNTIME_DIR")  # fmt: skip


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


def outside_paths(command: str, *, tmp: Path, app: Path, workdir: Path, env: dict[str, str],
                  home: str | None = None) -> list[str]:  # fmt: skip
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


def execute(task_dir: Path, report: CheckReport) -> None:
    """Run the verifier before and after the solution in a temporary copy of the snapshot (no Docker)."""
    if report.environment_mode != SNAPSHOT or not (task_dir / "environment" / "repo.tar.gz").is_file():
        report.note = f"not executed: no local repository snapshot (environment mode {report.environment_mode or '?'})"
        return
    timeout = _timeout(task_dir)
    tmp = Path(tempfile.mkdtemp(prefix="ccl-task-check-"))
    try:
        app = tmp / "app"
        env = run_env(tmp, app)
        try:
            outside = outside_paths(check_command(task_dir), tmp=tmp, app=app, workdir=_workdir(task_dir, app),
                                    env=env)  # fmt: skip
        except OSError as exc:
            report.note = f"not executed: {exc}"
            return
        if outside:
            report.note = clean(
                "not executed: the recorded check names paths outside its temporary copy, which a local run could"
                f" change: {', '.join(outside[:5])}. Run it in Docker (harbor run), or edit tests/check.sh.", 1000
            )
            return
        try:
            prepare_repo(task_dir, app)
        except (RuntimeError, OSError, ValueError, tarfile.TarError, subprocess.TimeoutExpired) as exc:
            report.note = f"not executed: {clean(str(exc), 500)}"
            return
        report.executed = True
        report.reward_before = _verify(task_dir, env, tmp / "logs-before", timeout)
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
            report.reward_after = _verify(task_dir, env, tmp / "logs-after", timeout)
        report.reproducible = _verdict(report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verify(task_dir: Path, env: dict[str, str], logs: Path, timeout: float) -> float | None:
    try:
        _run(["bash", str(task_dir / "tests" / "test.sh")], task_dir, {**env, "CCL_VERIFIER_DIR": str(logs)}, timeout)
    except subprocess.TimeoutExpired:
        return 0.0
    return _reward(logs)


def _verdict(r: CheckReport) -> bool | None:
    before, after = r.reward_before, r.reward_after
    if r.flavour == KEEP_GREEN:
        if r.has_solution:
            return after is not None and after >= 1
        return before is not None and before >= 1
    if not r.has_solution:
        r.note = r.note or "no solution: the verifier ran once on the start state"
        return None
    ok = before is not None and before < 1 and after is not None and after >= 1
    if not ok:
        r.note = r.note or (f"expected the check to fail before the solution and pass after it;"
                            f" rewards were {before} and {after}")  # fmt: skip
    return ok


def task_dirs(path: Path) -> list[Path]:
    """``path`` itself when it is a task, else its child task folders (a dataset)."""
    path = Path(path)
    if (path / "task.toml").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and (p / "task.toml").is_file() and not p.name.startswith("."))


def check_task(task_dir: Path, *, run: bool = False) -> CheckReport:
    task_dir = Path(task_dir).resolve()
    meta = _metadata(task_dir)
    env_meta = meta.get("environment") if isinstance(meta.get("environment"), dict) else {}
    sol_meta = meta.get("solution") if isinstance(meta.get("solution"), dict) else {}
    report = CheckReport(
        path=str(task_dir), name=task_dir.name, flavour=str(meta.get("task_flavour", "")),
        environment_mode=str(env_meta.get("mode", "")), needs_repository=bool(meta.get("needs_repository")),
        has_solution=bool(sol_meta.get("available")) and (task_dir / "solution" / "solve.sh").is_file(),
    )  # fmt: skip
    report.valid, report.problems = harbor_problems(task_dir)
    report.scripts, report.script_errors = bash_syntax(task_dir)
    if run:
        if report.ok:
            execute(task_dir, report)
        else:
            report.note = "not executed: the task is not valid"
    elif report.needs_repository:
        report.note = "needs the session's repository before it can run"
    return report


def check_path(path: Path, *, run: bool = False) -> list[CheckReport]:
    return [check_task(d, run=run) for d in task_dirs(path)]
