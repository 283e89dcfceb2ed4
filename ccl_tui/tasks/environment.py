"""environment/: a Dockerfile that reproduces the session's repository at its recorded commit.

Modes, best first:

* ``snapshot``: the session's local checkout still exists and has the commit: a capped ``git archive``-style
  ``repo.tar.gz`` (snapshot.py) is bundled and unpacked by the Dockerfile. Verified: it is the real tree.
* ``clone``: a repository url was recorded: the Dockerfile fetches that commit. Not verified locally (no network
  access is attempted), which the metadata says.
* ``needs-repository``: neither is possible. The task is still written, with the reason in its metadata and
  in ``environment/NEEDS_REPOSITORY.md``; its Dockerfile fails the build with a pointer to that file instead of
  pretending to be the repository.

Both real modes end with a fresh one-commit git repository in /app (no history: later commits could leak the
fix), plus the edits the agent had applied before the failure (``setup.patch``) as uncommitted changes.
The Dockerfile never contains session text except a validated commit sha and a validated, quoted url.
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ccl_tui import __version__
from ccl_tui.tasks.checkouts import local_checkout
from ccl_tui.tasks.diffs import GIT_APPLY_ARGS, Diff
from ccl_tui.tasks.model import CLONE, NEEDS_REPOSITORY, SNAPSHOT
from ccl_tui.tasks.paths import docker_safe, is_commit
from ccl_tui.tasks.snapshot import LocalRepo, Snapshot, SnapshotError, build_snapshot, find_local_repo
from ccl_tui.tasks.text import clean

APP = "/app"

BASE_IMAGES = {
    "python": "python:3.12-slim-bookworm",
    "node": "node:22-bookworm-slim",
    "go": "golang:1.23-bookworm",
    "rust": "rust:1.83-bookworm",
    "unknown": "debian:bookworm-slim",
}

_PROGRAM_LANGUAGE = {
    "python": (
        "pytest",
        "python",
        "python3",
        "pip",
        "pip3",
        "uv",
        "tox",
        "nox",
        "mypy",
        "ruff",
        "pyright",
        "poetry",
        "alembic",
        "black",
        "flake8",
        "django-admin",
    ),
    "node": ("npm", "npx", "yarn", "pnpm", "node", "vitest", "jest", "tsc", "eslint", "bun", "deno", "prettier"),
    "go": ("go", "gofmt", "golangci-lint"),
    "rust": ("cargo", "rustc", "rustfmt"),
}
_MARKERS = {
    "python": ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini", "uv.lock", "poetry.lock"),
    "node": ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "tsconfig.json"),
    "go": ("go.mod", "go.sum"),
    "rust": ("Cargo.toml", "Cargo.lock"),
}
_EXTENSIONS = {
    "python": (".py", ".pyi"),
    "node": (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte"),
    "go": (".go",),
    "rust": (".rs",),
}

#: Pinned tools the Python image gets in any case (Harbor's lint asks for exact pins).
PYTHON_TOOLS = "pytest==8.4.2"
UV_TOOL = "uv==0.9.30"
#: Dependency installation per language: best effort, a failure only warns (the verifier then shows it).
_DEPENDENCIES = {
    "python": (
        "RUN pip install --no-cache-dir {tools} \\\n"
        " && if [ -f requirements.txt ]; then pip install --no-cache-dir -r requirements.txt"
        " || echo 'ccl-tui: installing requirements.txt failed' >&2; fi \\\n"
        " && if [ -f pyproject.toml ] || [ -f setup.py ]; then pip install --no-cache-dir -e '.[dev,test]'"
        " || pip install --no-cache-dir -e . || echo 'ccl-tui: installing the project failed' >&2; fi\n"
    ),
    "node": (
        "RUN if [ -f package-lock.json ]; then npm ci || npm install; \\\n"
        "    elif [ -f pnpm-lock.yaml ]; then corepack enable && pnpm install; \\\n"
        "    elif [ -f yarn.lock ]; then corepack enable && yarn install; \\\n"
        "    elif [ -f package.json ]; then npm install; fi \\\n"
        " || echo 'ccl-tui: installing node dependencies failed' >&2\n"
    ),
    "go": "RUN if [ -f go.mod ]; then go mod download || echo 'ccl-tui: go mod download failed' >&2; fi\n",
    "rust": "RUN if [ -f Cargo.toml ]; then cargo fetch || echo 'ccl-tui: cargo fetch failed' >&2; fi\n",
    "unknown": "",
}

_SCP_URL = re.compile(r"(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[A-Za-z0-9._~/+-]+)")
_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_URL_PATH = re.compile(r"/[A-Za-z0-9._~/+-]+")


@dataclass(slots=True)
class Environment:
    mode: str
    language: str
    base_image: str
    reason: str  # why this mode (and, for needs-repository, what is missing)
    verified: bool  # the repository content was read from a real checkout
    prefix: str = ""  # the session cwd relative to the repository root
    clone_url: str | None = None
    commit: str | None = None
    snapshot: Snapshot | None = None
    notes: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # environment/<name> -> content


_IMAGE_FOR_VERSION = {  # language -> (tool whose version picks the image, image template, accepted major range)
    "node": ("node", "node:{major}-bookworm-slim", (14, 40)),
    "python": ("python", "python:{major}.{minor}-slim-bookworm", (3, 3)),
    "go": ("go", "golang:{major}.{minor}-bookworm", (1, 1)),
    "rust": ("rustc", "rust:{major}.{minor}-bookworm", (1, 1)),
}


def versioned_image(language: str, versions: dict[str, str]) -> tuple[str, str] | None:
    """(base image, why) for the tool version the session showed (``node --version``…), when there is one."""
    spec = _IMAGE_FOR_VERSION.get(language)
    if spec is None:
        return None
    tool, template, (low, high) = spec
    version = versions.get(tool) or (versions.get("cargo") if tool == "rustc" else None)
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?(?:[-+][\w.]+)?", version or "")
    if m is None or not low <= int(m.group(1)) <= high:
        return None
    if language == "python" and not 9 <= int(m.group(2)) <= 14:
        return None
    image = template.format(major=int(m.group(1)), minor=int(m.group(2)))
    return image, f"{tool} {version} in the session"


def detect_language(programs: list[str], files: list[str], verifier_program: str = "") -> str:
    """The repository's main language from marker files, the commands the session ran and the files it edited."""
    scores = dict.fromkeys(_PROGRAM_LANGUAGE, 0.0)
    names = {posixpath.basename(f) for f in files}
    for lang, markers in _MARKERS.items():
        scores[lang] += 10 * sum(1 for m in markers if m in names)
    for lang, progs in _PROGRAM_LANGUAGE.items():
        first = verifier_program.split(" ", 1)[0]
        if first in progs:
            scores[lang] += 8
        scores[lang] += sum(1 for p in programs if p.split(" ", 1)[0] in progs)
    for lang, exts in _EXTENSIONS.items():
        scores[lang] += 0.5 * sum(1 for f in files if f.endswith(exts))
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else "unknown"


