"""Read the folder ``harbor run`` writes: ``<job>/result.json`` (JobResult) and one ``<trial>/result.json``
(TrialResult) per trial. Plain JSON reading, so the core needs no Harbor install; tests check the fixtures
against Harbor's own pydantic models.

A trial file that is half-written (Harbor writes it at the end of a trial) or of a shape this reader does not
know is reported and skipped; the rest of the job is still read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ccl_tui.model.results import JobRead, Skipped, Trial
from ccl_tui.text.ansi import strip_control

RESULT = "result.json"
MAX_RESULT_BYTES = 64 * 1024 * 1024


class NotAJob(ValueError):
    """The folder is not a Harbor job folder."""


def is_job_dir(path: Path) -> bool:
    """A job folder holds config.json or result.json next to trial folders (or is an empty, just-started job)."""
    if not path.is_dir():
        return False
    if (path / "config.json").is_file() or (path / "lock.json").is_file():
        return True
    return (path / RESULT).is_file() and any(p.is_dir() and (p / RESULT).is_file() for p in path.iterdir())


def find_jobs(path: Path) -> list[Path]:
    """``path`` itself when it is a job folder, else the job folders directly inside it (``jobs/``)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise NotAJob(f"{path}: no such folder")
    if not path.is_dir():
        raise NotAJob(f"{path}: not a folder (give the job folder that `harbor run` wrote)")
    if is_job_dir(path):
        return [path]
    jobs = sorted(p for p in path.iterdir() if is_job_dir(p))
    if not jobs:
        raise NotAJob(f"{path}: not a Harbor job folder (no config.json / result.json with trial folders)")
    return jobs


def _load(path: Path | str) -> tuple[Any, str | None]:
    """The decoded document, or why not. A missing file raises FileNotFoundError."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_RESULT_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if len(data) > MAX_RESULT_BYTES:
        return None, f"larger than {MAX_RESULT_BYTES // (1024 * 1024)} MiB"
    if not data.strip():
        return None, "empty (the trial may still be running)"
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError as exc:
        return None, f"half-written or invalid JSON ({exc.msg} at byte {exc.pos})"


def _text(value: Any, limit: int = 500) -> str | None:
    if value is None:
        return None
    return strip_control(str(value))[:limit]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _obj(value: Any) -> dict[Any, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def parse_trial(doc: Any) -> tuple[Trial | None, str | None]:
    """A Trial from a TrialResult document, or the reason it is not one this reader knows."""
    if not isinstance(doc, dict):
        return None, "unrecognized result format: not a JSON object"
    missing = [k for k in ("task_name", "trial_name", "agent_info") if k not in doc]
    if missing:
        if "trial_results" in doc or "n_total_trials" in doc:
            return None, "a job result, not a trial result"
        return None, f"unrecognized result format (not a Harbor TrialResult: missing {', '.join(missing)})"
    if not isinstance(doc["task_name"], str) or not isinstance(doc["trial_name"], str):
        return None, "unrecognized result format: task_name / trial_name are not strings"
    verifier = doc.get("verifier_result")
    rewards: dict[str, float] = {}
    reward: float | None = None
    if verifier is not None:
        raw = verifier.get("rewards") if isinstance(verifier, dict) else None
        if raw is not None and not isinstance(raw, dict):
            return None, "unrecognized result format: verifier_result.rewards is not an object"
        for key, value in (raw or {}).items():
            num = _number(value)
            if num is None:
                return None, f"unrecognized result format: reward {key!r} is not a number"
            rewards[str(key)] = num
        if rewards:
            reward = rewards["reward"] if "reward" in rewards else sum(rewards.values()) / len(rewards)
    exc = doc.get("exception_info")
    if exc is not None and not isinstance(exc, dict):
        return None, "unrecognized result format: exception_info is not an object"
    agent = _obj(doc.get("agent_info"))
    model_info = _obj(agent.get("model_info"))
    model = model_info.get("name")
    if model and model_info.get("provider"):
        model = f"{model_info['provider']}/{model}"
    result = _obj(doc.get("agent_result"))
    task_id = _obj(doc.get("task_id"))
    config_task = _obj(doc.get("config")).get("task")
    task_path = task_id.get("path") or (config_task.get("path") if isinstance(config_task, dict) else None)
    trial = Trial(
        trial_id=str(doc.get("id") or ""),
        trial_name=_text(doc["trial_name"], 200) or "",
        task_name=_text(doc["task_name"], 200) or "",
        task_path=_text(task_path, 1000),
        task_checksum=_text(doc.get("task_checksum"), 128),
        reward=reward,
        rewards=rewards,
        exception_type=_text(exc.get("exception_type"), 200) if exc else None,
        exception_message=_text(exc.get("exception_message"), 500) if exc else None,
        agent=_text(agent.get("name"), 100),
        agent_version=_text(agent.get("version"), 100),
        model=_text(model, 200),
        started_at=_text(doc.get("started_at"), 64),
        finished_at=_text(doc.get("finished_at"), 64),
        cost_usd=_number(result.get("cost_usd")),
        input_tokens=int(n) if (n := _number(result.get("n_input_tokens"))) is not None else None,
        output_tokens=int(n) if (n := _number(result.get("n_output_tokens"))) is not None else None,
    )
    if exc is not None and trial.exception_type is None:
        trial.exception_type = "UnknownError"
    return trial, None


#: The marker ccl-tui's LocalEnvironment writes into each trial folder (ccl_tui.tasks.harbor_local.MARKER).
LOCAL_MARKER = "ccl-local-environment.json"


def _simulated(doc: object) -> bool:
    mark = doc.get("ccl_tui") if isinstance(doc, dict) else None
    return isinstance(mark, dict) and mark.get("simulated") is True


def _provenance(job_dir: Path, job_doc: object) -> str:
    """ "simulated" when the job says so (``"ccl_tui": {"simulated": true}`` in its config or result), "local"
    when its trials ran in ccl-tui's LocalEnvironment (the marker in a trial folder), else "harbor"."""
    if _simulated(job_doc):
        return "simulated"
    try:
        config, _ = _load(job_dir / "config.json")
    except FileNotFoundError:
        config = None
    if _simulated(config):
        return "simulated"
    # every trial of a job runs in the same environment: the first trial folder tells
    with os.scandir(job_dir) as it:
        first = next((entry.path for entry in it if entry.is_dir()), None)
    return "local" if first is not None and os.path.exists(os.path.join(first, LOCAL_MARKER)) else "harbor"


