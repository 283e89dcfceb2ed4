#!/usr/bin/env bash
# Shows that each static check fails .ci/static on a deliberate break: copies the working tree four times, breaks
# one thing in each copy (an unused import, an unformatted line, a wrong return type, a store -> signals import)
# and prints the exit code and the step that failed. Usage: bash scripts/check_static_breaks.sh
set -u
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run() {  # name, python snippet that breaks the copy
    d=$(mktemp -d); (cd "$src" && tar cf - --exclude=./.venv --exclude=./bench/.corpus --exclude=./.git --exclude=./demo_sessions --exclude=__pycache__ --exclude=.mypy_cache .) | (cd "$d" && tar xf -)
    ln -s "$src/.venv" "$d/.venv"
    (cd "$d" && python3 -c "$2")
    out=$(cd "$d" && PYTHONPATH="$d" bash .ci/static .venv 2>&1); rc=$?
    echo "## $1: .ci/static exit $rc, at step: $(echo "$out" | grep "^ci: " | tail -1)"; echo "$out" | grep -v '^ci: ' | grep -m3 -E 'error|F401|would reformat|BROKEN|imports|->' ; rm -rf "$d"
}
run "ruff (unused import)" "p='ccl_tui/scope.py'; s=open(p).read(); open(p,'w').write(s.replace('from __future__ import annotations','from __future__ import annotations\nimport os',1))"
run "ruff format (unformatted line)" "p='ccl_tui/scope.py'; open(p,'a').write('\nX = [1,2,\n   3]\n')"
run "mypy (wrong return type)" "p='ccl_tui/scope.py'; open(p,'a').write('\n\ndef broken() -> int:\n    return \"one\"\n')"
run "lint-imports (store imports signals)" "p='ccl_tui/store/tx.py'; s=open(p).read(); open(p,'w').write(s.replace('import aiosqlite\n','import aiosqlite\n\nimport ccl_tui.signals.detect  # noqa: F401\n',1))"