def clone_url(url: str | None) -> tuple[str | None, str]:
    """An https url a container can clone, or None with the reason. scp-style ssh urls become https."""
    if not url or not url.strip():
        return None, "no repository url was recorded"
    u = url.strip()
    m = _SCP_URL.fullmatch(u)
    if m:
        u = f"https://{m['host']}/{m['path']}"
    try:
        parts = urlsplit(u)
    except ValueError:
        return None, "the recorded repository url is malformed"
    scheme = parts.scheme.lower()
    if scheme in ("ssh", "git", "git+ssh"):
        scheme = "https"
    if scheme not in ("https", "http"):
        return None, f"the recorded repository url is not a network git url ({scheme or 'no scheme'})"
    host = parts.hostname or ""
    if not _HOST.fullmatch(host) or host.endswith(".local") or host.startswith("redacted"):
        return None, "the recorded repository url has no public host"
    path = parts.path
    if not _URL_PATH.fullmatch(path) or ".." in path.split("/") or parts.query or parts.fragment:
        return None, "the recorded repository url has an unusual path"
    try:
        port = f":{parts.port}" if parts.port and parts.scheme.lower() in ("https", "http") else ""
    except ValueError:
        return None, "the recorded repository url has an invalid port"
    return f"{scheme}://{host}{port}{path}", ""


