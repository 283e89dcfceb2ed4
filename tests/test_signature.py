"""Failure signatures: command programs, error classes, masking and cross-session grouping."""

from __future__ import annotations

import time

import pytest

from ccl_tui.signals.signature import (
    DETAIL_MAX,
    Signature,
    command_program,
    error_class,
    failure_signature,
    mask,
)

# ----------------------------------------------------------------------------------------------------------------
# command_program
# ----------------------------------------------------------------------------------------------------------------

PATCH_CMD = """apply_patch <<'EOF'
*** Begin Patch
*** Update File: src/app.py
@@ def main():
-    print("hi")
+    print("hello")
*** End Patch
EOF"""

HEREDOC_CMD = """bash -lc "cat > /tmp/check.py <<'PY'
import os; print('it's fine')   # unbalanced quote inside a heredoc body
PY
python3 /tmp/check.py\""""

COMMANDS = [
    # shell wrappers + cd/source chains
    ("bash -lc 'cd /home/u/proj && source .venv/bin/activate && pytest -q tests/test_api.py'", "pytest"),
    ('/bin/zsh -lc "npm ci"', "npm install"),
    ("bash -lc cargo build --release", "cargo build"),  # a Codex argv joined with spaces
    ('["bash", "-lc", "cargo build --release"]', "cargo build"),  # the argv logged as JSON
    ("['bash', '-lc', 'go test ./...']", "go test"),  # ... or as a Python repr
    ("sh -c 'set -euo pipefail; export CI=1; make lint'", "make lint"),
    ("pytest -q", "pytest"),
    ("cd /repo && git status && pytest; echo exit=$?", "pytest"),
    ("set -e; export CI=1; cargo clippy --all-targets -- -D warnings", "cargo clippy"),
    ("if pytest -q; then echo ok; fi", "pytest"),
    ("for f in tests/a.py tests/b.py; do pytest $f; done", "pytest"),
    # env prefixes and wrappers
    ("FOO=1 BAR=2 pytest -x", "pytest"),
    ("timeout 60 pytest -q", "pytest"),
    ("timeout -k 5 10m cargo test --workspace", "cargo test"),
    ("sudo -E npm install -g typescript", "npm install"),
    ("env -u DEBUG NODE_ENV=test time nice -n 5 go vet ./...", "go vet"),
    ("bash -c 'timeout 300 uv run pytest -x -q' </dev/null", "pytest"),
    # pipes: the producing side, not the filter
    ("pytest -q 2>&1 | tail -n 50", "pytest"),
    ("cd web && npm run build 2>&1 | tee build.log", "npm run build"),
    ("cargo test 2>&1 | grep -E 'error|FAILED' | head -20", "cargo test"),
    ("echo y | npx prisma migrate dev", "prisma migrate"),
    # Python runners
    ("python -m pytest -x", "pytest"),
    ("python3 -m pytest tests/", "pytest"),
    ("python3.12 -X dev -m pytest", "pytest"),
    ("uv run pytest tests/test_y.py -k foo", "pytest"),
    ("uv run --with httpx python -m pytest", "pytest"),
    ("poetry run pytest", "pytest"),
    ("pdm run pytest -q", "pytest"),
    (".venv/bin/pytest -q", "pytest"),
    ('"$VENV/bin/python" -m mypy src', "mypy"),
    ("C:\\Python312\\python.exe -m pytest", "pytest"),
    ("python -m pip install -r requirements.txt", "pip install"),
    ("pip3 install httpx", "pip install"),
    ("uv pip install -e .", "uv pip install"),
    ("uv sync --frozen", "uv sync"),
    ("python -c 'import httpx'", "python"),
    ("/usr/bin/python3 scripts/migrate.py", "python"),
    # Node
    ("npx tsc --noEmit", "tsc"),
    ("npx --yes -p typescript tsc -p .", "tsc"),
    ("npx eslint .", "eslint"),
    ("npx prettier@3 --check src", "prettier"),
    ("npx @biomejs/biome@1.9 check .", "biome check"),
    ("./node_modules/.bin/jest --ci", "jest"),
    ("npm run build", "npm run build"),
    ("npm run test", "npm test"),
    ("npm --prefix web run lint -- --fix", "npm run lint"),
    ("npm test -- -t 'renders'", "npm test"),
    ("npm t", "npm test"),
    ("npm install", "npm install"),
    ("npm i lodash", "npm install"),
    ("npm ci", "npm install"),  # the lockfile flavour of the same dependency-install step
    ("npm exec -- vitest run", "vitest"),
    ("yarn", "yarn install"),
    ("yarn build", "yarn run build"),
    ("yarn workspace web test", "yarn test"),
    ("pnpm install --frozen-lockfile", "pnpm install"),
    ("pnpm --filter web test", "pnpm test"),
    ("pnpm lint", "pnpm run lint"),
    ("pnpm dlx tsc --noEmit", "tsc"),
    ("bun install", "bun install"),
    ("bunx vitest", "vitest"),
    # Rust / Go / others
    ("cargo test -p foo", "cargo test"),
    ("cargo +nightly fmt --check", "cargo fmt"),
    ("cargo b --release", "cargo build"),
    ("go test ./...", "go test"),
    ("go build -o bin/app ./cmd/app", "go build"),
    ("go mod tidy", "go mod tidy"),
    ("git push origin main", "git push"),
    ("git -C /repo commit -m 'wip'", "git commit"),
    ("docker compose up -d", "docker compose up"),
    ("docker-compose -f dev.yml build", "docker compose build"),
    ("docker build -t app .", "docker build"),
    ("make -j8 test", "make test"),
    ("make -C backend -j 4 check", "make check"),
    ("make", "make"),
    ("./gradlew test", "gradle test"),
    ("kubectl -n prod get pods", "kubectl get"),
    ("ruff check . && mypy src", "mypy"),
    ("tox -e py311", "tox"),
    # apply_patch, scripts, misc
    (PATCH_CMD, "apply_patch"),
    ('["apply_patch", "*** Begin Patch\\n*** Add File: a.txt\\n+hi\\n*** End Patch"]', "apply_patch"),
    (
        "cd /repo && apply_patch <<'PATCH'\n*** Begin Patch\n*** Delete File: old.py\n*** End Patch\nPATCH",
        "apply_patch",
    ),
    (HEREDOC_CMD, "python"),
    ("./scripts/deploy.sh prod", "deploy.sh"),
    ("bash scripts/test.sh --fast", "test.sh"),
    ("/tmp/tmpa8x_2kq9.sh", "<tmp>.sh"),
    ('powershell.exe -NoProfile -Command "npm test"', "npm test"),
    ("cmd /c npm run build", "npm run build"),
    ("pytest $(git diff --name-only | grep test_)", "pytest"),
    ("rg -n foo src && sed -n 1,40p src/x.py", "sed"),  # only trivial commands: the last one
    ("echo done", "echo"),
    ("cd /nonexistent", "cd"),
    ("export A=1 && B=2", "export"),
    # robustness
    ("bash -lc 'pytest -q", "pytest"),  # unbalanced quote
    ('bash -lc "npm run build', "npm run build"),
    ("pytest -q 'tests/test_a.py", "pytest"),
    ("pytest \\\n  -q \\\n  tests", "pytest"),  # line continuations
    ("", ""),
    ("   ", ""),
    ("FOO=1", ""),
]


