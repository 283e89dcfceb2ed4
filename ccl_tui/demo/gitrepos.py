"""Real, deterministic git histories for the demo corpus's fictional repositories.

Each repository of ``repos.REPOS`` gets a linear history on ``main``: a root commit with the files of
``repofiles.base_files`` and one commit per *slot* across the corpus time span (the plan draws one of 40 slots
per session, by date), plus, in the Python repositories, the commit of ``FIX_DATE`` that adds "Run `uv sync`
first" to ``AGENTS.md``. Commits change the changelog, bump a locked dependency, add a README note, or (two of
them) introduce the regressions of the runnable episode (episode.py).

Commit hashes are computed here in pure Python from the content (git's object format: blobs, trees, commits
with fixed author, committer, dates and time zones from the corpus clock), so planning the corpus needs no git
and gives the same hashes on every machine. :func:`write_bundle` materializes a history with ``git fast-import``
(no user or system config, no hooks, ``core.autocrlf=false``) and checks that git computed the same hashes,
then writes a ``git bundle``: what ``demo_sessions/repos/<name>.bundle`` is.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ccl_tui.demo import clock
from ccl_tui.demo import repofiles as rf
from ccl_tui.demo.clock import FIRST_DAY, FIX_DATE, LAST_DAY
from ccl_tui.demo.repos import PY, REPOS, Repo, developers_for

SLOTS = 40  # commits the plan draws per repository (plan._finalize)
FIX_TIME = (7, 30)  # local time of the AGENTS.md commit on FIX_DATE

#: Slot whose commit introduces each episode's regression (before the episode's first session).
REGRESSION_SLOT = {"billing-api": 4, "etl-pipeline": 8}
REGRESSION_SUBJECT = {
    "billing-api": "perf: split gross amounts without Decimal quantize",
    "etl-pipeline": "perf: parse CRM amounts with float()",
}

Files = dict[str, bytes]


# --------------------------------------------------------------------------------------------------------------
# git objects
# --------------------------------------------------------------------------------------------------------------


def object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body).hexdigest()


def _tree(files: Files, objects: dict[str, tuple[str, bytes]]) -> str:
    """Write the tree of ``files`` (and its blobs and subtrees) into ``objects``; return its id."""
    entries: dict[str, tuple[str, str]] = {}  # name -> (mode, id)
    subdirs: dict[str, Files] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = data
        else:
            blob = object_id("blob", data)
            objects[blob] = ("blob", data)
            entries[head] = ("100644", blob)
    for name, sub in subdirs.items():
        entries[name] = ("40000", _tree(sub, objects))
    # git orders entries by name, a directory as if its name ended with "/"
    order = sorted(entries, key=lambda n: n.encode() + (b"/" if entries[n][0] == "40000" else b""))
    body = b"".join(f"{entries[n][0]} {n}\0".encode() + bytes.fromhex(entries[n][1]) for n in order)
    tree = object_id("tree", body)
    objects[tree] = ("tree", body)
    return tree


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


@dataclass(slots=True)
class Commit:
    sha: str
    tree: str
    parent: str | None
    subject: str
    author: Person
    epoch: int  # seconds
    tz: str  # "+0200"
    files: Files  # the whole tree at this commit
    slot: int | None = None  # the plan slot this commit stands for (None: the FIX_DATE commit)

    @property
    def oneline(self) -> str:
        return f"{self.sha[:7]} {self.subject}"

    @property
    def day(self) -> str:
        return clock.local_date(self.epoch * 1000)


def _stamp(person: Person, epoch: int, tz: str) -> str:
    return f"{person.name} <{person.email}> {epoch} {tz}"


def commit_body(tree: str, parent: str | None, author: Person, epoch: int, tz: str, message: str) -> bytes:
    lines = [f"tree {tree}"] + ([f"parent {parent}"] if parent else [])
    lines += [f"author {_stamp(author, epoch, tz)}", f"committer {_stamp(author, epoch, tz)}", "", message]
    return "\n".join(lines).encode()


@dataclass(slots=True)
class History:
    repo: Repo
    commits: list[Commit] = field(default_factory=list)  # oldest first
    slots: list[int] = field(default_factory=list)  # slot -> index into commits
    fix: int | None = None  # index of the FIX_DATE commit (Python repositories)
    objects: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (kind, body)

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def index(self, sha: str) -> int:
        return next(i for i, c in enumerate(self.commits) if c.sha == sha)

    def commit_for(self, slot: int, post_fix: bool) -> Commit:
        """The commit a session checked out: its slot's, or (a Python repository on/after FIX_DATE, when the
        slot's commit predates it) the FIX_DATE commit, so AGENTS.md always says what the session recorded."""
        i = self.slots[slot]
        if self.fix is not None and post_fix and i < self.fix:
            i = self.fix
        return self.commits[i]

    def log(self, sha: str, n: int = 5) -> list[str]:
        """``git log --oneline -n`` at ``sha``."""
        i = self.index(sha)
        return [c.oneline for c in reversed(self.commits[max(0, i - n + 1) : i + 1])]

    def files_at(self, sha: str) -> Files:
        return self.commits[self.index(sha)].files


