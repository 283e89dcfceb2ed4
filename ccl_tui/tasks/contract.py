"""The task contract: what a task can honestly claim about its verifier, decided when it is planned and refined
when ``ccl-tui tasks check --execute`` runs it.

Classes (``Contract.cls``):

* ``proven-fix``: the verifier fails at the task's start state and the task is about making it pass. Evidence
  ``recorded``: the session itself ran that check in exactly the start state (the recorded commit plus every
  edit before it, all replayed) and it exited non-zero; or ``executed``: ccl-tui ran it, it failed before the
  solution and passed after it.
* ``unproven``: a task whose verifier was never seen failing at the start state (the session's check passed
  only after edits, did not finish, or the start state is not exact). It is never exported as a fix task and
  never ``ok``; ``--execute`` proves it (fails before, passes after) or demotes it (passes before: keep-green).
* ``keep-green`` (a regression guard): the check passed at the start state (recorded, or seen by ``--execute``).
  The agent does the request and the check must stay green. Exported only when asked (``--include-keep-green``).
* ``refused``: no task, because the check depends on the host rather than the repository: processes (``ps``,
  ``pgrep``, ``lsof``, ``systemctl``, ``docker ps``…), network endpoints (``curl``/``wget`` to hosts, servers on
  ``localhost:PORT``, ``nc``, ``ping``, ``dig``, ``git fetch``…), absolute paths outside the repository (other
  than system tool paths and files the check writes itself), or time (``date`` in a comparison, ``sleep``-based
  waits, background jobs). See :func:`host_dependency`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ccl_tui.signals.signature import exit_program
from ccl_tui.tasks.paths import path_refs
from ccl_tui.tasks.shellwrites import Stage, Word, pipelines, program_of
from ccl_tui.tasks.text import clean_line

PROVEN_FIX = "proven-fix"
UNPROVEN = "unproven"
KEEP_GREEN = "keep-green"
REFUSED = "refused"
CLASSES = (PROVEN_FIX, KEEP_GREEN, UNPROVEN, REFUSED)

RECORDED = "recorded"
EXECUTED = "executed"
NO_EVIDENCE = "none"

#: What the verifier does at the start state / after the solution.
FAILS, PASSES, UNKNOWN, NO_SOLUTION = "fails", "passes", "unknown", "no-solution"


@dataclass(slots=True)
class Contract:
    cls: str  # proven-fix | unproven | keep-green | refused
    evidence: str  # recorded | executed | none
    reason: str
    planned: str = "fix"  # the flavour the session suggested: fix | keep-green
    before: str = UNKNOWN  # the verifier at the start state: fails | passes | unknown
    after: str = UNKNOWN  # after the solution: passes | fails | unknown | no-solution
    recorded_seq: int | None = None  # the session's run of the check at the start state
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """A task that may be called ``ok``: proven fix or keep-green (never an unproven fix)."""
        return self.cls in (PROVEN_FIX, KEEP_GREEN)

    @property
    def flavour(self) -> str:
        """What the task is, for counting: fix (proven only), keep-green, unproven or refused."""
        return "fix" if self.cls == PROVEN_FIX else self.cls

    def label(self) -> str:
        if self.cls == PROVEN_FIX:
            return f"proven fix ({self.evidence})"
        if self.cls == KEEP_GREEN:
            return f"keep-green ({self.evidence})"
        if self.cls == UNPROVEN:
            return f"unproven {self.planned}"
        return "refused"

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["class"] = doc.pop("cls")
        doc["label"] = self.label()
        if doc["recorded_seq"] is None:
            doc.pop("recorded_seq")
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> Contract | None:
        if not isinstance(doc, dict) or doc.get("class") not in CLASSES:
            return None
        seq = doc.get("recorded_seq")
        return cls(
            cls=str(doc["class"]),
            evidence=str(doc.get("evidence", NO_EVIDENCE)),
            reason=str(doc.get("reason", "")),
            planned=str(doc.get("planned", "fix")),
            before=str(doc.get("before", UNKNOWN)),
            after=str(doc.get("after", UNKNOWN)),
            recorded_seq=seq if isinstance(seq, int) else None,
            notes=[str(n) for n in doc.get("notes", []) if isinstance(n, str)]
            if isinstance(doc.get("notes"), list)
            else [],
        )


# ----------------------------------------------------------------------------------------------------------
# Host dependency
# ----------------------------------------------------------------------------------------------------------

_PROCESS_PROGRAMS = frozenset(
    {
        "ps",
        "pgrep",
        "pkill",
        "kill",
        "killall",
        "pidof",
        "lsof",
        "fuser",
        "systemctl",
        "service",
        "launchctl",
        "journalctl",
        "top",
        "htop",
        "ss",
        "netstat",
        "supervisorctl",
        "pm2",
        "tmux",
        "screen",
        "jobs",
        "fg",
        "bg",
        "disown",
        "wait",
        "crontab",
        "loginctl",
        "sc",
        "tasklist",
        "taskkill",
    }
)
_CONTAINER_PROGRAMS = frozenset(
    {
        "docker",
        "podman",
        "docker-compose",
        "podman-compose",
        "kubectl",
        "minikube",
        "kind",
        "k3d",
        "helm",
        "nerdctl",
        "colima",
        "vagrant",
    }
)
_NETWORK_PROGRAMS = frozenset(
    {
        "curl",
        "wget",
        "http",
        "https",
        "xh",
        "httpie",
        "nc",
        "ncat",
        "netcat",
        "telnet",
        "ping",
        "ping6",
        "dig",
        "nslookup",
        "host",
        "traceroute",
        "tracepath",
        "mtr",
        "ssh",
        "scp",
        "sftp",
        "ftp",
        "grpcurl",
        "websocat",
        "nmap",
        "gh",
        "aws",
        "gcloud",
        "az",
        "heroku",
        "vercel",
        "netlify",
        "flyctl",
        "fly",
        "wrangler",
        "ngrok",
        "httping",
        "ab",
        "hey",
        "wrk",
        "k6",
        "newman",
    }
)
_GIT_NETWORK = frozenset({"clone", "fetch", "pull", "push", "ls-remote", "remote-update"})
_NPM_NETWORK = frozenset(
    {
        "view",
        "info",
        "show",
        "publish",
        "ping",
        "search",
        "whoami",
        "login",
        "adduser",
        "deprecate",
        "dist-tag",
        "owner",
        "access",
        "unpublish",
    }
)
_TIME_PROGRAMS = frozenset({"sleep", "watch", "faketime", "timedatectl", "hwclock", "wait-on", "wait-for-it", "uptime"})
_TEST_PROGRAMS = frozenset({"[", "[[", "test", "expr", "let", "(("})
_TIME_VARS = re.compile(r"\$\{?(EPOCHSECONDS|EPOCHREALTIME|SECONDS)\b")
_LOOPBACK = re.compile(r"(?<![\w.-])(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\]|::1)(:\d{2,5})?(?![\w-])", re.I)
_LOOPBACK_PORT = re.compile(r"(?<![\w.-])(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1?\])(:\d{2,5})", re.I)
_URL = re.compile(r"\b(?:https?|wss?|ftp)://[^\s'\"`)]+", re.I)
_CODE_NET = re.compile(
    r"urlopen|requests\.(get|post|put|head)|httpx\.|fetch\(|axios|http\.get|socket\.|"
    r"create_connection|aiohttp",
    re.I,
)
_SUBST = re.compile(r"\$\(|`")
#: Devices a check may name.
DEVICES = (
    "/dev/null",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/tty",
    "/dev/fd",
    "/proc/self",
)
#: System directories, where tools live.
SYSTEM_DIRS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/nix",
    "/snap",
    "/System",
    "/Library",
)
#: Absolute paths a check may name: devices and system directories.
SYSTEM_PREFIXES = (*DEVICES, *SYSTEM_DIRS, "/Applications")
_SCRATCH = ("/tmp", "/var/tmp", "/private/tmp")
_TOOL_DIR = re.compile(r"/(bin|sbin|shims|\.bin|Scripts)/[^/]+$")
_REPO = "/ccl-repo"  # stands for the task's repository when paths are resolved
_HOME = "/ccl-home"  # stands for the session user's home (outside the repository)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _inner_scripts(word: Word) -> list[str]:
    """Command substitutions inside a word (``$(…)``, backticks, ``<(…)``), as scripts to read."""
    raw, out = word.raw, []
    i = 0
    while i < len(raw):
        if raw.startswith("$(", i) or raw.startswith("<(", i):
            depth, j = 0, i + 1
            while j < len(raw):
                if raw[j] == "(":
                    depth += 1
                elif raw[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(raw[i + 2 : j])
            i = j + 1
        elif raw[i] == "`":
            j = raw.find("`", i + 1)
            j = len(raw) if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        else:
            i += 1
    return [s for s in out if s.strip()]


def _shell_script(args: list[Word]) -> str | None:
    for i, a in enumerate(args):
        if a.text.startswith("-") and not a.text.startswith("--") and "c" in a.text[1:]:
            return args[i + 1].text if i + 1 < len(args) else None
        if not a.text.startswith(("-", "+")):
            return None
    return None


def _stage_reasons(st: Stage, in_test: bool, depth: int) -> list[str]:
    prog, args = program_of(st.words)
    texts = [a.text for a in args]
    shown = " ".join([prog, *(a.raw for a in args)])[:80]
    reasons: list[str] = []
    if prog in ("bash", "sh", "zsh", "dash", "ksh"):
        script = _shell_script(args)
        if script is not None:
            reasons += _reasons(script, depth + 1)
    for w in st.words:
        for inner in _inner_scripts(w):
            reasons += _reasons(
                inner, depth + 1, in_test=in_test or prog in _TEST_PROGRAMS or bool(re.match(r"[A-Za-z_]\w*=", w.raw))
            )
    if prog in _PROCESS_PROGRAMS:
        reasons.append(f"reads or changes the host's processes (`{shown}`)")
    elif prog in _CONTAINER_PROGRAMS:
        reasons.append(f"needs the host's container engine or cluster (`{shown}`)")
    elif prog in _NETWORK_PROGRAMS:
        reasons.append(f"talks to a network endpoint (`{shown}`)")
    elif prog == "git" and next((t for t in texts if not t.startswith("-")), "") in _GIT_NETWORK:
        reasons.append(f"talks to a git remote (`{shown}`)")
    elif prog in ("npm", "pnpm", "yarn") and next((t for t in texts if not t.startswith("-")), "") in _NPM_NETWORK:
        reasons.append(f"queries a package registry (`{shown}`)")
    elif prog == "openssl" and "s_client" in texts:
        reasons.append(f"talks to a network endpoint (`{shown}`)")
    elif prog == "date" and in_test:
        reasons.append(f"compares the current time (`{shown}`)")
    elif prog in _TIME_PROGRAMS:
        what = "waits for something with `sleep` (timing-dependent)" if prog == "sleep" else "depends on time"
        reasons.append(f"{what} (`{shown}`)")
    elif prog == "stat" and any(re.search(r"%[XYZWxyzw]", t) for t in texts) and in_test:
        reasons.append(f"compares file times (`{shown}`)")
    elif prog == "find" and any(
        t in ("-newer", "-mmin", "-mtime", "-amin", "-atime", "-cmin", "-ctime") for t in texts
    ):
        reasons.append(f"selects files by time (`{shown}`)")
    elif prog in ("python", "python3", "node", "deno", "bun", "ruby", "perl", "php") and any(
        t in ("-c", "-e", "--eval", "-p") for t in texts
    ):
        code = " ".join(texts)
        if _URL.search(code) and _CODE_NET.search(code):
            reasons.append(f"fetches a URL from inline code (`{shown}`)")
    if prog not in ("echo", "printf", ":", "true", "") and prog not in _NETWORK_PROGRAMS:
        for t in texts:
            m = _LOOPBACK_PORT.search(t)
            if m:
                reasons.append(f"needs a server running on the host ({m.group(0)}, in `{shown}`)")
                break
    if st.background:
        reasons.append(f"starts a background process and depends on its timing (`{shown} &`)")
    if in_test and prog not in _TEST_PROGRAMS and _TIME_VARS.search(" ".join(w.raw for w in st.words)):
        reasons.append(f"compares the current time (`{shown}`)")
    return reasons


def _reasons(command: str, depth: int = 0, *, in_test: bool = False) -> list[str]:
    if depth > 4 or not command.strip():
        return []
    out: list[str] = []
    for pipe in pipelines(command):
        for st in pipe:
            prog, _args = program_of(st.words)
            testing = in_test or prog in _TEST_PROGRAMS
            out += _stage_reasons(st, testing, depth)
            if prog in _TEST_PROGRAMS and _TIME_VARS.search(" ".join(w.raw for w in st.words)):
                out.append("compares the current time ($EPOCHSECONDS/$SECONDS)")
    return out


def _written_targets(command: str) -> list[str]:
    """Files the command itself writes (redirections, output flags, mkdir): it may read them back."""
    out: list[str] = []
    for pipe in pipelines(command):
        for st in pipe:
            out += [t.text for t in st.redirect_targets if t.literal]
            prog, args = program_of(st.words)
            texts = [a.text for a in args]
            if prog in ("mkdir", "mktemp", "touch", "tee"):
                out += [t for t in texts if t.startswith("/")]
            for k, t in enumerate(texts):
                m = re.match(r"(--[\w-]*(?:out|temp|dir|junitxml|report|log|cache)[\w-]*)=(/.+)", t)
                if m:
                    out.append(m.group(2))
                elif t in (
                    "-o",
                    "--output",
                    "--outdir",
                    "--out-dir",
                    "--basetemp",
                    "--junitxml",
                    "--target-dir",
                    "--cache-dir",
                    "--log-file",
                ) and k + 1 < len(texts):
                    out.append(texts[k + 1])
    return [posixpath.normpath(p) for p in out if p.startswith("/")]


def _printed(command: str) -> list[str]:
    """The raw arguments of echo/printf: text that is printed, not a path that is read."""
    out: list[str] = []
    for pipe in pipelines(command):
        for st in pipe:
            prog, args = program_of(st.words)
            if prog in ("echo", "printf", ":", "true"):
                out += [a.raw for a in args]
    return out


_PROTOCOL_RELATIVE = re.compile(r"//[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/|:|$)")


def _path_reasons(command: str, workdir_rel: str) -> list[str]:
    written = _written_targets(command)
    printed = _printed(command)
    workdir = posixpath.normpath(posixpath.join(_REPO, workdir_rel or "."))

    def var(name: str) -> str | None:
        if name == "CCL_REPO_ROOT":
            return _REPO
        if name == "HOME":
            return _HOME
        if name in ("PWD",):
            return workdir
        return None  # unknown: not judged

    out: list[str] = []
    for ref in path_refs(command):
        value = ref.expand(var, lambda _user: _HOME)
        if not value:
            continue
        spelled = ref.spelling(command)
        if printed and command.count(spelled) <= sum(raw.count(spelled) for raw in printed):
            continue  # only ever printed
        if _PROTOCOL_RELATIVE.match(value):
            continue  # //registry.npmjs.org/:_authToken=…: a host in a config key, not a path
        if value.startswith("/"):
            target = posixpath.normpath(value)
        elif ref.has_parent_step():
            target = posixpath.normpath(posixpath.join(workdir, value))
        else:
            continue
        if _under(target, _REPO):
            continue
        if _under(target, _HOME):
            if _TOOL_DIR.search(target):
                continue  # a tool installed in the home (~/.cargo/bin/cargo, ~/.local/bin/x)
            out.append(f"reads the home directory of the machine it ran on ({spelled!r})")
            continue
        if any(_under(target, p) for p in SYSTEM_PREFIXES) or _TOOL_DIR.search(target):
            continue
        if any(_under(target, s) for s in _SCRATCH):
            if any(_under(target, w) or _under(w, target) for w in written):
                continue  # scratch files the check writes itself
            out.append(f"reads {spelled!r}, a file left on the host outside the repository")
            continue
        if not value.startswith("/"):
            out.append(f"climbs out of the repository ({spelled!r})")
        else:
            out.append(f"names an absolute path outside the repository ({spelled!r})")
    return out


def host_dependency(command: str, workdir_rel: str = ".") -> str | None:
    """Why ``command`` (a check, with the session's directory already rewritten to ``${CCL_REPO_ROOT}``)
    depends on the host rather than on the repository, or None when it does not."""
    if not command or not command.strip():
        return "the check is empty"
    reasons = _reasons(command) + _path_reasons(command, workdir_rel)
    if exit_program(command) == "date":
        reasons.append("prints the current time (`date`) as its result")
    unique = list(dict.fromkeys(clean_line(r, 200) for r in reasons))
    if not unique:
        return None
    return "the check " + "; ".join(unique[:3]) + (f" (+{len(unique) - 3} more)" if len(unique) > 3 else "")


# ----------------------------------------------------------------------------------------------------------
# The recorded condition: network failures and tool versions
# ----------------------------------------------------------------------------------------------------------

_NETWORK_FAILURES = (
    r"\bEAI_AGAIN\b",
    r"\bENOTFOUND\b",
    r"\bENETUNREACH\b",
    r"\bEHOSTUNREACH\b",
    r"Could not resolve host",
    r"Couldn'?t resolve host",
    r"Temporary failure in name resolution",
    r"Name or service not known",
    r"nodename nor servname provided",
    r"[Nn]etwork is unreachable",
    r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN|failed)",
    r"Failed to establish a new connection",
    r"npm ERR! network",
    r"npm error network",
    r"ERR_PNPM_META_FETCH_FAIL",
    r"ERR_PNPM_FETCH_\w+",
    r"\(from versions: none\)",
    r"spurious network error",
    r"failed to query replaced source registry",
    r"failed to download from",
    r"dial tcp: lookup \S+",
    r"proxy\.golang\.org.*(?:timeout|refused|no such host)",
    r"no such host",
    r"offline mode|--offline.*not (?:found|cached)|ERR_OFFLINE|ENOTCACHED",
    r"(?:ECONNREFUSED|ETIMEDOUT|ECONNRESET)\s+(?!127\.|::1|\[::1\]|localhost|0\.0\.0\.0)[\w.-]+",
)
_NETWORK = re.compile("|".join(f"(?:{p})" for p in _NETWORK_FAILURES))
_REGISTRY_REFUSED = re.compile(
    r"(registry\.npmjs\.org|registry\.yarnpkg\.com|pypi\.org|files\.pythonhosted\.org|"
    r"crates\.io|proxy\.golang\.org|github\.com|index\.crates\.io)",
    re.I,
)


def network_failure(*texts: str) -> str | None:
    """The line of a recorded output that shows a failed network access (DNS, connect to a registry,
    offline package managers), or None. Refused connections to the host itself are not network failures."""
    for text in texts:
        for line in (text or "").splitlines():
            m = _NETWORK.search(line)
            if m is None:
                continue
            if "ECONNREFUSED" in m.group(0) and not _REGISTRY_REFUSED.search(line) and _LOOPBACK.search(line):
                continue
            return clean_line(line.strip(), 200)
    return None


_VERSION_QUERY = re.compile(
    r"^\s*(?P<prog>node|nodejs|npm|npx|pnpm|yarn|bun|deno|python3?|python3\.\d+|pip3?|uv|poetry|go|cargo|rustc|"
    r"tsc|pytest|ruby|java|javac|dotnet|gcc|clang|make|cmake|git|docker)\s+(?:--version|-v|-V|version)\s*$"
)
_VERSION = re.compile(r"(?:(?:^|[\s(])v?|go)(\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?)")
_NAMES = {"nodejs": "node", "python3": "python", "pip3": "pip", "npx": "npm"}


def version_from(command: str, output: str) -> tuple[str, str] | None:
    """(tool, version) when ``command`` asked a tool for its version and ``output`` answers."""
    m = _VERSION_QUERY.match(command or "")
    if m is None:
        return None
    prog = m.group("prog")
    prog = "python" if prog.startswith("python") else _NAMES.get(prog, prog)
    first = next((ln for ln in (output or "").splitlines() if ln.strip()), "")
    v = _VERSION.search(first)
    return (prog, v.group(1)) if v else None


# ----------------------------------------------------------------------------------------------------------
# Classification
# ----------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One recorded run of the verifier command."""

    seq: int
    exit_code: int | None


def classify(
    *,
    planned: str,
    command: str,
    host_reason: str | None,
    start_runs: list[Run],
    start_gaps: list[str],
    strategy: str,
    later_pass: Run | None,
    failure: Run | None,
    solution_complete: bool,
    has_solution_edits: bool,
    success: Run | None,
    network_failure: str | None = None,
    success_command: str | None = None,
) -> Contract:
    """The contract of a planned task.

    ``start_runs``: the session's finished runs of the verifier command at the task's start state (no edit in
    between); ``start_gaps``: why the task's start state differs from the session's (edits that cannot be
    replayed); ``later_pass``: a later passing run (after edits); ``failure``: the failing run the task was built
    around (if any); ``success``: the run where the session got past it.
    """
    shown = clean_line(command, 120)
    if host_reason:
        return Contract(REFUSED, NO_EVIDENCE, host_reason, planned)
    fails = [r for r in start_runs if r.exit_code not in (None, 0)]
    passes = [r for r in start_runs if r.exit_code == 0]
    other = success_command is not None and " ".join(success_command.split()) != " ".join(command.split())
    after = NO_SOLUTION if success is None else (PASSES if solution_complete and not other else UNKNOWN)
    notes: list[str] = []
    if fails and passes and network_failure and failure is not None and failure in fails:
        # the same state failed without network and passed with it: the task keeps the network off
        notes.append(
            f"it passed at event {passes[0].seq} in the same state once the network was back; the task's"
            " environment has no network"
        )
        passes = []
    if fails and passes:
        return Contract(
            UNPROVEN,
            NO_EVIDENCE,
            (
                f"the session recorded `{shown}` both failing (event {fails[0].seq}) and passing (event {passes[0].seq})"
                " in the same state: a flaky check"
            ),
            planned,
        )
    if (fails or passes) and start_gaps:
        seen = "failing" if fails else "passing"
        run = (fails or passes)[0]
        return Contract(
            UNPROVEN,
            NO_EVIDENCE,
            (
                f"the session recorded `{shown}` {seen} at event {run.seq}, but the task's start state is not exactly"
                f" that state: {'; '.join(start_gaps[:3])}"
            ),
            planned,
        )
    if fails:
        run = fails[-1]
        reason = (
            f"the session recorded `{shown}` failing (exit {run.exit_code}) at event {run.seq}, in exactly"
            " this start state"
        )
        if run.exit_code == 124:
            reason += " (a timeout)"
        if success is not None and other:
            reason += (
                f"; the session got past it at event {success.seq} with another command"
                f" (`{clean_line(success_command, 80)}`): whether this check passes after the solution is"
                " unknown"
            )
        elif success is not None:
            reason += (
                f"; it passed at event {success.seq} after the solution's edits"
                if solution_complete
                else "; the session later got it to pass, but not only with edits ccl-tui can replay"
            )
        else:
            reason += "; the session never got it to pass (no solution)"
        return Contract(PROVEN_FIX, RECORDED, reason, planned, FAILS, after, run.seq, notes)
    if passes:
        run = passes[-1]
        return Contract(
            KEEP_GREEN,
            RECORDED,
            (
                f"the session recorded `{shown}` passing at event {run.seq}, in exactly this start state: the task"
                " guards that it stays green while the request is done"
            ),
            planned,
            PASSES,
            after if has_solution_edits else PASSES,
            run.seq,
        )
    if failure is not None and failure.exit_code is None:
        why = f"`{shown}` did not finish at event {failure.seq} (interrupted or no exit status): it was never seen failing"
    elif later_pass is not None:
        why = f"the session never ran `{shown}` in this start state; it passed at event {later_pass.seq}, after edits"
    else:
        why = f"the session never ran `{shown}` in this start state"
    if start_gaps:
        why += f"; and the start state is not exact: {'; '.join(start_gaps[:2])}"
    why += (
        ". Whether it fails at the start is unknown: `ccl-tui tasks check --execute` proves it (fails before,"
        " passes after the solution) or shows it is keep-green"
    )
    return Contract(UNPROVEN, NO_EVIDENCE, why, planned, UNKNOWN, after)


def refine(
    planned: Contract, *, before: float | None, after: float | None, has_solution: bool, inconclusive: str = ""
) -> Contract:
    """The contract after ``--execute`` ran the verifier before (and after) the solution.

    ``inconclusive``: why this run cannot overrule the recorded evidence (dependencies not installed, the
    recorded network condition not reproduced...); it then only adds a note unless it proves the task.
    """
    if planned.cls == REFUSED:
        return planned
    b = None if before is None else (PASSES if before >= 1 else FAILS)
    a = None if after is None else (PASSES if after >= 1 else FAILS)
    base = Contract(
        planned.cls,
        planned.evidence,
        planned.reason,
        planned.planned,
        planned.before,
        planned.after,
        planned.recorded_seq,
        list(planned.notes),
    )
    if b == FAILS and a == PASSES:
        extra = " (as the session recorded)" if planned.cls == PROVEN_FIX and planned.evidence == RECORDED else ""
        return Contract(
            PROVEN_FIX,
            EXECUTED,
            f"ccl-tui ran the verifier: it failed before the solution and passed after it{extra}",
            planned.planned,
            FAILS,
            PASSES,
            planned.recorded_seq,
            list(planned.notes),
        )
    if b is None:
        base.notes.append("the verifier gave no reward before the solution: nothing proven")
        return base
    if inconclusive:
        base.notes.append(f"the local run is inconclusive ({inconclusive}): before={b}, after={a or '-'}")
        return base
    if b == PASSES:
        if a == FAILS and has_solution:
            base.notes.append("the check passed before the solution but failed after it: the solution breaks it")
            if planned.cls == KEEP_GREEN:
                base.after = FAILS
                return base
        reason = "ccl-tui ran the verifier: it already passed before the solution"
        if planned.cls == PROVEN_FIX:
            reason += (
                " although the session recorded it failing there: the failure depended on something outside"
                " the repository (environment, versions, services)"
            )
        return Contract(
            KEEP_GREEN,
            EXECUTED,
            reason,
            planned.planned,
            PASSES,
            a or UNKNOWN,
            planned.recorded_seq,
            list(planned.notes),
        )
    # it fails before the solution
    if not has_solution:
        base.before = FAILS
        base.notes.append(
            "ccl-tui ran the verifier: it fails at the start state; there is no solution to show it can pass"
        )
        return base
    base.before, base.after = FAILS, FAILS
    base.notes.append("ccl-tui ran the verifier: it failed before and after the solution")
    return base


def inexact_start(c: Contract, why: str) -> Contract:
    """``c`` once the task's start state turned out not to be the one the evidence was recorded in."""
    if c.evidence != RECORDED or c.cls not in (PROVEN_FIX, KEEP_GREEN):
        return c
    seen = "failing" if c.cls == PROVEN_FIX else "passing"
    return Contract(
        UNPROVEN,
        NO_EVIDENCE,
        (
            f"the session recorded the check {seen} at event {c.recorded_seq}, but the task's start state is not"
            f" exactly that state: {why}"
        ),
        c.planned,
        UNKNOWN,
        c.after,
        c.recorded_seq,
        list(c.notes),
    )
