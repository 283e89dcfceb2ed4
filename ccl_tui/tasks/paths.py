"""Session paths made safe for a task: repository-relative paths, task names, and commands that do not point
at the user's real checkout.

Everything here handles untrusted text (paths and commands recorded in a session).
"""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ccl_tui.text.shell import closing

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
    if not workdir or not cwd:
        return "."
    workdir, cwd = posixpath.normpath(workdir), posixpath.normpath(cwd)  # /a//b, /a/./b, /a/x/../b
    if workdir == cwd:
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


# ----------------------------------------------------------------------------------------------------------
# Paths inside a recorded shell command
# ----------------------------------------------------------------------------------------------------------
# A small shell lexer: enough to find every spelling of a path in a command (quoted, ~, $HOME, ${HOME}, //, ..)
# and to rewrite it without changing what the command means. Words become cells: one literal character each,
# or one marker for a ``~user`` prefix, a ``$VAR``/``${VAR}`` reference or an opaque ``$(...)``/backtick
# substitution (whose text is lexed on its own).

_TILDE, _VAR, _SUBST = "\0~", "\0$", "\0("
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USER = re.compile(r"[A-Za-z0-9._-]*")
_SEPARATORS = frozenset(" \t\r\n;&|()<>")
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_.-]+))")
#: Literal characters after which a path may start inside a word (``--root=/x``, ``PATH=/a:/b``, code strings).
_PATH_LEAD = frozenset("=:\"'(,[{ \t\n")
#: Characters that end a path found inside a word (code strings, lists).
_PATH_END = frozenset(" \t\r\n\"'`,;)(]}[{:")


@dataclass(slots=True)
class _Cell:
    ch: str  # one literal character, or _TILDE / _VAR / _SUBST
    start: int  # span in the command text
    end: int
    ctx: str | None  # the quoting it was read in: None, "'" or '"'
    name: str = ""  # the user of ~user, the variable's name


def _lex(s: str, base: int = 0) -> list[list[_Cell]]:
    """The words of ``s`` as cells (spans offset by ``base``); substitutions contribute their own words."""
    words: list[list[_Cell]] = []
    cur: list[_Cell] = []
    ctx: str | None = None
    ctx_now: str | None = None  # the quoting a ``$`` was read in (for dollar())
    i, n = 0, len(s)

    def dollar(i: int, quoting: str | None = None) -> int:
        """Read ``$...`` at ``i`` into ``cur``; returns the index after it."""
        ctx = quoting or ctx_now
        nxt = s[i + 1 : i + 2]
        if nxt == "(" and ctx != "'" and ctx != "H":
            end = closing(s, i + 1, "(", ")")
            inner = s[i + 2 : end - 1]
            words.extend(_lex(inner.lstrip("("), base + i + 2 + (len(inner) - len(inner.lstrip("(")))))
            cur.append(_Cell(_SUBST, base + i, base + end, ctx))
            return end
        if nxt == "{":
            end = s.find("}", i + 2)
            end = n if end < 0 else end + 1
            m = _NAME.match(s, i + 2)
            cur.append(_Cell(_VAR, base + i, base + end, ctx, m.group() if m else s[i + 2 : i + 3]))
            return end
        m = _NAME.match(s, i + 1)
        if m:
            cur.append(_Cell(_VAR, base + i, base + m.end(), ctx, m.group()))
            return m.end()
        if nxt and nxt in "0123456789@*#?$!-":
            cur.append(_Cell(_VAR, base + i, base + i + 2, ctx, nxt))
            return i + 2
        cur.append(_Cell("$", base + i, base + i + 1, ctx))
        return i + 1

    def backtick(i: int) -> int:
        j = i + 1
        while j < n and s[j] != "`":
            j += 2 if s[j] == "\\" else 1
        words.extend(_lex(s[i + 1 : min(j, n)], base + i + 1))
        cur.append(_Cell(_SUBST, base + i, base + min(j + 1, n), ctx))
        return j + 1

    heredocs: list[tuple[str, bool, bool]] = []  # (delimiter, quoted, strip tabs) waiting for the next line

    def heredoc_bodies(i: int) -> int:
        """Read the bodies of pending here-documents starting at ``i`` (just past a newline) as one word each:
        a quoted delimiter makes the body literal ("H"), an unquoted one expands variables in it ("h")."""
        nonlocal cur
        for delimiter, quoted, tabs in heredocs:
            body: list[_Cell] = []
            while i < n:
                nl = s.find("\n", i)
                line_end = n if nl < 0 else nl
                line = s[i:line_end]
                if (line.lstrip("\t") if tabs else line) == delimiter:
                    i = min(line_end + 1, n)
                    break
                j = i
                while j < line_end + (1 if nl >= 0 else 0):
                    if s[j] == "$" and (s[j + 1 : j + 2] == "{" or _NAME.match(s, j + 1)):
                        cur = body  # expanded by this shell ("h") or by the one reading the document ("H")
                        j = dollar(j, "H" if quoted else "h")
                        continue
                    body.append(_Cell(s[j], base + j, base + j + 1, "H" if quoted else "h"))
                    j += 1
                i = j
            if body:
                words.append(body)
        heredocs.clear()
        cur = []
        return i

    while i < n:
        c = s[i]
        if ctx is None:
            if c == "<" and s.startswith("<<", i) and not s.startswith("<<<", i):
                m = _HEREDOC.match(s, i)
                if m:
                    delimiter = m.group(2) or m.group(3) or m.group(4) or ""
                    heredocs.append((delimiter, m.group(4) is None, m.group(1) == "-"))
                    if cur:
                        words.append(cur)
                        cur = []
                    i = m.end()
                    continue
            if c in _SEPARATORS:
                if cur:
                    words.append(cur)
                    cur = []
                i += 1
                if c == "\n" and heredocs:
                    i = heredoc_bodies(i)
            elif c == "#" and not cur:
                nl = s.find("\n", i)
                i = n if nl < 0 else nl
            elif c == "\\":
                if s[i + 1 : i + 2] == "\n":
                    i += 2
                else:
                    cur.append(_Cell(s[i + 1 : i + 2], base + i, base + min(i + 2, n), None))
                    i += 2
            elif c in "'\"":
                ctx = c
                i += 1
            elif c == "~" and (not cur or cur[-1].ch in "=:"):
                m = _USER.match(s, i + 1)
                end = m.end() if m else i + 1
                cur.append(_Cell(_TILDE, base + i, base + end, None, s[i + 1 : end]))
                i = end
            elif c == "$":
                ctx_now = None
                i = dollar(i)
            elif c == "`":
                i = backtick(i)
            else:
                cur.append(_Cell(c, base + i, base + i + 1, None))
                i += 1
        elif ctx == "'":
            if c == "'":
                ctx = None
                i += 1
            elif c == "$" and (s[i + 1 : i + 2] == "{" or _NAME.match(s, i + 1)):
                ctx_now = "'"  # literal here, but a nested shell (bash -c '...') expands it
                i = dollar(i)
            else:
                cur.append(_Cell(c, base + i, base + i + 1, "'"))
                i += 1
        else:
            if c == '"':
                ctx = None
                i += 1
            elif c == "\\" and s[i + 1 : i + 2] in ('"', "\\", "$", "`"):
                cur.append(_Cell(s[i + 1], base + i, base + i + 2, '"'))
                i += 2
            elif c == "$":
                ctx_now = '"'
                i = dollar(i)
            elif c == "`":
                i = backtick(i)
            else:
                cur.append(_Cell(c, base + i, base + i + 1, '"'))
                i += 1
    if cur:
        words.append(cur)
    return words


