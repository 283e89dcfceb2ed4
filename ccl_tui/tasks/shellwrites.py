"""What a recorded shell command did to files: writes whose content is in the log, and changes that are not.

A task's start state is the recorded commit plus the session's own edits up to the failure. apply_patch calls
carry their diff; a file written by a simple shell redirection carries its content in the command itself, so it
can be replayed too:

* ``cat > f <<'EOF' … EOF``, ``cat <<EOF > f``, ``cat >> f <<EOF`` (a here-document; an unquoted delimiter is
  literal only while its body has no ``$``/backtick expansion), ``cat > f <<< 'text'``;
* ``printf 'fmt' args > f`` (``%s``, ``%d``, ``%%`` and the usual escapes), ``echo [-n] [-e] words > f``;
* ``tee [-a] f <<EOF`` and ``producer | tee f`` with one of the producers above; ``: > f`` and ``> f``;
* after ``cd DIR &&`` (relative or absolute, literal), in ``bash -c '…'`` strings too.

Everything else that changes files is reported as *unreplayable* with a short description: ``sed -i``,
``perl -i``, ``rm``/``mv``/``cp``/``touch``/``chmod``, ``git checkout|restore|reset --hard|stash|apply…``,
formatters that write (``black``, ``prettier --write``, ``ruff --fix``, ``cargo fmt``…), dependency manifest
edits (``npm install <pkg>``, ``uv add``, ``cargo add``, ``go get``…), output of any other program redirected
into a file, writes under ``if``/loops/``||`` (they may not have run) and writes whose path or content needs
expansion. Paths of those changes are kept when literal, so the caller can ignore changes outside the
repository (``/tmp``) and in build output (``node_modules``, ``__pycache__``…).

Nothing here runs anything: the command is only read.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ccl_tui.signals.signature import prefix_length
from ccl_tui.text.shell import closing

#: Directory names whose content is never part of a repository's tracked state.
IGNORED_DIRS = frozenset(
    {
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        "dist",
        "build",
        "target",
        "coverage",
        ".coverage",
        ".next",
        ".turbo",
        ".cache",
        ".parcel-cache",
        "htmlcov",
        ".gradle",
        ".eggs",
    }
)
#: Output files whose content does not matter to a check (logs a command's output was saved to).
LOG_SUFFIXES = (".log", ".out")

_OPERATOR_CHARS = frozenset(";&|()<>\n")
_KEYWORDS_OPEN = frozenset({"if", "for", "while", "until", "case", "select"})
_KEYWORDS_CLOSE = frozenset({"fi", "done", "esac"})
_KEYWORDS_PASS = frozenset({"then", "else", "elif", "do", "!", "{", "}", "in"})


@dataclass(slots=True)
class Word:
    text: str  # the value after quote removal (meaningful only when ``literal``)
    literal: bool  # no expansion, glob or substitution: the value is exactly ``text``
    raw: str  # as written


@dataclass(slots=True)
class _Redir:
    op: str  # > >> >| < << <<- <<< &> &>> >& <&
    fd: int | None
    target: Word | None
    body: str | None = None  # here-document / here-string content (None: not literal or not a heredoc)
    body_literal: bool = True
    terminated: bool = True


@dataclass(slots=True)
class _Simple:
    words: list[Word] = field(default_factory=list)
    redirs: list[_Redir] = field(default_factory=list)


@dataclass(slots=True)
class Write:
    """A file written with content known from the command (``append``: added at its end)."""

    path: str  # literal, relative to ``base`` (or absolute)
    content: str
    append: bool
    base: str  # directory the command was in after ``cd``: "" (where it started), relative, or absolute
    leading: bool  # nothing that could have failed ran before it in the command


@dataclass(slots=True)
class Change:
    """A change to files the log does not hold the content of (``paths`` empty: unknown)."""

    what: str  # short description, e.g. "sed -i" or "output of python redirected into gen.py"
    paths: list[str] = field(default_factory=list)
    base: str = ""
    known_paths: bool = True  # False: it may touch files whose names are not literal


@dataclass(slots=True)
class Effects:
    writes: list[Write] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    redirect_targets: list[str] = field(default_factory=list)  # every literal file a redirection writes


# ----------------------------------------------------------------------------------------------------------
# Lexing
# ----------------------------------------------------------------------------------------------------------


class _Lexer:
    def __init__(self, s: str) -> None:
        self.s = s
        self.n = len(s)
        self.i = 0
        self.items: list[object] = []  # Word | _Redir | str (operator)
        self.pending: list[_Redir] = []  # heredocs waiting for the next newline

    def run(self) -> list[object]:
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and s[self.i + 1 : self.i + 2] == "\n":
                self.i += 2
            elif c == "#" and (self.i == 0 or s[self.i - 1] in " \t\n;&|()"):
                nl = s.find("\n", self.i)
                self.i = self.n if nl < 0 else nl
            elif c == "\n":
                self.items.append("\n")
                self.i += 1
                if self.pending:
                    self._bodies()
            elif c in "<>" or (c == "&" and s[self.i + 1 : self.i + 2] == ">"):
                self._redir(None)
            elif c in ";&|()":
                two = s[self.i : self.i + 2]
                op = two if two in ("&&", "||", ";;", "|&") else c
                self.items.append(op)
                self.i += len(op)
            else:
                start = self.i
                word = self._word()
                if word.raw.isdigit() and self.i < self.n and s[self.i] in "<>" and self.i == start + len(word.raw):
                    self._redir(int(word.raw))
                else:
                    self.items.append(word)
        return self.items

    def _redir(self, fd: int | None) -> None:
        s = self.s
        for op in ("&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<<", "<>", ">", "<"):
            if s.startswith(op, self.i):
                break
        self.i += len(op)
        while self.i < self.n and s[self.i] in " \t":
            self.i += 1
        target = self._word() if self.i < self.n and s[self.i] not in _OPERATOR_CHARS else None
        r = _Redir(op, fd, target)
        if op in ("<<", "<<-"):
            if target is None:
                r.body_literal = False
            else:
                r.body_literal = any(q in target.raw for q in "'\"\\")  # quoted delimiter: a literal body
            self.pending.append(r)
        elif op == "<<<":
            r.body = (target.text + "\n") if target is not None and target.literal else None
        self.items.append(r)

    def _bodies(self) -> None:
        s = self.s
        for r in self.pending:
            delim = r.target.text if r.target is not None else ""
            lines: list[str] = []
            r.terminated = False
            while self.i < self.n:
                nl = s.find("\n", self.i)
                end = self.n if nl < 0 else nl
                line = s[self.i : end]
                self.i = end + 1 if nl >= 0 else self.n
                check = line.lstrip("\t") if r.op == "<<-" else line
                if check.rstrip("\r") == delim:
                    r.terminated = True
                    break
                lines.append(check)
            body = "".join(line + "\n" for line in lines)
            if not r.body_literal:  # an unquoted delimiter: literal only without expansions
                decoded = _unquoted_heredoc(body)
                r.body, r.body_literal = (decoded, True) if decoded is not None else (None, False)
            else:
                r.body = body
            if not r.terminated:
                r.body_literal = False
        self.pending = []

    def _word(self) -> Word:
        s = self.s
        out: list[str] = []
        literal = True
        start = self.i
        first = True
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r" or c in _OPERATOR_CHARS:
                break
            if c == "'":
                end = s.find("'", self.i + 1)
                end = self.n if end < 0 else end
                out.append(s[self.i + 1 : end])
                self.i = end + 1
            elif c == '"':
                j = self.i + 1
                while j < self.n and s[j] != '"':
                    if s[j] == "\\" and j + 1 < self.n and s[j + 1] in '"\\$`\n':
                        if s[j + 1] != "\n":
                            out.append(s[j + 1])
                        j += 2
                        continue
                    if s[j] in "$`":
                        literal = False
                    out.append(s[j])
                    j += 1
                self.i = j + 1
            elif c == "$" and s[self.i + 1 : self.i + 2] == "'":
                j = self.i + 2
                buf: list[str] = []
                while j < self.n and s[j] != "'":
                    if s[j] == "\\" and j + 1 < self.n:
                        esc = _ANSI_C.get(s[j + 1])
                        if esc is None:
                            literal = False
                            esc = s[j + 1]
                        buf.append(esc)
                        j += 2
                        continue
                    buf.append(s[j])
                    j += 1
                out.append("".join(buf))
                self.i = j + 1
            elif c == "$":
                literal = False
                nxt = s[self.i + 1 : self.i + 2]
                if nxt in ("(", "{"):
                    self.i = closing(s, self.i + 1, nxt, ")" if nxt == "(" else "}")
                else:
                    m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]").match(s, self.i + 1)
                    self.i = m.end() if m else self.i + 1
                out.append("$")
            elif c == "`":
                literal = False
                j = self.i + 1
                while j < self.n and s[j] != "`":
                    j += 2 if s[j] == "\\" else 1
                self.i = j + 1
            elif c == "\\":
                if self.i + 1 < self.n:
                    out.append(s[self.i + 1])
                self.i += 2
            else:
                rest = re.match(r"[^\s;&|()<>]*", s[self.i :])
                tail = rest.group(0) if rest else ""
                if c in "*?" or (c == "[" and "]" in tail[1:]) or (c == "~" and first) or (c == "{" and "," in tail):
                    literal = False
                out.append(c)
                self.i += 1
            first = False
        return Word("".join(out), literal, s[start : self.i])


_ANSI_C = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    "E": "\x1b",
}


def _unquoted_heredoc(body: str) -> str | None:
    """The text of an unquoted here-document, or None when it expands something (``$``, backticks)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in "$`\\\n":
            if body[i + 1] != "\n":
                out.append(body[i + 1])
            i += 2
            continue
        if c in "$`":
            return None
        out.append(c)
        i += 1
    return "".join(out)