def probe_local(
    cwd: str | None,
    commit: str | None,
    allow_local: bool = True,
    repo_url: str | None = None,
    repo_name: str | None = None,
) -> tuple[LocalRepo | None, str]:
    """The local checkout to snapshot, or None with the reason it cannot be used. When the recorded cwd is gone
    or is not a checkout with the commit, a checkout or bundle of the same repository under the configured
    roots ($CCL_TUI_REPOS, the demo corpus's repos/) is used (checkouts.py)."""
    if not allow_local:
        return None, "local snapshots disabled"
    try:
        return find_local_repo(cwd, commit), ""
    except SnapshotError as exc:
        reason = clean(str(exc), 300)
    found = local_checkout(cwd, repo_url, repo_name, commit)
    return (found, "") if found is not None else (None, reason)


def build_environment(
    *,
    local: LocalRepo | None,
    local_reason: str,
    commit: str | None,
    repo_url: str | None,
    language_hint: tuple[list[str], list[str], str],
    setup: Diff | None,
    verifier_command: str = "",
    tool_versions: dict[str, str] | None = None,
) -> Environment:
    """Decide the mode and render environment/ (Dockerfile, repo.tar.gz, setup.patch...)."""
    programs, files, verifier_program = language_hint
    env: Environment | None = None
    if local is not None:
        try:
            snap = build_snapshot(local)
            lang = detect_language(programs, _snapshot_names(snap) + files, verifier_program)
            env = Environment(
                mode=SNAPSHOT,
                language=lang,
                base_image=BASE_IMAGES[lang],
                verified=True,
                reason=f"snapshot of the local repository at commit {local.commit}",
                prefix=local.prefix,
                commit=local.commit,
                snapshot=snap,
            )
            env.files["repo.tar.gz"] = snap.data
        except SnapshotError as exc:
            local_reason = clean(str(exc), 300)
    if env is None:
        lang = detect_language(programs, files, verifier_program)
        url, url_reason = clone_url(repo_url)
        if not is_commit(commit):
            reason = "no git commit was recorded for the session"
            env = Environment(NEEDS_REPOSITORY, lang, BASE_IMAGES[lang], reason, verified=False)
        elif url is None:
            reason = f"{url_reason}; the local checkout is unavailable ({local_reason or 'not checked'})"
            env = Environment(NEEDS_REPOSITORY, lang, BASE_IMAGES[lang], reason, verified=False, commit=commit)
        else:
            reason = (
                f"clones {url} at commit {commit}; not verified locally because the local checkout is"
                f" unavailable ({local_reason or 'not checked'})"
            )
            env = Environment(
                CLONE,
                lang,
                BASE_IMAGES[lang],
                reason,
                verified=False,
                clone_url=url,
                commit=commit,
                prefix=local.prefix if local is not None else "",
            )
            if url != (repo_url or "").strip():
                env.notes.append("the recorded url was rewritten to an https url a container can clone")
    pinned = versioned_image(env.language, tool_versions or {})
    if pinned is not None:
        env.base_image = pinned[0]
        env.notes.append(f"base image {pinned[0]}: {pinned[1]}")
    if env.mode != NEEDS_REPOSITORY and setup is not None and (setup.sections or setup.deleted):
        if setup.sections:
            env.files["setup.patch"] = setup.text.encode("utf-8")
        if setup.deleted:
            env.files["setup-deleted.txt"] = "".join(p + "\n" for p in setup.deleted).encode("utf-8")
        if setup.overwritten:
            env.files["setup-overwritten.txt"] = "".join(p + "\n" for p in setup.overwritten).encode("utf-8")
    uses_uv = re.search(r"(^|[\s;&|(])uv\s", verifier_command) is not None
    env.files["Dockerfile"] = dockerfile(env, uses_uv=uses_uv).encode("utf-8")
    if env.mode == NEEDS_REPOSITORY:
        env.files["NEEDS_REPOSITORY.md"] = needs_repository_note(env).encode("utf-8")
    return env


def _snapshot_names(snap: Snapshot) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(snap.data))) as tar:
        return tar.getnames()


