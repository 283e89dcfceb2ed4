"""Headless command implementations behind ``ccl-tui <command>`` (Rich output, ``--json`` for tools).

This package module stays standard-library only: ``ccl_tui.cli`` imports it to build its parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def lazy(module: str, func: str) -> Callable[[argparse.Namespace], int]:
    """A command handler that imports ``module`` only when the command runs (the CLI starts fast)."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run