# --------------------------------------------------------------------------------------------------------------
# the history of one repository
# --------------------------------------------------------------------------------------------------------------

_SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing-api": (
        "fix: keep invoice numbers gapless after a rollback",
        "feat: expose due_date on InvoiceOut",
        "refactor: move PDF rendering into services/pdf",
        "fix: accept lowercase ISO currency codes",
        "test: cover customer lookups by tax id",
        "feat: add checkout.session.completed webhook handler",
        "fix: log Stripe event ids on signature errors",
        "refactor: share the Decimal cent constant",
        "ci: run alembic check on pull requests",
        "fix: 404 instead of 500 for unknown invoices",
    ),
    "etl-pipeline": (
        "fix: skip CRM contacts without an id",
        "feat: add --since to the CLI",
        "refactor: one settings object for all clients",
        "fix: map Schweiz to CH in country aliases",
        "test: fixture page for the contacts endpoint",
        "feat: ANALYZE tables after the nightly load",
        "fix: close the S3 stream after reading",
        "ci: cache uv downloads",
        "refactor: qualified() checks table names",
        "fix: treat empty emails as missing",
    ),
    "support-bot": (
        "fix: strip mentions with display names",
        "feat: outage label for 'down' reports",
        "refactor: Slack client without the SDK",
        "fix: answer in the thread of the mention",
        "test: triage labels for common phrases",
        "feat: add_reaction helper",
        "ci: build the container on tags",
        "fix: time out Slack calls after 10s",
    ),
    "web-dashboard": (
        "fix: keep the selected page after a refetch",
        "feat: invoice status badges",
        "refactor: one fetch wrapper for the billing API",
        "fix: format negative amounts with a minus sign",
        "test: InvoiceTable renders an empty state",
        "feat: settings page skeleton",
        "ci: run vitest with coverage",
        "fix: send the auth header on every request",
        "refactor: InvoicePage type shared by table and client",
    ),
    "notify-service": (
        "fix: do not publish twice on retried inserts",
        "feat: weekly digest topic",
        "refactor: transports behind one interface",
        "fix: reconnect after a server close frame",
        "test: worker skips unknown templates",
        "feat: /health endpoint",
        "ci: jest in band on CI",
        "fix: cap the reconnect delay at 30s",
    ),
    "ingest-gateway": (
        "fix: return 202 for accepted batches",
        "feat: readiness probe reports the sink",
        "refactor: codec in its own module",
        "fix: count accepted events, not requests",
        "test: header-only frames wait for more bytes",
        "feat: request body limit",
        "ci: clippy with -D warnings",
        "perf: reuse the Kafka producer",
    ),
    "tilecache": (
        "fix: drop expired entries on read",
        "feat: configurable TTL",
        "refactor: TileCoord::key",
        "fix: encode PNGs with the fast filter",
        "test: cache returns what was inserted",
        "bench: render z0 tiles",
        "ci: run benches on main",
    ),
    "orders-svc": (
        "fix: stable order of ListOrders pages",
        "feat: next_cursor in list responses",
        "refactor: store package owns SQL",
        "fix: 404 for unknown order ids",
        "test: cursor decoding",
        "feat: status index migration",
        "ci: go vet on pull requests",
        "fix: close rows on scan errors",
    ),
}
_NOTES = (
    "Run the linters before pushing; CI runs the same commands.",
    "Secrets come from the environment, never from files in the repository.",
    "Keep pull requests small: one behaviour change each.",
    "Changelog entries go under Unreleased.",
    "Integration tests need the services from docker-compose; unit tests do not.",
    "Prefer explicit time zones (UTC) in stored timestamps.",
)
#: The kind of change of each journal commit, cycled.
_KINDS = ("change", "deps", "change", "docs", "change", "change", "deps", "change", "change", "docs")


