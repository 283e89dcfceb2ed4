"""Lay rollout files out the way Codex does under ``$CODEX_HOME`` and serialise them byte-for-byte stably."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import zstandard

from ccl_tui.demo import clock
from ccl_tui.demo.harbor_runs import remove_simulated
from ccl_tui.demo.plan import SessionPlan

GENERATED = ("sessions", "archived_sessions", "harbor-jobs", "repos", "CORPUS.md")
#: Folders of which only the generated part is replaced (harbor-jobs/ also holds real runs, real-<agent>).
PARTLY_GENERATED = ("harbor-jobs",)


def relative_path(plan: SessionPlan) -> Path:
    name = f"rollout-{clock.file_stamp(plan.start_ms)}-{plan.session_id}.jsonl"
    if plan.archived:
        return Path("archived_sessions") / name
    day = clock.local(plan.start_ms)
    path = Path("sessions") / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / name
    return path.with_name(name + ".zst") if plan.zst else path


def encode(records: list[dict[str, Any]]) -> bytes:
    """Compact JSON lines (``{"a":1}``), UTF-8, each terminated by ``\\n`` — like Codex writes them."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def write_session(out: Path, plan: SessionPlan, data: bytes) -> Path:
    path = out / relative_path(plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zstandard.ZstdCompressor(level=10).compress(data) if plan.zst else data)
    return path


def prepare(out: Path, force: bool) -> None:
    """Refuse to mix with an earlier corpus unless ``force``; then remove only what this tool generates."""
    existing = [out / name for name in GENERATED if (out / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds a generated corpus; use --force to overwrite it")
    for path in existing:
        if path.name in PARTLY_GENERATED:
            remove_simulated(out)
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
