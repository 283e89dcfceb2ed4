"""Harbor task materialization: an issue's friction as a reproducible eval task.

Entry points (re-exported lazily from :mod:`ccl_tui.tasks.api`): ``write_task_for_issue`` and
``write_task_for_signal``; ``ccl_tui.tasks.export.export_tasks``; ``ccl_tui.tasks.check.check_path``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TaskError", "TaskResult", "write_task_for_issue", "write_task_for_signal"]


def __getattr__(name: str) -> Any:
    if name in ("write_task_for_issue", "write_task_for_signal"):
        from ccl_tui.tasks import api

        return getattr(api, name)
    if name in ("TaskError", "TaskResult"):
        from ccl_tui.tasks import model

        return getattr(model, name)
    raise AttributeError(name)