def _slot_times() -> list[int]:
    """Epoch ms of each slot's commit: shortly before the first moment a session can draw that slot."""
    first = clock.from_local(datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day))
    last = clock.from_local(datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 59))
    span = last - first
    out = []
    for i in range(SLOTS):
        boundary = first + (i - 1) * span // SLOTS  # sessions with int(frac * SLOTS) >= i - 1 may draw slot i
        margin = (17 + (i * 37) % 43) * 60_000 + (i * 7919) % 60_000
        out.append(boundary - margin)
    return out


def _fix_time() -> int:
    d = date.fromisoformat(FIX_DATE)
    return clock.from_local(datetime(d.year, d.month, d.day, *FIX_TIME))


def _bump(version: str) -> str:
    parts = version.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def _people(repo: Repo) -> list[Person]:
    org_domain = f"{repo.org}.example"
    return [Person(d.name.capitalize(), f"{d.name}@{org_domain}") for d in developers_for(repo)]


class _Builder:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.history = History(repo)
        self.text = rf.base_files(repo)
        self.locked = list(rf.LOCKED[repo.name])
        self.people = _people(repo)
        self.pr = {
            "billing-api": 412,
            "etl-pipeline": 158,
            "support-bot": 77,
            "web-dashboard": 301,
            "notify-service": 129,
            "ingest-gateway": 64,
            "tilecache": 38,
            "orders-svc": 203,
        }[repo.name]
        self.n_change = self.n_deps = self.n_docs = 0

    def commit(self, subject: str, ms: int, author: Person, slot: int | None) -> None:
        files = {p: t.encode() for p, t in self.text.items()}
        h = self.history
        tree = _tree(files, h.objects)
        parent = h.commits[-1].sha if h.commits else None
        epoch = ms // 1000
        tz = f"+0{clock.utc_offset_hours(ms)}00"
        body = commit_body(tree, parent, author, epoch, tz, subject + "\n")
        sha = object_id("commit", body)
        h.objects[sha] = ("commit", body)
        h.commits.append(Commit(sha, tree, parent, subject, author, epoch, tz, files, slot))

    def changelog(self, line: str) -> None:
        lines = self.text["CHANGELOG.md"].split("\n")
        lines.insert(len(rf.CHANGELOG_HEAD), line)  # right under "## Unreleased" and its blank line
        self.text["CHANGELOG.md"] = "\n".join(lines)

    def replace_line(self, path: str, number: int, old: str, new: str) -> None:
        lines = self.text[path].split("\n")
        if lines[number - 1] != old:
            raise ValueError(f"{self.repo.name}:{path}:{number}: expected {old!r}, found {lines[number - 1]!r}")
        lines[number - 1] = new
        self.text[path] = "\n".join(lines)

    def journal(self, slot: int) -> str:
        """Change the files for slot ``slot``'s commit; return its subject."""
        repo = self.repo
        if REGRESSION_SLOT.get(repo.name) == slot:
            if repo.name == "billing-api":
                self.replace_line(
                    "src/billing/services/tax.py", rf.BILLING_TAX_LINE, rf.BILLING_TAX_OK, rf.BILLING_TAX_BUG
                )
            else:
                self.replace_line(
                    "src/etl/transform/normalize.py", rf.ETL_AMOUNT_LINE, rf.ETL_AMOUNT_OK, rf.ETL_AMOUNT_BUG
                )
            subject = REGRESSION_SUBJECT[repo.name]
        else:
            kind = _KINDS[slot % len(_KINDS)]
            if kind == "deps":
                k = self.n_deps % len(self.locked)
                name, version = self.locked[k]
                self.locked[k] = (name, _bump(version))
                self.text[rf.LOCKFILE[repo.lang]] = rf.lockfile(repo, self.locked)
                subject = f"chore(deps): bump {name} from {version} to {self.locked[k][1]}"
                self.n_deps += 1
            elif kind == "docs":
                note = _NOTES[(self.n_docs + len(repo.name)) % len(_NOTES)]
                self.text["README.md"] = self.text["README.md"].rstrip("\n") + f"\n- {note}\n"
                subject = f"docs: {note[0].lower()}{note[1:].rstrip('.')}"
                self.n_docs += 1
            else:
                subjects = _SUBJECTS[repo.name]
                subject = subjects[self.n_change % len(subjects)]
                round_ = self.n_change // len(subjects)
                subject += ("", " (follow-up)", " (part 3)", " (part 4)")[min(round_, 3)]
                self.n_change += 1
        self.pr += 1 + (slot * 3) % 4
        self.changelog(f"- {subject.split(': ', 1)[-1][0].upper()}{subject.split(': ', 1)[-1][1:]} (#{self.pr})")
        return f"{subject} (#{self.pr})"

    def build(self) -> History:
        repo, h = self.repo, self.history
        times = _slot_times()
        fix_ms = _fix_time() if repo.lang == PY else None
        for slot, ms in enumerate(times):
            if fix_ms is not None and h.fix is None and ms > fix_ms:
                self.text["AGENTS.md"] = rf.agents_file(repo, post_fix=True)
                self.changelog("- AGENTS.md: run `uv sync` first (#" + str(self.pr + 1) + ")")
                self.pr += 1
                self.commit(
                    f"docs(agents): run uv sync first, tests via uv run pytest (#{self.pr})",
                    fix_ms,
                    self.people[0],
                    None,
                )
                h.fix = len(h.commits) - 1
            author = self.people[(slot * 5 + 1) % len(self.people)]
            if slot == 0:
                self.commit(f"Import {repo.name} {repo.version}", ms, self.people[0], 0)
            else:
                self.commit(self.journal(slot), ms, author, slot)
            h.slots.append(len(h.commits) - 1)
        return h