@dataclass(slots=True)
class PathRef:
    """A path written in a command: its cells and where it starts and ends in the command text."""

    cells: list[_Cell]
    embedded: bool  # found inside a word (code, a list) rather than as a word or an assignment's value

    @property
    def start(self) -> int:
        return self.cells[0].start

    @property
    def end(self) -> int:
        return self.cells[-1].end

    def has_parent_step(self) -> bool:
        """A relative path with a ``..`` segment (it may climb out of the directory it starts from)."""
        text = "".join(c.ch if len(c.ch) == 1 else "\0" for c in self.cells)
        return ".." in text.split("/")

    def spelling(self, command: str) -> str:
        return command[self.start : self.end]

    def expand(
        self, var: Callable[[str], str | None], home: Callable[[str], str | None], upto: int | None = None
    ) -> str | None:
        """The path with ``~``/variables replaced (None when one cannot be known)."""
        out: list[str] = []
        for cell in self.cells[:upto]:
            if cell.ch == _TILDE:
                value = home(cell.name)
            elif cell.ch == _VAR:
                value = var(cell.name)
            elif cell.ch == _SUBST:
                value = None
            else:
                value = cell.ch
            if value is None:
                return None
            out.append(value)
        return "".join(out)


def _starts_path(cells: list[_Cell], i: int) -> bool | None:
    """Whether a path starts at cell ``i``: None if not, else whether it is embedded in the word."""
    cell = cells[i]
    prev = cells[i - 1].ch if i else ""
    if i == 0 or prev in "=:":
        if cell.ch == "/" and prev == ":" and i + 1 < len(cells) and cells[i + 1].ch == "/":
            return None  # scheme://host
        return False  # a word, an assignment's value, an item of a PATH-like list (kept if it looks like a path)
    if cell.ch not in ("/", _TILDE, _VAR, ".", "~"):
        return None
    if cell.ch in ("/", _TILDE, _VAR) and cells[0].ch == "-" and all(c.ch not in "/=" for c in cells[:i]):
        return False  # -C/path, -I~/include
    if prev in _PATH_LEAD and cells[i - 1].ctx is not None:
        return True  # inside a quoted string: code, a message
    return None