# ----------------------------------------------------------------------------------------------------------
# Content producers
# ----------------------------------------------------------------------------------------------------------

_PRINTF_ESC = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}


def _escapes(text: str) -> str | None:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in _PRINTF_ESC:
                out.append(_PRINTF_ESC[nxt])
                i += 2
                continue
            return None
        out.append(c)
        i += 1
    return "".join(out)


def printf_text(fmt: str, args: list[str]) -> str | None:
    """What ``printf fmt args…`` prints, for ``%s``, ``%d``, ``%%`` and simple escapes; None otherwise."""
    base = _escapes(fmt)
    if base is None:
        return None
    parts = re.split(r"(%%|%[-+ 0#]*\d*(?:\.\d+)?[a-zA-Z])", base)
    directives = [p for p in parts[1::2] if p != "%%"]
    if any(d[-1] not in "sd" or len(d) > 2 for d in directives):
        return None
    out: list[str] = []
    queue = list(args)
    while True:
        for k, p in enumerate(parts):
            if k % 2 == 0:
                out.append(p)
            elif p == "%%":
                out.append("%")
            else:
                value = queue.pop(0) if queue else ""
                if p[-1] == "d":
                    if value and not re.fullmatch(r"[-+]?\d+", value):
                        return None
                    value = str(int(value)) if value else "0"
                out.append(value)
        if not queue or not directives:
            break
    return "".join(out)


