"""Two Harbor runs of the demo corpus's top issue tasks, in the folder layout ``harbor run`` writes.

The corpus story: on FIX_DATE the Python repositories' AGENTS.md starts saying "Run `uv sync` first". A team
closing the loop runs the tasks ccl-tui wrote for its top issues before that change (``--agent codex``, the
old AGENTS.md) and after it. Like the sessions, the outcomes are generated (no Docker here): each trial
passes with the probability below, drawn from a seeded RNG. Only the fixed issue's task gets better; the
others stay where they were. The product computes every figure it shows from these files.

The documents carry the keys of Harbor 0.25's TrialResult / JobResult; the tests validate them with Harbor's
own models.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ccl_tui.issues.build import issue_id, title_for
from ccl_tui.tasks.paths import task_name

FOLDER = "harbor-jobs"
TRIALS_PER_TASK = 10
AGENT = {"name": "codex", "version": "0.118.0", "model_info": {"name": "gpt-5.3-codex", "provider": "openai"}}

#: (issue kind, signature as the rules name it, pass probability before the fix, after the fix)
TASKS: tuple[tuple[str, str, float, float], ...] = (
    ("command_failure", "pytest | ModuleNotFoundError: httpx", 0.2, 0.9),  # the root cause the corpus fixes
    ("command_failure", "npm install | npm ERR! EAI_AGAIN", 0.1, 0.1),  # sandbox without network: not fixed
    ("patch_failure", "apply_patch | patch context mismatch", 0.5, 0.5),
)
#: (job folder = default run label, start, index of the probability in TASKS rows)
RUNS: tuple[tuple[str, datetime, int], ...] = (
    ("2026-10-25__18-00-00", datetime(2026, 10, 25, 17, 0, tzinfo=UTC), 2),
    ("2026-10-27__09-30-00", datetime(2026, 10, 27, 8, 30, tzinfo=UTC), 3),
)


def task_name_for(kind: str, signature: str) -> str:
    """The name ccl-tui gives the task of the issue with this signature (``ccl-tui task``)."""
    return task_name("ccl", issue_id(signature), title_for(kind, signature))


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ccl-tui-demo:" + ":".join(map(str, parts))))


def _ts(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _trial(
    job: str, job_id: str, task: str, n: int, start: datetime, rng: random.Random, p: float
) -> dict[str, Any]:
    trial_name = f"{task[:32]}__{_uuid(job, task, n)[:7]}"
    task_path = f"/home/demo/.local/share/ccl-tui/tasks/{task}"
    roll = rng.random()
    exception = None
    reward: float | None = 1.0 if rng.random() < p else 0.0
    if roll < 0.04:  # the sandbox did not come up: not a measurement of the agent
        exception, reward = "SandboxBuildFailedError", None
    elif roll < 0.08:  # the agent ran out of time: a failed measurement
        exception, reward = "AgentTimeoutError", None
    end = start + timedelta(seconds=240 + int(rng.random() * 600))
    return {
        "id": _uuid(job, trial_name),
        "task_name": task,
        "trial_name": trial_name,
        "trial_uri": f"file:///home/demo/jobs/{job}/{trial_name}",
        "task_id": {"path": task_path},
        "source": None,
        "task_checksum": _uuid(task)[:16],
        "config": {
            "task": {"path": task_path},
            "trial_name": trial_name,
            "job_id": job_id,
            "agent": {"name": "codex", "model_name": "openai/gpt-5.3-codex"},
        },
        "agent_info": AGENT,
        "agent_result": {
            "n_input_tokens": 30_000 + int(rng.random() * 60_000),
            "n_cache_tokens": 12_000,
            "n_output_tokens": 2_000 + int(rng.random() * 6_000),
            "cost_usd": None,
        },
        "verifier_result": None if reward is None else {"rewards": {"reward": reward}},
        "exception_info": None
        if exception is None
        else {
            "exception_type": exception,
            "exception_message": f"{exception} in trial {trial_name}",
            "exception_traceback": "Traceback (most recent call last):\n  ...",
            "occurred_at": _ts(end),
        },
        "started_at": _ts(start),
        "finished_at": _ts(end),
    }


def write_runs(out: Path, seed: int) -> list[Path]:
    """Write the job folders under ``out/harbor-jobs``; returns them."""
    root = out / FOLDER
    written = []
    for job, start, column in RUNS:
        job_dir = root / job
        job_dir.mkdir(parents=True, exist_ok=True)
        job_id = _uuid(job)
        rng = random.Random(f"{seed}:harbor:{job}")
        trials = []
        t = start
        for row in TASKS:
            task = task_name_for(row[0], row[1])
            for n in range(TRIALS_PER_TASK):
                trials.append(_trial(job, job_id, task, n, t, rng, float(row[column])))
                t += timedelta(minutes=3)
        for doc in trials:
            (job_dir / doc["trial_name"]).mkdir(exist_ok=True)
            (job_dir / doc["trial_name"] / "result.json").write_bytes(
                orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
            )
        errors = sum(d["exception_info"] is not None for d in trials)
        job_doc = {"id": job_id, "started_at": _ts(start), "finished_at": _ts(t), "n_total_trials": len(trials),
                   "stats": {"n_completed_trials": len(trials), "n_errored_trials": errors}}  # fmt: skip
        (job_dir / "result.json").write_bytes(orjson.dumps(job_doc, option=orjson.OPT_INDENT_2) + b"\n")
        (job_dir / "config.json").write_bytes(
            orjson.dumps({"job_name": job, "n_attempts": TRIALS_PER_TASK}) + b"\n"
        )
        written.append(job_dir)
    return written
