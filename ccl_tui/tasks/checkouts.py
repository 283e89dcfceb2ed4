"""Find a local git checkout of a session's repository when the session's recorded cwd is not available.

A task is best built from the real repository at the session's commit (snapshot mode). When the recorded cwd
is gone (another machine, a moved folder, the demo corpus), the repository may still be here: a checkout
elsewhere, or a ``*.bundle`` file (the demo corpus ships its repositories as bundles). :func:`find_checkout`
looks in *roots*: directories holding checkouts (``root/name``, ``root/org/name``, bare ``name.git`` too) and
bundle files, or a checkout or bundle given directly.

Matching, best first: a checkout whose remote url (any remote) normalises to the session's url
(``git@host:org/name.git``, ``ssh://git@host/org/name``, ``https://host/org/name.git`` are one url); then by
name (the recorded repository name, the url's last component, the cwd's last component) against the folder
name or the bundle's file name. The first candidate that has the commit wins.

A bundle is cloned once (``git clone --quiet`` from the file: no network, no hooks, no templates) into the
cache (``<data dir>/checkouts/<name>-<key>``, the key hashing the bundle's path, size and mtime) and reused.
Nothing under the roots is ever written: checkouts are only read with ``GIT_OPTIONAL_LOCKS=0``.

``default_roots()``: ``$CCL_TUI_REPOS`` (``os.pathsep``-separated) plus the demo corpus's ``repos/`` folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ccl_tui.locations import bundled_demo_sessions, data_dir
from ccl_tui.tasks.paths import SAFE_GIT, is_commit
from ccl_tui.tasks.snapshot import LocalRepo

__all__ = ["ENV_ROOTS", "default_roots", "find_checkout", "local_checkout", "normalize_url"]

ENV_ROOTS = "CCL_TUI_REPOS"
BUNDLE_SUFFIX = ".bundle"
MAX_DEPTH = 2  # root/name and root/org/name
MAX_ENTRIES = 5000  # directory entries looked at per root
GIT_TIMEOUT = 300
_GIT = (*SAFE_GIT, "-c", "protocol.allow=never", "-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false")
_SCP = re.compile(r"^(?:[\w.+-]+@)?(?P<host>[\w.-]+):(?!//)(?P<path>.+)$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d*)?(?P<path>/.*)?$", re.IGNORECASE)


def normalize_url(url: str | None) -> str | None:
    """``host/org/name`` in lower case, whatever the form: scp-style ssh, ``ssh://``, ``https://``, ``git://``,
    with or without user, port, ``.git`` or trailing slash. None for an empty or local url."""
    text = (url or "").strip()
    if not text:
        return None
    m = _URL.match(text)
    if m:
        host, path = m["host"], m["path"] or ""
    else:
        m2 = _SCP.match(text)
        if not m2 or "/" in m2["host"]:
            return None
        host, path = m2["host"], m2["path"]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    path = path.strip("/")
    if len(host) < 2 or not path:  # "C:\\repo" is a Windows path, not host "C"
        return None
    return f"{host.lower()}/{path.lower()}"


def _tail(value: str | None) -> str:
    text = (value or "").strip().replace("\\", "/").rstrip("/")
    name = text.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name[:-4] if name.endswith(".git") else name


def names_of(cwd: str | None, repo_url: str | None, repo_name: str | None) -> list[str]:
    """The names a checkout or bundle of this repository may have (lower case, best first)."""
    out: list[str] = []
    for name in (repo_name, _tail(repo_url), _tail(cwd)):
        low = (name or "").strip().lower()
        if low and low not in ("(unknown)", ".", "..") and low not in out:
            out.append(low)
    return out


# --------------------------------------------------------------------------------------------------------------
# git, read-only
# --------------------------------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
        GIT_ALLOW_PROTOCOL="file",
        GIT_ASKPASS="/bin/false",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def _git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            [*_GIT, *args],
            cwd=cwd,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def resolve_commit(repo: Path, commit: str) -> str | None:
    """The full id of ``commit`` in ``repo`` (a work tree or a bare repository), or None when it is absent."""
    if not is_commit(commit):
        return None
    proc = _git(["-C", str(repo), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"])
    if proc is None or proc.returncode != 0:
        return None
    full = proc.stdout.strip()
    return full if is_commit(full) else None


def remote_urls(repo: Path) -> list[str]:
    proc = _git(["-C", str(repo), "config", "--get-regexp", r"^remote\..*\.url$"])
    if proc is None or proc.returncode != 0:
        return []
    return [line.split(" ", 1)[1] for line in proc.stdout.splitlines() if " " in line]


# --------------------------------------------------------------------------------------------------------------
# candidates under the roots
# --------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Candidate:
    path: Path
    kind: str  # "checkout" (work tree or bare repository) | "bundle"
    name: str  # lower-case folder name (without .git) or bundle stem
    urls: list[str] = field(default_factory=list)  # normalised remote urls (checkouts)


def _is_checkout(path: Path) -> bool:
    return (path / ".git").exists()


def _is_bare(path: Path) -> bool:
    return path.name.endswith(".git") and (path / "HEAD").is_file() and (path / "objects").is_dir()


def _candidate(path: Path) -> Candidate | None:
    try:
        if path.is_file() and path.name.endswith(BUNDLE_SUFFIX):
            return Candidate(path, "bundle", path.name[: -len(BUNDLE_SUFFIX)].lower())
        if path.is_dir() and (_is_checkout(path) or _is_bare(path)):
            name = path.name[:-4] if path.name.endswith(".git") else path.name
            return Candidate(path, "checkout", name.lower())
    except OSError:
        return None
    return None


def _walk(root: Path) -> Iterator[Candidate]:
    """Checkouts and bundles at ``root`` or below it (at most MAX_DEPTH levels; not inside checkouts)."""
    found = _candidate(root)
    if found is not None:
        yield found
        return
    seen = 0
    level = [root]
    for _depth in range(MAX_DEPTH):
        nxt: list[Path] = []
        for folder in level:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    return
                if entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                cand = _candidate(path)
                if cand is not None:
                    yield cand
                elif entry.is_dir(follow_symlinks=False):
                    nxt.append(path)
        level = nxt


def candidates(roots: Iterable[Path | str]) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[Path] = set()
    for root in roots:
        base = Path(root).expanduser()
        if not base.exists():
            continue
        for cand in _walk(base):
            key = cand.path.resolve()
            if key in seen:
                continue
            seen.add(key)
            out.append(cand)
    return out


# --------------------------------------------------------------------------------------------------------------
# bundles: cloned once into the cache
# --------------------------------------------------------------------------------------------------------------


def default_cache() -> Path:
    return data_dir() / "checkouts"


def bundle_key(bundle: Path) -> str:
    st = bundle.stat()
    ident = f"{bundle.resolve()}\0{st.st_size}\0{st.st_mtime_ns}"
    return hashlib.sha1(ident.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def clone_bundle(bundle: Path, cache: Path | None = None) -> Path | None:
    """A checkout of ``bundle`` in the cache, cloned on first use and reused while the bundle is unchanged."""
    cache = cache or default_cache()
    try:
        stem = re.sub(r"[^\w.-]", "_", bundle.name[: -len(BUNDLE_SUFFIX)]) or "repo"
        dest = cache / f"{stem}-{bundle_key(bundle)}"
    except OSError:
        return None
    if (dest / ".git").is_dir():
        return dest
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=cache))
    except OSError:
        return None
    try:
        proc = _git(["clone", "--quiet", "--template=", "--no-hardlinks", str(bundle.resolve()), str(tmp / "repo")])
        if proc is None or proc.returncode != 0 or not (tmp / "repo" / ".git").is_dir():
            return None
        try:
            os.rename(tmp / "repo", dest)
        except OSError:
            if not (dest / ".git").is_dir():  # another process won the race: use its clone
                return None
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------------------------------


def demo_repos_dir() -> Path | None:
    """The demo corpus's ``repos/`` folder: the bundled corpus, else the one regenerated into the data dir."""
    for corpus in (bundled_demo_sessions(), data_dir() / "demo_sessions"):
        repos = corpus / "repos"
        if repos.is_dir():
            return repos
    return None