def path_refs(command: str) -> list[PathRef]:
    """Every place in ``command`` that may name a path: absolute, ``~``/variable-based, or relative with ``.``."""
    refs: list[PathRef] = []
    for word in _lex(command):
        i = 0
        while i < len(word):
            embedded = _starts_path(word, i)
            if embedded is None:
                i += 1
                continue
            j = i + 1
            while j < len(word):
                ch = word[j].ch
                if ch == _SUBST or ch == ":" or (embedded and ch in _PATH_END):
                    break
                j += 1
            cells = word[i:j]
            if cells[0].ch == "~" and cells[0].ctx is not None:  # bash -c 'cd ~/x': the nested shell expands it
                k = 1
                while k < len(cells) and len(cells[k].ch) == 1 and cells[k].ch != "/" and _USER.fullmatch(cells[k].ch):
                    k += 1
                name = "".join(c.ch for c in cells[1:k])
                cells = [_Cell(_TILDE, cells[0].start, cells[k - 1].end, cells[0].ctx, name), *cells[k:]]
            ref = PathRef(cells, embedded)
            if ref.cells[0].ch in ("/", _TILDE, _VAR) or ref.has_parent_step():
                refs.append(ref)
                i = j
            else:
                i += 1  # not a path here: one may still start further in (--root=/x, PATH=a:/b, code)
    return refs


def home_dirs(cwd: str | None = None) -> list[str]:
    """Where ``~`` may have pointed when the session ran: this user's home, and the home the session's working
    directory lies in (``/home/<user>``, ``/Users/<user>``, ``/root``)."""
    homes = [os.path.expanduser("~")]
    m = re.match(r"^(/home/[^/]+|/Users/[^/]+|/root)(?:/|$)", cwd or "")
    if m:
        homes.append(m.group(1))
    return [h for h in dict.fromkeys(homes) if h.startswith("/") and h != "/"]


def _user_home(user: str, homes: list[str]) -> list[str]:
    if not user:
        return homes
    known = os.path.expanduser("~" + user)
    guesses = [known] if known.startswith("/") else []
    return [*guesses, f"/home/{user}", f"/Users/{user}"]


def same_dir(path: str, root: str) -> bool:
    """``path`` names ``root``: equal once normalised (``//``, ``/./``, ``..``), or the same directory on disk
    (a symlink to it)."""
    if os.path.normpath(path) == os.path.normpath(root):
        return True
    try:
        return os.path.realpath(path) == os.path.realpath(root) and os.path.isdir(root)
    except (OSError, ValueError):
        return False


def _splice(var: str, s0: str | None, s1: str | None) -> str | None:
    """Text that expands to ``${var}`` where the replaced span began in quoting ``s0`` and ended in ``s1``
    (None inside a quoted here-document, where nothing expands)."""
    if "H" in (s0, s1):
        return None
    if s0 == s1 == "h":
        return f"${{{var}}}"
    if s0 == s1 == '"':
        return f"${{{var}}}"
    if s0 == s1 == "'":
        return f"'\"${{{var}}}\"'"
    return (s0 or "") + f'"${{{var}}}"' + (s1 or "")


def portable_command(command: str, cwd: str | None, var: str = "CCL_REPO_ROOT") -> str:
    """Rewrite every reference to the session's ``cwd`` in ``command`` to ``$CCL_REPO_ROOT``.

    A command recorded as ``cd /home/me/src/app && pytest`` must run in the task's copy, never in the user's
    real checkout, however it spells the directory: quoted, as ``~/src/app``, ``$HOME/src/app``,
    ``${HOME}/src/app``, ``/home/me//src/app``, ``/home/me/x/../src/app`` or through a symlink. The longest
    leading part of each path (up to a ``/``) that names ``cwd`` is replaced, so ``.../app/tests`` keeps
    ``/tests``. The variable is inserted so that it expands in every quoting context: unquoted as
    ``"${VAR}"``, inside double quotes as ``${VAR}``, inside single quotes by closing and reopening them.
    What still points outside the copy is refused when the task is run locally (check.py).
    """
    root = (cwd or "").rstrip("/")
    if not root.startswith("/") or len(root) < 2:
        return command
    homes = home_dirs(cwd)

    def var_value(name: str) -> str | None:
        return None  # other variables are not known when the task is written

    edits: list[tuple[int, int, str]] = []
    for ref in path_refs(command):
        cells = ref.cells
        first = cells[0]
        home_names = (first.name,) if first.ch == _TILDE else ()
        if first.ch == _VAR and first.name == "HOME":
            home_names = ("",)
        candidates = _user_home(home_names[0], homes) if home_names else [""]
        best = 0
        for home in candidates:

            def var_of(n: str, h: str = home) -> str | None:
                return h if n == "HOME" and h else var_value(n)

            def user_of(_u: str, h: str = home) -> str | None:
                return h or None

            for k in range(len(cells), 0, -1):
                if k < len(cells) and cells[k].ch != "/":
                    continue
                value = ref.expand(var_of, user_of, k)
                if value and value.startswith("/") and same_dir(value, root):
                    best = max(best, k)
                    break
        if best:
            end_cell = cells[best - 1]
            text = _splice(var, first.ctx, end_cell.ctx)
            if text is not None:
                edits.append((first.start, end_cell.end, text))
    out = command
    for s, e, text in sorted(edits, reverse=True):
        out = out[:s] + text + out[e:]
    return out


#: git with the repository's own hooks and fsmonitor switched off: a checkout ccl-tui touches never runs its code.
SAFE_GIT = ("git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
