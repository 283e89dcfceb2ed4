#!/usr/bin/env python3
"""Real Harbor runs for the demo corpus: ``harbor run`` with ccl-tui's local environment, agents oracle and nop.

    .venv/bin/python scripts/demo_harbor_runs.py            # writes demo_sessions/harbor-jobs/real-{oracle,nop}

What it does, in a temporary work folder (nothing outside it is written but the job folders it copies):

1. ingests the demo corpus (``demo_sessions/``) into a fresh database;
2. writes tasks with ``ccl-tui task``: one per session of the runnable episode (its first failing check: the
   stdlib ``unittest`` module that fails at the session's commit), and one for each of the ``--top`` issues of
   the ranking. The demo sessions' cwds (``/home/<dev>/src/<repo>``) do not exist here: the repositories are
   found in ``demo_sessions/repos/*.bundle`` by ``ccl_tui.tasks.checkouts`` (the bundled demo repositories are
   always among its roots);
3. runs ``harbor run -p <tasks> -a <agent> -e ccl_tui.tasks.harbor_local:LocalEnvironment`` for each agent
   (``oracle``: the task's own solution; ``nop``: does nothing). LocalEnvironment is NOT isolated (it runs the
   tasks' commands on this machine as this user; it refuses other agents), which is why only these two run;
   Tasks whose ``network_mode`` is not ``public`` are set aside (LocalEnvironment cannot cut a process off the
   network, so it rejects them; they need ``-e docker``);
4. copies each job folder to ``<corpus>/harbor-jobs/real-<agent>`` (replacing an older one) and prints what
   every trial got. The corpus generator keeps ``real-*`` folders and replaces only the ``*__simulated`` ones.

The verdicts are real: a task whose check needs dependencies this machine lacks (pytest plugins, node_modules,
a Rust toolchain) fails under oracle too; the runnable episode's tasks need only ``python3``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccl_tui.cli import main as ccl  # noqa: E402
from ccl_tui.demo import episode  # noqa: E402
from ccl_tui.demo.generate import DEFAULT_SEED, DEFAULT_SESSIONS  # noqa: E402
from ccl_tui.demo.harbor_runs import FOLDER  # noqa: E402
from ccl_tui.store.db import Store  # noqa: E402
from ccl_tui.tasks.checkouts import ENV_ROOTS  # noqa: E402

IMPORT_PATH = "ccl_tui.tasks.harbor_local:LocalEnvironment"
AGENTS = ("oracle", "nop")
REAL_PREFIX = "real-"


def run_ccl(*argv: str) -> tuple[int, Any]:
    """``ccl-tui <argv> --json`` in this process; returns (exit code, parsed output)."""
    out = Path(tempfile.mkstemp(prefix="ccl-out-")[1])
    try:
        with out.open("w") as fh:
            saved = sys.stdout
            sys.stdout = fh
            try:
                code = ccl([*argv, "--json"])
            finally:
                sys.stdout = saved
        text = out.read_text()
    finally:
        out.unlink(missing_ok=True)
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text.strip()


async def first_failure(db: Path, session_id: str) -> int:
    store = await Store.open(db)
    try:
        signals = await store.signals(session_id, kinds=["command_failure"])
    finally:
        await store.close()
    return min(s.seq for s in signals)


def write_tasks(db: Path, tasks: Path, top: int, seed: int, sessions: int) -> list[dict[str, Any]]:
    written: list[dict[str, Any]] = []
    wanted: list[tuple[str, list[str]]] = []
    for plan in episode.plans(seed, sessions):
        seq = asyncio.run(first_failure(db, plan.session_id))
        wanted.append((f"runnable episode {plan.repo.name} {plan.day}", ["--signal", f"{plan.session_id}:{seq}"]))
    wanted += [(f"issue #{rank}", [str(rank)]) for rank in range(1, top + 1)]
    for label, args in wanted:
        code, doc = run_ccl("task", "--db", str(db), "--out", str(tasks), "--force", *args)
        if code == 0 and isinstance(doc, dict):
            written.append({"label": label, **doc})
            print(f"task  {doc.get('name')}: {doc.get('environment_mode')} ({label})")
        else:
            print(f"task  not written for {label}: {doc}")
    return written


def set_aside_unenforceable(tasks: Path, aside: Path) -> list[str]:
    """Move out the tasks whose network policy LocalEnvironment cannot enforce (it would reject the whole job):
    a ``no-network`` task needs Docker to mean anything."""
    moved = []
    for task in sorted(p for p in tasks.iterdir() if (p / "task.toml").is_file()):
        env = tomllib.loads((task / "task.toml").read_text()).get("environment", {})
        mode = env.get("network_mode", "public") if isinstance(env, dict) else "public"
        if mode != "public":
            aside.mkdir(parents=True, exist_ok=True)
            shutil.move(str(task), aside / task.name)
            moved.append(f"{task.name} (network_mode={mode}: run it with -e docker)")
    return moved


def harbor_run(tasks: Path, jobs: Path, agent: str, trials: Path, concurrency: int) -> int:
    harbor = Path(sys.executable).parent / "harbor"
    env = {
        **os.environ,
        "HARBOR_TELEMETRY": "0",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [
        str(harbor),
        "run",
        "-p",
        str(tasks),
        "-a",
        agent,
        "-e",
        IMPORT_PATH,
        "-o",
        str(jobs),
        "--job-name",
        f"{REAL_PREFIX}{agent}",
        "-n",
        str(concurrency),
        "-y",
        "--ek",
        f"root={trials}",
    ]
    print("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=3600)
    if proc.returncode != 0:
        print(proc.stdout[-3000:] + proc.stderr[-3000:], file=sys.stderr)
    return proc.returncode


def summarize(job: Path) -> list[str]:
    lines = []
    for path in sorted(job.glob("*/result.json")):
        doc = json.loads(path.read_text())
        reward = ((doc.get("verifier_result") or {}).get("rewards") or {}).get("reward")
        exc = (doc.get("exception_info") or {}).get("exception_type")
        lines.append(f"  {doc['task_name'][:60]:<60} reward={reward} {exc or ''}".rstrip())
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "demo_sessions", help="the demo corpus folder")
    parser.add_argument("--out", type=Path, default=None, help="where job folders go (default: <corpus>/harbor-jobs)")
    parser.add_argument("--top", type=int, default=3, help="how many top issues get a task too (default 3)")
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=AGENTS)
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    parser.add_argument("-n", "--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    out = (args.out or corpus / FOLDER).resolve()
    work = (args.work or Path(tempfile.mkdtemp(prefix="ccl-demo-harbor-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ["CCL_TUI_DATA_DIR"] = str(work / "data")  # database, checkout cache: all in the work folder
    os.environ[ENV_ROOTS] = str(corpus / "repos")
    try:
        db, tasks, jobs, trials = work / "demo.sqlite", work / "tasks", work / "jobs", work / "trials"
        trials.mkdir(exist_ok=True)
        code, _ = run_ccl("ingest", "--db", str(db), str(corpus))
        if code != 0:
            print("ingest failed", file=sys.stderr)
            return 1
        written = write_tasks(db, tasks, args.top, DEFAULT_SEED, DEFAULT_SESSIONS)
        for why in set_aside_unenforceable(tasks, work / "not-run"):
            print(f"not run here: {why}")
        if not written or not any(tasks.iterdir()):
            print("no task to run", file=sys.stderr)
            return 1
        status = 0
        for agent in args.agents:
            if harbor_run(tasks, jobs, agent, trials, args.concurrency) != 0:
                status = 1
                continue
            job = jobs / f"{REAL_PREFIX}{agent}"
            dest = out / job.name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(job, dest)
            print(f"{dest}:")
            print("\n".join(summarize(dest)))
        return status
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