@pytest.mark.parametrize(("command", "expected"), COMMANDS)
def test_command_program(command: str, expected: str) -> None:
    assert command_program(command) == expected


# ----------------------------------------------------------------------------------------------------------------
# error_class: realistic outputs, one per rule
# ----------------------------------------------------------------------------------------------------------------

PYTEST_MODULE_NOT_FOUND = """\
============================= test session starts ==============================
platform linux -- Python 3.12.3, pytest-8.3.2, pluggy-1.5.0
rootdir: /home/alice/src/api
collected 0 items / 1 error

==================================== ERRORS ====================================
_____________________ ERROR collecting tests/test_api.py ______________________
ImportError while importing test module '/home/alice/src/api/tests/test_api.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.12/importlib/__init__.py:90: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_api.py:3: in <module>
    import httpx._transports
E   ModuleNotFoundError: No module named 'httpx'
=========================== short test summary info ============================
ERROR tests/test_api.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.07s ===============================
"""

PYTHON_MODULE_NOT_FOUND_DOTTED = """\
Traceback (most recent call last):
  File "/Users/bob/work/tool/main.py", line 4, in <module>
    from google.cloud import storage
ModuleNotFoundError: No module named 'google.cloud'
"""

PYTHON_M_MISSING = "/usr/bin/python3: No module named pytest\n"

IMPORT_ERROR = """\
Traceback (most recent call last):
  File "/home/u/app/run.py", line 1, in <module>
    from app.models import User
ImportError: cannot import name 'User' from 'app.models' (/home/u/app/app/models.py)
"""

PYTEST_ASSERT_SUMMARY = """\
============================= test session starts ==============================
collected 12 items

tests/test_math.py ...F........                                          [100%]

=================================== FAILURES ===================================
__________________________________ test_add ____________________________________

    def test_add():
>       assert add(2, 2) == 5
E       assert 4 == 5
E        +  where 4 = add(2, 2)

tests/test_math.py:7: AssertionError
=========================== short test summary info ============================
FAILED tests/test_math.py::test_add - assert 4 == 5
========================= 1 failed, 11 passed in 0.31s =========================
"""

PYTEST_KEYERROR_SUMMARY = """\
=================================== FAILURES ===================================
________________________________ test_lookup[a] ________________________________

    def test_lookup():
>       assert CONFIG["missing"]
E       KeyError: 'missing'

tests/test_cfg.py:12: KeyError
=========================== short test summary info ============================
FAILED tests/test_cfg.py::test_lookup[a] - KeyError: 'missing'
1 failed in 0.02s
"""

PYTEST_E_ASSERT_ONLY = """\
    def test_x():
>       assert value == 3
E       assert 2 == 3

tests/test_x.py:4: AssertionError
"""

PYTEST_TIMEOUT = """\
+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++
=========================== short test summary info ============================
FAILED tests/test_slow.py::test_network - Failed: Timeout >5.0s
"""

PYTEST_FIXTURE = """\
  def test_db(db_session):
E       fixture 'db_session' not found
>       available fixtures: cache, capfd, capsys, monkeypatch, tmp_path
/home/u/proj/tests/test_db.py:3
=========================== short test summary info ============================
ERROR tests/test_db.py::test_db
"""

PY_TYPEERROR = """\
Traceback (most recent call last):
  File "/srv/app/manage.py", line 22, in <module>
    main()
  File "/srv/app/manage.py", line 18, in main
    total = count + "1"
            ~~~~~~^~~~~
TypeError: unsupported operand type(s) for +: 'int' and 'str'
"""

PY_CHAINED = """\
Traceback (most recent call last):
  File "/app/x.py", line 3, in load
    return data["k"]
KeyError: 'k'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/x.py", line 9, in <module>
    load()
RuntimeError: config is incomplete
"""

PY_QUALIFIED = """\
Traceback (most recent call last):
  File "/home/u/scrape.py", line 8, in <module>
    r.raise_for_status()
requests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://api.example.com/v1/items/42
"""

PY_SYNTAX = """\
  File "/home/u/proj/src/app.py", line 14
    def broken(:
               ^
SyntaxError: invalid syntax
"""

PY_TRACEBACK_CUT = """\
Traceback (most recent call last):
  File "/home/u/proj/long_job.py", line 120, in <module>
    run()
  File "/home/u/proj/long_job.py", line 80, in run
"""

NPM_EAI_AGAIN = """\
npm ERR! code EAI_AGAIN
npm ERR! syscall getaddrinfo
npm ERR! errno EAI_AGAIN
npm ERR! request to https://registry.npmjs.org/react failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org

npm ERR! A complete log of this run can be found in:
npm ERR!     /home/u/.npm/_logs/2024-05-01T10_11_12_123Z-debug-0.log
"""

NPM10_E404 = """\
npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/reakt - Not found
npm error 404
npm error 404  'reakt@*' is not in this registry.
npm error A complete log of this run can be found in: /Users/bob/.npm/_logs/2025-02-03T08_09_10_111Z-debug-0.log
"""

NPM_ELIFECYCLE_WRAPPING_TSC = """\
> web@1.0.0 build
> tsc -p tsconfig.json

src/components/Button.tsx(12,15): error TS2339: Property 'variant' does not exist on type 'Props'.
src/components/Card.tsx(3,1): error TS2304: Cannot find name 'React'.
npm ERR! code ELIFECYCLE
npm ERR! errno 2
npm ERR! web@1.0.0 build: `tsc -p tsconfig.json`
npm ERR! Exit status 2
"""