def _echo_text(args: list[Word]) -> str | None:
    newline, escapes = True, False
    i = 0
    while i < len(args) and re.fullmatch(r"-[neE]+", args[i].text) and args[i].literal:
        flags = args[i].text[1:]
        newline = newline and "n" not in flags
        escapes = ("e" in flags) or (escapes and "E" not in flags)
        i += 1
    if not all(a.literal for a in args[i:]):
        return None
    text = " ".join(a.text for a in args[i:])
    if escapes:
        decoded = _escapes(text)
        if decoded is None:
            return None
        text = decoded
    return text + ("\n" if newline else "")


def _stdin_body(cmd: _Simple) -> tuple[bool, str | None]:
    """(has a here-document/string on stdin, its literal text or None)."""
    for r in cmd.redirs:
        if r.op in ("<<", "<<-", "<<<") and (r.fd in (None, 0)):
            return True, r.body if r.body_literal else None
    return False, None


def _produced(cmd: _Simple, prog: str, args: list[Word]) -> tuple[bool, str | None]:
    """(``cmd`` is a content producer ccl-tui understands, what it prints or None when not literal)."""
    if prog == "cat":
        has_body, body = _stdin_body(cmd)
        files = [a for a in args if a.text != "-" and not (a.literal and a.text.startswith("-"))]
        if has_body and not files:
            return True, body
        return False, None
    if prog == "echo":
        return True, _echo_text(args)
    if prog == "printf":
        if not args or not all(a.literal for a in args):
            return True, None
        rest = args[1:] if args[0].text != "--" else args[2:]
        fmt = args[0].text if args[0].text != "--" else (args[1].text if len(args) > 1 else "")
        return True, printf_text(fmt, [a.text for a in rest])
    if prog in (":", "true") and not args:
        return True, ""
    if prog == "" and not args:
        return True, ""  # "> f" alone truncates
    return False, None


