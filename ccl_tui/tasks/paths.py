"""Session paths made safe for a task: repository-relative paths, task names, and commands that do not point
at the user's real checkout.

Everything here handles untrusted text (paths and commands recorded in a session).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Characters allowed in a path that is written into a Dockerfile instruction (no quoting exists there).
_DOCKER_SAFE = re.compile(r"[A-Za-z0-9._/+@-]+")
_HEX = re.compile(r"[0-9a-f]{7,64}")


def is_commit(value: str | None) -> bool:
    return bool(value) and _HEX.fullmatch(value or "") is not None


def rel_path(path: str, cwd: str | None) -> str | None:
    """``path`` relative to the session's ``cwd`` (the repository root), or None when it is unsafe.

    Absolute paths must lie under ``cwd``; the result never is absolute, never contains ``..``, control
    characters, backslashes or quotes, and is not empty.
    """
    if not path or _CONTROL.search(path) or "\\" in path or '"' in path:
        return None
    p = path.strip()
    if p != path:
        return None
    if p.startswith("/"):
        root = (cwd or "").rstrip("/")
        if not root.startswith("/") or not (p == root or p.startswith(root + "/")):
            return None
        p = p[len(root) + 1 :]
    norm = posixpath.normpath(p) if p else ""
    if not norm or norm == "." or norm.startswith("/") or any(part == ".." for part in norm.split("/")):
        return None
    return norm


def join_rel(prefix: str, rel: str) -> str:
    """Join two repository-relative paths ("" and "." mean the root)."""
    parts = [x for x in (prefix, rel) if x and x != "."]
    return posixpath.normpath("/".join(parts)) if parts else "."


def workdir_rel(workdir: str | None, cwd: str | None) -> str:
    """The directory a command ran in, relative to the session cwd ("." when it is the cwd or unknown)."""
    if not workdir or not cwd or workdir.rstrip("/") == cwd.rstrip("/"):
        return "."
    return rel_path(workdir, cwd) or "."


def docker_safe(path: str) -> bool:
    """A path that may appear unquoted in a Dockerfile instruction (WORKDIR, COPY)."""
    return bool(_DOCKER_SAFE.fullmatch(path)) and ".." not in path.split("/") and "$" not in path


def slug(text: str, limit: int = 48) -> str:
    """Lowercase ASCII words joined by ``-``: safe as a file or directory name on every OS."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = "-".join(words)[:limit].strip("-")
    return out


def task_name(*parts: str, limit: int = 64) -> str:
    """A task directory name from id and title parts: no separators, no dots, length-capped, never empty."""
    name = "-".join(p for p in (slug(x, limit) for x in parts) if p)[:limit].strip("-")
    return name or "task"


def portable_command(command: str, cwd: str | None, var: str = "CCL_REPO_ROOT") -> str:
    """Rewrite absolute references to the session's ``cwd`` in ``command`` to ``$CCL_REPO_ROOT``.

    A command recorded as ``cd /home/me/src/app && pytest`` must run in the task's copy, never in the user's
    real checkout. The variable is inserted so that it expands in every quoting context: unquoted as
    ``"${VAR}"``, inside double quotes as ``${VAR}``, inside single quotes by closing and reopening them.
    """
    root = (cwd or "").rstrip("/")
    if not root.startswith("/") or len(root) < 2 or root not in command:
        return command
    out: list[str] = []
    quote: str | None = None
    i, n = 0, len(command)
    while i < n:
        ch = command[i]
        if command.startswith(root, i):
            end = i + len(root)
            nxt = command[end] if end < n else ""
            if nxt in ("", "/", " ", "\t", "\n", ";", "&", "|", ")", "'", '"', ":"):
                if quote == "'":
                    out.append(f"'\"${{{var}}}\"'")
                elif quote == '"':
                    out.append(f"${{{var}}}")
                else:
                    out.append(f'"${{{var}}}"')
                i = end
                continue
        out.append(ch)
        if ch == "\\" and quote != "'" and i + 1 < n:
            out.append(command[i + 1])
            i += 2
            continue
        if quote is None and ch in ("'", '"'):
            quote = ch
        elif quote == ch:
            quote = None
        i += 1
    return "".join(out)
