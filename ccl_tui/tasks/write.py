"""Write a task directory safely: sanitized names, no path escapes, all-or-nothing, no silent overwrite."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from ccl_tui.tasks.model import TaskError

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def check_name(name: str) -> str:
    """A task directory name is lowercase ASCII words and dashes only (see paths.task_name)."""
    if not _NAME.fullmatch(name):
        raise TaskError(f"unsafe task name: {name!r}")
    return name


def _inside(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", ".", "") for part in p.parts) or "\\" in rel:
        raise TaskError(f"unsafe file path in a task: {rel!r}")
    return p


def write_task_dir(out_dir: Path, name: str, files: dict[str, tuple[bytes, int]], *, force: bool = False) -> Path:
    """Write ``files`` into ``out_dir/name`` via a temporary sibling directory and a rename.

    An existing task is replaced only with ``force``; a symlink in its place is never followed.
    """
    check_name(name)
    out_dir = Path(out_dir).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    if target.is_symlink():
        raise TaskError(f"{target} is a symlink; refusing to write there")
    if target.exists() and not force:
        raise TaskError(f"{target} already exists (use --force to replace it)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=out_dir))
    try:
        for rel, (data, mode) in sorted(files.items()):
            path = tmp.joinpath(*_inside(rel).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, mode)
        os.chmod(tmp, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=out_dir))
            os.replace(target, old / name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