def default_roots() -> list[Path]:
    """``$CCL_TUI_REPOS`` (``os.pathsep``-separated) plus the demo corpus's repositories."""
    roots = [Path(p).expanduser() for p in os.environ.get(ENV_ROOTS, "").split(os.pathsep) if p.strip()]
    demo = demo_repos_dir()
    if demo is not None and demo not in roots:
        roots.append(demo)
    return roots


def _ordered(cands: list[Candidate], url: str | None, names: list[str]) -> list[Candidate]:
    """By remote url first (checkouts), then by name (checkouts before bundles, in the names' order)."""
    out: list[Candidate] = []
    if url:
        for c in cands:
            if c.kind == "checkout":
                c.urls = [u for u in (normalize_url(x) for x in remote_urls(c.path)) if u]
                if url in c.urls:
                    out.append(c)
    for name in names:
        for kind in ("checkout", "bundle"):
            out += [c for c in cands if c.kind == kind and c.name == name and c not in out]
    return out


def find_checkout(
    cwd: str | None,
    repo_url: str | None,
    repo_name: str | None,
    commit: str | None,
    roots: Iterable[Path | str] | None = None,
    *,
    cache: Path | None = None,
) -> Path | None:
    """A local git repository containing ``commit`` for a session whose recorded cwd is not available, or None.

    ``roots``: folders holding checkouts or ``*.bundle`` files (default: :func:`default_roots`). A bundle is
    cloned into ``cache`` (default: ``<data dir>/checkouts``) once; the returned path is then that clone.
    """
    if not is_commit(commit) or commit is None:
        return None
    cands = candidates(default_roots() if roots is None else roots)
    if not cands:
        return None
    for cand in _ordered(cands, normalize_url(repo_url), names_of(cwd, repo_url, repo_name)):
        path = cand.path if cand.kind == "checkout" else clone_bundle(cand.path, cache)
        if path is not None and resolve_commit(path, commit) is not None:
            return path
    return None


