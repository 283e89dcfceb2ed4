"""Realistic command lines and their outputs (test runners, linters, compilers, shell basics) per language."""

from __future__ import annotations

import random

from ccl_tui.demo.repos import GO, PY, RS, TS, Repo, Site

TEST_CMD = {PY: "pytest -q", TS: "npm test", RS: "cargo test", GO: "go test ./..."}
LINT_CMD = {PY: "ruff check .", TS: "npm run lint", RS: "cargo clippy -- -D warnings", GO: "go vet ./..."}


def focused_test_cmd(repo: Repo, site: Site) -> str:
    if repo.lang == PY:
        return f"pytest -q {site.test_path}"
    if repo.lang == TS:
        return f"npx vitest run {site.test_path}" if repo.name == "web-dashboard" else f"npm test -- {site.test_path}"
    if repo.lang == RS:
        return f"cargo test --test {site.test_path.split('/')[-1][:-3]}"
    return f"go test ./{site.path.rsplit('/', 1)[0]}/..."


def sed_cmd(site: Site) -> str:
    return f"sed -n '{site.first_line},{site.first_line + len(site.lines) + 20}p' {site.path}"


def numbered_cmd(site: Site) -> str:
    return f"nl -ba {site.path} | sed -n '{site.first_line},{site.first_line + len(site.lines) - 1}p'"


def numbered_output(site: Site) -> str:
    return "".join(f"{site.first_line + i:>6}\t{line}\n" for i, line in enumerate(site.lines))


def sed_output(site: Site) -> str:
    return "\n".join(site.lines) + "\n"


def rg_cmd(repo: Repo, site: Site) -> str:
    root = {
        PY: "src tests",
        TS: "src test" if repo.name == "notify-service" else "src",
        RS: "src tests",
        GO: "internal cmd",
    }[repo.lang]
    return f'rg -n "{site.symbol}" {root}'


def rg_output(site: Site, rng: random.Random) -> str:
    hits = [f"{site.path}:{site.first_line}:{site.lines[0]}"]
    hits.append(f"{site.test_path}:{rng.randint(8, 40)}:    {site.symbol}(")
    if rng.random() < 0.5:
        hits.append(f"{site.test_path}:{rng.randint(41, 120)}:    result = {site.symbol}(")
    return "\n".join(hits) + "\n"


def files_output(repo: Repo) -> str:
    return "\n".join(repo.files) + "\n"


def git_log_output(log: list[str], commit: str, rng: random.Random) -> tuple[str, int]:
    """``git log --oneline -5`` at the session's commit: its real lines (gitrepos.History.log), and the context
    cost the renderer charges for them. Before the repositories were real this output was made up from the
    subjects below; they are still drawn, and the cost is that of the made-up text, so that the random stream
    and the token counts of every session stay exactly as they were."""
    picked = rng.sample(_OLD_SUBJECTS, k=5)
    made_up = "\n".join(f"{commit[:7]} {s}" for s in picked) + "\n"
    return "\n".join(log[:5]) + "\n", len(made_up) // 3 + 80


_OLD_SUBJECTS = (
    "fix: handle empty batches",
    "chore: bump dependencies",
    "feat: add request ids to logs",
    "test: cover error paths",
    "refactor: split settings module",
    "docs: update README",
    "fix: off-by-one in pagination",
    "ci: cache dependencies",
)


def truncated(head: list[str], tail: list[str], total: int) -> str:
    """Tool output as Codex truncates it: a line count header and an omission marker."""
    omitted = total - len(head) - len(tail)
    return (
        f"Total output lines: {total}\n\n"
        + "\n".join(head)
        + f"\n[... omitted {omitted} of {total} lines ...]\n\n"
        + "\n".join(tail)
        + "\n"
    )


def tests_passed(repo: Repo, rng: random.Random, cwd: str, focused: Site | None = None) -> str:
    n = rng.randint(6, 18) if focused else rng.randint(40, 160)
    secs = rng.uniform(0.4, 2.5) if focused else rng.uniform(2.0, 14.0)
    if repo.lang == PY:
        dots = "." * min(n, 72)
        return f"{dots:<73}[100%]\n{n} passed in {secs:.2f}s\n"
    if repo.lang == TS:
        return _js_passed(repo, rng, cwd, n, secs, focused)
    if repo.lang == RS:
        crate = repo.package
        return (
            f"   Compiling {repo.name} v{repo.version} ({cwd})\n"
            f"    Finished `test` profile [unoptimized + debuginfo] target(s) in {secs * 3:.2f}s\n"
            f"     Running unittests src/lib.rs (target/debug/deps/{crate}-{rng.getrandbits(64):016x})\n\n"
            f"running {n} tests\n{'.' * n}\ntest result: ok. {n} passed; 0 failed; 0 ignored; 0 measured; "
            f"0 filtered out; finished in {secs / 10:.2f}s\n\n"
        )
    pkgs = ["internal/auth", "internal/handler", "internal/store"]
    lines = [f"ok  \t{repo.package}/{p}\t{rng.uniform(0.01, 0.6):.3f}s" for p in pkgs]
    return "\n".join([*lines, f"?   \t{repo.package}/cmd/orders\t[no test files]"]) + "\n"