TSC_PRETTY = """\
src/api/client.ts:41:7 - error TS2322: Type 'string' is not assignable to type 'number'.

41       retries: "3",
         ~~~~~~~

Found 1 error in src/api/client.ts:41
"""

NODE_CANNOT_FIND = """\
node:internal/modules/cjs/loader:1228
  throw err;
  ^

Error: Cannot find module 'express'
Require stack:
- /home/u/svc/server.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)
    at Module._load (node:internal/modules/cjs/loader:1051:27) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/home/u/svc/server.js' ]
}

Node.js v20.11.1
"""

NODE_CANNOT_FIND_SUBPATH = "Error: Cannot find module 'lodash/fp'\nRequire stack:\n- /srv/app/index.js\n"
NODE_CANNOT_FIND_SCOPED = "Error: Cannot find module '@babel/core/lib/index.js'\n"
NODE_CANNOT_FIND_RELATIVE = "Error: Cannot find module '/home/u/proj/dist/index.js'\n    at Module._resolveFilename\n"
NODE_ESM_PACKAGE = (
    "node:internal/process/esm_loader:40\n"
    "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod' imported from /home/u/app/src/index.mjs\n"
)

NODE_TYPEERROR = """\
/home/u/app/src/index.js:14
    const n = cfg.items.length;
                        ^

TypeError: Cannot read properties of undefined (reading 'length')
    at main (/home/u/app/src/index.js:14:25)
    at Object.<anonymous> (/home/u/app/src/index.js:20:1)

Node.js v20.11.1
"""

NODE_EADDRINUSE = """\
node:events:497
      throw er; // Unhandled 'error' event
      ^

Error: listen EADDRINUSE: address already in use :::3000
    at Server.setupListenHandle [as _listen2] (node:net:1872:16)
"""

NODE_ECONNREFUSED = """\
Error: connect ECONNREFUSED 127.0.0.1:5432
    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {
  errno: -111,
  code: 'ECONNREFUSED',
"""

NODE_ETIMEDOUT = "Error: connect ETIMEDOUT 104.16.0.35:443\n    at TCPConnectWrap.afterConnect [as oncomplete]\n"

PNPM_FETCH = """\
 WARN  GET https://registry.npmjs.org/left-pad error (ERR_PNPM_FETCH_404). Will retry in 10 seconds.
 ERR_PNPM_FETCH_404  GET https://registry.npmjs.org/left-padd: Not Found - 404
"""

ESLINT = """\
/home/u/web/src/App.tsx
  12:7  error  'unused' is assigned a value but never used  @typescript-eslint/no-unused-vars
  30:5  error  React Hook useEffect has a missing dependency  react-hooks/exhaustive-deps

✖ 2 problems (2 errors, 0 warnings)
"""

ESLINT_WARNINGS_ONLY = "✖ 3 problems (0 errors, 3 warnings)\n"

CARGO_E0433 = """\
   Compiling mycrate v0.1.0 (/home/u/mycrate)
error[E0433]: failed to resolve: use of undeclared crate or module `serde_json`
 --> src/main.rs:3:5
  |
3 | use serde_json::Value;
  |     ^^^^^^^^^^ use of undeclared crate or module `serde_json`

error[E0425]: cannot find value `x` in this scope
 --> src/lib.rs:10:9

Some errors have detailed explanations: E0425, E0433.
For more information about an error, try `rustc --explain E0425`.
error: could not compile `mycrate` (bin "mycrate") due to 2 previous errors
"""

CARGO_COULD_NOT_COMPILE = """\
   Compiling mycrate v0.1.0 (/home/u/mycrate)
error: expected one of `,`, `:`, or `}`, found `{`
 --> src/config.rs:8:12
error: could not compile `mycrate` (lib) due to 1 previous error
"""

CARGO_PANIC = """\
running 3 tests
test tests::parses ... ok
test tests::rejects ... FAILED

failures:

---- tests::rejects stdout ----
thread 'tests::rejects' panicked at src/parse.rs:88:9:
assertion `left == right` failed
  left: 1
 right: 2

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
error: test failed, to rerun pass `--lib`
"""

CARGO_OFFLINE = """\
    Updating crates.io index
warning: spurious network error (3 tries remaining): [6] Couldn't resolve host name (Could not resolve host: index.crates.io)
error: failed to get `serde` as a dependency of package `mycrate v0.1.0 (/home/u/mycrate)`
"""

GO_UNDEFINED = """\
# github.com/acme/svc/internal/api
internal/api/handler.go:27:9: undefined: NewRouter
internal/api/handler.go:31:2: undefined: log.Fatalx
FAIL	github.com/acme/svc/internal/api [build failed]
"""

GO_CANNOT_USE = """\
# github.com/acme/svc
./main.go:14:18: cannot use port (variable of type int) as string value in argument to http.ListenAndServe
"""

GO_TEST_FAIL = """\
=== RUN   TestParse
    parse_test.go:22: got 3, want 4
--- FAIL: TestParse (0.00s)
FAIL
FAIL	github.com/acme/svc/parse	0.012s
FAIL
"""

GO_PANIC = """\
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
main.main()
	/home/u/app/main.go:9 +0x1d
exit status 2
"""

GO_MISSING_MODULE = (
    "main.go:5:2: no required module provides package github.com/spf13/cobra; to add it:\n"
    "\tgo get github.com/spf13/cobra\n"
)

BASH_NOT_FOUND = "bash: line 1: pytest: command not found\n"
ZSH_NOT_FOUND = "zsh:1: command not found: poetry\n"
DASH_NOT_FOUND = "> web@1.0.0 test\n> jest\n\nsh: 1: jest: not found\n"
WINDOWS_NOT_FOUND = "'tsc' is not recognized as an internal or external command,\noperable program or batch file.\n"
BASH_PATH_NOT_FOUND = "bash: line 1: /home/u/proj/.venv/bin/pytest: command not found\n"

