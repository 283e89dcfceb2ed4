"""Root causes of friction: each is an episode (failing command, investigation, fix, re-run) woven into a turn.

The first five are the corpus' dominant causes; ``py_missing_module`` is the one that gets fixed on ``FIX_DATE``
(AGENTS.md starts telling the agent to run ``uv sync`` first). The rest form the long tail.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ccl_tui.demo import toolout
from ccl_tui.demo.patches import add_file, make_patch, module_of, stale, verification_error
from ccl_tui.demo.repos import GO, PY, RS, TS, Developer, Edit, Repo, Site
from ccl_tui.demo.steps import ApplyPatch, Exec, Patch, Say, Think, Turn

OK, BLOCKED, STUCK = "ok", "blocked", "stuck"
DENIED = "exec command rejected by user"
MISSING_MODULE_TEXT = "ModuleNotFoundError: No module named"


@dataclass(slots=True)
class Ctx:
    """What an episode needs to know about the session it is written into."""

    rng: random.Random
    repo: Repo
    site: Site
    dev: Developer
    cwd: str
    day: str
    interactive: bool  # approvals can be asked (not `codex exec`)
    patch: Patch  # the task's main patch
    test_cmd: str
    notes: list[str] = field(default_factory=list)  # caveats for the final answer
    last_test: str | None = None

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(options)

    def fmt(self, template: str) -> str:
        return template.format(symbol=self.site.symbol, path=self.site.path, test=self.test_cmd)

    def think(self, t: Turn, pool: tuple[str, ...]) -> None:
        t.steps.append(Think(self.fmt(self.pick(pool))))

    def say(self, t: Turn, text: str) -> None:
        t.steps.append(Say(self.fmt(text)))

    def run(
        self,
        t: Turn,
        cmd: str,
        output: str,
        code: int = 0,
        secs: float | None = None,
        justification: str | None = None,
        declined: bool = False,
    ) -> None:
        seconds = secs if secs is not None else round(self.rng.uniform(0.05, 1.5), 2)
        t.steps.append(Exec(cmd, output, code, seconds, justification, declined))

    def tests_pass(self, t: Turn, cmd: str | None = None) -> None:
        focused = self.site if (cmd or self.test_cmd) != toolout.TEST_CMD[self.repo.lang] else None
        out = toolout.tests_passed(self.repo, self.rng, self.cwd, focused)
        self.last_test = cmd or self.test_cmd
        self.run(t, self.last_test, out, 0, round(self.rng.uniform(1.2, 25.0), 2))

    def escalate(self, t: Turn, cmd: str, why: str, approve_rate: float, ok_output: str = "") -> bool:
        """Ask to run ``cmd`` outside the sandbox; True when the user approved."""
        if self.rng.random() < approve_rate:
            self.run(t, cmd, ok_output, 0, round(self.rng.uniform(2, 30), 2), justification=why)
            return True
        self.run(t, cmd, DENIED, -1, 0.0, justification=why, declined=True)
        return False


Episode = Callable[[Turn, Ctx], str]


@dataclass(frozen=True, slots=True)
class Cause:
    key: str
    title: str
    phase: str  # "setup" | "explore" | "implement" | "verify" | "lint" | "followup"
    langs: tuple[str, ...]
    episode: Episode
    weight: float = 1.0
    repos: tuple[str, ...] = ()
    prompt: str = ""  # followup causes: what the user asks for

    def applies(self, repo: Repo) -> bool:
        return repo.lang in self.langs and (not self.repos or repo.name in self.repos)


# --------------------------------------------------------------------------- top causes


def _pytest_import_error(c: Ctx, module: str) -> tuple[str, int]:
    test = c.site.test_path
    if module == "httpx":
        imported = c.site.path
        return (
            "==================================== ERRORS ====================================\n"
            f"{'_' * 17} ERROR collecting {test} {'_' * 17}\n"
            f"ImportError while importing test module '{c.cwd}/{test}'.\n"
            "Hint: make sure your test modules/packages have valid Python names.\nTraceback:\n"
            "/usr/lib/python3.12/importlib/__init__.py:90: in import_module\n"
            "    return _bootstrap._gcd_import(name[level:], package, level)\n"
            f"{test}:6: in <module>\n    from {module_of(c.site)} import {c.site.symbol}\n"
            f"{imported}:9: in <module>\n    import httpx\n"
            f"E   {MISSING_MODULE_TEXT} 'httpx'\n"
            "=========================== short test summary info ============================\n"
            f"ERROR {test}\n!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
            f"1 error in {c.rng.uniform(0.1, 0.6):.2f}s\n",
            2,
        )
    return (
        f"ImportError while loading conftest '{c.cwd}/tests/conftest.py'.\n"
        f"tests/conftest.py:{c.rng.randint(3, 9)}: in <module>\n    import {module}\n"
        f"E   {MISSING_MODULE_TEXT} '{module}'\n",
        4,
    )


def py_missing_module(t: Turn, c: Ctx) -> str:
    module = c.rng.choices(("httpx", "respx"), weights=(80, 20))[0]
    output, code = _pytest_import_error(c, module)
    c.run(t, c.test_cmd, output, code, round(c.rng.uniform(0.4, 1.8), 2))
    c.think(t, ("**Checking the Python environment**", "**Investigating the import error**"))
    c.say(
        t,
        f"Collection fails before any test runs: `{module}` isn't importable from the interpreter `pytest` "
        "resolved to. Checking which Python is active.",
    )
    if c.rng.random() < 0.4:
        c.run(
            t,
            c.test_cmd.replace("pytest", "python -m pytest", 1),
            output,
            code,
            round(c.rng.uniform(0.4, 1.8), 2),
        )
    c.run(t, "which python pytest", "/usr/bin/python\n/usr/local/bin/pytest\n")
    venv_cmd = c.test_cmd.replace("pytest", ".venv/bin/python -m pytest", 1)
    if c.rng.random() < 0.65:
        c.say(t, "The project venv isn't activated; running the tests with `.venv/bin/python` instead.")
        c.tests_pass(t, venv_cmd)
    else:
        c.say(t, "`.venv` is missing the dev dependencies. Syncing it from the lockfile.")
        c.run(
            t,
            "uv sync --frozen",
            f"Resolved 71 packages in 4ms\nInstalled 3 packages in 38ms\n + {module}\n",
            0,
            2.4,
        )
        c.tests_pass(t, c.test_cmd.replace("pytest", "uv run pytest", 1))
    return OK


def _npm_eai_again(c: Ctx) -> str:
    pkg = c.pick(("@tanstack%2freact-query", "vitest", "zod", "express", "@types%2fnode", "eslint"))
    stamp = c.day + f"T{c.rng.randint(8, 18):02d}_{c.rng.randint(0, 59):02d}_{c.rng.randint(0, 59):02d}_"
    return (
        "npm ERR! code EAI_AGAIN\nnpm ERR! syscall getaddrinfo\nnpm ERR! errno EAI_AGAIN\n"
        f"npm ERR! request to https://registry.npmjs.org/{pkg} failed, reason: getaddrinfo EAI_AGAIN "
        "registry.npmjs.org\n\nnpm ERR! A complete log of this run can be found in: "
        f"/home/{c.dev.name}/.npm/_logs/{stamp}{c.rng.randint(100, 999)}Z-debug-0.log\n"
    )


def npm_eai_again(t: Turn, c: Ctx) -> str:
    cmd = c.pick(("npm ci", "npm install"))
    c.say(t, "There's no `node_modules` yet, so I'll install the dependencies first.")
    c.run(t, cmd, _npm_eai_again(c), 1, round(c.rng.uniform(20, 75), 2))
    c.think(t, ("**Requesting network access for npm**", "**Handling sandbox network restriction**"))
    if not c.interactive:
        c.notes.append(f"`{cmd}` cannot reach registry.npmjs.org from the sandbox, so the tests were not run.")
        return BLOCKED
    why = f"{cmd} needs network access to download packages from registry.npmjs.org"
    if c.escalate(t, cmd, why, 0.2, toolout.npm_install_ok(c.rng)):
        return OK
    if c.rng.random() < 0.75:
        c.say(t, "Understood. Trying once more with `--prefer-offline` in case the npm cache has everything.")
        c.run(t, f"{cmd} --prefer-offline", _npm_eai_again(c), 1, round(c.rng.uniform(10, 40), 2))
        c.escalate(t, f"{cmd} --prefer-offline", why, 0.0)
    c.notes.append(
        f"I couldn't run the tests: `{cmd}` needs network access and the escalation was declined. "
        f"Please run `{cmd} && {c.test_cmd}` locally."
    )
    return BLOCKED


def patch_mismatch(t: Turn, c: Ctx) -> str:
    attempts = c.rng.choice((2, 2, 3, 3, 4))
    for n in range(attempts):
        if n:
            c.think(t, ("**Retrying patch with adjusted context**", "**Adjusting patch hunk**"))
        wrong = stale(c.patch, c.site.param, n)
        t.steps.append(ApplyPatch(wrong, error=verification_error(c.cwd, wrong)))
    if c.rng.random() < 0.12:
        return STUCK
    c.think(t, ("**Re-reading the file to sync patch context**",))
    c.say(t, "The patch context doesn't match what's on disk. Re-reading the exact lines before patching again.")
    c.run(t, toolout.numbered_cmd(c.site), toolout.numbered_output(c.site))
    t.steps.append(ApplyPatch(c.patch))
    return OK


_RUST_CRATES = {
    "ingest-gateway": (
        "tokio_util",
        "tokio-util",
        '{ version = "0.7", features = ["codec"] }',
        "src/codec.rs",
        "use tokio_util::codec::{Decoder, Encoder};",
    ),
    "tilecache": ("lru", "lru", '"0.12"', "src/cache.rs", "use lru::LruCache;"),
}
_RUST_MODULES = {
    "ingest-gateway": ("telemetry", "src/routes/ingest.rs"),
    "tilecache": ("coord", "src/render.rs"),
}
_CARGO_DEPS = (
    "[dependencies]",
    'axum = "0.7"',
    'bytes = "1.7"',
    'tokio = { version = "1.40", features = ["full"] }',
    'tracing = "0.1"',
)


def _e0433(c: Ctx, name: str, path: str, line: int, code_line: str, hint: str) -> str:
    col = code_line.index(name) + 1
    return (
        f"   Compiling {c.repo.name} v{c.repo.version} ({c.cwd})\n"
        f"error[E0433]: failed to resolve: use of undeclared crate or module `{name}`\n"
        f"  --> {path}:{line}:{col}\n   |\n{line:<3}| {code_line}\n   | {' ' * (col - 1)}{'^' * len(name)} "
        f"use of undeclared crate or module `{name}`\n{hint}\n"
        "For more information about this error, try `rustc --explain E0433`.\n"
        f"error: could not compile `{c.repo.name}` (lib) due to 1 previous error\n"
    )


def rust_e0433(t: Turn, c: Ctx) -> str:
    if c.rng.random() < 0.6:
        name, dep, spec, path, code_line = _RUST_CRATES[c.repo.name]
        error = _e0433(c, name, path, 3, code_line, "")
        c.run(t, "cargo test", error, 101, round(c.rng.uniform(8, 40), 2))
        if c.rng.random() < 0.35:
            c.run(t, "cargo check --all-targets", error.replace("Compiling", "Checking", 1), 101, 6.3)
        c.think(t, ("**Checking Cargo manifest dependencies**",))
        c.say(t, f"`{name}` is used but `{dep}` isn't declared in `Cargo.toml`. Checking the manifest.")
        c.run(
            t,
            "rg -n -A6 '^\\[dependencies\\]' Cargo.toml",
            "".join(f"{9 + i}:{x}\n" for i, x in enumerate(_CARGO_DEPS)),
        )
        fix = make_patch("Cargo.toml", 9, _CARGO_DEPS, (Edit(3, (f"{dep} = {spec}",)),))
        rerun = "cargo test --offline"
    else:
        name, path = _RUST_MODULES[c.repo.name]
        code_line = f"    {name}::record_latency(started.elapsed());"
        hint = f"help: consider importing this module\n   |\n1  + use crate::{name};\n   |"
        c.run(t, "cargo test", _e0433(c, name, path, 34, code_line, hint), 101, round(c.rng.uniform(8, 40), 2))
        c.think(t, ("**Fixing unresolved module path**",))
        c.say(t, f"`{name}` lives in the crate root, so it needs a `use crate::{name};` import.")
        head = ("use axum::extract::State;", "use axum::http::StatusCode;", "")
        fix = make_patch(path, 1, head, (Edit(1, (f"use crate::{name};",)),))
        rerun = "cargo test"
    t.steps.append(ApplyPatch(fix))
    c.tests_pass(t, rerun)
    return OK


# --------------------------------------------------------------------------- long tail


_GO_HELPERS = {
    "ListOrders": (
        "parseLimit",
        "params.go",
        "func parseLimit(raw string, def, max int) (int, error) {\n"
        '\tif raw == "" {\n\t\treturn def, nil\n\t}\n\tn, err := strconv.Atoi(raw)\n'
        '\tif err != nil || n < 1 || n > max {\n\t\treturn 0, fmt.Errorf("limit must be 1..%d", max)\n'
        "\t}\n\treturn n, nil\n}\n",
    ),
    "ParseToken": (
        "lookupKey",
        "keys.go",
        "func lookupKey(keys KeySet) jwt.Keyfunc {\n"
        "\treturn func(t *jwt.Token) (any, error) { return keys.Lookup(t) }\n}\n",
    ),
    "InsertOrder": (
        "isUniqueViolation",
        "errors.go",
        "func isUniqueViolation(err error) bool {\n"
        '\tvar pgErr *pgconn.PgError\n\treturn errors.As(err, &pgErr) && pgErr.Code == "23505"\n}\n',
    ),
}


def go_undefined(t: Turn, c: Ctx) -> str:
    helper, file, body = _GO_HELPERS[c.site.symbol]
    pkg_dir = c.site.path.rsplit("/", 1)[0]
    pkg = f"{c.repo.package}/{pkg_dir}"
    out = (
        f"# {pkg} [{pkg}.test]\n{c.site.path}:{c.site.first_line + 2}:{c.rng.randint(9, 30)}: undefined: {helper}\n"
        f"FAIL\t{pkg} [build failed]\nok  \t{c.repo.package}/internal/auth\t0.019s\nFAIL\n"
    )
    c.run(t, "go test ./...", out, 1, round(c.rng.uniform(2, 9), 2))
    c.think(t, ("**Adding missing helper function**",))
    c.say(t, f"`{helper}` is referenced but was never added. Creating it next to the handler.")
    t.steps.append(ApplyPatch(add_file(f"{pkg_dir}/{file}", f"package {pkg_dir.rsplit('/', 1)[-1]}\n\n{body}")))
    c.tests_pass(t, "go test ./...")
    return OK


def ts_2339(t: Turn, c: Ctx) -> str:
    if c.repo.name == "notify-service":
        err = (
            "src/routes/subscriptions.ts(22,54): error TS2339: Property 'user' does not exist on type "
            "'Request<ParamsDictionary, any, any, ParsedQs, Record<string, any>>'.\n"
        )
        fix = add_file(
            "src/types/express.d.ts",
            'import "express";\n\ndeclare module "express" {\n'
            "  interface Request {\n    user: { id: string; email: string };\n  }\n}\n",
        )
    else:
        err = "src/api/client.ts(36,23): error TS2339: Property 'nextCursor' does not exist on type 'InvoicePage'.\n"
        lines = ("export interface InvoicePage {", "  items: Invoice[];", "  total: number;", "}")
        fix = make_patch("src/api/types.ts", 18, lines, (Edit(2, ("  nextCursor?: string;",)),))
    c.run(t, "npx tsc --noEmit", err, 2, round(c.rng.uniform(3, 12), 2))
    c.think(t, ("**Fixing type error**",))
    t.steps.append(ApplyPatch(fix))
    c.run(t, "npx tsc --noEmit", "", 0, round(c.rng.uniform(3, 12), 2))
    c.tests_pass(t)
    return OK


def eslint_errors(t: Turn, c: Ctx) -> str:
    path = c.site.path
    out = (
        f"\n> {c.repo.package}@{c.repo.version} lint\n> eslint .\n\n{c.cwd}/{path}\n"
        "   3:10  error  'useMemo' is defined but never used  @typescript-eslint/no-unused-vars\n"
        f"  {c.site.first_line + 2}:7  warning  Unexpected console statement  no-console\n\n"
        "✖ 2 problems (1 error, 1 warning)\n\n"
    )
    c.run(t, "npm run lint", out, 1, round(c.rng.uniform(3, 10), 2))
    imports = (
        'import { useEffect, useMemo, useState } from "react";',
        'import { ApiError } from "./errors";',
    )
    t.steps.append(
        ApplyPatch(
            make_patch(path, 3, imports, (Edit(-1, ('import { useEffect, useState } from "react";',), remove=1),))
        )
    )
    c.run(t, "npm run lint", toolout.lint_passed(c.repo, c.rng), 0, round(c.rng.uniform(3, 10), 2))
    return OK


def pytest_assert(t: Turn, c: Ctx) -> str:
    name = f"test_{c.site.symbol}_handles_{c.site.param}"
    line = c.rng.randint(40, 90)
    out = (
        f"{'.' * 5}F{'.' * 4:<67}[100%]\n=================================== FAILURES ===================================\n"
        f"{'_' * 20} {name} {'_' * 20}\n\n    def {name}():\n        result = {c.site.symbol}(**make_args())\n"
        ">       assert len(result) == 2\nE       assert 3 == 2\nE        +  where 3 = len([...])\n\n"
        f"{c.site.test_path}:{line}: AssertionError\n"
        "=========================== short test summary info ============================\n"
        f"FAILED {c.site.test_path}::{name} - assert 3 == 2\n1 failed, 9 passed in 0.93s\n"
    )
    c.run(t, c.test_cmd, out, 1, round(c.rng.uniform(0.8, 4), 2))
    c.think(t, THINK_FIX)
    c.say(
        t,
        "The new behaviour returns the extra row on purpose; the fixture's expectation predates the change.",
    )
    lines = (f"def {name}():", f"    result = {c.site.symbol}(**make_args())", "    assert len(result) == 2")
    t.steps.append(
        ApplyPatch(
            make_patch(c.site.test_path, line - 2, lines, (Edit(1, ("    assert len(result) == 3",), remove=1),))
        )
    )
    c.tests_pass(t)
    return OK


THINK_FIX = ("**Fixing the failing test**", "**Updating code after test failure**")


def ts_test_fail(t: Turn, c: Ctx) -> str:
    test = c.site.test_path
    out = (
        f" FAIL  {test} > {c.site.symbol} > handles the new case\nAssertionError: expected 200 to be 201 "
        f"// Object.is equality\n\n- Expected\n+ Received\n\n- 201\n+ 200\n\n ❯ {test}:{c.rng.randint(20, 80)}:27\n\n"
        " Test Files  1 failed (1)\n      Tests  1 failed | 8 passed (9)\n"
    )
    c.run(t, c.test_cmd, out, 1, round(c.rng.uniform(2, 9), 2))
    c.think(t, THINK_FIX)
    lines = (
        '  it("handles the new case", async () => {',
        f"    const res = await call{c.site.symbol[0].upper()}{c.site.symbol[1:]}();",
        "    expect(res.status).toBe(201);",
    )
    t.steps.append(
        ApplyPatch(make_patch(test, 30, lines, (Edit(1, ("    expect(res.status).toBe(200);",), remove=1),)))
    )
    c.tests_pass(t)
    return OK


def flaky_timeout(t: Turn, c: Ctx) -> str:
    full = toolout.TEST_CMD[c.repo.lang]
    partial = {
        PY: "....................s.......",
        TS: f"\n> {c.repo.package}@{c.repo.version} test\n",
        GO: f"ok  \t{c.repo.package}/internal/auth\t0.020s",
    }[c.repo.lang]
    c.run(t, full, f"{partial}\ncommand timed out after 120000 milliseconds\n", 124, 120.0)
    c.think(t, ("**Narrowing the test run after a timeout**",))
    c.say(
        t,
        "The full suite hangs on the integration tests that wait for a broker. Running the focused tests only.",
    )
    c.tests_pass(t)
    return OK


def docker_missing(t: Turn, c: Ctx) -> str:
    err = "zsh:1: command not found: docker\n" if c.dev.shell == "zsh" else "bash: line 1: docker: command not found\n"
    c.run(t, "docker compose up -d postgres", err, 127, 0.02)
    c.say(
        t,
        "Docker isn't available in this environment, so I'll skip the integration tests that need Postgres.",
    )
    c.test_cmd = 'pytest -q -m "not integration"' if c.repo.lang == PY else "go test -short ./..."
    return OK


def psql_refused(t: Turn, c: Ctx) -> str:
    out = (
        'psql: error: connection to server at "localhost" (127.0.0.1), port 5432 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?\n"
    )
    c.run(t, "psql \"$DATABASE_URL\" -c '\\d orders'", out, 2, 0.05)
    c.say(t, "No local Postgres is running; I'll read the schema from the migrations instead.")
    mig = "migrations/0007_orders_status_idx.sql" if c.repo.lang == GO else "alembic/versions/0032_customer_tax_id.py"
    c.run(
        t,
        f"sed -n '1,40p' {mig}",
        "-- +migrate Up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx\n"
        "    ON orders (status, created_at DESC);\n",
    )
    return OK


def mypy_error(t: Turn, c: Ctx) -> str:
    line = c.site.first_line + c.site.body + 1
    out = (
        f'{c.site.path}:{line}: error: Argument 1 to "{c.site.symbol}" has incompatible type "str | None"; '
        'expected "str"  [arg-type]\nFound 1 error in 1 file (checked 27 source files)\n'
    )
    c.run(t, "mypy src", out, 1, round(c.rng.uniform(3, 14), 2))
    c.think(t, ("**Fixing type checker error**",))
    guard = (
        f"{c.site.indent}if {c.site.param} is None:",
        f'{c.site.indent}    raise ValueError("{c.site.param} is required")',
    )
    t.steps.append(ApplyPatch(make_patch(c.site.path, c.site.first_line, c.site.lines, (Edit(c.site.body, guard),))))
    c.run(t, "mypy src", "Success: no issues found in 27 source files\n", 0, round(c.rng.uniform(3, 14), 2))
    return OK


def ruff_errors(t: Turn, c: Ctx) -> str:
    out = (
        f"{c.site.path}:3:20: F401 [*] `typing.Optional` imported but unused\n"
        f"{c.site.test_path}:1:1: I001 [*] Import block is un-sorted or un-formatted\n"
        "Found 2 errors.\n[*] 2 fixable with the `--fix` option.\n"
    )
    c.run(t, "ruff check .", out, 1, 0.12)
    c.run(t, "ruff check --fix .", "Found 2 errors (2 fixed, 0 remaining).\n", 0, 0.15)
    return OK


def clippy_error(t: Turn, c: Ctx) -> str:
    line = c.site.first_line + len(c.site.lines) + 6
    lines = (
        f"{c.site.indent}let key = request.key.clone();",
        f"{c.site.indent}self.index.insert(key.clone(), now);",
    )
    out = (
        f"    Checking {c.repo.name} v{c.repo.version} ({c.cwd})\nerror: redundant clone\n"
        f"  --> {c.site.path}:{line + 1}:{len(c.site.indent) + 25}\n   |\n{line + 1:<3}| {lines[1]}\n"
        "   = note: `-D clippy::redundant-clone` implied by `-D warnings`\n"
        f"error: could not compile `{c.repo.name}` (lib) due to 1 previous error\n"
    )
    c.run(t, toolout.LINT_CMD[RS], out, 101, round(c.rng.uniform(5, 20), 2))
    fixed = lines[1].replace("key.clone()", "key")
    t.steps.append(ApplyPatch(make_patch(c.site.path, line, lines, (Edit(0, (fixed,), remove=1),))))
    c.run(t, toolout.LINT_CMD[RS], toolout.lint_passed(c.repo, c.rng), 0, round(c.rng.uniform(5, 20), 2))
    return OK


def cargo_fmt(t: Turn, c: Ctx) -> str:
    out = f"Diff in {c.cwd}/{c.site.path}:{c.site.first_line + 3}:\n-{c.site.lines[2]}  \n+{c.site.lines[2]}\n"
    c.run(t, "cargo fmt --check", out, 1, 0.4)
    c.run(t, "cargo fmt", "", 0, 0.5)
    return OK


def go_race(t: Turn, c: Ctx) -> str:
    out = (
        "==================\nWARNING: DATA RACE\nWrite at 0x00c0001a20f8 by goroutine 23:\n"
        f"  {c.repo.package}/internal/store.(*Store).cacheOrder()\n      {c.cwd}/internal/store/postgres.go:131 +0x84\n"
        "Previous read at 0x00c0001a20f8 by goroutine 22:\n"
        f"  {c.repo.package}/internal/store.(*Store).cachedOrder()\n      {c.cwd}/internal/store/postgres.go:122 +0x5c\n"
        "==================\n--- FAIL: TestConcurrentInsert (0.03s)\n    testing.go:1399: race detected during execution of test\n"
        f"FAIL\nFAIL\t{c.repo.package}/internal/store\t0.212s\nFAIL\n"
    )
    c.run(t, "go test -race ./internal/store/...", out, 1, round(c.rng.uniform(4, 12), 2))
    c.think(t, ("**Fixing data race in the order cache**",))
    lines = ("func (s *Store) cacheOrder(o Order) {", "\ts.cache[o.ID] = o", "}")
    t.steps.append(
        ApplyPatch(
            make_patch(
                "internal/store/postgres.go",
                130,
                lines,
                (Edit(0, ("\ts.mu.Lock()", "\tdefer s.mu.Unlock()")),),
            )
        )
    )
    c.run(t, "go test -race ./internal/store/...", f"ok  \t{c.repo.package}/internal/store\t1.208s\n", 0, 6.1)
    return OK


def alembic_heads(t: Turn, c: Ctx) -> str:
    out = (
        "FAILED: Multiple head revisions are present for given argument 'head'; please specify a specific target "
        "revision, '<branchname>@head' to narrow to a specific head, or 'heads' for all heads\n"
    )
    c.run(t, "alembic upgrade head --sql > /dev/null", out, 255, 1.1)
    c.say(t, "Two migration branches diverged. Creating a merge revision.")
    rev = f"{c.rng.getrandbits(48):012x}"
    c.run(
        t,
        'alembic merge -m "merge heads" heads',
        f"  Generating {c.cwd}/alembic/versions/{rev}_merge_heads.py ...  done\n",
        0,
        1.4,
    )
    return OK


def go_proxy_network(t: Turn, c: Ctx) -> str:
    out = (
        'go: github.com/jackc/pgx/v5@v5.7.1: Get "https://proxy.golang.org/github.com/jackc/pgx/v5/@v/v5.7.1.mod": '
        "dial tcp: lookup proxy.golang.org on 127.0.0.53:53: server misbehaving\n"
    )
    c.run(t, "go mod download", out, 1, 0.3)
    c.say(t, "No network in the sandbox, but the module cache already has everything; building offline.")
    c.run(t, "GOFLAGS=-mod=mod GOPROXY=off go build ./...", "", 0, 7.2)
    return OK


# --------------------------------------------------------------------------- follow-up requests that hit the sandbox


def write_outside_workspace(t: Turn, c: Ctx) -> str:
    target = f"/home/{c.dev.name}/.config/{c.repo.name}"
    if c.rng.random() < 0.5:
        patch = add_file(f"{target}/config.toml", '[server]\nport = 8080\nlog_level = "debug"\n')
        declined = c.rng.random() < 0.6
        t.steps.append(ApplyPatch(patch, declined=declined))
        if declined:
            c.notes.append(f"Writing `{target}/config.toml` was declined; copy `config/example.toml` there yourself.")
        return BLOCKED if declined else OK
    cmd = f"mkdir -p {target} && cp config/example.toml {target}/config.toml"
    c.run(t, cmd, f"mkdir: cannot create directory '{target}': Permission denied\n", 1, 0.01)
    if c.escalate(t, cmd, f"Writing to {target} is outside the workspace", 0.45):
        return OK
    c.notes.append(f"Copying the config into `{target}` was declined; run `{cmd}` yourself.")
    return BLOCKED


def git_push_denied(t: Turn, c: Ctx) -> str:
    branch = c.pick([b for b in c.repo.branches if b != "main"])
    cmd = f"git push -u origin {branch}"
    out = (
        "ssh: Could not resolve hostname github.com: Temporary failure in name resolution\n"
        "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\n"
        "and the repository exists.\n"
    )
    c.run(t, cmd, out, 128, 0.4)
    ok = (
        f"To github.com:{c.repo.org}/{c.repo.name}.git\n * [new branch]      {branch} -> {branch}\n"
        f"branch '{branch}' set up to track 'origin/{branch}'.\n"
    )
    if c.escalate(t, cmd, "git push needs network access to reach github.com", 0.3, ok):
        return OK
    c.notes.append(f"The push was declined; run `{cmd}` when you're ready.")
    return BLOCKED


def git_hooks_readonly(t: Turn, c: Ctx) -> str:
    if c.rng.random() < 0.5:
        hook = add_file(".git/hooks/pre-commit", "#!/bin/sh\nset -e\nexec make lint\n")
        declined = c.rng.random() < 0.6
        t.steps.append(ApplyPatch(hook, declined=declined))
        if declined:
            c.notes.append("Writing into `.git/hooks` needs your approval and was declined; copy the hook yourself.")
        return BLOCKED if declined else OK
    cmd = "cp scripts/pre-commit .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit"
    c.run(t, cmd, "cp: cannot create regular file '.git/hooks/pre-commit': Read-only file system\n", 1, 0.01)
    if c.escalate(t, cmd, "The sandbox mounts .git read-only; installing the hook needs write access", 0.5):
        return OK
    c.notes.append(f"Installing the hook was declined; run `{cmd}` yourself.")
    return BLOCKED


TOP: tuple[Cause, ...] = (
    Cause(
        "py_missing_module",
        "pytest: ModuleNotFoundError (venv not activated / deps not synced)",
        "verify",
        (PY,),
        py_missing_module,
    ),
    Cause(
        "npm_eai_again",
        "npm install/ci: EAI_AGAIN (no network in sandbox), escalation denied",
        "setup",
        (TS,),
        npm_eai_again,
    ),
    Cause(
        "patch_mismatch",
        "apply_patch context mismatch retried in a loop",
        "implement",
        (PY, TS, RS, GO),
        patch_mismatch,
    ),
    Cause(
        "rust_e0433",
        "cargo: error[E0433] failed to resolve (undeclared crate or module)",
        "verify",
        (RS,),
        rust_e0433,
    ),
)

TAIL: tuple[Cause, ...] = (
    Cause("go_undefined", "go: undefined symbol (build failed)", "verify", (GO,), go_undefined, 3.0),
    Cause("ts_2339", "tsc: TS2339 property does not exist on type", "verify", (TS,), ts_2339, 2.0),
    Cause("eslint_errors", "eslint errors", "lint", (TS,), eslint_errors, 1.5),
    Cause("pytest_assert", "pytest assertion failure after the change", "verify", (PY,), pytest_assert, 1.5),
    Cause("ts_test_fail", "vitest/jest assertion failure", "verify", (TS,), ts_test_fail, 1.0),
    Cause("flaky_timeout", "test suite timed out (exit 124)", "verify", (PY, TS, GO), flaky_timeout, 0.8),
    Cause("docker_missing", "docker: command not found", "setup", (PY, GO), docker_missing, 0.9),
    Cause("psql_refused", "psql: connection refused (no local Postgres)", "explore", (PY, GO), psql_refused, 0.8),
    Cause("mypy_error", "mypy: incompatible argument type", "lint", (PY,), mypy_error, 1.0),
    Cause("ruff_errors", "ruff: lint errors", "lint", (PY,), ruff_errors, 1.0),
    Cause("clippy_error", "clippy: -D warnings error", "lint", (RS,), clippy_error, 1.5),
    Cause("cargo_fmt", "cargo fmt --check diff", "lint", (RS,), cargo_fmt, 1.0),
    Cause("go_race", "go test -race: data race", "verify", (GO,), go_race, 1.5),
    Cause(
        "alembic_heads",
        "alembic: multiple head revisions",
        "verify",
        (PY,),
        alembic_heads,
        1.5,
        repos=("billing-api",),
    ),
    Cause(
        "go_proxy_network",
        "go mod download: no network (proxy lookup fails)",
        "setup",
        (GO,),
        go_proxy_network,
    ),
    Cause(
        "write_outside_workspace",
        "permission denied writing outside the workspace",
        "followup",
        (PY, TS, RS, GO),
        write_outside_workspace,
        1.0,
        prompt="can you also copy config/example.toml to ~/.config/{repo}/config.toml so I can run it locally?",
    ),
    Cause(
        "git_push_denied",
        "git push blocked (no network), escalation",
        "followup",
        (PY, TS, RS, GO),
        git_push_denied,
        0.7,
        prompt="push the branch please",
    ),
    Cause(
        "git_hooks_readonly",
        "writing .git/hooks blocked (read-only .git)",
        "followup",
        (PY, TS, RS, GO),
        git_hooks_readonly,
        0.5,
        prompt="install our pre-commit hook from scripts/pre-commit",
    ),
)

CAUSES: dict[str, Cause] = {cause.key: cause for cause in TOP + TAIL}