@functools.cache
def history(name: str) -> History:
    """The history of the repository called ``name`` (computed once per process)."""
    repo = next(r for r in REPOS if r.name == name)
    return _Builder(repo).build()


def histories() -> dict[str, History]:
    return {repo.name: history(repo.name) for repo in REPOS}


# --------------------------------------------------------------------------------------------------------------
# materializing: working trees, git repositories, bundles
# --------------------------------------------------------------------------------------------------------------


def write_tree(files: Files, dest: Path) -> None:
    """The files of a commit as a plain directory (no .git): what a checkout's working tree holds."""
    for path, data in files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def git_env(home: Path | None = None) -> dict[str, str]:
    """An environment in which git reads no user or system configuration and never prompts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_SYSTEM=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        TZ="UTC",
    )
    if home is not None:
        env["HOME"] = str(home)
    return env


GIT_OPTIONS = (
    "-c",
    "core.autocrlf=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "pack.threads=1",
    "-c",
    "gc.auto=0",
    "-c",
    "core.fsmonitor=false",
)


def _git(args: list[str], cwd: Path, data: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *GIT_OPTIONS, *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        env=env or git_env(),
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()[-500:]}")
    return proc.stdout


def fast_import_stream(h: History) -> bytes:
    out: list[bytes] = []
    previous: Files = {}
    for n, c in enumerate(h.commits, 1):
        stamp = _stamp(c.author, c.epoch, c.tz).encode()
        message = (c.subject + "\n").encode()
        out += [
            b"commit refs/heads/main\n",
            f"mark :{n}\n".encode(),
            b"author " + stamp + b"\n",
            b"committer " + stamp + b"\n",
            f"data {len(message)}\n".encode(),
            message,
        ]
        if n > 1:
            out.append(f"from :{n - 1}\n".encode())
        for path in sorted(set(previous) - set(c.files)):
            out.append(f"D {path}\n".encode())
        for path, data in sorted(c.files.items()):
            if previous.get(path) != data:
                out += [f"M 100644 inline {path}\n".encode(), f"data {len(data)}\n".encode(), data, b"\n"]
        out.append(b"\n")
        previous = c.files
    return b"".join(out)


def build_repo(h: History, dest: Path, *, bare: bool = True) -> Path:
    """A real git repository of ``h`` at ``dest`` (bare by default), made with ``git fast-import``. Raises if git
    computed other hashes than this module."""
    dest.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="ccl-demo-git-home-"))
    try:
        env = git_env(home)
        _git(["init", "-q", "--template=", *(["--bare"] if bare else []), str(dest)], dest, env=env)
        gitdir = dest if bare else dest / ".git"
        _git([f"--git-dir={gitdir}", "fast-import", "--quiet", "--date-format=raw"], dest, fast_import_stream(h), env)
        _git([f"--git-dir={gitdir}", "symbolic-ref", "HEAD", "refs/heads/main"], dest, env=env)
        head = _git([f"--git-dir={gitdir}", "rev-parse", "refs/heads/main"], dest, env=env).decode().strip()
        if head != h.head.sha:
            raise RuntimeError(f"{h.repo.name}: git built {head}, the corpus expects {h.head.sha}")
        if not bare:
            _git(["checkout", "-q", "-f", "main"], dest, env=env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return dest


def write_bundle(h: History, path: Path) -> Path:
    """``path`` (``<name>.bundle``): the whole history of ``h`` (``main`` and ``HEAD``) as one git bundle file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"ccl-demo-{h.repo.name}-"))
    try:
        repo = build_repo(h, work / "repo.git")
        tmp = work / path.name
        _git([f"--git-dir={repo}", "bundle", "create", "--quiet", str(tmp), "main", "HEAD"], work)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def git_available() -> bool:
    return shutil.which("git") is not None