# ----------------------------------------------------------------------------------------------------------
# Commands that change files without leaving their content in the log
# ----------------------------------------------------------------------------------------------------------

_FILE_PROGRAMS = {
    "rm": "rm",
    "mv": "mv",
    "cp": "cp",
    "ln": "ln",
    "touch": "touch",
    "truncate": "truncate",
    "chmod": "chmod",
    "install": "install",
    "patch": "patch",
    "unzip": "unzip",
    "rsync": "rsync",
    "dd": "dd",
}
_GIT_MUTATING = frozenset(
    {
        "checkout",
        "restore",
        "stash",
        "apply",
        "am",
        "merge",
        "rebase",
        "pull",
        "cherry-pick",
        "revert",
        "switch",
        "mv",
        "rm",
        "clean",
    }
)
_FORMATTERS = {  # program -> (flags that make it write, flags that make it read-only); () = writes by default
    "black": ((), ("--check", "--diff")),
    "isort": ((), ("--check", "--check-only", "-c", "--diff")),
    "autopep8": (("-i", "--in-place"), ()),
    "yapf": (("-i", "--in-place"), ()),
    "prettier": (("--write", "-w"), ()),
    "eslint": (("--fix",), ()),
    "gofmt": (("-w",), ()),
    "goimports": (("-w",), ()),
    "rustfmt": ((), ("--check",)),
    "clang-format": (("-i",), ()),
    "stylua": ((), ("--check",)),
    "shfmt": (("-w",), ()),
}
_MANIFEST_EDITS = {
    "npm": ("install", "i", "add", "uninstall", "remove", "rm", "un", "version"),
    "yarn": ("add", "remove", "upgrade"),
    "pnpm": ("add", "remove", "rm", "up", "update"),
    "bun": ("add", "remove"),
    "uv": ("add", "remove", "lock"),
    "poetry": ("add", "remove", "lock"),
    "cargo": ("add", "remove", "fmt"),
    "go": ("get", "fmt"),
    "pipenv": ("install", "uninstall"),
}
_RUNNERS = {"npx": 0, "bunx": 0, "pnpx": 0, "uvx": 0}


def _program(words: list[Word]) -> tuple[str, list[Word]]:
    """The program and its arguments, with assignments, wrappers and runners skipped."""
    i = 0
    while i < len(words):
        w = words[i]
        name = posixpath.basename(w.text) if w.literal else w.text
        skip = prefix_length([x.text for x in words[i:]]) if w.literal else 0
        if skip:  # assignments, keywords and wrappers with their flags: the same rules as failure signatures
            i += skip
        elif w.literal and w.text in _KEYWORDS_PASS:
            i += 1
        elif w.literal and name in _RUNNERS:
            i += 1
            while i < len(words) and words[i].text.startswith("-"):
                i += 1
        elif (
            w.literal
            and name in ("uv", "poetry", "pdm", "pipenv", "hatch")
            and i + 1 < len(words)
            and words[i + 1].text == "run"
        ):
            i += 2
            while i < len(words) and words[i].text.startswith("-"):
                i += 1
        elif (
            w.literal
            and i + 1 < len(words)
            and (
                (name in ("pnpm", "yarn", "bun") and words[i + 1].text in ("exec", "dlx"))
                or (re.fullmatch(r"python[0-9.]*", name) is not None and words[i + 1].text == "-m")
            )
        ):
            i += 2
        else:
            break
    if i >= len(words):
        return "", []
    head = words[i]
    prog = posixpath.basename(head.text) if head.literal else "?"
    return prog, words[i + 1 :]


