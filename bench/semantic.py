"""Embed and cluster 5,000 synthetic issue signatures with the offline embedder; print the time of each phase.

    python bench/semantic.py [--n 5000] [--chroma]

The signatures are generated deterministically (seeded) from realistic tool failures across Python, Node,
Rust, Go, TypeScript, git, Docker, databases and the sandbox, each with program, entity and wording variety,
plus pushback/interrupt/denial/context issues. Phases: generate, embed (HashingEmbedder), cluster
(average-linkage within kind families, the product's threshold), stable ids, and optionally a Chroma upsert +
reopen + query in a temporary directory.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROGRAMS = {
    "py": [
        "pytest",
        "pytest -q",
        "python -m app",
        "uv run pytest",
        "tox",
        "python manage.py test",
        "mypy",
        "python scripts/sync.py",
        "alembic upgrade",
        "celery worker",
        "uvicorn",
        "flask run",
    ],
    "node": [
        "npm install",
        "npm ci",
        "npm test",
        "npm run build",
        "yarn install",
        "pnpm install",
        "npx vitest",
        "node server.js",
        "npm run dev",
        "npx tsc",
        "npx jest",
        "npm run lint",
    ],
    "rust": ["cargo build", "cargo test", "cargo check", "cargo clippy", "cargo run"],
    "go": ["go test", "go build", "go vet", "go run ./cmd/server", "golangci-lint run"],
    "git": ["git push", "git pull", "git fetch", "git rebase", "git merge", "git clone", "git cherry-pick"],
    "sys": [
        "docker compose up",
        "docker build",
        "make",
        "cp",
        "mkdir",
        "chmod",
        "psql",
        "redis-cli",
        "curl",
        "kubectl apply",
        "terraform plan",
        "bash scripts/setup.sh",
    ],
}
MODULES = [
    "requests",
    "httpx",
    "respx",
    "freezegun",
    "pydantic",
    "numpy",
    "pandas",
    "boto3",
    "redis",
    "sqlalchemy",
    "yaml",
    "jwt",
    "dateutil",
    "orjson",
    "structlog",
    "tenacity",
    "attrs",
    "click",
    "rich",
    "typer",
]
PACKAGES = ["express", "lodash", "react", "zod", "axios", "dayjs", "vite", "jest", "typescript", "prisma"]
CRATES = ["tokio", "tokio_util", "serde_json", "anyhow", "tracing", "bytes", "futures", "reqwest", "clap"]
IDENTS = ["parseLimit", "NewPool", "newTestServer", "router.New", "handleOrder", "Config.Load", "retryAfter"]
PROPS = ["user", "session", "data", "items", "headers", "tenantId", "locale"]
TYPES = ["Request", "Response", "Props", "State", "Order", "Invoice"]
HOSTS = ["registry.npmjs.org", "pypi.org", "github.com", "crates.io", "proxy.golang.org", "files.pythonhosted.org"]
PATHS = [
    "/etc/hosts",
    "/usr/local/lib/tool",
    "/var/log/app.log",
    "/opt/app/config.toml",
    "/home/dev/.cache/pip",
    "/usr/lib/node_modules/pnpm",
    ".git/hooks/pre-commit",
]
PORTS = ["3000", "5173", "8000", "8080", "5432", "6379"]
FILES = ["src/app.py", "src/main.rs", "web/src/App.tsx", "internal/store/store.go", "package.json", "README.md"]

FAILURES = [
    (
        "py",
        "ModuleNotFoundError: {m}",
        [
            "ModuleNotFoundError: No module named '{m}'",
            "ImportError: No module named {m}",
            "E   ModuleNotFoundError: No module named '{m}' (collecting tests/test_{m}.py)",
        ],
    ),
    (
        "py",
        "AssertionError",
        [
            "AssertionError: assert {n} == {k}",
            "E   assert {n} == {k}",
            "FAILED tests/test_{m}.py::test_{m} - AssertionError",
        ],
    ),
    (
        "py",
        "TypeError",
        ["TypeError: {p}() missing 1 required positional argument: '{q}'", "TypeError: unsupported operand type(s)"],
    ),
    (
        "node",
        "npm ERR! EAI_AGAIN",
        ["npm ERR! request to https://{h}/{pk} failed, reason: getaddrinfo EAI_AGAIN {h}", "npm ERR! code EAI_AGAIN"],
    ),
    (
        "node",
        "Cannot find module '{pk}'",
        ["Error: Cannot find module '{pk}'", "Module not found: Error: Can't resolve '{pk}' in '/app/src'"],
    ),
    ("node", "EADDRINUSE", ["Error: listen EADDRINUSE: address already in use :::{port}", "listen EADDRINUSE :{port}"]),
    (
        "node",
        "TS2339",
        [
            "error TS2339: Property '{p}' does not exist on type '{t}'.",
            "TS2339: Property '{p}' does not exist on type '{t}'",
        ],
    ),
    ("node", "TS2307", ["error TS2307: Cannot find module '{pk}' or its corresponding type declarations."]),
    ("rust", "rust E0433", ["error[E0433]: failed to resolve: use of undeclared crate or module `{c}`"]),
    ("rust", "rust E0432", ["error[E0432]: unresolved import `{c}::codec`"]),
    ("rust", "rust E0502", ["error[E0502]: cannot borrow `{p}` as mutable because it is also borrowed as immutable"]),
    ("go", "go: undefined", ["./{f}:{n}:{k}: undefined: {i}", "# example.com/app\n./main.go:{n}:{k}: undefined: {i}"]),
    ("go", "go test FAIL", ["--- FAIL: Test{i} ({n}.{k}s)", "FAIL example.com/app/internal [build failed]"]),
    (
        "git",
        "network unavailable",
        [
            "ssh: Could not resolve hostname {h}: Temporary failure in name resolution",
            "fatal: unable to access 'https://{h}/acme/api.git/': Could not resolve host: {h}",
        ],
    ),
    (
        "git",
        "rejected non-fast-forward",
        ["! [rejected] main -> main (non-fast-forward)", "error: failed to push some refs; Updates were rejected"],
    ),
    ("git", "merge conflict", ["CONFLICT (content): Merge conflict in {f}", "error: could not apply 1a2b3c4... fix"]),
    (
        "sys",
        "permission denied",
        [
            "{x}: cannot create regular file '{path}': Permission denied",
            "PermissionError: [Errno 13] Permission denied: '{path}'",
        ],
    ),
    (
        "sys",
        "read-only file system",
        [
            "{x}: cannot create directory '{path}': Read-only file system",
            "OSError: [Errno 30] Read-only file system: '{path}'",
        ],
    ),
    (
        "sys",
        "command not found: {x}",
        ["zsh:1: command not found: {x}", "bash: {x}: command not found", "/bin/sh: 1: {x}: not found"],
    ),
    (
        "sys",
        "ECONNREFUSED",
        [
            "connect ECONNREFUSED 127.0.0.1:{port}",
            'connection to server at "localhost", port {port} failed: Connection refused',
        ],
    ),
    (
        "sys",
        "no space left on device",
        ["ENOSPC: no space left on device, write", "OSError: [Errno 28] No space left on device"],
    ),
]
OTHER = [
    (
        "user_pushback",
        "pushback | {w}",
        "user: {u}",
        ["revert", "wrong", "still failing", "stop"],
        ["no, revert that change", "that's not what I asked", "still failing for me", "stop touching the tests"],
    ),
    ("interrupt", "interrupt | during {prog}", "user interrupted the turn during `{prog}`", [""], [""]),
    ("repeated_denial", "denied | {prog}", "user denied `{prog}` (2x)", [""], [""]),
    (
        "context_truncation",
        "context | {w}",
        "{u}",
        ["compaction", "window >= 85% full", "tool output truncated"],
        ["history compacted", "context window 91% full", "2 tool outputs truncated"],
    ),
    ("timeout", "{prog} | timeout", "`{prog}` timed out", [""], [""]),
]


def generate(n: int, seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """(signatures, texts to embed, kinds): n unique synthetic issues."""
    rng = random.Random(seed)
    sigs: list[str] = []
    texts: list[str] = []
    kinds: list[str] = []
    seen: set[str] = set()
    while len(sigs) < n:
        v = {
            "m": rng.choice(MODULES),
            "pk": rng.choice(PACKAGES),
            "c": rng.choice(CRATES),
            "i": rng.choice(IDENTS),
            "p": rng.choice(PROPS),
            "t": rng.choice(TYPES),
            "h": rng.choice(HOSTS),
            "path": rng.choice(PATHS),
            "port": rng.choice(PORTS),
            "f": rng.choice(FILES),
            "n": rng.randint(1, 400),
            "k": rng.randint(1, 80),
            "q": rng.choice(PROPS),
            "x": rng.choice(PROGRAMS["sys"]).split()[0],
        }
        if rng.random() < 0.8:
            eco, what, details = rng.choice(FAILURES)
            prog = rng.choice(PROGRAMS[eco])
            # a variant suffix gives the long tail of distinct signatures real stores have
            tail = (
                ""
                if rng.random() < 0.5
                else f" ({rng.choice(['ci', 'local', 'worktree', 'v2', 'retry'])} #{rng.randint(1, 60)})"
            )
            sig = f"{prog} | {what.format(**v)}{tail}"
            text = f"{what.format(**v)}\n{rng.choice(details).format(**v)}\n{prog}"
            kind = "command_failure"
        else:
            kind, sig_t, det_t, words, utters = rng.choice(OTHER)
            j = rng.randrange(len(words))
            prog = rng.choice([p for ps in PROGRAMS.values() for p in ps])
            tail = f" #{rng.randint(1, 400)}"
            sig = sig_t.format(w=words[j], prog=prog) + tail
            text = det_t.format(u=utters[j], prog=prog)
        if sig in seen:
            continue
        seen.add(sig)
        sigs.append(sig)
        texts.append(text)
        kinds.append(kind)
    return sigs, texts, kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--chroma", action="store_true", help="also time a Chroma upsert, reopen and query")
    args = ap.parse_args()

    from ccl_tui.semantic.cluster import group_by_family, stable_ids
    from ccl_tui.semantic.embedders import HashingEmbedder

    t = time.perf_counter()
    sigs, texts, kinds = generate(args.n)
    t_gen = time.perf_counter() - t

    emb = HashingEmbedder()
    emb.embed(["warm up: imports sklearn"])
    t = time.perf_counter()
    vectors = emb.embed(texts)
    t_embed = time.perf_counter() - t

    t = time.perf_counter()
    groups = group_by_family(kinds, vectors, emb.cluster_threshold)
    t_cluster = time.perf_counter() - t

    t = time.perf_counter()
    ids = stable_ids([[(f"I-{n}", sigs[n]) for n in g] for g in groups], {})
    t_ids = time.perf_counter() - t

    merged = [g for g in groups if len(g) > 1]
    print(f"issues              {len(sigs):>8}")
    print(f"clusters            {len(groups):>8}   ({len(merged)} with 2+ members, largest {max(map(len, groups))})")
    print(f"generate            {t_gen:>8.3f} s")
    print(f"embed (hashing)     {t_embed:>8.3f} s   ({len(texts) / t_embed:,.0f} texts/s, dim {emb.dim})")
    print(f"cluster             {t_cluster:>8.3f} s   (average linkage, cosine, threshold {emb.cluster_threshold})")
    print(f"stable ids          {t_ids:>8.3f} s")
    print(f"total               {t_embed + t_cluster + t_ids:>8.3f} s   (embed + cluster + ids)")
    assert len(set(ids)) == len(ids)

    if args.chroma:
        from ccl_tui.semantic.vectors import VectorStore

        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            with VectorStore(Path(tmp)) as vs:
                vs.upsert(
                    emb,
                    [f"I-{n}" for n in range(len(sigs))],
                    vectors,
                    texts,
                    [{"signature": s, "kind": k} for s, k in zip(sigs, kinds, strict=True)],
                )
            t_up = time.perf_counter() - t
            t = time.perf_counter()
            with VectorStore(Path(tmp)) as vs:
                hits = vs.query(emb, vectors[:100], n_results=5)
            t_q = time.perf_counter() - t
        print(f"chroma upsert       {t_up:>8.3f} s   (incl. import chromadb)")
        print(
            f"chroma reopen+query {t_q:>8.3f} s   (100 queries, top 5; self-hit rate "
            f"{sum(h[0][0] == f'I-{n}' for n, h in enumerate(hits)) / len(hits):.2f})"
        )


if __name__ == "__main__":
    main()