BASH_PERMISSION = "bash: line 1: ./scripts/deploy.sh: Permission denied\n"
MKDIR_NOT_PERMITTED = "mkdir: cannot create directory '/usr/local/lib/x': Operation not permitted\n"
SANDBOX_DENIED = "failed in sandbox: LinuxSeccomp with execution error: sandbox denied exec error, exit code: 1\n"
READ_ONLY_FS = "OSError-free tool: touch: cannot touch '/repo/.git/index.lock': Read-only file system\n"
NPM_EACCES_TEXT = "Error: EACCES: permission denied, mkdir '/usr/lib/node_modules/x'\n"
BASH_NO_SUCH_FILE = "bash: line 1: .venv/bin/activate: No such file or directory\n"
PY_CANT_OPEN = "python3: can't open file '/home/u/proj/manage.py': [Errno 2] No such file or directory\n"
CURL_REFUSED = "curl: (7) Failed to connect to localhost port 8000 after 0 ms: Connection refused\n"

TIMEOUT_CODEX = "Running migrations...\nApplying 0042_auto... command timed out after 120000 milliseconds\n"
TIMEOUT_CUSTOM = "Waiting for server\nError: timed out after 30s waiting for http://localhost:3000\n"

PATCH_EXPECTED_LINES = """\
apply_patch verification failed: Failed to find expected lines in /home/u/proj/src/app.py:
    def main():
        print("hi")
"""
PATCH_INVALID_HUNK = "invalid hunk at line 3, '@@ def foo' is not a valid hunk header\n"
GIT_APPLY_FAILED = "error: patch failed: src/app.py:12\nerror: src/app.py: patch does not apply\n"
PATCH_REJECTED = "patch rejected by user\n"
EXEC_REJECTED = "exec command rejected by user\n"

GIT_NON_FF = """\
To github.com:acme/svc.git
 ! [rejected]        main -> main (fetch first)
error: failed to push some refs to 'github.com:acme/svc.git'
hint: Updates were rejected because the remote contains work that you do
"""
GIT_NON_FF_TEXT = (
    "hint: Updates were rejected because the tip of your current branch is behind\nhint: (non-fast-forward)\n"
)
GIT_REMOTE_REJECTED = (
    " ! [remote rejected] main -> main (protected branch hook declined)\nerror: failed to push some refs\n"
)
GIT_FATAL = "fatal: not a git repository (or any of the parent directories): .git\n"
GIT_FATAL_AUTH = "fatal: could not read Username for 'https://github.com': terminal prompts disabled\n"
GIT_CONFLICT = (
    "Auto-merging src/app.py\nCONFLICT (content): Merge conflict in src/app.py\n"
    "Automatic merge failed; fix conflicts and then commit the result.\n"
)
GIT_PUBLICKEY = "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.\n"

DOCKER_DAEMON = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
DOCKER_SOCKET_PERMISSION = (
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n"
)

PIP_OFFLINE = """\
WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f3a2c1b9d50>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/httpx/
ERROR: Could not find a version that satisfies the requirement httpx (from versions: none)
ERROR: No matching distribution found for httpx
"""
PIP_NO_DIST = (
    "ERROR: Could not find a version that satisfies the requirement torch==9.9 (from versions: 2.2.0, 2.3.0)\n"
    "ERROR: No matching distribution found for torch==9.9\n"
)
GIT_DNS = "fatal: unable to access 'https://github.com/acme/svc.git/': Could not resolve host: github.com\n"
GO_DNS = 'go: github.com/spf13/cobra@v1.8.0: Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org on 127.0.0.53:53: no such host\n'

CODEX_HEADER_EXIT = "Exit code: 2\nWall time: 0.4 seconds\nOutput:\nsomething odd happened\n"
UNIFIED_EXEC_HEADER = (
    "Chunk ID: 3f9a\nWall time: 1.0 seconds\nProcess exited with code 3\nOriginal token count: 5\nOutput:\nbye\n"
)