def cwd_prefix(cwd: str | None, names: list[str], repo: Path, commit: str) -> str:
    """The session cwd relative to the repository root, when the cwd lies below a folder named like the
    repository and that sub-folder exists at ``commit``; else "" (the root)."""
    if not cwd:
        return ""
    parts = PurePosixPath(cwd.replace("\\", "/")).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].lower() in names:
            rest = "/".join(parts[i + 1 :])
            if not rest:
                return ""
            proc = _git(["-C", str(repo), "cat-file", "-e", f"{commit}:{rest}"])
            return rest if proc is not None and proc.returncode == 0 else ""
    return ""


def local_checkout(
    cwd: str | None,
    repo_url: str | None,
    repo_name: str | None,
    commit: str | None,
    roots: Iterable[Path | str] | None = None,
    *,
    cache: Path | None = None,
) -> LocalRepo | None:
    """:func:`find_checkout` as the ``LocalRepo`` a snapshot is built from (top, cwd prefix, full commit)."""
    path = find_checkout(cwd, repo_url, repo_name, commit, roots, cache=cache)
    if path is None or commit is None:
        return None
    full = resolve_commit(path, commit)
    if full is None:
        return None
    with contextlib.suppress(OSError):
        path = path.resolve()
    # the repository's folder in the cwd is found by the recorded name or url, never by the cwd's own last part
    prefix = cwd_prefix(cwd, names_of(None, repo_url, repo_name), path, full)
    return LocalRepo(top=str(path), prefix=prefix, commit=full)