def _mutation(prog: str, args: list[Word]) -> Change | None:
    texts = [a.text for a in args]
    opts = [t for t in texts if t.startswith("-")]
    operands = [a for a in args if not (a.literal and a.text.startswith("-"))]
    paths = [a.text for a in operands if a.literal]
    known = all(a.literal for a in operands)
    if prog == "sed" and any(
        t == "--in-place" or t.startswith("--in-place=") or re.fullmatch(r"-[a-zA-Z]*i.*", t) for t in opts
    ):
        files = paths[1:] if not any(t in ("-e", "-f") or t.startswith(("-e", "--expression")) for t in opts) else paths
        return Change("sed -i", files, known_paths=known)
    if prog == "perl" and any(re.fullmatch(r"-[a-zA-Z]*i.*", t) for t in opts):
        return Change("perl -i", paths[1:] if "-e" not in " ".join(opts) else paths, known_paths=known)
    if prog in _FILE_PROGRAMS:
        if prog == "dd":
            outs = [t[3:] for t in texts if t.startswith("of=")]
            return Change("dd", outs, known_paths=bool(outs)) if outs else None
        if prog == "chmod":
            paths = paths[1:]
        if prog == "unzip":
            return Change("unzip", [], known_paths=False)
        return Change(prog, paths, known_paths=known)
    if prog == "tar" and texts and re.match(r"-?[a-zA-Z]*x", texts[0]):
        return Change("tar -x", [], known_paths=False)
    if prog == "git":
        sub_i = next((k for k, t in enumerate(texts) if not t.startswith("-")), None)
        if sub_i is None:
            return None
        sub, rest = texts[sub_i], texts[sub_i + 1 :]
        if sub == "reset" and "--hard" not in rest and "--merge" not in rest and "--keep" not in rest:
            return None
        if sub == "reset":
            return Change("git reset --hard", [], known_paths=False)
        if (
            sub in ("checkout", "switch")
            and any(t in ("-b", "-B", "-c", "-C", "--orphan") for t in rest)
            and len([t for t in rest if not t.startswith("-")]) <= 2
        ):
            return None  # a new branch at the same commit: the tree does not change
        if sub == "stash" and rest[:1] in (["list"], ["show"]):
            return None
        if sub in _GIT_MUTATING:
            files = [t for t in rest if not t.startswith("-")] if sub in ("mv", "rm") else []
            return Change(f"git {sub}", files, known_paths=sub in ("mv", "rm"))
        return None
    if prog in _FORMATTERS:
        writes, checks = _FORMATTERS[prog]
        if any(t in checks for t in opts) or (writes and not any(t in writes for t in opts)):
            return None
        return Change(prog, [], known_paths=False)
    if prog == "ruff":
        sub = texts[0] if texts else ""
        if sub == "format" and not any(t in ("--check", "--diff") for t in opts):
            return Change("ruff format", [], known_paths=False)
        if "--fix" in opts and "--no-fix" not in opts:
            return Change("ruff --fix", [], known_paths=False)
        return None
    if prog in ("biome", "@biomejs/biome") and any(
        t in ("--write", "--apply", "--apply-unsafe", "--fix") for t in opts
    ):
        return Change("biome --write", [], known_paths=False)
    if prog in _MANIFEST_EDITS:
        sub = next((t for t in texts if not t.startswith("-")), "")
        if sub in _MANIFEST_EDITS[prog]:
            if prog == "npm" and sub in ("install", "i") and len([t for t in texts if not t.startswith("-")]) < 2:
                return None  # a plain install: dependencies, not the repository
            if prog == "pipenv" and sub == "install" and len([t for t in texts if not t.startswith("-")]) < 2:
                return None
            if prog == "go" and sub == "fmt":
                return Change("go fmt", [], known_paths=False)
            if prog == "cargo" and sub == "fmt":
                return None if "--check" in opts else Change("cargo fmt", [], known_paths=False)
            return Change(f"{prog} {sub}", [], known_paths=False)
        if prog == "go" and texts[:2] == ["mod", "tidy"]:
            return Change("go mod tidy", [], known_paths=False)
    if prog == "find":
        if "-delete" in texts:
            return Change("find -delete", [], known_paths=False)
        for flag in ("-exec", "-execdir"):
            if flag in texts:
                k = texts.index(flag)
                inner = [Word(t, True, t) for t in texts[k + 1 :] if t not in (";", "+", "{}")]
                p, a = _program(inner)
                found = _mutation(p, a)
                if found is not None:
                    found.paths, found.known_paths = [], False  # the files find selects
                return found
    return None