ERROR_CASES = [
    # (id, output, exit_code, expected class, expected masked key line)
    (
        "pytest-module-not-found",
        PYTEST_MODULE_NOT_FOUND,
        2,
        "ModuleNotFoundError: httpx",
        "ModuleNotFoundError: No module named 'httpx'",
    ),
    (
        "python-module-dotted",
        PYTHON_MODULE_NOT_FOUND_DOTTED,
        1,
        "ModuleNotFoundError: google",
        "ModuleNotFoundError: No module named 'google.cloud'",
    ),
    ("python-m-missing", PYTHON_M_MISSING, 1, "ModuleNotFoundError: pytest", "<path>: No module named pytest"),
    (
        "import-error",
        IMPORT_ERROR,
        1,
        "ImportError",
        "ImportError: cannot import name 'User' from 'app.models' (<path>.py)",
    ),
    (
        "pytest-assert-summary",
        PYTEST_ASSERT_SUMMARY,
        1,
        "AssertionError",
        "FAILED <path>.py::test_add - assert <n> == <n>",
    ),
    (
        "pytest-keyerror-summary",
        PYTEST_KEYERROR_SUMMARY,
        1,
        "KeyError",
        "FAILED <path>.py::test_lookup[a] - KeyError: 'missing'",
    ),
    ("pytest-e-assert", PYTEST_E_ASSERT_ONLY, 1, "AssertionError", "assert <n> == <n>"),
    ("pytest-timeout-plugin", PYTEST_TIMEOUT, 1, "timeout", "FAILED <path>.py::test_network - Failed: Timeout ><n>s"),
    ("pytest-fixture", PYTEST_FIXTURE, 1, "pytest: fixture not found", "fixture 'db_session' not found"),
    ("python-typeerror", PY_TYPEERROR, 1, "TypeError", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
    ("python-chained-last-wins", PY_CHAINED, 1, "RuntimeError", "RuntimeError: config is incomplete"),
    (
        "python-qualified",
        PY_QUALIFIED,
        1,
        "requests.exceptions.HTTPError",
        "requests.exceptions.HTTPError: <n> Client Error: Not Found for url: https://api.example.com/<path>",
    ),
    ("python-syntax", PY_SYNTAX, 1, "SyntaxError", "SyntaxError: invalid syntax"),
    ("python-traceback-cut", PY_TRACEBACK_CUT, 1, "python traceback", "Traceback (most recent call last):"),
    ("npm-eai-again", NPM_EAI_AGAIN, 1, "npm ERR! EAI_AGAIN", "npm ERR! code EAI_AGAIN"),
    ("npm10-e404", NPM10_E404, 1, "npm ERR! E404", "npm error code E404"),
    (
        "npm-elifecycle-is-not-a-cause",
        NPM_ELIFECYCLE_WRAPPING_TSC,
        2,
        "TS2339",
        "<path>.tsx(<n>,<n>): error TS2339: Property 'variant' does not exist on type 'Props'.",
    ),
    (
        "tsc-pretty",
        TSC_PRETTY,
        2,
        "TS2322",
        "<path>.ts:<n>:<n> - error TS2322: Type 'string' is not assignable to type 'number'.",
    ),
    ("node-cannot-find", NODE_CANNOT_FIND, 1, "Cannot find module: express", "Error: Cannot find module 'express'"),
    (
        "node-cannot-find-subpath",
        NODE_CANNOT_FIND_SUBPATH,
        1,
        "Cannot find module: lodash",
        "Error: Cannot find module 'lodash/fp'",
    ),
    (
        "node-cannot-find-scoped",
        NODE_CANNOT_FIND_SCOPED,
        1,
        "Cannot find module: @babel/core",
        "Error: Cannot find module '<path>.js'",
    ),
    (
        "node-cannot-find-path",
        NODE_CANNOT_FIND_RELATIVE,
        1,
        "Cannot find module: <path>.js",
        "Error: Cannot find module '<path>.js'",
    ),
    (
        "node-esm-package",
        NODE_ESM_PACKAGE,
        1,
        "Cannot find module: zod",
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod' imported from <path>.mjs",
    ),
    (
        "node-typeerror",
        NODE_TYPEERROR,
        1,
        "TypeError",
        "TypeError: Cannot read properties of undefined (reading 'length')",
    ),
    ("node-eaddrinuse", NODE_EADDRINUSE, 1, "EADDRINUSE", "Error: listen EADDRINUSE: address already in use :::<n>"),
    ("node-econnrefused", NODE_ECONNREFUSED, 1, "ECONNREFUSED", "Error: connect ECONNREFUSED <n>:<n>"),
    ("node-etimedout", NODE_ETIMEDOUT, 1, "ETIMEDOUT", "Error: connect ETIMEDOUT <n>:<n>"),
    (
        "pnpm-fetch",
        PNPM_FETCH,
        1,
        "pnpm ERR_PNPM_FETCH_404",
        "WARN GET https://registry.npmjs.org/<path> error (ERR_PNPM_FETCH_404). Will retry in <n> seconds.",
    ),
    ("eslint", ESLINT, 1, "eslint errors", "✖ <n> problems (<n> errors, <n> warnings)"),
    ("eslint-warnings-only", ESLINT_WARNINGS_ONLY, 1, "exit 1", "✖ <n> problems (<n> errors, <n> warnings)"),
    (
        "cargo-e0433-first-wins",
        CARGO_E0433,
        101,
        "rust E0433",
        "error[E0433]: failed to resolve: use of undeclared crate or module `serde_json`",
    ),
    (
        "cargo-could-not-compile",
        CARGO_COULD_NOT_COMPILE,
        101,
        "rust: could not compile",
        "error: could not compile `mycrate` (lib) due to <n> previous error",
    ),
    ("cargo-panic", CARGO_PANIC, 101, "rust panic", "thread 'tests::rejects' panicked at <path>.rs:<n>:<n>:"),
    (
        "cargo-offline",
        CARGO_OFFLINE,
        101,
        "network unavailable",
        "warning: spurious network error (<n> tries remaining): [<n>] Couldn't resolve host name "
        "(Could not resolve host: index.crates.io)",
    ),
    ("go-undefined", GO_UNDEFINED, 1, "go: undefined", "<path>.go:<n>:<n>: undefined: NewRouter"),
    (
        "go-cannot-use",
        GO_CANNOT_USE,
        1,
        "go: type mismatch",
        "<path>.go:<n>:<n>: cannot use port (variable of type int) as string value in argument to http.ListenAndServe",
    ),
    ("go-test-fail", GO_TEST_FAIL, 1, "go test FAIL", "--- FAIL: TestParse (<n>s)"),
    ("go-panic", GO_PANIC, 2, "go panic", "panic: runtime error: index out of range [<n>] with length <n>"),
    (
        "go-missing-module",
        GO_MISSING_MODULE,
        1,
        "go: missing module",
        "main.go:<n>:<n>: no required module provides package <path>; to add it:",
    ),
    ("bash-not-found", BASH_NOT_FOUND, 127, "command not found: pytest", "bash: line <n>: pytest: command not found"),
    ("zsh-not-found", ZSH_NOT_FOUND, 127, "command not found: poetry", "zsh:<n>: command not found: poetry"),
    ("dash-not-found", DASH_NOT_FOUND, 127, "command not found: jest", "sh: <n>: jest: not found"),
    (
        "windows-not-found",
        WINDOWS_NOT_FOUND,
        1,
        "command not found: tsc",
        "'tsc' is not recognized as an internal or external command,",
    ),
    (
        "bash-path-not-found",
        BASH_PATH_NOT_FOUND,
        127,
        "command not found: pytest",
        "bash: line <n>: <path>: command not found",
    ),
    ("bash-permission", BASH_PERMISSION, 126, "permission denied", "bash: line <n>: <path>.sh: Permission denied"),
    (
        "not-permitted",
        MKDIR_NOT_PERMITTED,
        1,
        "permission denied",
        "mkdir: cannot create directory '<path>': Operation not permitted",
    ),
    (
        "sandbox-denied",
        SANDBOX_DENIED,
        1,
        "permission denied",
        "failed in sandbox: LinuxSeccomp with execution error: sandbox denied exec error, exit code: <n>",
    ),
    (
        "read-only-fs",
        READ_ONLY_FS,
        1,
        "permission denied",
        "OSError-free tool: touch: cannot touch '<path>.lock': Read-only file system",
    ),
    ("node-eacces-text", NPM_EACCES_TEXT, 1, "permission denied", "Error: EACCES: permission denied, mkdir '<path>'"),
    ("bash-enoent", BASH_NO_SUCH_FILE, 1, "ENOENT", "bash: line <n>: <path>: No such file or directory"),
    (
        "python-cant-open",
        PY_CANT_OPEN,
        2,
        "ENOENT",
        "python3: can't open file '<path>.py': [Errno <n>] No such file or directory",
    ),
    (
        "curl-refused",
        CURL_REFUSED,
        7,
        "ECONNREFUSED",
        "curl: (<n>) Failed to connect to localhost port <n> after <n> ms: Connection refused",
    ),
    ("timeout-exit-124", "collected 300 items\n....\n", 124, "timeout", "...."),
    (
        "timeout-codex-text",
        TIMEOUT_CODEX,
        None,
        "timeout",
        "Applying <n>_auto... command timed out after <n> milliseconds",
    ),
    ("timeout-text", TIMEOUT_CUSTOM, 1, "timeout", "Error: timed out after <n>s waiting for http://localhost:<n>"),
    (
        "patch-expected-lines",
        PATCH_EXPECTED_LINES,
        None,
        "patch context mismatch",
        "apply_patch verification failed: Failed to find expected lines in <path>.py:",
    ),
    (
        "patch-invalid-hunk",
        PATCH_INVALID_HUNK,
        None,
        "patch context mismatch",
        "invalid hunk at line <n>, '@@ def foo' is not a valid hunk header",
    ),
    ("git-apply-failed", GIT_APPLY_FAILED, 1, "patch context mismatch", "error: patch failed: <path>.py:<n>"),
    ("patch-rejected", PATCH_REJECTED, None, "patch rejected", "patch rejected by user"),
    ("exec-rejected", EXEC_REJECTED, None, "rejected by user", "exec command rejected by user"),
    ("git-non-ff", GIT_NON_FF, 1, "git: non-fast-forward", "! [rejected] main -> main (fetch first)"),
    ("git-non-ff-text", GIT_NON_FF_TEXT, 1, "git: non-fast-forward", "hint: (non-fast-forward)"),
    (
        "git-remote-rejected",
        GIT_REMOTE_REJECTED,
        1,
        "git: remote rejected",
        "! [remote rejected] main -> main (protected branch hook declined)",
    ),
    ("git-fatal", GIT_FATAL, 128, "git fatal", "fatal: not a git repository (or any of the parent directories): .git"),
    (
        "git-fatal-auth",
        GIT_FATAL_AUTH,
        128,
        "git fatal",
        "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
    ),
    ("git-conflict", GIT_CONFLICT, 1, "git: merge conflict", "CONFLICT (content): Merge conflict in <path>.py"),
    ("git-publickey", GIT_PUBLICKEY, 128, "permission denied", "git@github.com: Permission denied (publickey)."),
    (
        "docker-daemon",
        DOCKER_DAEMON,
        1,
        "docker daemon unavailable",
        "Cannot connect to the Docker daemon at unix:///<path>. Is the docker daemon running?",
    ),
    (
        "docker-socket-permission",
        DOCKER_SOCKET_PERMISSION,
        1,
        "docker daemon unavailable",
        "permission denied while trying to connect to the Docker daemon socket at unix:///<path>",
    ),
    (
        "pip-offline",
        PIP_OFFLINE,
        1,
        "network unavailable",
        "WARNING: Retrying (Retry(total=<n>, connect=None, read=None, redirect=None, status=None)) after connection "
        "broken by 'NewConnectionError('<pip._vendor.urllib3.…",
    ),
    (
        "pip-no-dist",
        PIP_NO_DIST,
        1,
        "pip: no matching distribution",
        "ERROR: Could not find a version that satisfies the requirement torch==<n> (from versions: <n>, <n>)",
    ),
    (
        "git-dns",
        GIT_DNS,
        128,
        "network unavailable",
        "fatal: unable to access 'https://github.com/<path>': Could not resolve host: github.com",
    ),
    (
        "go-dns",
        GO_DNS,
        1,
        "network unavailable",
        'go: <path>: Get "https://proxy.golang.org/...": dial tcp: lookup proxy.golang.org on <n>:<n>: no such host',
    ),
    ("codex-exit-header", CODEX_HEADER_EXIT, None, "exit 2", "something odd happened"),
    ("unified-exec-header", UNIFIED_EXEC_HEADER, None, "exit 3", "bye"),
    (
        "fallback-errorish-line",
        "building...\nerror: something broke\ncleaning up\n",
        3,
        "exit 3",
        "error: something broke",
    ),
    ("fallback-no-code", "weird\n", None, "error", "weird"),
    ("fallback-exit-0", "weird\n", 0, "error", "weird"),
    ("empty", "", None, "error", ""),
    ("empty-with-code", "", 1, "exit 1", ""),
]


@pytest.mark.parametrize(
    ("output", "exit_code", "expected", "line"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_error_class(output: str, exit_code: int | None, expected: str, line: str) -> None:
    assert error_class(output, exit_code=exit_code) == (expected, line)


def test_error_class_strips_ansi_before_matching() -> None:
    out = "\x1b[1m\x1b[31merror[E0599]\x1b[0m\x1b[1m: no method named `foo` found\x1b[0m\n"
    assert error_class(out, exit_code=101) == ("rust E0599", "error[E0599]: no method named `foo` found")


def test_error_class_exit_code_argument_beats_header() -> None:
    assert error_class(CODEX_HEADER_EXIT, exit_code=5)[0] == "exit 5"


def test_rule_order_module_not_found_beats_traceback_class() -> None:
    out = "Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'yaml'\n"
    assert error_class(out, exit_code=1)[0] == "ModuleNotFoundError: yaml"


def test_rule_order_rejection_beats_everything() -> None:
    out = "bash: line 1: pytest: command not found\nexec command rejected by user\n"
    assert error_class(out, exit_code=127)[0] == "rejected by user"


def test_rule_order_specific_cause_inside_sandbox_wrapper_wins() -> None:
    # Older Codex wrapped every failing sandboxed command as "failed in sandbox": the real cause is inside.
    out = "failed in sandbox MacosSeatbelt with execution error: stderr: zsh:1: command not found: cargo\n"
    assert error_class(out, exit_code=127)[0] == "command not found: cargo"


# ----------------------------------------------------------------------------------------------------------------
# mask
# ----------------------------------------------------------------------------------------------------------------

MASK_CASES = [
    ("/home/u/src/x/tests/test_a.py:42: in test_x", "<path>.py:<n>: in test_x"),
    (
        'File "/home/u/p/.venv/lib/python3.12/site-packages/httpx/_api.py", line 12, in <module>',
        'File "<path>.py", line <n>, in <module>',
    ),
    ("C:\\Users\\bob\\proj\\src\\app.py:3: error", "<path>.py:<n>: error"),
    ("C:\\\\x\\\\y", "<path>"),
    ("--> src/lib.rs:3:5", "--> <path>.rs:<n>:<n>"),
    ("see ./foo/bar and ../x.txt and ~/y/z.cfg.", "see <path> and <path>.txt and <path>.cfg."),
    ("at main (/home/u/app/src/index.js:14:25)", "at main (<path>.js:<n>:<n>)"),
    ("commit 3f2a9bc1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9 and abc1234..def5678", "commit <hex> and <hex>..<hex>"),
    ("object at 0x7f3a2c1b9d50>", "object at <hex>>"),
    ("session 0199a1b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b started", "session <uuid> started"),
    ("==== 3 failed, 12 passed in 4.52s ====", "==== <n> failed, <n> passed in <n>s ===="),
    ("listening on 127.0.0.1:8000 pid 4242", "listening on <n>:<n> pid <n>"),
    ("2025-01-02T10:11:12.123Z INFO done in 12ms", "<ts> INFO done in <n>ms"),
    ("/tmp/tmpa8x_2k/test.py failed", "<tmp> failed"),
    ("wrote tmpa8x_2k.json", "wrote <tmp>.json"),
    ("/private/var/folders/xy/abc123/T/pip-build", "<tmp>"),
    ("/home/u/.cache/pytest-of-user/pytest-12/test_x0/data.json", "<tmp>"),
    ("C:\\Users\\bob\\AppData\\Local\\Temp\\tmp12ab\\x.py", "<tmp>"),
    ("\x1b[31mERROR\x1b[0m  something \t failed\n\n  here", "ERROR something failed here"),
    ("GET https://user:s3cret@registry.npmjs.org/react/-/react-18.tgz", "GET https://registry.npmjs.org/<path>"),
    ("error[E0433] TS2339 python3 x86_64 v1.2.3", "error[E0433] TS2339 python3 x86_64 v1.2.3"),
    ("and/or I/O 1/3", "and/or I/O <n>/<n>"),
    ("AssertionError: assert 'abc' == 'abd'", "AssertionError: assert 'abc' == 'abd'"),
    ("</div> <anonymous>", "</div> <anonymous>"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), MASK_CASES)
def test_mask(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [case[0] for case in MASK_CASES]
    + [case[1] for case in ERROR_CASES]
    + [command for command, _ in COMMANDS]
    + ["a/<n> <path>/x <n>.<n> x<n>/y.py 1.2.3. 0x1f.a1b2c3d /a/b/ https://h/ http://x:1/y <tmp>/z.py"],
)
def test_mask_is_idempotent(text: str) -> None:
    once = mask(text)
    assert mask(once) == once


# ----------------------------------------------------------------------------------------------------------------
# failure_signature and grouping
# ----------------------------------------------------------------------------------------------------------------


def test_signature_key_and_id() -> None:
    sig = Signature("pytest", "ModuleNotFoundError: httpx", "x")
    assert sig.key == "pytest | ModuleNotFoundError: httpx"
    assert sig.id == "e4f762bc7a38"  # sha1 of the key: stable across runs and platforms
    assert len(sig.id) == 12
    assert Signature("", "timeout", "").key == "- | timeout"


def test_failure_signature_fields() -> None:
    sig = failure_signature(
        "bash -lc 'cd /home/alice/src/api && pytest -q tests/test_api.py'",
        PYTEST_MODULE_NOT_FOUND,
        exit_code=2,
    )
    assert sig == Signature("pytest", "ModuleNotFoundError: httpx", "ModuleNotFoundError: No module named 'httpx'")


def test_same_module_missing_across_repos_groups_together() -> None:
    other_repo = PYTEST_MODULE_NOT_FOUND.replace("/home/alice/src/api", "/Users/bob/code/billing").replace(
        "test_api.py", "test_invoices.py"
    )
    a = failure_signature("cd /home/alice/src/api && pytest -q tests/test_api.py", PYTEST_MODULE_NOT_FOUND, exit_code=2)
    b = failure_signature("uv run pytest tests/test_invoices.py -k foo", other_repo, exit_code=1)
    c = failure_signature(
        '["bash", "-lc", "python3 -m pytest -x"]', "E   ModuleNotFoundError: No module named 'httpx.x'"
    )
    assert a.key == b.key == c.key == "pytest | ModuleNotFoundError: httpx"
    assert a.id == b.id == c.id


def test_different_missing_modules_do_not_group() -> None:
    a = failure_signature("pytest", "E   ModuleNotFoundError: No module named 'httpx'", exit_code=1)
    b = failure_signature("pytest", "E   ModuleNotFoundError: No module named 'yaml'", exit_code=1)
    assert a.key != b.key
    assert a.id != b.id


def test_same_assertion_class_different_tests_paths_and_durations_group() -> None:
    other = PYTEST_ASSERT_SUMMARY.replace("test_math.py::test_add", "test_parser.py::test_tokens").replace(
        "0.31s", "12.05s"
    )
    a = failure_signature("pytest -q", PYTEST_ASSERT_SUMMARY, exit_code=1)
    b = failure_signature("python -m pytest tests", other, exit_code=1)
    assert a.key == b.key == "pytest | AssertionError"
    assert a.detail != b.detail  # the display excerpt keeps the test name


def test_npm_network_failure_groups_across_npm_versions_and_wrappers() -> None:
    a = failure_signature("/bin/zsh -lc 'cd /a && npm install'", NPM_EAI_AGAIN, exit_code=1)
    b = failure_signature("npm i", NPM_EAI_AGAIN.replace("npm ERR!", "npm error"), exit_code=1)
    assert a.key == b.key == "npm install | npm ERR! EAI_AGAIN"


def test_rust_error_code_groups_across_crates() -> None:
    other = CARGO_E0433.replace("mycrate", "otherthing").replace("src/main.rs:3:5", "crates/x/src/lib.rs:90:1")
    a = failure_signature("cargo build", CARGO_E0433, exit_code=101)
    b = failure_signature("bash -lc 'cd crates/x && cargo build --release 2>&1 | tail -40'", other, exit_code=101)
    assert a.key == b.key == "cargo build | rust E0433"


def test_npm_ci_and_install_are_one_root_cause() -> None:
    a = failure_signature("npm ci", NPM_EAI_AGAIN, exit_code=1)
    b = failure_signature("npm install --no-audit", NPM_EAI_AGAIN, exit_code=1)
    assert a.key == b.key == "npm install | npm ERR! EAI_AGAIN"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("pytest", PYTEST_MODULE_NOT_FOUND, 2), ("pytest", PYTEST_ASSERT_SUMMARY, 1)),
        (("pytest", PYTEST_ASSERT_SUMMARY, 1), ("cargo test", CARGO_PANIC, 101)),
        (("npm install", NPM_EAI_AGAIN, 1), ("npm install", NPM10_E404, 1)),
        (("go build ./...", GO_UNDEFINED, 1), ("go build ./...", GO_CANNOT_USE, 1)),
        (("git push", GIT_NON_FF, 1), ("git push", GIT_REMOTE_REJECTED, 1)),
        (("pytest", BASH_NOT_FOUND, 127), ("pytest", ZSH_NOT_FOUND, 127)),
        (("tsc", TSC_PRETTY, 2), ("tsc", NPM_ELIFECYCLE_WRAPPING_TSC, 2)),
        (("pytest", "", 124), ("pytest", "", 1)),
    ],
)
def test_different_root_causes_differ(a: tuple[str, str, int], b: tuple[str, str, int]) -> None:
    sa = failure_signature(a[0], a[1], exit_code=a[2])
    sb = failure_signature(b[0], b[1], exit_code=b[2])
    assert sa.key != sb.key
    assert sa.id != sb.id


