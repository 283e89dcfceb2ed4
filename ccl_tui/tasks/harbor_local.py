"""A Harbor environment that runs a trial in a local working copy, without Docker. NOT ISOLATED.

.. warning::

   ``LocalEnvironment`` is **not a sandbox**. Every command of a trial runs with ``bash`` **on this machine, as
   this user**, with this user's files, network, credentials and permissions. It exists so that Harbor itself
   can run ccl-tui's tasks where there is no Docker engine, for **trusted agents only**: Harbor's ``oracle``
   (it runs the task's own ``solution/solve.sh``) and ``nop`` (it does nothing), and ccl-tui's own checks. It
   refuses any other agent unless ``allow_any_agent=true`` is passed; never pass it for a model-driven agent
   (codex, claude-code, terminus, ...): that agent would act on your machine.

Usage (Harbor loads the class through its environment import path; ``-e`` is ``--env``)::

    harbor run -p tasks/ -a oracle -e ccl_tui.tasks.harbor_local:LocalEnvironment -o jobs --job-name oracle -y
    harbor run -p tasks/ -a nop    -e ccl_tui.tasks.harbor_local:LocalEnvironment -o jobs --job-name nop -y
    ccl-tui results import jobs/oracle --tasks-dir tasks/
    ccl-tui results import jobs/nop --tasks-dir tasks/

Environment kwargs (``--ek key=value``): ``root=DIR`` (where working copies go; default the system temp
folder), ``allow_unenforced_network=true`` (see below), ``allow_any_agent=true`` (see above),
``clone_timeout_sec=N`` (default 600). ``--no-delete`` keeps each working copy (its path is in the trial log).

What a trial gets (``start``): a fresh directory ``<root>/ccl-harbor-local-XXXX/`` holding the task's start
state, built the way its Dockerfile would, with ccl-tui's own code (``check.prepare_repo``): the
``environment/repo.tar.gz`` snapshot unpacked with the tarfile ``data`` filter (or, for a ``clone`` task, the
recorded URL fetched at the recorded commit, which fails with a clear message when offline), made a fresh
one-commit git repository, with ``environment/setup.patch`` applied by ``git apply``. Dependencies are not
installed: the verifier uses the tools this machine has (its ``PATH``).

Path mapping. Harbor's container paths map to directories of that working copy: ``/app`` -> ``app/`` (the
repository; the Dockerfile's last ``WORKDIR``, e.g. ``/app/pkg``, is the default working directory),
``/solution``, ``/tests``, ``/logs`` (``/logs/agent``, ``/logs/verifier``, ``/logs/artifacts``), ``/runtime``
and ``/tmp`` -> the directories of the same name. ``exec`` runs ``bash -c`` in the mapped working directory with
those container paths in the command (and in ``cwd`` and environment values) rewritten to the mapped host
paths; ``CCL_REPO_ROOT`` and ``CCL_VERIFIER_DIR`` point into the copy (the scripts ccl-tui writes honour them),
``HOME`` and ``TMPDIR`` are inside the trial directory; a timeout, and the end of the command, kill its whole
process group (nothing it started in the background outlives it). Only
the command line is rewritten: what a program does on its own (an absolute path it computes, a write to
``~/..`` it finds through ``getpwuid``) reaches this machine.

What it refuses, before anything runs:

* task folders not written by ccl-tui (``[metadata] generator = "ccl-tui"``), tasks whose repository could not
  be reproduced (``needs-repository``), Docker Compose tasks, Windows tasks, GPUs/TPUs, host mounts;
* a network policy it cannot enforce. Harbor's contract is that providers "must enforce the policy exactly or
  reject the task before start"; a local process cannot be cut off from the network, so ``no-network`` and
  ``allowlist`` tasks are rejected unless ``allow_unenforced_network=true`` is passed. Then the trial runs with
  the network **not blocked**, says so in a warning and in ``<trial>/ccl-local-environment.json``, and its
  result does not reproduce the task's condition;
* agents other than ``oracle`` and ``nop`` (read from the trial's ``config.json``), unless
  ``allow_any_agent=true``;
* uploads and downloads whose container path maps outside the working copy (``/etc/...``, ``/app/../..``, or
  a symlink inside the copy that leads out of it). Downloads skip symlinks and special files.

CPU, memory and storage limits are not applied (no resource capabilities are declared).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import posixpath
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities
from harbor.models.task.config import NetworkMode, NetworkPolicy

from ccl_tui.tasks.check import prepare_repo, run_env
from ccl_tui.tasks.environment import APP, clone_url
from ccl_tui.tasks.model import CLONE, NEEDS_REPOSITORY, SNAPSHOT
from ccl_tui.tasks.paths import SAFE_GIT, is_commit

__all__ = ["IMPORT_PATH", "TRUSTED_AGENTS", "LocalEnvironment"]

#: What to pass to ``harbor run -e`` (``--env``) or ``EnvironmentConfig(import_path=...)``.
IMPORT_PATH = "ccl_tui.tasks.harbor_local:LocalEnvironment"
TYPE = "ccl-tui-local"
#: Agents this environment runs without ``allow_any_agent``: they execute nothing but the task's own files.
TRUSTED_AGENTS = frozenset({"oracle", "nop"})
#: Container roots mapped into the working copy: /<name> -> <work>/<name>.
MAPPED_ROOTS = ("app", "solution", "tests", "logs", "runtime", "tmp")
MARKER = "ccl-local-environment.json"
WARNING = (
    "ccl-tui LocalEnvironment is NOT ISOLATED: {what} runs its commands on this machine as {user}, with this user's"
    " files, network and permissions ({where}). Use it only for trusted agents (oracle, nop) and ccl-tui's own"
    " checks."
)

#: A container path at a token boundary in a shell command: /app, /tests/test.sh, '/logs/verifier' ... but not
#: https://x/tests, $DIR/tests, ./tests or a/tests.
_CONTAINER_PATH = re.compile(r"(?<![\w.~$}/@-])/(" + "|".join(MAPPED_ROOTS) + r")(?=/|$|[\s'\";|&<>()`:,=])")
#: Characters a host path may have to be substituted unquoted into a command.
_SHELL_SAFE = re.compile(r"[A-Za-z0-9._/+-]+")
_WORKDIR = re.compile(r"^\s*WORKDIR\s+(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
_GIT = (*SAFE_GIT, "-c", "advice.detachedHead=false")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _inside(path: Path, root: Path) -> bool:
    """Does ``path`` (symlinks resolved, missing tail allowed) lie in ``root``?"""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _rmtree(path: Path) -> None:
    """Remove a working copy, read-only folders in it too (e.g. a Go module cache). Never touches anything
    outside ``path``: rmtree does not follow links, and only folders of the copy get their mode changed."""

    def retry(func: Any, p: str, _exc: BaseException) -> None:
        parent = os.path.dirname(p)
        with contextlib.suppress(OSError):
            if Path(parent).is_relative_to(path) and not os.path.islink(parent):
                os.chmod(parent, 0o700)
            if Path(p).is_relative_to(path) and os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o700)
            func(p)

    shutil.rmtree(path, onexc=retry)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _copy_tree(src: Path, dst: Path, *, dst_root: Path, links: bool) -> None:
    """Copy the contents of ``src`` into ``dst``. Every destination must stay in ``dst_root``; special files are
    skipped; symlinks are recreated as links when ``links`` (uploads, like ``docker cp``), else skipped."""
    dst.mkdir(parents=True, exist_ok=True)
    if not _inside(dst, dst_root):
        raise ValueError(f"{dst} leads outside {dst_root}")
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        out = dst / here.relative_to(src)
        keep = []
        for name in dirnames + filenames:
            source, target = here / name, out / name
            mode = os.lstat(source).st_mode
            if not _inside(target.parent, dst_root):
                raise ValueError(f"{target} leads outside {dst_root}")
            if stat.S_ISLNK(mode):
                if links:
                    if target.is_symlink() or target.is_file():
                        target.unlink()
                    os.symlink(os.readlink(source), target)
                continue
            if target.is_symlink():
                target.unlink()
            if stat.S_ISDIR(mode):
                target.mkdir(exist_ok=True)
                keep.append(name)
            elif stat.S_ISREG(mode):
                shutil.copy2(source, target)
        dirnames[:] = [d for d in dirnames if d in keep]


def _task_metadata(task_dir: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads((task_dir / "task.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{task_dir / 'task.toml'}: unreadable ({exc})") from None
    meta = doc.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _section(meta: dict[str, Any], name: str) -> dict[str, Any]:
    value = meta.get(name)
    return value if isinstance(value, dict) else {}


class LocalEnvironment(BaseEnvironment):
    """Runs a Harbor trial of a ccl-tui task in a local working copy: UNISOLATED (see the module docstring)."""

    def __init__(
        self,
        *args: Any,
        root: str | None = None,
        allow_unenforced_network: bool | str = False,
        allow_any_agent: bool | str = False,
        clone_timeout_sec: int | float | str = 600,
        **kwargs: Any,
    ) -> None:
        # BaseEnvironment.__init__ validates the definition and the network policy: set what they read first.
        self._root = Path(root).expanduser() if root else None
        self._allow_unenforced_network = _flag(allow_unenforced_network)
        self._allow_any_agent = _flag(allow_any_agent)
        self._clone_timeout = float(clone_timeout_sec)
        self._unenforced: list[str] = []
        self._work: Path | None = None
        self._pgids: set[int] = set()
        self._mode = ""
        self._clone_url: str | None = None
        self._commit: str | None = None
        self._default_cwd = APP
        super().__init__(*args, **kwargs)

    # -- what Harbor asks of a provider -------------------------------------------------------------------------

    @staticmethod
    def type() -> str:
        return TYPE

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        return EnvironmentCapabilities()  # no network control, no mounts, no GPUs, no Windows, no compose

    @classmethod
    def preflight(cls) -> None:
        from harbor.utils.logger import logger

        logger.warning(
            WARNING.format(what="every trial of this job", user=_user(), where="one temporary working copy per trial")
        )

    @property
    def task_dir(self) -> Path:
        return Path(self.environment_dir).parent

    def _validate_definition(self) -> None:
        env_dir = Path(self.environment_dir)
        if not (env_dir / "Dockerfile").is_file():
            raise FileNotFoundError(f"{env_dir / 'Dockerfile'} not found")
        if (env_dir / "docker-compose.yaml").exists() or (env_dir / "docker-compose.yml").exists():
            raise ValueError("LocalEnvironment cannot run Docker Compose task environments")
        if self._host_mounts:
            raise ValueError("LocalEnvironment does not support host mounts")
        meta = _task_metadata(self.task_dir)
        if meta.get("generator") != "ccl-tui":
            raise ValueError(
                f"{self.task_dir.name}: LocalEnvironment runs only task folders written by ccl-tui"
                ' ([metadata] generator = "ccl-tui"); it cannot build an arbitrary Dockerfile. Use -e docker.'
            )
        env_meta, repo_meta = _section(meta, "environment"), _section(meta, "repository")
        mode = str(env_meta.get("mode", ""))
        if mode == NEEDS_REPOSITORY or meta.get("needs_repository") is True:
            reason = meta.get("needs_repository_reason") or env_meta.get("reason") or "see NEEDS_REPOSITORY.md"
            raise ValueError(f"{self.task_dir.name}: the task needs the session's repository ({reason})")
        if mode == SNAPSHOT:
            if not (env_dir / "repo.tar.gz").is_file():
                raise FileNotFoundError(f"{env_dir / 'repo.tar.gz'} not found (snapshot task)")
        elif mode == CLONE:
            url, why = clone_url(str(env_meta.get("clone_url") or repo_meta.get("url") or ""))
            commit = str(repo_meta.get("commit") or "")
            if url is None or not is_commit(commit):
                raise ValueError(f"{self.task_dir.name}: clone task without a usable url and commit ({why or commit})")
            self._clone_url, self._commit = url, commit
        else:
            raise ValueError(f"{self.task_dir.name}: unknown environment mode {mode!r}")
        self._mode = mode
        workdirs = _WORKDIR.findall((env_dir / "Dockerfile").read_text(encoding="utf-8", errors="replace"))
        cwd = self.task_env_config.workdir or (workdirs[-1] if workdirs else APP)
        cwd = posixpath.normpath(cwd if cwd.startswith("/") else posixpath.join(APP, cwd))
        if not (cwd == APP or cwd.startswith(APP + "/")):
            raise ValueError(f"{self.task_dir.name}: working directory {cwd} is outside {APP}")
        self._default_cwd = cwd

    def validate_network_policy_support(self, network_policy: NetworkPolicy | None = None) -> None:
        policy = network_policy or self._network_policy
        if policy.network_mode == NetworkMode.PUBLIC:
            return
        mode = policy.network_mode.value
        if not self._allow_unenforced_network:
            raise ValueError(
                f"network_mode={mode!r} cannot be enforced by ccl-tui's LocalEnvironment: it runs commands on this"
                " machine and cannot cut them off from the network. Harbor requires a provider to enforce the policy"
                " or reject the task, so the task is rejected. Run it with Docker (-e docker), or pass --ek"
                " allow_unenforced_network=true to run it with the network NOT blocked."
            )
        if mode not in self._unenforced:
            self._unenforced.append(mode)

    # -- lifecycle ------------------------------------------------------------------------------------------------

    async def start(self, force_build: bool) -> None:
        try:
            await asyncio.to_thread(self._start)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"building the start state timed out: {exc}") from None

    def _start(self) -> None:
        self._check_agent()
        root = (self._root or Path(tempfile.gettempdir())).resolve()
        if not _SHELL_SAFE.fullmatch(str(root)):
            raise ValueError(
                f"working copies need a plain folder path (letters, digits, ._+-/): {root}."
                " Pass --ek root=/some/plain/folder"
            )
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="ccl-harbor-local-", dir=root))
        self._work = work
        self.logger.warning(WARNING.format(what="this trial", user=_user(), where=f"working copy: {work}"))
        for mode in self._unenforced:
            self.logger.warning(f"network_mode={mode!r} is NOT ENFORCED: the trial runs with this machine's network")
        self._write_marker()
        for name in MAPPED_ROOTS:
            if name != "app":
                (work / name).mkdir(exist_ok=True)
        for sub in ("agent", "verifier", "artifacts"):
            (work / "logs" / sub).mkdir(exist_ok=True)
        (work / "home").mkdir(exist_ok=True)
        self._build_start_state(work)
        self._map_required(self._default_cwd).mkdir(parents=True, exist_ok=True)

    def _check_agent(self) -> None:
        """Refuse agents other than oracle and nop, as the trial's config.json (read with Harbor's model) names
        them; a simulated user is an agent too."""
        if self._allow_any_agent:
            return
        from harbor.models.trial.config import TrialConfig

        try:
            config = TrialConfig.model_validate_json(self.trial_paths.config_path.read_text(encoding="utf-8"))
            agents = [config.agent] + ([config.user_agent] if config.user_agent is not None else [])
            names = [a.name or a.import_path or "?" for a in agents]
        except (OSError, ValueError) as exc:
            names = [f"unknown (trial config.json unreadable: {type(exc).__name__})"]
        for name in names:
            if name not in TRUSTED_AGENTS:
                raise RuntimeError(
                    f"LocalEnvironment refuses agent {name!r}: it is not isolated and runs every command on this"
                    f" machine. It runs only {', '.join(sorted(TRUSTED_AGENTS))}; use -e docker for other agents"
                    " (or --ek allow_any_agent=true if you fully trust this one)."
                )

    def _write_marker(self) -> None:
        doc = {
            "environment": IMPORT_PATH,
            "isolated": False,
            "runs_as": _user(),
            "work_dir": str(self._work),
            "network_policy": self._network_policy.network_mode.value,
            "network_policy_enforced": self._network_policy.network_mode == NetworkMode.PUBLIC,
            "resource_limits_enforced": False,
            "note": "Commands ran on the host with bash; for trusted agents (oracle, nop) and local checks only.",
        }
        with contextlib.suppress(OSError):
            self.trial_paths.trial_dir.mkdir(parents=True, exist_ok=True)
            (self.trial_paths.trial_dir / MARKER).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def _build_start_state(self, work: Path) -> None:
        """The Dockerfile's steps with ccl-tui's local code: unpack (or clone) the commit, git init, setup edits."""
        app = work / "app"
        if self._mode == SNAPSHOT:
            prepare_repo(self.task_dir, app)
            return
        # clone: fetch the commit, archive it, and let prepare_repo treat it as a snapshot next to the task's
        # setup files (a copy of environment/ without repo.tar.gz).
        staged = work / ".ccl-clone"
        src, env_copy = staged / "src", staged / "task" / "environment"
        shutil.copytree(Path(self.environment_dir), env_copy, ignore=shutil.ignore_patterns("repo.tar.gz"))
        git_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false", "HOME": str(work / "home")}
        url, commit = self._clone_url or "", self._commit or ""

        def git(step: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
            proc = subprocess.run(
                [*_GIT, *args],
                cwd=staged,
                env=git_env,
                capture_output=True,
                text=True,
                timeout=self._clone_timeout,
                check=False,
            )
            if check and proc.returncode != 0:
                said = " ".join((proc.stderr or proc.stdout).split())[-300:]
                raise RuntimeError(
                    f"cannot fetch {url} at commit {commit} (git {step}: {said}). A clone task needs network access"
                    " to its repository; offline, write the task where the checkout exists (snapshot mode)."
                )
            return proc

        git("init", "init", "-q", str(src))
        git("remote", "-C", str(src), "remote", "add", "origin", url)
        if git("fetch", "-C", str(src), "fetch", "-q", "--depth", "1", "origin", commit, check=False).returncode:
            git("fetch", "-C", str(src), "fetch", "-q", "origin")
        git("archive", "-C", str(src), "archive", "--format=tar.gz", "-o", str(env_copy / "repo.tar.gz"), commit)
        try:
            prepare_repo(env_copy.parent, app)
        finally:
            _rmtree(staged)

    async def stop(self, delete: bool) -> None:
        for pgid in list(self._pgids):
            _kill_group(pgid, signal.SIGKILL)
        self._pgids.clear()
        work = self._work
        if work is None or not work.exists():
            return
        if delete:
            await asyncio.to_thread(_rmtree, work)
        else:
            self.logger.warning(f"LocalEnvironment kept the working copy {work}")

    # -- paths ----------------------------------------------------------------------------------------------------

    def _map(self, path: str | PurePosixPath) -> Path | None:
        """The host path of a container path, or None when it is not in the working copy."""
        if self._work is None:
            raise RuntimeError("LocalEnvironment is not started")
        text = str(path)
        if not text.startswith("/"):
            text = posixpath.join(self._default_cwd, text)
        norm = posixpath.normpath(text)
        if norm.startswith("//"):
            norm = "/" + norm.lstrip("/")
        parts = PurePosixPath(norm).parts[1:]
        if not parts or parts[0] not in MAPPED_ROOTS:
            return None
        host = self._work.joinpath(*parts)
        return host if _inside(host, self._work) else None

    def _map_required(self, path: str | PurePosixPath) -> Path:
        host = self._map(path)
        if host is None:
            raise ValueError(
                f"{path!s} is outside the trial's working copy ({', '.join('/' + r for r in MAPPED_ROOTS)})"
            )
        return host

    def translate(self, command: str) -> str:
        """``command`` with the container paths in it replaced by their host paths."""
        work = self._work
        if work is None:
            raise RuntimeError("LocalEnvironment is not started")
        return _CONTAINER_PATH.sub(lambda m: str(work / m.group(1)), command)

    # -- exec -----------------------------------------------------------------------------------------------------

    async def exec(
        self,
        command: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout_sec: int | None = None,
        user: str | int | None = None,
    ) -> ExecResult:
        work = self._work
        if work is None:
            raise RuntimeError("LocalEnvironment is not started")
        run_as = self._resolve_user(user)
        if run_as not in (None, "root", 0, _user()):
            self.logger.debug(f"LocalEnvironment runs as {_user()}, not {run_as!r}")
        directory = self._map_required(cwd or self.task_env_config.workdir or self._default_cwd)
        variables = run_env(work, work / "app")
        variables["CCL_VERIFIER_DIR"] = str(work / "logs" / "verifier")
        for key, value in (self._merge_env(env) or {}).items():
            variables[key] = self.translate(str(value))
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            self.translate(command),
            cwd=directory,
            env=variables,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._pgids.add(proc.pid)
        try:
            if timeout_sec:
                out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout_sec)
            else:
                out, err = await proc.communicate()
        except TimeoutError:
            await _terminate(proc)
            raise RuntimeError(f"Command timed out after {timeout_sec} seconds") from None
        except BaseException:
            await asyncio.shield(_terminate(proc))
            raise
        finally:
            # what the command left running in the background (cmd &) ends with it: no stray host processes
            _kill_group(proc.pid, signal.SIGKILL)
            self._pgids.discard(proc.pid)
        return ExecResult(
            stdout=out.decode(errors="replace") if out else None,
            stderr=err.decode(errors="replace") if err else None,
            return_code=proc.returncode or 0,
        )

    async def is_dir(self, path: str, user: str | int | None = None) -> bool:
        host = self._map(path)
        return host is not None and host.is_dir()

    async def is_file(self, path: str, user: str | int | None = None) -> bool:
        host = self._map(path)
        return host is not None and host.is_file()

    # -- transfers ------------------------------------------------------------------------------------------------

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        await asyncio.to_thread(self._upload_file, Path(source_path), self._map_required(target_path))

    def _upload_file(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._work is None or not _inside(target.parent, self._work):
            raise ValueError(f"{target} leads outside the trial's working copy")
        if target.is_symlink():
            target.unlink()
        shutil.copy2(source, target)

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        target = self._map_required(target_dir)
        await asyncio.to_thread(_copy_tree, Path(source_dir), target, dst_root=self._work or target, links=True)

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        await asyncio.to_thread(_download_file, self._map_required(source_path), Path(target_path), source_path)

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        source, target = self._map_required(source_dir), Path(target_dir)
        if not await asyncio.to_thread(source.is_dir):
            raise FileNotFoundError(f"{source_dir}: no such directory in the trial's working copy")
        await asyncio.to_thread(_copy_tree, source, target, dst_root=target, links=False)


def _download_file(source: Path, target: Path, shown: str) -> None:
    if source.is_symlink() or not source.is_file():
        raise FileNotFoundError(f"{shown}: no such regular file in the trial's working copy")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    shutil.copy2(source, target)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    """Stop a command and everything it started (its own session's process group)."""
    if proc.returncode is None:
        _kill_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), timeout=5)
    _kill_group(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        await proc.wait()