def read_job(job_dir: Path | str) -> JobRead:
    """Every trial of one job folder that can be read; the others in ``skipped`` with the reason."""
    job_dir = Path(job_dir)
    if not job_dir.is_dir():
        raise NotAJob(f"{job_dir}: not a folder")
    try:
        job_doc, _ = _load(job_dir / RESULT)
    except FileNotFoundError:
        job_doc = None
    job_id = started = finished = None
    if isinstance(job_doc, dict):
        job_id = _text(job_doc.get("id"), 64)
        started = _text(job_doc.get("started_at"), 64)
        finished = _text(job_doc.get("finished_at"), 64)
    out = JobRead(str(job_dir.resolve()), job_id or "", started, finished, provenance=_provenance(job_dir, job_doc))
    config_job_id = None
    with os.scandir(job_dir) as it:
        trial_dirs = sorted(e.path for e in it if e.is_dir())
    for trial_dir in trial_dirs:
        path = os.path.join(trial_dir, RESULT)
        try:
            doc, problem = _load(path)
        except FileNotFoundError:
            if os.path.exists(os.path.join(trial_dir, "config.json")) or os.path.exists(
                os.path.join(trial_dir, "trial.log")
            ):
                out.pending += 1
            continue
        trial = None
        if problem is None:
            trial, problem = parse_trial(doc)
        if trial is None:
            out.skipped.append(Skipped(path, problem or "unreadable"))
            continue
        if not trial.trial_id:
            trial.trial_id = f"{job_id or out.job_dir}:{trial.trial_name}"
        if config_job_id is None and isinstance(doc.get("config"), dict):
            config_job_id = _text(doc["config"].get("job_id"), 64)
        out.trials.append(trial)
    if not out.job_id:
        # no (readable) job result yet: the trials' job id, else the folder itself
        out.job_id = config_job_id or "dir:" + out.job_dir
    if out.started_at is None:
        starts = sorted(t.started_at for t in out.trials if t.started_at)
        out.started_at = starts[0] if starts else None
    return out