def test_apply_patch_tool_without_command() -> None:
    sig = failure_signature(None, PATCH_EXPECTED_LINES, tool="apply_patch")
    assert sig.key == "apply_patch | patch context mismatch"
    other = failure_signature(PATCH_CMD, PATCH_EXPECTED_LINES.replace("/home/u/proj/src/app.py", "lib/x.ts"))
    assert other.key == sig.key


def test_non_shell_tool_is_the_program() -> None:
    sig = failure_signature(None, "Error: connect ECONNREFUSED 127.0.0.1:3000", tool="mcp__github__get_issue")
    assert sig.key == "mcp__github__get_issue | ECONNREFUSED"


def test_shell_tool_without_command_has_no_program() -> None:
    sig = failure_signature(None, "", exit_code=124, tool="exec_command")
    assert (sig.program, sig.error_class, sig.key) == ("", "timeout", "- | timeout")


def test_exit_127_without_message_names_the_program() -> None:
    sig = failure_signature("bash -lc 'cd /x && rg foo'", "", exit_code=127)
    assert sig.key == "rg | command not found: rg"


def test_none_command_and_empty_output() -> None:
    sig = failure_signature(None, "")
    assert sig == Signature("", "error", "")


# ----------------------------------------------------------------------------------------------------------------
# robustness and bounds
# ----------------------------------------------------------------------------------------------------------------