# ----------------------------------------------------------------------------------------------------------
# Walking the command
# ----------------------------------------------------------------------------------------------------------


def _split(items: list[object]) -> list[tuple[str, list[_Simple]]]:
    """(connector before it, pipeline stages) for each pipeline; "(" and ")" come as their own entries."""
    out: list[tuple[str, list[_Simple]]] = []
    connector = ""
    stages: list[_Simple] = [_Simple()]

    def flush(next_connector: str) -> None:
        nonlocal stages, connector
        if any(s.words or s.redirs for s in stages):
            out.append((connector, [s for s in stages if s.words or s.redirs]))
        stages = [_Simple()]
        connector = next_connector

    for item in items:
        if isinstance(item, Word):
            stages[-1].words.append(item)
        elif isinstance(item, _Redir):
            stages[-1].redirs.append(item)
        elif item in ("|", "|&"):
            stages.append(_Simple())
        elif item in ("(", ")"):
            flush(connector if item == "(" else ";")
            out.append((item, []))
        else:
            flush(str(item))
    flush("")
    return out


def shell_effects(command: str, _depth: int = 0) -> Effects:
    """The writes and other file changes of ``command`` (see the module docstring)."""
    fx = Effects()
    if not command or _depth > 3:
        return fx
    base_stack: list[str] = []
    base = ""
    nesting = 0  # inside if/for/while/case: what runs there may not have run
    leading = True  # only writes, cd and mkdir so far
    for connector, stages in _split(_Lexer(command).run()):
        if connector == "(":
            base_stack.append(base)
            continue
        if connector == ")":
            base = base_stack.pop() if base_stack else base
            continue
        conditional = nesting > 0 or connector == "||"
        for st in stages:
            for w in st.words:  # keywords in command position only
                if not w.literal or w.text not in (_KEYWORDS_OPEN | _KEYWORDS_CLOSE | _KEYWORDS_PASS):
                    break
                if w.text in _KEYWORDS_OPEN:
                    nesting += 1
                elif w.text in _KEYWORDS_CLOSE:
                    nesting = max(0, nesting - 1)
        conditional = conditional or nesting > 0
        base, leading = _pipeline(stages, fx, base, conditional, leading, _depth)
    return fx


def _pipeline(
    stages: list[_Simple], fx: Effects, base: str, conditional: bool, leading: bool, depth: int
) -> tuple[str, bool]:
    last = len(stages) - 1
    content: str | None = None
    produced = False
    for k, st in enumerate(stages):
        prog, args = _program(st.words)
        if prog in ("bash", "sh", "zsh", "dash") and args:
            script = _shell_script(args)
            if script is not None:
                inner = shell_effects(script, depth + 1)
                for w in inner.writes:
                    w.base = _join(base, w.base)
                    w.leading = w.leading and leading
                    if conditional:
                        fx.changes.append(Change("a conditional write", [w.path], w.base))
                    else:
                        fx.writes.append(w)
                for c in inner.changes:
                    c.base = _join(base, c.base)
                    fx.changes.append(c)
                fx.redirect_targets.extend(inner.redirect_targets)
                leading = False
                continue
        if prog in ("cd", "pushd") and len(stages) == 1:
            target = next((a for a in args if not a.text.startswith("-")), None)
            if target is None or not target.literal:
                base = "\0"  # unknown directory: later writes cannot be placed
            else:
                base = _join(base, target.text)
            continue
        if prog == "popd":
            base = "\0"
            continue
        stdin_content: str | None = content if k > 0 and produced else None
        outs = [r for r in st.redirs if r.op in (">", ">>", ">|", "&>", "&>>") and r.fd in (None, 1)]
        errs = [r for r in st.redirs if r.op in (">", ">>", ">|") and r.fd not in (None, 0, 1)]
        for r in st.redirs:
            if r.target is not None and r.target.literal and r.op in (">", ">>", ">|", "&>", "&>>"):
                fx.redirect_targets.append(_join(base, r.target.text) if base != "\0" else r.target.text)
        if prog == "tee":
            files = [a for a in args if not (a.literal and a.text.startswith("-"))]
            append = any(a.text in ("-a", "--append") for a in args)
            has_body, body = _stdin_body(st)
            text = body if has_body else stdin_content if k > 0 else None
            known = has_body or (k > 0 and produced)
            for f in files:
                _record(fx, f, text if known else None, append, base, conditional, leading, "tee")
            content, produced = text, known
        else:
            if prog == "cat" and k > 0 and produced and not args and not _stdin_body(st)[0]:
                is_producer, text = True, content  # cat passes its input on
            else:
                is_producer, text = _produced(st, prog, args)
            if k < last:
                content, produced = text, is_producer
            for j, r in enumerate(outs):
                if r.target is None:
                    continue
                final = j == len(outs) - 1
                value = (text if final else "") if is_producer else None
                if r.op in ("&>", "&>>") and prog not in ("", ":", "true"):
                    value = None
                _record(
                    fx,
                    r.target,
                    value,
                    r.op in (">>", "&>>"),
                    base,
                    conditional,
                    leading,
                    f"output of {prog or 'a command'}",
                )
            for r in errs:
                if r.target is not None:
                    _record(fx, r.target, None, r.op == ">>", base, conditional, leading, f"errors of {prog}")
            change = _mutation(prog, args) if prog else None
            if change is not None:
                change.base = base
                fx.changes.append(change)
        if prog not in ("", ":", "true", "cat", "echo", "printf", "tee", "mkdir", "cd"):
            leading = False
    return base, leading


