"""Normalize one failure (command + output) into a stable signature used to group issues.

A :class:`Signature` is ``(program, error_class, detail)``. Only ``program`` and ``error_class`` make the
grouping ``key``; both are free of paths, line numbers, test names, durations, hashes and platform quirks so
that the same root cause seen in different sessions and repositories lands in one issue. ``detail`` is a
short masked excerpt of the key error line, for display only.

Everything here is pure, stdlib-only and bounded: huge outputs are cut to a head/tail window before scanning.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ccl_tui.text.ansi import strip_control
from ccl_tui.text.cut import clip
from ccl_tui.text.shell import closing

__all__ = [
    "DETAIL_MAX",
    "Signature",
    "command_program",
    "error_class",
    "failure_signature",
    "mask",
]

#: Longest ``detail`` kept on a signature (characters, after masking).
DETAIL_MAX = 160

# Output scanning window: error lines sit near the end, a few (usage errors, headers) near the start.
_HEAD_LINES = 50
_TAIL_LINES = 200
_HEAD_CHARS = 40_000
_TAIL_CHARS = 160_000
_LINE_CHARS = 2_000
_COMMAND_CHARS = 100_000
_MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class Signature:
    """The normalized identity of one failure."""

    program: str  # "pytest", "npm install", "cargo build", "apply_patch", "" when unknown
    error_class: str  # "ModuleNotFoundError: httpx", "npm ERR! EAI_AGAIN", "rust E0433", "timeout"...
    detail: str  # masked excerpt of the key error line (<= DETAIL_MAX chars), display only

    @property
    def key(self) -> str:
        """Canonical grouping string ``"program | error_class"`` (``-`` stands for an unknown program)."""
        return f"{self.program or '-'} | {self.error_class or 'error'}"

    @property
    def id(self) -> str:
        """Short stable hash of :attr:`key` (first 12 hex digits of its SHA-1)."""
        return hashlib.sha1(self.key.encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------------------------------------------
# mask
# --------------------------------------------------------------------------------------------------------------

_PCH = r"[\w.+@%~-]"  # characters of one path component (POSIX style)
_WCH = r"[^\\/\s:*?\"'<>|(),;]"  # characters of one Windows path component

_URL = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*)://([^\s'\"<>()\[\]{}/]*)([^\s'\"<>()\[\]{}]*)")
_TMP = re.compile(
    rf"""
    (?<![\w.+@%~/-])[\w.+@%~/-]*?pytest-of-[\w.+@%~/-]*                         # pytest basetemp
    | (?<![\w.:/<>~-])(?:/private)?/(?:tmp|var/tmp|var/folders)(?:/{_PCH}+)*/? # POSIX temp dirs
    | (?<!\w)[A-Za-z]:(?:\\{{1,2}}|/)(?:{_WCH}+(?:\\{{1,2}}|/))*?(?:Temp|TEMP|tmp)(?:(?:\\{{1,2}}|/){_WCH}+)*
    | \btmp(?=[a-z]*[0-9_])[a-z0-9_]{{5,12}}\b                               # tempfile.mkstemp names
    """,
    re.VERBOSE,
)
_PATH = re.compile(
    rf"""
    (?P<win>(?<!\w)[A-Za-z]:(?:\\{{1,2}}|/)(?:{_WCH}+(?:\\{{1,2}}|/))*{_WCH}*)
    | (?P<abs>(?<![\w.:/<>~-])(?:~|\.{{1,2}})?/(?:{_PCH}+/)*{_PCH}+/?)
    | (?P<rel>(?<![\w.:/<>~@-])@?{_PCH}+(?:/{_PCH}+)+/?)
    """,
    re.VERBOSE,
)
_EXT = re.compile(r"\.([A-Za-z][A-Za-z0-9]{0,7})$")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b")
_HEX = re.compile(r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{7,}\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)*")
_SPACE = re.compile(r"\s+")


def _url_sub(m: re.Match[str]) -> str:
    host = m[2].rsplit("@", 1)[-1]  # drop user:token@
    rest = m[3].rstrip(".,;:!?")
    punct = m[3][len(rest) :]
    return f"{m[1]}://{host}{rest if rest in ('', '/') else '/<path>'}{punct}"


def _path_sub(m: re.Match[str]) -> str:
    text = m[0]
    stripped = text.rstrip(".-")
    tail = text[len(stripped) :]
    # A bare "a/b" is often prose ("and/or", "1/3"): only mask real-looking relative paths.
    if m.lastgroup == "rel" and not (stripped.count("/") >= 2 or _EXT.search(stripped)):
        return text
    ext = _EXT.search(stripped.rstrip("/\\"))
    return f"<path>.{ext[1]}{tail}" if ext else f"<path>{tail}"


def mask(text: str) -> str:
    """Mask the volatile parts of ``text`` and collapse whitespace to one line. Idempotent.

    URLs keep scheme and host; temp dirs become ``<tmp>``; file paths ``<path>`` (keeping the extension,
    e.g. ``<path>.py``); UUIDs ``<uuid>``; ISO timestamps ``<ts>``; hashes ``<hex>``; numbers ``<n>``.
    Numbers glued to letters (``E0433``, ``TS2339``, ``python3``) are part of an identifier and stay.
    """
    if not text:
        return ""
    text = strip_control(text)
    text = _URL.sub(_url_sub, text)
    text = _TMP.sub("<tmp>", text)
    text = _PATH.sub(_path_sub, text)
    text = _UUID.sub("<uuid>", text)
    text = _TIMESTAMP.sub("<ts>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()


def _clip(text: str, limit: int = DETAIL_MAX) -> str:
    return clip(text, limit)


# --------------------------------------------------------------------------------------------------------------
# command_program: a small quote-aware shell lexer (shlex-like posix rules, plus newlines, heredocs, operators)
# --------------------------------------------------------------------------------------------------------------

_Token = tuple[str, str]  # ("w", word) | ("op", operator)


class _Lexer:
    """Split a shell script into words and control operators. Never raises: unclosed quotes end at EOF.

    ``shlex`` drops newlines (which separate commands in Codex scripts), cannot skip heredoc bodies and raises
    on unbalanced quotes, so this follows its POSIX rules by hand. Redirections and their targets are dropped.
    """

    def __init__(self, script: str) -> None:
        self.s = script
        self.n = len(script)
        self.i = 0
        self.tokens: list[_Token] = []
        self.buf: list[str] = []
        self.in_word = False
        self.pending: str | None = None  # "redir" (drop next word) | "heredoc" (next word is a delimiter)
        self.heredocs: list[str] = []

    def run(self) -> list[_Token]:
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r":
                self._flush()
                self.i += 1
            elif c == "\n":
                self._flush()
                self.pending = None
                self.tokens.append(("op", "\n"))
                self.i += 1
                if self.heredocs:
                    self._skip_heredocs()
            elif c == "#" and not self.in_word:
                nl = s.find("\n", self.i)
                self.i = self.n if nl < 0 else nl
            elif c == "'":
                end = s.find("'", self.i + 1)
                end = self.n if end < 0 else end
                self._add(s[self.i + 1 : end])
                self.i = end + 1
            elif c == '"':
                self._double_quoted()
            elif c == "\\":
                self._backslash()
            elif c == "$" and self.i + 1 < self.n and s[self.i + 1] in "({'":
                self._dollar()
            elif c == "`":
                end = s.find("`", self.i + 1)
                end = self.n if end < 0 else end
                self._add(s[self.i : end + 1])
                self.i = end + 1
            elif c in "&|;()<>":
                self._operator(c)
            else:
                self._add(c)
                self.i += 1
        self._flush()
        return self.tokens

    # -- words ---------------------------------------------------------------------------------------------
    def _add(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def _flush(self) -> None:
        if not self.in_word:
            return
        word = "".join(self.buf)
        self.buf.clear()
        self.in_word = False
        if self.pending == "redir":
            self.pending = None
        elif self.pending == "heredoc":
            self.pending = None
            self.heredocs.append(word.strip())
        else:
            self.tokens.append(("w", word))

    def _double_quoted(self) -> None:
        s, j = self.s, self.i + 1
        out: list[str] = []
        while j < self.n and s[j] != '"':
            if s[j] == "\\" and j + 1 < self.n and s[j + 1] in '"\\$`\n':
                if s[j + 1] != "\n":
                    out.append(s[j + 1])
                j += 2
                continue
            out.append(s[j])
            j += 1
        self._add("".join(out))
        self.i = j + 1

    def _backslash(self) -> None:
        s, j = self.s, self.i + 1
        if j >= self.n:
            self.i = j
            return
        nxt = s[j]
        if nxt == "\n":  # line continuation
            self.i = j + 1
        elif nxt.isalnum() or nxt in "._-":  # keep Windows paths (C:\Python312\python.exe) intact
            self._add("\\")
            self.i = j
        else:
            self._add(nxt)
            self.i = j + 1

    def _dollar(self) -> None:
        s, j = self.s, self.i + 1
        kind = s[j]
        if kind == "'":  # $'ansi-c'
            k = j + 1
            out: list[str] = []
            while k < self.n and s[k] != "'":
                if s[k] == "\\" and k + 1 < self.n:
                    out.append(s[k + 1])
                    k += 2
                    continue
                out.append(s[k])
                k += 1
            self._add("".join(out))
            self.i = k + 1
            return
        close = ")" if kind == "(" else "}"
        end = closing(self.s, j, kind, close)
        self._add(s[self.i : end])
        self.i = end

    # -- operators -----------------------------------------------------------------------------------------
    def _operator(self, c: str) -> None:
        s, i = self.s, self.i
        two = s[i : i + 2]
        three = s[i : i + 3]
        if c in "<>":
            if c == "<" and two == "<(":  # process substitution: keep as a word
                end = closing(s, i + 1, "(", ")")
                self._add(s[i:end])
                self.i = end
                return
            if self.in_word and "".join(self.buf).isdigit():  # fd number: 2>
                self.buf.clear()
                self.in_word = False
            self._flush()
            if three == "<<<":
                self.pending, self.i = "redir", i + 3
            elif three == "<<-":
                self.pending, self.i = "heredoc", i + 3
            elif two == "<<":
                self.pending, self.i = "heredoc", i + 2
            elif two in (">>", ">&", "<&", ">|", "<>"):
                self.pending, self.i = "redir", i + 2
            else:
                self.pending, self.i = "redir", i + 1
            return
        self._flush()
        if c == "&" and s[i + 1 : i + 2] == ">":  # &> / &>>
            self.pending = "redir"
            self.i = i + (3 if three == "&>>" else 2)
            return
        self.pending = None  # a redirection without a target ends here
        if two in ("&&", "||", ";;", "|&"):
            self.tokens.append(("op", two))
            self.i = i + 2
            return
        self.tokens.append(("op", c))
        self.i = i + 1

    def _skip_heredocs(self) -> None:
        s = self.s
        for delim in self.heredocs:
            while self.i < self.n:
                nl = s.find("\n", self.i)
                line_end = self.n if nl < 0 else nl
                line = s[self.i : line_end]
                self.i = line_end + 1
                if line.strip() == delim:
                    break
        self.heredocs.clear()
        self.i = min(self.i, self.n)


def _pipelines(script: str) -> list[list[list[str]]]:
    """Script -> pipelines (split on && || ; & newline parens) -> stages (split on |) -> words."""
    out: list[list[list[str]]] = [[[]]]
    for kind, val in _Lexer(script).run():
        if kind == "w":
            out[-1][-1].append(val)
        elif val in ("|", "|&"):
            out[-1].append([])
        else:
            out.append([[]])
    return [[stage for stage in pipe if stage] for pipe in out if any(pipe)]


# Commands that set up the environment or only inspect/print: never "the" command when another one exists.
_TRIVIAL = frozenset(
    {
        "",
        "cd",
        "pushd",
        "popd",
        "source",
        ".",
        "export",
        "set",
        "unset",
        "echo",
        "printf",
        "true",
        "false",
        ":",
        "exit",
        "return",
        "sleep",
        "pwd",
        "ls",
        "cat",
        "clear",
        "wait",
        "trap",
        "ulimit",
        "umask",
        "shopt",
        "alias",
        "read",
        "local",
        "declare",
        "typeset",
        "test",
        "[",
        "[[",
        "hash",
        "type",
        "which",
        "mkdir",
        "rm",
        "cp",
        "mv",
        "touch",
        "chmod",
        "ln",
        "date",
        "head",
        "tail",
        "wc",
        "grep",
        "rg",
        "sed",
        "awk",
        "find",
        "nl",
        "tree",
        "stat",
        "realpath",
        "dirname",
        "basename",
        "tee",
        "fi",
        "done",
        "esac",
        "for",
        "case",
        "select",
        "function",
        "then",
        "else",
    }
)
# Right-hand sides of a pipe that only filter output: prefer the producing (left) side.
_PIPE_FILTERS = frozenset(
    {
        "tail",
        "head",
        "grep",
        "egrep",
        "fgrep",
        "rg",
        "tee",
        "sort",
        "uniq",
        "wc",
        "less",
        "more",
        "cat",
        "cut",
        "tr",
        "awk",
        "sed",
        "jq",
        "column",
        "nl",
        "fold",
        "sponge",
        "ts",
        "fmt",
    }
)
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "(", ")"})
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_DURATION = re.compile(r"^\d+(?:\.\d+)?[smhd]?$")
_WIN_EXE = re.compile(r"\.(?:exe|cmd|bat|com)$", re.IGNORECASE)
_PYTHON = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)*)?[tw]?$|^py$")
_PIP = re.compile(r"^pip(?:\d+(?:\.\d+)*)?$")
_SUBWORD = re.compile(r"^[A-Za-z][\w:-]*$")
_PATCH_BODY = re.compile(r"(?<![\w./-])apply_?patch\b")


def _base(word: str) -> str:
    """Basename of a program word, platform-neutral (``C:\\x\\pytest.exe`` -> ``pytest``)."""
    word = word.strip().strip("'\"").rstrip("/\\")
    name = re.split(r"[\\/]", word)[-1] if word else ""
    if _WIN_EXE.search(name):
        name = _WIN_EXE.sub("", name).lower()
    return name


def _skip_flags(words: Sequence[str], i: int, value_flags: frozenset[str] = frozenset()) -> int:
    """Index of the first non-flag word at or after ``i`` (flags in ``value_flags`` consume a value)."""
    while i < len(words) and words[i].startswith("-") and words[i] != "-":
        flag = words[i]
        i += 1
        if flag == "--":
            break
        if flag in value_flags:
            i += 1
    return i


_SUDO_VALUES = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t", "--user", "--group"})
_ENV_VALUES = frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"})
_TIMEOUT_VALUES = frozenset({"-s", "-k", "--signal", "--kill-after"})
_XARGS_VALUES = frozenset(
    {
        "-n",
        "-I",
        "-P",
        "-L",
        "-d",
        "-E",
        "-s",
        "-a",
        "--max-args",
        "--replace",
        "--max-procs",
        "--delimiter",
        "--arg-file",
        "--max-lines",
    }
)
_SIMPLE_WRAPPERS = {
    "sudo": _SUDO_VALUES,
    "doas": _SUDO_VALUES,
    "env": _ENV_VALUES,
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "--class", "--classdata"}),
    "nohup": frozenset(),
    "exec": frozenset({"-a"}),
    "builtin": frozenset(),
    "setsid": frozenset(),
    "unbuffer": frozenset(),
    "chronic": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}),
    "xargs": _XARGS_VALUES,
    "xvfb-run": frozenset({"-s", "-n", "-e", "-f", "-p", "--server-args", "--server-num", "--error-file"}),
    "caffeinate": frozenset({"-t", "-w"}),
}


def prefix_length(words: Sequence[str]) -> int:
    """How many leading words are env assignments, shell keywords and wrappers with their flags (sudo -u U, env,
    time, nice -n N, timeout N, xargs...): the program is the word after them."""
    i = 0
    while i < len(words):
        word = words[i]
        name = _base(word)
        if word in _KEYWORDS or _ASSIGN.match(word):
            i += 1
        elif name in _SIMPLE_WRAPPERS:
            i = _skip_flags(words, i + 1, _SIMPLE_WRAPPERS[name])
        elif name == "timeout":
            i = _skip_flags(words, i + 1, _TIMEOUT_VALUES)
            if i < len(words) and _DURATION.match(words[i]):
                i += 1
        elif name == "command" and i + 1 < len(words) and words[i + 1] not in ("-v", "-V"):
            i = _skip_flags(words, i + 1)
        else:
            break
    return i


def _strip_prefixes(words: Sequence[str]) -> list[str]:
    """Drop env assignments, shell keywords and wrappers (see :func:`prefix_length`)."""
    return list(words[prefix_length(words) :])


def _with_sub(prog: str, rest: Sequence[str], value_flags: frozenset[str] = frozenset()) -> str:
    i = _skip_flags(rest, 0, value_flags)
    if i < len(rest) and _SUBWORD.match(rest[i]):
        return f"{prog} {rest[i]}"
    return prog


def _first_arg(rest: Sequence[str], value_flags: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    i = _skip_flags(rest, 0, value_flags)
    if i < len(rest):
        return rest[i], list(rest[i + 1 :])
    return "", []


def _run_rest(rest: Sequence[str], depth: int, value_flags: frozenset[str] = frozenset()) -> str:
    """``<runner> [flags] CMD ARGS`` -> program of ``CMD ARGS``."""
    i = _skip_flags(rest, 0, value_flags)
    return _program_of_words(rest[i:], depth + 1) if i < len(rest) else ""


def _package_bin(spec: str) -> str:
    """npx package spec -> binary name: ``typescript@5`` -> ``typescript``, ``@biomejs/biome@1`` -> ``biome``."""
    if spec.startswith("@"):
        scope, _, rest = spec.partition("/")
        name = rest.split("@", 1)[0] or scope
    else:
        name = spec.split("@", 1)[0]
    return name


# -- per-program handlers: (prog, rest, depth) -> program string ---------------------------------------------

_Handler = Callable[[str, list[str], int], str]


def _h_python(_prog: str, rest: list[str], depth: int) -> str:
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "-m" and i + 1 < len(rest):
            return _program_of_words(rest[i + 1 :], depth + 1) or "python"
        if arg.startswith("-m") and len(arg) > 2:
            return _program_of_words([arg[2:], *rest[i + 1 :]], depth + 1) or "python"
        if arg in ("-W", "-X", "-Q"):
            i += 2
            continue
        if arg.startswith("-") and arg != "-" and not arg.startswith("-c"):
            i += 1
            continue
        break  # -c CODE, "-" (stdin) or a script: the program is python itself
    return "python"


def _shell_script_program(rest: list[str], depth: int, shell: str) -> str:
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            script = rest[i + 1 :]
            if not script:
                return shell
            # A Codex argv joined with spaces ("bash -lc cargo build") keeps the script in several words.
            return _script_program(script[0] if len(script) == 1 else " ".join(script), depth + 1)
        if arg.startswith(("-", "+")):
            i += 1
            continue
        return _mask_name(_base(arg))  # bash scripts/test.sh -> test.sh
    return shell


def _h_shell(prog: str, rest: list[str], depth: int) -> str:
    return _shell_script_program(rest, depth, prog)


def _h_cmd(prog: str, rest: list[str], depth: int) -> str:
    for i, arg in enumerate(rest):
        if arg.lower() in ("/c", "/k"):
            return _script_program(" ".join(rest[i + 1 :]), depth + 1) or prog
    return prog


def _h_powershell(prog: str, rest: list[str], depth: int) -> str:
    i = 0
    while i < len(rest):
        arg = rest[i].lower()
        if arg in ("-command", "-c"):
            return _script_program(" ".join(rest[i + 1 :]), depth + 1) or prog
        if arg in ("-file", "-f") and i + 1 < len(rest):
            return _mask_name(_base(rest[i + 1]))
        if arg in ("-executionpolicy", "-ep", "-workingdirectory", "-wd", "-windowstyle"):
            i += 2
            continue
        if not arg.startswith("-"):
            return _script_program(" ".join(rest[i:]), depth + 1) or prog
        i += 1
    return prog


_NPX_VALUES = frozenset(
    {"-p", "--package", "--call", "--cache", "--node-options", "--from", "--with", "--python", "--spec", "--index-url"}
)


def _h_npx(_prog: str, rest: list[str], depth: int) -> str:
    i = 0
    while i < len(rest) and rest[i].startswith("-"):
        flag = rest[i]
        if flag == "--":
            i += 1
            break
        if flag in ("-c", "--call") and i + 1 < len(rest):
            return _script_program(rest[i + 1], depth + 1)
        i += 2 if flag in _NPX_VALUES else 1
    if i >= len(rest):
        return ""
    return _program_of_words([_package_bin(rest[i]), *rest[i + 1 :]], depth + 1)


_NPM_VALUES = frozenset({"--prefix", "-C", "-w", "--workspace", "--loglevel", "--cache", "--registry", "--userconfig"})
_NPM_ALIASES = {
    **dict.fromkeys(
        ("install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add"), "install"
    ),
    # `npm ci` is the lockfile flavour of the same step: one root cause ("dependencies do not install").
    **dict.fromkeys(("ci", "clean-install", "ic", "install-clean", "isntall-clean"), "install"),
    **dict.fromkeys(("test", "t", "tst"), "test"),
    **dict.fromkeys(("uninstall", "unlink", "remove", "rm", "r", "un"), "uninstall"),
    **dict.fromkeys(("run", "run-script", "rum", "urn"), "run"),
    **dict.fromkeys(("exec", "x"), "exec"),
}


def _script_name(prog: str, script: str) -> str:
    if not script:
        return f"{prog} run"
    return f"{prog} test" if script == "test" else f"{prog} run {script}"


def _h_npm(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest, _NPM_VALUES)
    if not sub:
        return prog
    sub = _NPM_ALIASES.get(sub, sub)
    if sub == "run":
        return _script_name(prog, _first_arg(after, _NPM_VALUES)[0])
    if sub == "exec":
        return _h_npx(prog, after, depth) or prog
    return f"{prog} {sub}"


_PNPM_VALUES = frozenset({"--filter", "-F", "-C", "--dir", "--reporter", "--loglevel", "--workspace-concurrency"})
_PNPM_BUILTINS = frozenset(
    {
        "add",
        "remove",
        "rm",
        "uninstall",
        "un",
        "update",
        "up",
        "upgrade",
        "list",
        "ls",
        "ll",
        "why",
        "audit",
        "outdated",
        "publish",
        "pack",
        "link",
        "ln",
        "unlink",
        "store",
        "prune",
        "rebuild",
        "rb",
        "import",
        "fetch",
        "install-test",
        "it",
        "patch",
        "patch-commit",
        "setup",
        "init",
        "env",
        "config",
        "root",
        "bin",
        "licenses",
        "deploy",
        "server",
        "create",
        "dedupe",
        "start",
        "recursive",
        "m",
        "multi",
        "approve-builds",
    }
)


def _h_pnpm(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest, _PNPM_VALUES)
    if not sub:
        return prog
    if sub in ("install", "i"):
        return f"{prog} install"
    if sub in ("test", "t", "tst"):
        return f"{prog} test"
    if sub in ("run", "run-script"):
        return _script_name(prog, _first_arg(after, _PNPM_VALUES)[0])
    if sub in ("exec", "dlx"):
        return _h_npx(prog, after, depth) or prog
    if sub in _PNPM_BUILTINS or not _SUBWORD.match(sub):
        return f"{prog} {sub}" if _SUBWORD.match(sub) else prog
    return _script_name(prog, sub)  # `pnpm build` runs the "build" script


_YARN_VALUES = frozenset({"--cwd", "--mutex", "--cache-folder", "--modules-folder", "--network-timeout"})
_YARN_BUILTINS = frozenset(
    {
        "add",
        "remove",
        "upgrade",
        "up",
        "why",
        "info",
        "list",
        "audit",
        "cache",
        "config",
        "init",
        "global",
        "link",
        "unlink",
        "outdated",
        "pack",
        "publish",
        "version",
        "node",
        "bin",
        "dedupe",
        "set",
        "plugin",
        "constraints",
        "explain",
        "npm",
        "workspaces",
        "import",
        "licenses",
        "login",
        "logout",
        "owner",
        "policies",
        "tag",
        "team",
        "upgrade-interactive",
        "autoclean",
        "check",
        "generate-lock-entry",
    }
)


def _h_yarn(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest, _YARN_VALUES)
    if not sub or sub == "install":
        return f"{prog} install"
    if sub in ("test", "t"):
        return f"{prog} test"
    if sub == "run":
        return _script_name(prog, _first_arg(after, _YARN_VALUES)[0])
    if sub == "workspace":
        return _h_yarn(prog, after[1:], depth) if after else prog
    if sub in ("dlx", "exec"):
        return _h_npx(prog, after, depth) or prog
    if sub in _YARN_BUILTINS or not _SUBWORD.match(sub):
        return f"{prog} {sub}" if _SUBWORD.match(sub) else prog
    return _script_name(prog, sub)


def _h_bun(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest)
    if not sub:
        return prog
    if sub in ("install", "i"):
        return f"{prog} install"
    if sub == "x":
        return _h_npx(prog, after, depth) or prog
    if sub == "run":
        script = _first_arg(after)[0]
        if not script or "/" in script or _EXT.search(script):
            return f"{prog} run"
        return _script_name(prog, script)
    return f"{prog} {sub}" if _SUBWORD.match(sub) else prog


_RUNNER_VALUES = frozenset(
    {
        "--with",
        "--python",
        "-p",
        "--extra",
        "--group",
        "--package",
        "--directory",
        "--project",
        "--env-file",
        "--with-requirements",
        "--index",
        "--index-url",
        "--extra-index-url",
        "--from",
        "-n",
        "--name",
        "--prefix",
        "--cwd",
        "-e",
        "--env",
        "--environment",
        "-C",
        "-P",
        "--spec",
        "--manifest-path",
    }
)
_UV_TOP_VALUES = frozenset({"--directory", "--project", "--cache-dir", "--config-file", "--color"})


def _h_uv(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest, _UV_TOP_VALUES)
    if sub == "run":
        return _run_rest(after, depth, _RUNNER_VALUES) or prog
    if sub == "tool" and after[:1] == ["run"]:
        return _h_npx(prog, after[1:], depth) or prog
    if sub == "pip":
        return _with_sub(f"{prog} pip", after)
    return f"{prog} {sub}" if sub and _SUBWORD.match(sub) else prog


def _h_py_runner(prog: str, rest: list[str], depth: int) -> str:
    """poetry / pdm / pipenv / hatch / rye / pixi / conda / mamba / pipx: ``<tool> run CMD`` unwraps."""
    sub, after = _first_arg(rest, frozenset({"-C", "--directory", "-P", "--project", "-n", "--name", "-p"}))
    if sub == "run":
        return _run_rest(after, depth, _RUNNER_VALUES) or prog
    return f"{prog} {sub}" if sub and _SUBWORD.match(sub) else prog


def _h_bundle(prog: str, rest: list[str], depth: int) -> str:
    sub, after = _first_arg(rest)
    if sub == "exec":
        return _run_rest(after, depth) or prog
    return f"{prog} {sub}" if sub and _SUBWORD.match(sub) else prog


_CARGO_ALIASES = {"b": "build", "c": "check", "t": "test", "r": "run", "d": "doc"}


def _h_cargo(prog: str, rest: list[str], _depth: int) -> str:
    args = [a for a in rest if not a.startswith("+")]  # cargo +nightly build
    sub, _ = _first_arg(args, frozenset({"--color", "-Z", "--config", "-C"}))
    if not sub or not _SUBWORD.match(sub):
        return prog
    return f"{prog} {_CARGO_ALIASES.get(sub, sub)}"


def _h_go(prog: str, rest: list[str], _depth: int) -> str:
    sub, after = _first_arg(rest)
    if not sub or not _SUBWORD.match(sub):
        return prog
    if sub in ("mod", "work", "tool"):
        return _with_sub(f"{prog} {sub}", after)
    return f"{prog} {sub}"


_GIT_VALUES = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"})


def _h_git(prog: str, rest: list[str], _depth: int) -> str:
    return _with_sub(prog, rest, _GIT_VALUES)


_DOCKER_VALUES = frozenset({"-H", "--host", "--context", "-c", "--config", "-l", "--log-level"})
_DOCKER_GROUPS = frozenset(
    {
        "compose",
        "buildx",
        "image",
        "container",
        "network",
        "volume",
        "system",
        "builder",
        "context",
        "manifest",
        "plugin",
        "trust",
        "swarm",
        "service",
        "stack",
    }
)
_COMPOSE_VALUES = frozenset(
    {"-f", "--file", "-p", "--project-name", "--profile", "--env-file", "--project-directory", "--ansi", "--progress"}
)


def _h_docker(prog: str, rest: list[str], _depth: int) -> str:
    sub, after = _first_arg(rest, _DOCKER_VALUES)
    if not sub or not _SUBWORD.match(sub):
        return prog
    if sub in _DOCKER_GROUPS:
        return _with_sub(f"{prog} {sub}", after, _COMPOSE_VALUES)
    return f"{prog} {sub}"


def _h_docker_compose(_prog: str, rest: list[str], _depth: int) -> str:
    return _with_sub("docker compose", rest, _COMPOSE_VALUES)


_MAKE_VALUES = frozenset(
    {
        "-C",
        "-f",
        "--file",
        "--makefile",
        "-I",
        "-o",
        "-W",
        "-l",
        "--directory",
        "--include-dir",
        "--old-file",
        "--what-if",
        "-d",
    }
)


def _h_make(prog: str, rest: list[str], _depth: int) -> str:
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in _MAKE_VALUES or (arg in ("-j", "--jobs") and i + 1 < len(rest) and rest[i + 1].isdigit()):
            i += 2
        elif arg.startswith("-") or _ASSIGN.match(arg):
            i += 1
        else:
            return f"{prog} {arg}" if _SUBWORD.match(arg) else prog
    return prog


def _h_apply_patch(_prog: str, _rest: list[str], _depth: int) -> str:
    return "apply_patch"


_HANDLERS: dict[str, _Handler] = {
    "python": _h_python,
    **dict.fromkeys(("bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "fish"), _h_shell),
    "cmd": _h_cmd,
    **dict.fromkeys(("powershell", "pwsh"), _h_powershell),
    **dict.fromkeys(("npx", "pnpx", "bunx", "uvx"), _h_npx),
    "pipx": _h_py_runner,
    "npm": _h_npm,
    "pnpm": _h_pnpm,
    "yarn": _h_yarn,
    "bun": _h_bun,
    "uv": _h_uv,
    **dict.fromkeys(("poetry", "pdm", "pipenv", "hatch", "rye", "pixi", "conda", "mamba", "micromamba"), _h_py_runner),
    "bundle": _h_bundle,
    "cargo": _h_cargo,
    "go": _h_go,
    "git": _h_git,
    **dict.fromkeys(("docker", "podman", "nerdctl"), _h_docker),
    "docker-compose": _h_docker_compose,
    **dict.fromkeys(("make", "gmake", "just"), _h_make),
    **dict.fromkeys(("apply_patch", "applypatch"), _h_apply_patch),
}
# Multi-command tools whose first word after the flags is a subcommand worth keeping.
_SUB_VALUES: dict[str, frozenset[str]] = {
    "kubectl": frozenset({"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user"}),
    "helm": frozenset({"-n", "--namespace", "--kube-context"}),
    "gh": frozenset({"-R", "--repo"}),
    "mvn": frozenset({"-f", "--file", "-pl", "--projects", "-P", "-s", "--settings"}),
    "gradle": frozenset({"-p", "--project-dir", "-b"}),
    "terraform": frozenset(),
    "tofu": frozenset(),
    "dotnet": frozenset(),
    "rustup": frozenset(),
    "brew": frozenset(),
    "apt": frozenset(),
    "apt-get": frozenset(),
    "dnf": frozenset(),
    "yum": frozenset(),
    "apk": frozenset(),
    "pip": frozenset(),
    "ruff": frozenset(),
    "playwright": frozenset(),
    "deno": frozenset(),
    "prisma": frozenset(),
    "nx": frozenset(),
    "turbo": frozenset(),
    "composer": frozenset(),
    "rails": frozenset(),
    "rake": frozenset(),
    "mix": frozenset(),
    "bazel": frozenset(),
    "swift": frozenset(),
    "flutter": frozenset(),
    "dart": frozenset(),
    "zig": frozenset(),
    "alembic": frozenset(),
    "django-admin": frozenset(),
    "gcloud": frozenset(),
    "aws": frozenset(),
    "az": frozenset(),
    "supabase": frozenset(),
    "wrangler": frozenset(),
    "vercel": frozenset(),
    "codex": frozenset(),
    "biome": frozenset(),
    "tox": frozenset({"-e", "-c"}),
}
_ALIASES = {
    "py.test": "pytest",
    "gradlew": "gradle",
    "mvnw": "mvn",
    "nodejs": "node",
    "podman-compose": "docker-compose",
    "applypatch": "apply_patch",
}


def _norm_prog(word: str) -> str:
    name = _base(word)
    if _PYTHON.match(name):
        return "python"
    if _PIP.match(name):
        return "pip"
    return _ALIASES.get(name, name)


def _mask_name(name: str) -> str:
    """Unknown program names may embed temp names or numbers (``/tmp/tmpx8_1k.sh``, ``run-2024.sh``)."""
    return mask(name) if name else ""


def _program_of_words(words: Sequence[str], depth: int) -> str:
    words = _strip_prefixes(words)
    if not words:
        return ""
    prog = _norm_prog(words[0])
    if not prog:
        return ""
    if depth > _MAX_DEPTH:
        return _mask_name(prog)
    rest = list(words[1:])
    handler = _HANDLERS.get(prog)
    if handler is not None:
        return handler(prog, rest, depth)
    if prog in _SUB_VALUES:
        return _with_sub(prog, rest, _SUB_VALUES[prog])
    return _mask_name(prog)


def _head(program: str) -> str:
    return program.split(" ", 1)[0]


def _script_program(script: str, depth: int) -> str:
    """Pick the meaningful command of a script: the last non-trivial pipeline, its producing stage."""
    if depth > _MAX_DEPTH:
        return ""
    picks: list[str] = []
    for pipe in _pipelines(script):
        progs = [p for p in (_program_of_words(stage, depth) for stage in pipe) if p]
        if not progs:
            continue
        pick = next((p for p in progs if _head(p) not in _TRIVIAL and _head(p) not in _PIPE_FILTERS), progs[0])
        picks.append(pick)
    if not picks:
        return ""
    return next((p for p in reversed(picks) if _head(p) not in _TRIVIAL), picks[-1])


def exit_program(command: str) -> str:
    """The program whose status a shell command exits with: the last stage of its last pipeline (shells run
    without ``pipefail`` by default), e.g. ``rg`` for ``system_profiler SPFontsDataType | rg -i maple``."""
    if not command or len(command) > _COMMAND_CHARS:
        return ""
    pipes = list(_pipelines(command))
    if not pipes or not pipes[-1]:
        return ""
    if "pipefail" in command:
        return ""
    return _program_of_words(pipes[-1][-1], 0)


def _argv(command: str) -> list[str] | None:
    """A command logged as a JSON / Python list (``["bash", "-lc", "..."]``) -> argv."""
    if not (command.startswith("[") and command.endswith("]")):
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(command)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    return None


@functools.lru_cache(maxsize=8192)
def command_program(command: str) -> str:
    """Program (+ subcommand) of a Codex shell command: ``"bash -lc 'cd x && uv run pytest -q'"`` -> ``pytest``.

    Shell wrappers are unwrapped, env/cd/source/echo/timeout/sudo noise is skipped, the last meaningful segment
    of ``&&``/``;``/newline chains is chosen (the left side of ``| tail``), and runners are mapped to the real
    tool (``python -m pytest``, ``uv run pytest``, ``npx tsc``, ``.venv/bin/pytest``...). Returns ``""`` when
    nothing runs. Never raises.
    """
    if not command:
        return ""
    command = command.strip()
    if not command:
        return ""
    if len(command) > _COMMAND_CHARS:  # the check usually ends the script: keep its head and tail
        command = command[: _COMMAND_CHARS // 5] + "\n" + command[-(_COMMAND_CHARS * 4 // 5) :]
    if "*** Begin Patch" in command and _PATCH_BODY.search(command.split("*** Begin Patch", 1)[0]):
        return "apply_patch"
    argv = _argv(command)
    if argv is not None:
        return _program_of_words(argv, 0)
    return _script_program(command, 0)


# --------------------------------------------------------------------------------------------------------------
# error_class: ordered rules over a bounded window of the output, first match wins
# --------------------------------------------------------------------------------------------------------------

_Builder = Callable[[re.Match[str]], str | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    build: _Builder
    last: bool = False  # scan from the end (Python: the final exception is the one that escaped)


def _const(text: str) -> _Builder:
    return lambda _m: text


def _rule(pattern: str, result: str | _Builder, *, flags: int = 0, last: bool = False) -> _Rule:
    build = _const(result) if isinstance(result, str) else result
    return _Rule(re.compile(pattern, flags | re.MULTILINE), build, last)


_EXC_NAME = r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*"
_EXC_LINE = (
    rf"^(?:E[ \t]+)?({_EXC_NAME}(?:Error|Exception|Exit|Interrupt|Failure|Timeout|Iteration))"
    r"(?:[ \t]\[[A-Z_]+\])?(?::(?:[ \t]|$)|[ \t]*$)"
)


def _module_not_found(m: re.Match[str]) -> str:
    return f"ModuleNotFoundError: {m[1].split('.')[0]}"


def _node_module(m: re.Match[str]) -> str:
    name = m[1].strip()
    if name.startswith((".", "/", "~")) or "\\" in name or re.match(r"[A-Za-z]:", name):
        return f"Cannot find module: {mask(name)}"
    parts = name.split("/")
    top = "/".join(parts[:2]) if name.startswith("@") else parts[0]
    return f"Cannot find module: {top}"


def _pytest_summary(m: re.Match[str]) -> str | None:
    msg = m[1].strip()
    if re.match(r"assert\b", msg):
        return "AssertionError"
    if re.match(r"Failed: Timeout\b", msg):
        return "timeout"
    cls = re.match(rf"({_EXC_NAME})(?::|$)", msg)
    return cls[1] if cls else None


def _command_not_found(m: re.Match[str]) -> str:
    name = next((g for g in m.groups() if g), "")
    name = _base(name)
    return f"command not found: {name}" if name else "command not found"


_PATCH_MISMATCH = (
    r"Failed to find expected lines|apply_patch verification failed|invalid hunk|Failed to find context"
    r"|String to replace not found in file"  # Claude Code's Edit / MultiEdit
    r"|patch does not apply|^error: patch failed:"
    r"|\b(?:patch|hunk|context|expected lines)\b[^\n]*\bdoes(?: not|n't) match"
    r"|\bdoes(?: not|n't) match\b[^\n]*\b(?:patch|hunk)\b"
)
_NETWORK = (
    r"Could not resolve host|Temporary failure in name resolution|getaddrinfo (?:EAI_AGAIN|ENOTFOUND)"
    r"|\bEAI_AGAIN\b|Name or service not known|nodename nor servname provided|Network is unreachable"
    r"|failed to lookup address information|\bdns error\b|No address associated with hostname"
    r"|lookup \S+(?: on \S+)?: no such host"
)
_COMMAND_NOT_FOUND = (
    r"(?:^|[\s:])(?!\d+:)([^\s:'\"]+): command not found"
    r"|command not found: (\S+)"
    r"|^\S*sh: \d+: ([^\s:]+): not found"
    r"|['\"]([^'\"]+)['\"] is not recognized as an internal or external command"
    r"|exec: \"([^\"]+)\": executable file not found"
)
_PERMISSION = (
    r"Permission denied|Operation not permitted|failed in sandbox|sandbox denied|denied by (?:the )?sandbox"
    r"|Read-only file system|\bEACCES\b|\bEPERM\b|\bEROFS\b"
)
_ERRNO = (
    r"\b(ENOENT|EADDRINUSE|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EEXIST|EISDIR|ENOTDIR|EMFILE"
    r"|ENOSPC|ENOTEMPTY|EPIPE)\b"
)
_TIMEOUT_TEXT = r"\b(?:command|execution|process) timed out\b|\btimed out after\b"

#: Ordered, most specific first. The first rule with a match (and a non-None result) decides.
_RULES: tuple[_Rule, ...] = (
    # Codex-level outcomes: definitive whatever else the output says.
    _rule(r"patch rejected by user", "patch rejected", flags=re.I),
    _rule(r"rejected by user", "rejected by user", flags=re.I),
    _rule(_TIMEOUT_TEXT, "timeout", flags=re.I),
    _rule(_PATCH_MISMATCH, "patch context mismatch", flags=re.I),
    # Claude Code's edit tools refuse an edit they cannot make safely.
    _rule(r"File has not been read yet", "file not read before edit"),
    _rule(r"Found \d+ matches of the string to replace", "edit target not unique"),
    _rule(r"File has been (?:unexpectedly )?modified since (?:it was )?(?:last )?read", "file changed since read"),
    # Missing dependencies: the module IS the root cause.
    _rule(r"No module named ['\"]?([A-Za-z_][\w.]*)", _module_not_found),
    _rule(r"ImportError: cannot import name\b", "ImportError"),
    # Package managers (lifecycle wrappers ELIFECYCLE / RECURSIVE_RUN are not causes: skipped).
    _rule(r"^npm (?:ERR!|error) code (E(?!LIFECYCLE\b)[A-Z0-9_]+)\b", lambda m: f"npm ERR! {m[1]}"),
    _rule(r"\b(ERR_PNPM_(?!RECURSIVE_)[A-Z0-9_]+)", lambda m: f"pnpm {m[1]}"),
    # Compilers: the first diagnostic is the root, later ones cascade.
    _rule(r"\berror TS(\d+):", lambda m: f"TS{m[1]}"),
    _rule(r"Cannot find (?:module|package) ['\"]([^'\"\n]+)['\"]", _node_module),
    _rule(r"^error\[(E\d{4})\]", lambda m: f"rust {m[1]}"),
    _rule(r"\.go:\d+(?::\d+)?:[ \t]+undefined: ", "go: undefined"),
    _rule(r"\.go:\d+(?::\d+)?:[ \t]+cannot use ", "go: type mismatch"),
    _rule(r"no required module provides package|cannot find package|missing go\.sum entry", "go: missing module"),
    # No network (sandbox): same cause whichever tool hit it.
    _rule(_NETWORK, "network unavailable", flags=re.I),
    _rule(
        r"No matching distribution found for|Could not find a version that satisfies the requirement",
        "pip: no matching distribution",
    ),
    # Python / pytest.
    _rule(r"fixture '[^'\n]+' not found", "pytest: fixture not found"),
    _rule(r"^(?:FAILED|ERROR) .+? - (.+)$", _pytest_summary),
    _rule(_EXC_LINE, lambda m: m[1], last=True),
    _rule(r"^E[ \t]+assert\b", "AssertionError"),
    # Linters, docker, git.
    _rule(r"\b\d+ problems? \((?!0 )\d+ errors?", "eslint errors"),
    _rule(r"connect to the Docker daemon|Is the docker daemon running", "docker daemon unavailable", flags=re.I),
    _rule(r"\[remote rejected\]", "git: remote rejected"),
    _rule(r"\[rejected\]|\bnon-fast-forward\b", "git: non-fast-forward"),
    _rule(r"^CONFLICT \(|Automatic merge failed", "git: merge conflict"),
    # Shell / OS.
    _rule(_COMMAND_NOT_FOUND, _command_not_found),
    _rule(_PERMISSION, "permission denied", flags=re.I),
    _rule(r"No such file or directory", "ENOENT", flags=re.I),
    _rule(r"Connection refused", "ECONNREFUSED", flags=re.I),
    _rule(r"address already in use", "EADDRINUSE", flags=re.I),
    _rule(_ERRNO, lambda m: m[1]),
    _rule(r"^fatal: ", "git fatal"),
    # Late, generic toolchain outcomes (a more precise cause above wins).
    _rule(r"thread '[^'\n]*' panicked at", "rust panic"),
    _rule(r"^error: could not compile\b", "rust: could not compile"),
    _rule(r"^panic: ", "go panic"),
    _rule(r"^--- FAIL: ", "go test FAIL"),
    _rule(r"^Traceback \(most recent call last\)", "python traceback"),
)

_HEADER = re.compile(
    r"^(?:Exit code:|Wall time:|Output:|Chunk ID:|Original token count:|Total output lines:"
    r"|Process exited with code|Process running with session ID)"
)
_EXIT_HEADER = re.compile(r"^(?:Exit code:|Process exited with code)[ \t]*(-?\d+)", re.MULTILINE)
_ERRORISH = re.compile(r"(?i)\b(?:error|errors|fail|failed|failure|fatal|exception|denied|not found)\b")
_PYTEST_E = re.compile(r"^E[ \t]+")


def _window(output: str) -> list[str]:
    """Bounded view of the output: first ~50 and last ~200 lines, each capped, control codes stripped."""
    if len(output) > _HEAD_CHARS + _TAIL_CHARS:
        output = output[:_HEAD_CHARS] + "\n" + output[-_TAIL_CHARS:]
    lines = strip_control(output).split("\n")
    if len(lines) > _HEAD_LINES + _TAIL_LINES:
        lines = lines[:_HEAD_LINES] + lines[-_TAIL_LINES:]
    return [line[:_LINE_CHARS].rstrip() for line in lines]


def _line_at(block: str, pos: int) -> str:
    start = block.rfind("\n", 0, pos) + 1
    end = block.find("\n", pos)
    return block[start : len(block) if end < 0 else end]


def _display(line: str) -> str:
    return _clip(mask(_PYTEST_E.sub("", line.strip())))


def _fallback_line(lines: Sequence[str]) -> str:
    body = [ln for ln in lines if ln.strip() and not _HEADER.match(ln)]
    for line in reversed(body):
        if _ERRORISH.search(line):
            return line
    return body[-1] if body else ""


def error_class(output: str, *, exit_code: int | None = None) -> tuple[str, str]:
    """Classify a failure from its output: ``(error_class, masked key line)``. Never raises.

    Only a bounded head/tail window is scanned. ``exit_code`` 124 means a timeout; when ``exit_code`` is None
    a Codex ``Exit code: N`` header in the output is used. Without any rule match the class is ``exit <code>``
    (``error`` when the code is unknown or 0).
    """
    lines = _window(output or "")
    block = "\n".join(lines)
    if exit_code is None:
        header = _EXIT_HEADER.search("\n".join(lines[:8]))
        exit_code = int(header[1]) if header else None
    if exit_code == 124:
        hit = re.search(_TIMEOUT_TEXT, block, re.I)
        return "timeout", _display(_line_at(block, hit.start()) if hit else _fallback_line(lines))
    for rule in _RULES:
        matches = rule.pattern.finditer(block)
        ordered = reversed(list(matches)) if rule.last else matches
        for m in ordered:
            cls = rule.build(m)
            if cls:
                return cls, _display(_line_at(block, m.start()))
    cls = f"exit {exit_code}" if exit_code else "error"
    return cls, _display(_fallback_line(lines))


# --------------------------------------------------------------------------------------------------------------
# failure_signature
# --------------------------------------------------------------------------------------------------------------

#: Tools whose failures are described by their shell command rather than by the tool name.
_SHELL_TOOLS = frozenset(
    {
        "shell",
        "exec_command",
        "local_shell",
        "container.exec",
        "unified_exec",
        "shell_command",
        "exec",
        "bash",
        "write_stdin",
    }
)


def failure_signature(
    command: str | None, output: str, *, exit_code: int | None = None, tool: str | None = None
) -> Signature:
    """Signature of one failed tool call. ``tool`` names the Codex tool (``shell``, ``apply_patch``, MCP...)."""
    tool_name = (tool or "").strip()
    if tool_name in ("apply_patch", "applypatch"):
        program = "apply_patch"
    elif command and command.strip():
        program = command_program(command)
    elif tool_name and tool_name not in _SHELL_TOOLS:
        program = tool_name
    else:
        program = ""
    cls, detail = error_class(output or "", exit_code=exit_code)
    if cls == "exit 127" and program:
        cls = f"command not found: {_head(program)}"
    return Signature(program=program, error_class=cls, detail=_clip(detail))