def test_detail_is_bounded() -> None:
    long_line = "E   AssertionError: " + "x" * 1000
    sig = failure_signature("pytest", long_line, exit_code=1)
    assert sig.error_class == "AssertionError"
    assert len(sig.detail) == DETAIL_MAX
    assert sig.detail.endswith("…")


def test_one_megabyte_output_is_fast_and_uses_the_tail() -> None:
    noise = "".join(f"tests/test_{i}.py::test_{i} PASSED [ {i % 100}%]\n" for i in range(25_000))
    assert len(noise) > 1_000_000
    output = noise + "E   ModuleNotFoundError: No module named 'httpx'\n1 error in 3.2s\n"
    start = time.perf_counter()
    sig = failure_signature("pytest", output, exit_code=2)
    elapsed = time.perf_counter() - start
    assert sig.error_class == "ModuleNotFoundError: httpx"
    assert elapsed < 0.5


def test_one_megabyte_single_line_output() -> None:
    output = "x" * 1_200_000 + "\nError: Cannot find module 'vite'\n"
    start = time.perf_counter()
    assert error_class(output, exit_code=1)[0] == "Cannot find module: vite"
    assert time.perf_counter() - start < 0.5


def test_error_in_the_middle_of_a_huge_output_is_out_of_the_window() -> None:
    # Only the first ~50 and last ~200 lines are scanned: a cause buried in the middle is not seen.
    lines = ["ok"] * 1000
    lines[500] = "npm ERR! code EAI_AGAIN"
    assert error_class("\n".join(lines), exit_code=1)[0] == "exit 1"
    lines[10] = "npm ERR! code E404"
    assert error_class("\n".join(lines), exit_code=1)[0] == "npm ERR! E404"