def _shell_script(args: list[Word]) -> str | None:
    for i, a in enumerate(args):
        if a.literal and a.text.startswith("-") and not a.text.startswith("--") and "c" in a.text[1:]:
            # Expansions in the script stay in its text ("$X" as written): the nested parse sees them as such.
            return args[i + 1].text if i + 1 < len(args) else None
        if not (a.literal and a.text.startswith(("-", "+"))):
            return None
    return None


def _join(base: str, path: str) -> str:
    if base == "\0" or path == "\0":
        return "\0"
    if path.startswith("/") or not base:
        return posixpath.normpath(path) if path else base
    return posixpath.normpath(posixpath.join(base, path))


def _record(
    fx: Effects, target: Word, content: str | None, append: bool, base: str, conditional: bool, leading: bool, what: str
) -> None:
    if not target.literal:
        if not target.raw.startswith(("/dev/", "&")):
            fx.changes.append(Change(f"{what} written to a computed path", [], base, known_paths=False))
        return
    path = target.text
    if path.startswith("/dev/") or path in ("-",) or path.startswith("&"):
        return
    if base == "\0":
        fx.changes.append(Change(f"{what} written after a cd ccl-tui cannot follow", [path], "", known_paths=False))
        return
    if content is None:
        fx.changes.append(Change(what + " redirected into a file", [path], base))
        return
    if conditional:
        fx.changes.append(Change("a write that may not have run (inside if/loop/||)", [path], base))
        return
    fx.writes.append(Write(path, content, append, base, leading))


def ignorable(rel: str) -> bool:
    """A repository-relative path whose content is not tracked state (build output, caches, logs)."""
    parts = rel.split("/")
    return any(p in IGNORED_DIRS for p in parts) or rel.endswith(LOG_SUFFIXES) or rel.endswith((".pyc", ".pyo"))


@dataclass(slots=True)
class Stage:
    """One simple command of a pipeline: its words (program first) and the files its redirections name."""

    words: list[Word]
    redirect_targets: list[Word]
    background: bool = False  # the pipeline it ends ran with ``&``


def pipelines(command: str) -> list[list[Stage]]:
    """The pipelines of ``command`` in order (here-document bodies are not words)."""
    out: list[list[Stage]] = []
    parts = _split(_Lexer(command).run())
    for k, (_connector, stages) in enumerate(parts):
        if not stages:
            continue
        nxt = parts[k + 1][0] if k + 1 < len(parts) else ""
        out.append(
            [
                Stage(
                    st.words,
                    [r.target for r in st.redirs if r.target is not None and r.op not in ("<<", "<<-", "<<<")],
                    nxt == "&",
                )
                for st in stages
            ]
        )
    return out


def program_of(words: list[Word]) -> tuple[str, list[Word]]:
    """The program of a simple command and its arguments (assignments, wrappers and runners skipped)."""
    return _program(words)