def _workdir(env: Environment) -> str:
    if env.prefix and docker_safe(env.prefix):
        return f"{APP}/{env.prefix}"
    return APP


_GIT_BASE = (
    "RUN apt-get update \\\n"
    " && apt-get install -y --no-install-recommends git ca-certificates \\\n"
    " && rm -rf /var/lib/apt/lists/*\n"
)
_GIT_ID = "-c user.name=ccl-tui -c user.email=ccl-tui@localhost"


def dockerfile(env: Environment, uses_uv: bool = False) -> str:
    head = (
        f"# Generated by ccl-tui {__version__}. Mode: {env.mode}. See task.toml [metadata.environment].\n"
        f"FROM {env.base_image}\n"
    )
    if env.mode == NEEDS_REPOSITORY:
        return head + (
            "# The session's repository could not be reproduced: see NEEDS_REPOSITORY.md next to this file.\n"
            "RUN echo 'ccl-tui: this task needs the session repository; read environment/NEEDS_REPOSITORY.md'"
            " >&2 && exit 1\n"
        )
    commit = env.commit or ""
    if not is_commit(commit):
        raise ValueError("a real environment needs a validated commit")
    out = [head, _GIT_BASE, f"WORKDIR {APP}\n"]
    if env.mode == SNAPSHOT:
        out.append("ADD repo.tar.gz /app/\n")
    else:
        url = shlex.quote(env.clone_url or "")
        out.append(
            "RUN git init -q /tmp/ccl-src \\\n"
            f" && git -C /tmp/ccl-src remote add origin {url} \\\n"
            f" && (git -C /tmp/ccl-src fetch -q --depth 1 origin {commit} || git -C /tmp/ccl-src fetch -q origin) \\\n"
            f" && git -C /tmp/ccl-src archive --format=tar {commit} | tar -x -C {APP} \\\n"
            " && rm -rf /tmp/ccl-src\n"
        )
    out.append(
        f"RUN git init -q && git add -A && git {_GIT_ID} commit -q --no-verify --allow-empty"
        f" -m 'ccl-tui snapshot of {commit}'\n"
    )
    has_patch = "setup.patch" in env.files
    has_deleted = "setup-deleted.txt" in env.files
    has_overwritten = "setup-overwritten.txt" in env.files
    if has_patch or has_deleted:
        out.append("# The edits the agent had applied in the session before the failure (left uncommitted).\n")
        steps = []
        if has_overwritten:  # files a shell write replaced whole: the patch adds them again
            out.append("COPY setup-overwritten.txt /tmp/ccl/setup-overwritten.txt\n")
            steps.append('while IFS= read -r f; do rm -f -- "$f"; done < /tmp/ccl/setup-overwritten.txt')
        if has_patch:
            out.append("COPY setup.patch /tmp/ccl/setup.patch\n")
            steps.append(f"git {' '.join(GIT_APPLY_ARGS)} /tmp/ccl/setup.patch")
        if has_deleted:
            out.append("COPY setup-deleted.txt /tmp/ccl/setup-deleted.txt\n")
            steps.append('while IFS= read -r f; do rm -f -- "$f"; done < /tmp/ccl/setup-deleted.txt')
        steps.append("rm -rf /tmp/ccl")
        out.append("RUN " + " \\\n && ".join(steps) + "\n")
    workdir = _workdir(env)
    if workdir != APP:
        out.append(f"WORKDIR {workdir}\n")
    deps = _DEPENDENCIES.get(env.language, "")
    if deps:
        out.append("# Dependencies: best effort; a failure only warns.\n")
        out.append(deps.replace("{tools}", PYTHON_TOOLS + (f" {UV_TOOL}" if uses_uv else "")))
    return "".join(out)


def needs_repository_note(env: Environment) -> str:
    return (
        "# This task needs the session's repository\n\n"
        "ccl-tui could not reproduce the repository this session worked in, so this environment cannot be built"
        " yet. It does not fake one.\n\n"
        f"Reason: {env.reason}\n\n"
        "To make the task runnable, replace the Dockerfile in this folder with one that puts the repository at the"
        " recorded commit (see `task.toml`, `[metadata.repository]`) into `/app`, then run"
        " `ccl-tui tasks check` on the task folder.\n"
    )