def _js_passed(repo: Repo, rng: random.Random, cwd: str, n: int, secs: float, focused: Site | None) -> str:
    files = [focused.test_path] if focused else [s.test_path for s in repo.sites]
    if repo.name == "web-dashboard":
        rows = "\n".join(f" ✓ {f} ({rng.randint(2, 9)} tests) {rng.randint(4, 240)}ms" for f in files)
        header = "" if focused else f"\n> {repo.package}@{repo.version} test\n> vitest run\n\n"
        return (
            f"{header}\n RUN  v2.1.4 {cwd}\n\n{rows}\n\n Test Files  {len(files)} passed ({len(files)})\n"
            f"      Tests  {n} passed ({n})\n   Duration  {secs:.2f}s\n\n"
        )
    rows = "\n".join(f"PASS {f}" for f in files)
    return (
        f"\n> {repo.package}@{repo.version} test\n> jest{' ' + files[0] if focused else ''}\n\n{rows}\n\n"
        f"Test Suites: {len(files)} passed, {len(files)} total\nTests:       {n} passed, {n} total\n"
        f"Snapshots:   0 total\nTime:        {secs:.3f} s\nRan all test suites.\n"
    )


def flaky_failure(repo: Repo, site: Site, rng: random.Random) -> tuple[str, int]:
    """A timing-dependent test failing once (what a flaky test looks like in each runner), with its exit code."""
    name, line = f"{site.symbol}_finishes_before_deadline", rng.randint(30, 120)
    if repo.lang == PY:
        return (
            f"........F{'':<64}[100%]\n=================================== FAILURES ===================================\n"
            f"{'_' * 18} test_{name} {'_' * 18}\n\n>       assert elapsed < 0.5\nE       assert 0.5127 < 0.5\n\n"
            f"{site.test_path}:{line}: AssertionError\n"
            "=========================== short test summary info ============================\n"
            f"FAILED {site.test_path}::test_{name} - assert 0.5127 < 0.5\n1 failed, 8 passed in 2.71s\n",
            1,
        )
    if repo.lang == TS:
        return (
            f" FAIL  {site.test_path} > {site.symbol} > finishes before the deadline\n"
            "AssertionError: expected 512 to be less than 500\n\n Test Files  1 failed (1)\n"
            "      Tests  1 failed | 8 passed (9)\n",
            1,
        )
    if repo.lang == RS:
        return (
            f"running 9 tests\ntest {name} ... FAILED\n\nfailures:\n\n---- {name} stdout ----\n"
            f"thread '{name}' panicked at {site.test_path}:{line}:5:\ndeadline exceeded: 512ms > 500ms\n\n"
            "test result: FAILED. 8 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.61s\n",
            101,
        )
    pkg = f"{repo.package}/{site.path.rsplit('/', 1)[0]}"
    return (
        f"--- FAIL: Test{site.symbol}Deadline (0.51s)\n    {site.test_path.rsplit('/', 1)[-1]}:{line}: "
        f"deadline exceeded: 512ms > 500ms\nFAIL\nFAIL\t{pkg}\t0.733s\nFAIL\n",
        1,
    )


def lint_passed(repo: Repo, rng: random.Random) -> str:
    if repo.lang == PY:
        return "All checks passed!\n"
    if repo.lang == TS:
        return f"\n> {repo.package}@{repo.version} lint\n> eslint .\n\n"
    if repo.lang == RS:
        return (
            f"    Checking {repo.name} v{repo.version}\n"
            f"    Finished `dev` profile [unoptimized + debuginfo] target(s) in {rng.uniform(2, 9):.2f}s\n"
        )
    return ""


def npm_install_ok(rng: random.Random) -> str:
    return (
        f"\nadded {rng.randint(380, 1200)} packages, and audited {rng.randint(1200, 1300)} packages in "
        f"{rng.randint(4, 30)}s\n\n{rng.randint(90, 220)} packages are looking for funding\n"
        f"  run `npm fund` for details\n\nfound 0 vulnerabilities\n"
    )


def uv_sync_ok(rng: random.Random) -> str:
    return (
        f"Resolved {rng.randint(40, 90)} packages in {rng.randint(1, 9)}ms\n"
        f"Audited {rng.randint(40, 90)} packages in {rng.randint(1, 9)}ms\n"
    )