REPOS_FOLDER = "repos"

REPOS_README = """\
# Demo repositories

Real git repositories of the demo corpus's fictional projects, one git bundle each (`<name>.bundle`, history of
`main`). Every demo session records one of their commits (`session_meta.git.commit_hash`), so ccl-tui can find
the repository of a session whose working directory does not exist on this machine (`ccl_tui.tasks.checkouts`:
it clones a bundle once into its cache and snapshots the recorded commit) and write tasks that run.

Use one by hand: `git clone demo_sessions/repos/billing-api.bundle billing-api`.

How they are made: `python -m ccl_tui.demo.generate --out demo_sessions --force` writes them with the rest of the
corpus (`ccl_tui/demo/gitrepos.py`). Contents come from `ccl_tui/demo/repofiles.py`: every file a session
names, each site's code at exactly the line the sessions show (their `sed -n` output, apply_patch contexts and
diffs agree with these files), a changelog, lock files, READMEs. History: a root commit and one commit per
stretch of the corpus's six weeks (changelog entries, dependency bumps, README notes), dated by the corpus
clock, authored by the corpus's developers; in the Python repositories the commit of {fix_date} that adds
"Run `uv sync` first" to AGENTS.md; and the two regressions the runnable sessions fix
(listed below). Commit hashes are computed from the content (ccl_tui/demo/gitrepos.py), and the
generator checks that `git fast-import` computes the same ones: regenerating gives the same hashes.

Only the Python modules of the runnable episode (`billing.services.tax`, `etl.transform.normalize`) and their
`unittest` tests are meant to run (standard library only); the other files are plausible sketches that are
never built (no dependencies are vendored).

Real Harbor runs: `python scripts/demo_harbor_runs.py` ingests the corpus, writes tasks with `ccl-tui task` (the
runnable episode's five sessions and the top issues; the sessions' cwds do not exist here, so the repositories
come from these bundles through `ccl_tui.tasks.checkouts`), runs `harbor run -a oracle` and `-a nop` with
ccl-tui's local environment (`-e ccl_tui.tasks.harbor_local:LocalEnvironment`: not isolated, trusted agents
only) and copies the job folders to `demo_sessions/harbor-jobs/real-oracle` and `real-nop`.

| repository | commits | head | regressions, AGENTS.md change |
|---|---|---|---|
{rows}
"""


def write_bundles(out: Path) -> list[Path]:
    """``out/repos/<name>.bundle`` for every repository, plus ``out/repos/README.md``. Without git, only the
    README is written (the sessions still record the same commits)."""
    folder = out / REPOS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if git_available():
        for repo in REPOS:
            written.append(write_bundle(history(repo.name), folder / f"{repo.name}.bundle"))
    rows = []
    for repo in REPOS:
        h = history(repo.name)
        marks = [h.commits[h.slots[REGRESSION_SLOT[repo.name]]].oneline] if repo.name in REGRESSION_SLOT else []
        marks += [h.commits[h.fix].oneline] if h.fix is not None else []
        shown = "; ".join(f"`{m}`" for m in marks) or "-"
        rows.append(f"| {repo.org}/{repo.name} | {len(h.commits)} | `{h.head.sha[:12]}` | {shown} |")
    text = REPOS_README.format(fix_date=FIX_DATE, rows="\n".join(rows))
    (folder / "README.md").write_text(text, encoding="utf-8", newline="\n")
    return written
