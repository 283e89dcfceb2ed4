"""The runnable episode: a few demo sessions whose failing check is real.

Two regressions sit in the real histories of the demo repositories (gitrepos.py): ``billing-api``'s
``split_gross`` truncates VAT instead of rounding it half-up, ``etl-pipeline``'s ``parse_amount`` computes cents
with binary floats. Both are caught by a standard-library ``unittest`` module, so the check runs on a bare
machine: ``PYTHONPATH=src python3 -m unittest tests.test_tax`` (or ``tests.test_normalize``).

Five sessions, on different days, by different developers, in two repositories, run into one of them. Each runs
the check (it fails at the session's recorded commit), makes a first fix that is not enough (the check still
fails on the half-cent case), asks the user, gets told to round half-up, and makes the fix that passes. Every
output of the check in these sessions is what running it printed when the corpus was generated, at that state
of the repository (the temporary checkout's path replaced by the session's cwd, the ``Ran N tests in ...`` time
drawn from the seeded RNG so that bytes stay deterministic); every ``sed``/``rg`` output is the real file.

The sessions are planned with their own seeded RNG (``"<seed>:episode"``) and appended after the other sessions,
so the rest of the corpus does not change; they are rendered by the same renderers as every other session.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ccl_tui.demo import clock, gitrepos
from ccl_tui.demo import repofiles as rf
from ccl_tui.demo.ids import Ids
from ccl_tui.demo.patches import make_patch
from ccl_tui.demo.plan import SessionPlan, span_fraction
from ccl_tui.demo.repos import DEVELOPERS, REPOS, Edit
from ccl_tui.demo.steps import ApplyPatch, Exec, Say, Story, Think, Turn

CAUSE = "stdlib_rounding"
TITLE = "stdlib unittest check fails: money rounded wrong (real, runnable)"


@dataclass(frozen=True, slots=True)
class Bug:
    """One regression: where it is, the check that catches it, the two fixes a session makes."""

    repo: str
    path: str
    line: int  # the line the regression changed (1-based)
    function_line: int  # first line of the function shown with sed
    function_end: int  # last line shown
    symbol: str
    test_module: str
    first_try: str  # the first fix: not enough
    fix: str  # the fix that passes
    prompt: str
    say_first: str
    question: str
    answer: str
    summary: str

    @property
    def check(self) -> str:
        return f"PYTHONPATH=src python3 -m unittest {self.test_module}"


BUGS = {
    "billing-api": Bug(
        repo="billing-api",
        path="src/billing/services/tax.py",
        line=rf.BILLING_TAX_LINE,
        function_line=16,
        function_end=19,
        symbol="split_gross",
        test_module="tests.test_tax",
        first_try="    vat = (gross * rate / (1 + rate)).quantize(CENT)",
        fix=rf.BILLING_TAX_OK,
        prompt=(
            "The stdlib-only CI job is red on main: `PYTHONPATH=src python3 -m unittest tests.test_tax` fails in "
            "split_gross, VAT is off by a cent. Please fix it, no new dependencies."
        ),
        say_first="`split_gross` truncates the VAT with `int()`. Quantizing it to the cent instead.",
        question=(
            "`split_gross` no longer truncates: `test_vat_is_rounded_not_truncated` passes now. "
            "`test_half_cent_rounds_up` still fails: it expects a VAT of 0.025 to become 0.03, but `quantize` rounds "
            "half to even by default, which gives 0.02. Should VAT round half-up (then I'll change the code), or is "
            "half-even intended and the test outdated?"
        ),
        answer="half-up, like compute_tax right below it. The test is right, don't touch it.",
        summary=(
            "`split_gross` now quantizes the VAT to the cent with `ROUND_HALF_UP`, like `compute_tax`: no more "
            "truncation, and half cents round up."
        ),
    ),
    "etl-pipeline": Bug(
        repo="etl-pipeline",
        path="src/etl/transform/normalize.py",
        line=rf.ETL_AMOUNT_LINE,
        function_line=22,
        function_end=27,
        symbol="parse_amount",
        test_module="tests.test_normalize",
        first_try="    return round(float(text) * 100)",
        fix=rf.ETL_AMOUNT_OK,
        prompt=(
            "`PYTHONPATH=src python3 -m unittest tests.test_normalize` fails since last week: parse_amount loses "
            "a cent on some CRM amounts. Fix it (stdlib only, this runs in the slim job)."
        ),
        say_first="`parse_amount` truncates `float(text) * 100` with `int()`. Rounding instead of truncating.",
        question=(
            '`parse_amount("19.99")` is 1999 now. `test_half_cent_rounds_up` still fails: `0.125 * 100` is 12.5 '
            "and Python's `round()` rounds halves to even, so it gives 12 instead of 13. Should half cents round up "
            "(then amounts have to be parsed as decimals), or is round-half-even acceptable here?"
        ),
        answer="they must round up, these are invoice amounts. Parse them as Decimal, no floats for money.",
        summary=(
            "`parse_amount` parses amounts as `Decimal` and rounds half cents up (`ROUND_HALF_UP`): no float "
            "error on values like 19.99, and 0.125 becomes 13 cents."
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Spec:
    repo: str
    dev: str
    day: date
    time: tuple[int, int, int]
    era: str
    cli_version: str
    model: str
    originator: str
    source: str
    effort: str


#: The episode's sessions, oldest first.
SPECS: tuple[Spec, ...] = (
    Spec(
        "billing-api",
        "maya",
        date(2026, 10, 7),
        (10, 12, 41),
        "B",
        "0.58.0",
        "gpt-5-codex",
        "codex_cli_rs",
        "cli",
        "medium",
    ),
    Spec(
        "etl-pipeline",
        "jonas",
        date(2026, 10, 13),
        (14, 37, 5),
        "B",
        "0.69.0",
        "gpt-5.1-codex-max",
        "codex_vscode",
        "vscode",
        "high",
    ),
    Spec(
        "billing-api",
        "priya",
        date(2026, 10, 21),
        (9, 24, 18),
        "C",
        "0.110.0",
        "gpt-5.3-codex",
        "codex-tui",
        "cli",
        "high",
    ),
    Spec(
        "etl-pipeline",
        "priya",
        date(2026, 10, 29),
        (15, 3, 52),
        "C",
        "0.118.0",
        "gpt-5.3-codex",
        "codex-tui",
        "cli",
        "medium",
    ),
    Spec(
        "billing-api",
        "tom",
        date(2026, 11, 5),
        (11, 48, 9),
        "C",
        "0.125.0",
        "gpt-5.5",
        "Codex Desktop",
        "vscode",
        "xhigh",
    ),
)


@dataclass(slots=True)
class Run:
    """One real run of the check: what it printed and its exit code."""

    output: str
    exit_code: int


def _timing(rng: random.Random) -> str:
    return f"{rng.uniform(0.0004, 0.0032):.3f}s"


_RAN = re.compile(r"^(Ran \d+ tests? in )\d+\.\d+s$", re.MULTILINE)


def run_check(bug: Bug, files: gitrepos.Files, cwd: str, rng: random.Random) -> Run:
    """Run the bug's check on a temporary checkout of ``files`` with this interpreter (standard library only)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"ccl-episode-{bug.repo}-"))
    try:
        gitrepos.write_tree(files, tmp)
        env = {
            "PYTHONPATH": "src",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "LC_ALL": "C.UTF-8",
            "PATH": "/usr/bin:/bin",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "unittest", bug.test_module],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        text = (proc.stdout + proc.stderr).replace(str(tmp.resolve()), cwd).replace(str(tmp), cwd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Run(_RAN.sub(lambda m: m[1] + _timing(rng), text), proc.returncode)


def _with_line(files: gitrepos.Files, path: str, line: int, text: str) -> gitrepos.Files:
    lines = files[path].decode().split("\n")
    lines[line - 1] = text
    return {**files, path: "\n".join(lines).encode()}


def _lines(files: gitrepos.Files, path: str, first: int, last: int) -> list[str]:
    """Lines ``first``..``last`` (1-based, inclusive) that exist: no phantom line after the final newline."""
    lines = files[path].decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[first - 1 : last]


def _patch(bug: Bug, files: gitrepos.Files, new: str) -> ApplyPatch:
    shown = _lines(files, bug.path, bug.function_line, bug.function_end + 2)
    edit = Edit(bug.line - bug.function_line - 1, (new,), remove=1)
    return ApplyPatch(make_patch(bug.path, bug.function_line, shown, (edit,)))


def build_story(bug: Bug, plan: SessionPlan, rng: random.Random) -> Story:
    """The session: the check fails, a first fix, still failing, a question, the answer, the fix, it passes."""
    files = gitrepos.history(bug.repo).files_at(plan.commit)
    before = run_check(bug, files, plan.cwd, rng)
    if before.exit_code == 0:
        raise RuntimeError(f"{bug.repo}@{plan.commit[:12]}: {bug.check} passes at the session's commit")
    tried = _with_line(files, bug.path, bug.line, bug.first_try)
    middle = run_check(bug, tried, plan.cwd, rng)
    fixed = _with_line(files, bug.path, bug.line, bug.fix)
    after = run_check(bug, fixed, plan.cwd, rng)
    if middle.exit_code == 0 or after.exit_code != 0:
        raise RuntimeError(
            f"{bug.repo}: the episode's fixes behave unexpectedly ({middle.exit_code}, {after.exit_code})"
        )

    def secs(lo: float, hi: float) -> float:
        return round(rng.uniform(lo, hi), 2)

    first = Turn(bug.prompt, pause=round(rng.uniform(3, 20), 1))
    first.steps += [
        Think("**Running the unittest module from the report**"),
        Say("This module only needs the standard library, so I'll run it exactly as CI does."),
        Exec(bug.check, before.output, before.exit_code, secs(0.2, 0.6)),
        Exec(
            f'rg -n "def {bug.symbol}" src',
            f"{bug.path}:{bug.function_line}:"
            + _lines(files, bug.path, bug.function_line, bug.function_line)[0]
            + "\n",
            0,
            secs(0.05, 0.2),
        ),
        Exec(
            f"sed -n '{bug.function_line},{bug.function_end}p' {bug.path}",
            "\n".join(_lines(files, bug.path, bug.function_line, bug.function_end)) + "\n",
            0,
            secs(0.02, 0.1),
        ),
        Think(f"**Fixing the rounding in {bug.symbol}**"),
        Say(bug.say_first),
        _patch(bug, files, bug.first_try),
        Exec(bug.check, middle.output, middle.exit_code, secs(0.2, 0.6)),
        Think("**Looking at the remaining half-cent case**"),
    ]
    first.final = bug.question
    second = Turn(bug.answer, pause=round(rng.uniform(1500, 2400), 1))  # the developer was away for a while
    second.steps += [
        Think("**Rounding half-up**"),
        _patch(bug, tried, bug.fix),
        Exec(bug.check, after.output, after.exit_code, secs(0.2, 0.6)),
    ]
    second.final = f"{bug.summary}\n\nVerified with `{bug.check}`: all tests pass."
    return Story(turns=[first, second], causes=[CAUSE])


def plans(seed: int, first_index: int) -> list[SessionPlan]:
    """The episode's session plans, indexed after the other ``first_index`` sessions."""
    rng = random.Random(f"{seed}:episode")
    ids = Ids(rng)
    out = []
    for k, spec in enumerate(SPECS):
        repo = next(r for r in REPOS if r.name == spec.repo)
        dev = next(d for d in DEVELOPERS if d.name == spec.dev)
        wall = datetime(spec.day.year, spec.day.month, spec.day.day, *spec.time)
        start = clock.from_local(wall) + rng.randint(0, 999)
        p = SessionPlan(
            start,
            repo,
            dev,
            "task",
            spec.era,
            spec.cli_version,
            spec.originator,
            spec.source,
            spec.model,
            spec.effort,
            "main",
        )
        slot = min(gitrepos.SLOTS - 1, int(span_fraction(start) * gitrepos.SLOTS))
        history = gitrepos.history(repo.name)
        commit = history.commit_for(slot, p.post_fix)
        p.commit, p.log = commit.sha, tuple(history.log(commit.sha))
        p.session_id = ids.uuid7(start)
        p.index = first_index + k
        out.append(p)
    return out


def story_for(plan: SessionPlan, rng: random.Random) -> Story:
    return build_story(BUGS[plan.repo.name], plan, rng)
