"""A size-capped snapshot of the session's local repository at its recorded commit, for environment/.

The tree is read with ``git ls-tree``/``git cat-file`` (never ``git checkout``: the user's working copy is not
touched) and written as a deterministic ``repo.tar.gz``. Left out, and listed in the task's metadata:
secret files (``.env*``, keys, credential stores), large files, large binaries and submodules.

Secrets (the policy, also written to ``task.toml`` as ``[metadata.environment] secrets_policy``): a task is
shared, so no credential from the user's checkout may travel with it, and the repository under test should
stay as close to the real one as possible. So:

* files that exist to hold secrets (:data:`SECRET_FILES`: ``.env``, private keys, ``.npmrc``, ``.netrc``,
  cloud credentials, Terraform state ...) are left out whole: redacting them would leave a broken file the
  code under test cannot use anyway, and their names alone say what they are;
* any other text file (UTF-8, or any other 8-bit encoding, read byte for byte) is scanned with the same
  redactor as the session text, on its full content; each credential *value* is replaced by
  ``[REDACTED:<kind>]`` and the file is kept (listed in ``redacted_files``). Code that reads such a literal now
  sees the marker instead: a test that needed the real key could not run in a shared task anyway;
* a binary file (a NUL byte in its first 8 KB) in which a credential is found, a file whose name or symlink
  target carries one, and a file that still shows one after redaction are left out (``excluded_files``), since
  they cannot be redacted safely.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import os
import posixpath
import subprocess
import tarfile
from dataclasses import dataclass, field

from ccl_tui.tasks.paths import is_commit
from ccl_tui.text.redact import contains_secret, redact

MAX_TOTAL_BYTES = 64 * 1024 * 1024  # the whole snapshot (uncompressed)
MAX_FILE_BYTES = 4 * 1024 * 1024  # any single file
MAX_BINARY_BYTES = 256 * 1024  # binary files (images, archives, wheels...)
GIT_TIMEOUT = 120

#: File names never copied into a task (matched case-insensitively against the base name).
SECRET_FILES = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    "credentials",
    "credentials.json",
    "service-account*.json",
    "secrets.json",
    "secrets.yml",
    "secrets.yaml",
    "*.tfvars",
    "*.tfstate",
    "*.tfstate.backup",
    ".htpasswd",
    "*.ppk",
    ".pgpass",
    ".my.cnf",
    ".s3cfg",
    "*.keytab",
    ".dockercfg",
)
#: What a task's metadata says about credentials in the snapshot (see the module docstring).
SECRETS_POLICY = (
    "secret files (.env*, private keys, credential stores) are left out; credential values found in other text"
    " files are replaced by [REDACTED:<kind>] markers (redacted_files); binary files, names and symlinks that"
    " carry a credential are left out (excluded_files)"
)


class SnapshotError(RuntimeError):
    """The local repository cannot be snapshotted (missing, commit absent, too large, git failed)."""


@dataclass(slots=True)
class LocalRepo:
    top: str  # absolute toplevel of the work tree
    prefix: str  # the session cwd relative to top ("" at the root)
    commit: str  # full sha


@dataclass(slots=True)
class Snapshot:
    data: bytes  # repo.tar.gz
    files: int = 0
    size: int = 0
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    redacted: list[str] = field(default_factory=list)


def is_secret_file(path: str) -> bool:
    name = posixpath.basename(path).lower()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_FILES)


def _git(args: list[str], cwd: str, data: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        proc = subprocess.run(
            ["git", "-c", "core.fsmonitor=false", "-C", cwd, *args],
            input=data,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SnapshotError(f"git failed: {exc}") from exc
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SnapshotError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc.stdout


def infer_commit(cwd: str | None, branch: str | None, before: str | None) -> str | None:
    """The last commit on ``branch`` (else HEAD) made before ``before`` (ISO time), in the local checkout of
    ``cwd``: the likely start of a session that recorded a branch but no commit (Claude Code). None when the
    checkout, the branch or such a commit is not there."""
    if not cwd or not cwd.startswith("/") or not os.path.isdir(cwd) or not before:
        return None
    if before.endswith("Z"):  # git reads "2026-10-01 10:00:00 +0000", not fractional seconds
        before = before[:19].replace("T", " ") + " +0000"
    for ref in ([branch] if branch else []) + ["HEAD"]:
        if ref.startswith("-"):
            continue
        try:
            out = _git(["rev-list", "-1", f"--before={before}", ref, "--"], cwd).decode().strip()
        except SnapshotError:
            continue
        if is_commit(out):
            return out
    return None


#: Largest file whose text an Edit is replayed on (a Claude Code Edit of a file the session did not write).
MAX_EDIT_BASE = 2 << 20


def read_text_at(repo: LocalRepo, path: str) -> str | None:
    """The text of ``path`` (from the repository root) at ``repo.commit``, or None: absent, binary, too large,
    or a file the snapshot leaves out for its name (credentials)."""
    if not path or path.startswith(("/", "-")) or contains_secret(path):
        return None
    try:
        size = int(_git(["cat-file", "-s", f"{repo.commit}:{path}"], repo.top).decode().strip() or 0)
        if size > MAX_EDIT_BASE:
            return None
        data = _git(["cat-file", "blob", f"{repo.commit}:{path}"], repo.top)
    except (SnapshotError, ValueError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def find_local_repo(cwd: str | None, commit: str | None) -> LocalRepo:
    """The local checkout of the session's cwd, if it still exists and has ``commit``."""
    if not is_commit(commit):
        raise SnapshotError("no git commit was recorded for the session")
    if not cwd or not cwd.startswith("/") or not os.path.isdir(cwd):
        raise SnapshotError("the session's working directory does not exist on this machine")
    top = _git(["rev-parse", "--show-toplevel"], cwd).decode().strip()
    prefix = _git(["rev-parse", "--show-prefix"], cwd).decode().strip().strip("/")
    try:
        full = _git(["rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], top).decode().strip()
    except SnapshotError as exc:
        raise SnapshotError(f"the local repository does not have commit {commit}") from exc
    return LocalRepo(top=top, prefix=prefix, commit=full)


def _entries(repo: LocalRepo) -> list[tuple[str, str, str, int, str]]:
    raw = _git(["ls-tree", "-r", "-l", "-z", "--full-tree", repo.commit], repo.top)
    out = []
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, path_b = item.partition(b"\t")
        mode, kind, sha, size = meta.decode().split()
        try:
            path = path_b.decode("utf-8")
        except UnicodeDecodeError:
            path = ""
        out.append((mode, kind, sha, int(size) if size.isdigit() else 0, path))
    return out


def _blobs(repo: LocalRepo, shas: list[str]) -> dict[str, bytes]:
    if not shas:
        return {}
    raw = _git(["cat-file", "--batch"], repo.top, ("\n".join(shas) + "\n").encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    while pos < len(raw):
        end = raw.index(b"\n", pos)
        fields = raw[pos:end].decode().split()
        if len(fields) != 3:  # "<sha> missing"
            pos = end + 1
            continue
        sha, size = fields[0], fields[2]
        start = end + 1
        blobs[sha] = raw[start : start + int(size)]
        pos = start + int(size) + 1
    return blobs


def scrub(data: bytes) -> tuple[bytes, str]:
    """One file's content without credentials: (content, "") with ``data`` itself when nothing was found, the
    redacted content when something was, or (b"", why) when the file must be left out."""
    if b"\0" in data[:8000]:
        if len(data) > MAX_BINARY_BYTES:
            return b"", "large binary"
        if contains_secret(data.decode("latin-1")):
            return b"", "binary file containing a credential"
        return data, ""
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"  # any 8-bit text, byte for byte
    if not contains_secret(text):
        return data, ""
    out = redact(text)
    if contains_secret(out):  # pragma: no cover - redact() is idempotent; fail closed all the same
        return b"", "credential that could not be redacted"
    return out.encode(encoding), ""


def build_snapshot(repo: LocalRepo, max_total: int = MAX_TOTAL_BYTES) -> Snapshot:
    """``repo.tar.gz`` of ``repo.commit`` with secret files, large files and submodules left out."""
    snap = Snapshot(data=b"")
    keep: list[tuple[str, str, str, int, str]] = []
    for entry in _entries(repo):
        mode, kind, _sha, size, path = entry
        why = None
        if not path:
            why = "non-UTF-8 file name"
        elif contains_secret(path):
            why = "credential in the file name"
        elif kind == "commit":
            why = "submodule"
        elif is_secret_file(path):
            why = "secret file"
        elif size > MAX_FILE_BYTES:
            why = "large file"
        if why:
            snap.excluded.append((path or "?", why))
            continue
        keep.append(entry)
    if sum(e[3] for e in keep) > max_total:
        raise SnapshotError(f"the repository at this commit exceeds the snapshot cap of {max_total // 2**20} MiB")
    blobs = _blobs(repo, sorted({e[2] for e in keep}))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for mode, _kind, sha, _size, path in keep:
            data = blobs.get(sha, b"")
            info = tarfile.TarInfo(path)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if mode == "120000":
                target = data.decode("utf-8", "replace")
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
                if target.startswith("/") or resolved.startswith(".."):
                    snap.excluded.append((path, "symlink out of the repository"))
                    continue
                if contains_secret(target):
                    snap.excluded.append((path, "credential in a symlink target"))
                    continue
                info.type = tarfile.SYMTYPE
                info.linkname = target
                tar.addfile(info)
                continue
            cleaned, why = scrub(data)
            if why:
                snap.excluded.append((path, why))
                continue
            if cleaned is not data:
                data = cleaned
                snap.redacted.append(path)
            info.mode = 0o755 if mode == "100755" else 0o644
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            snap.files += 1
            snap.size += len(data)
    snap.data = gzip.compress(buf.getvalue(), mtime=0)
    return snap