def test_huge_command_is_handled() -> None:
    command = "cd /x && " + " && ".join(["echo hi"] * 20_000) + " && pytest -q"
    start = time.perf_counter()
    program = command_program(command)
    assert time.perf_counter() - start < 2.0
    assert program == "pytest"  # head and tail are kept: the final check survives the cut


@pytest.mark.parametrize(
    "command",
    [
        "'",
        '"',
        "bash -lc '",
        "bash -lc \"echo 'x",
        "$(",
        "`",
        "<<",
        "2>&1",
        "|",
        "&& ||",
        "\\",
        "[",
        '["bash"',
    ],
)
def test_command_program_never_raises(command: str) -> None:
    assert isinstance(command_program(command), str)


def test_signature_is_frozen_and_hashable() -> None:
    sig = Signature("pytest", "KeyError", "KeyError: 'x'")
    with pytest.raises(AttributeError):
        sig.program = "x"  # type: ignore[misc]
    assert len({sig, Signature("pytest", "KeyError", "KeyError: 'x'")}) == 1


@pytest.mark.parametrize(
    "text",
    ["a." * 50_000, "a-" * 50_000, "C:\\" * 50_000, "$(" * 50_000, "pytest-of-" * 10_000, "http:" * 20_000],
    ids=["dots", "dashes", "windows", "subst", "pytest-of", "schemes"],
)
def test_no_catastrophic_backtracking(text: str) -> None:
    # Patterns restarting inside long tokens used to be quadratic (minutes on 100 kB): they must stay linear.
    start = time.perf_counter()
    mask(text)
    command_program(text)
    error_class(text, exit_code=1)
    assert time.perf_counter() - start < 1.5
