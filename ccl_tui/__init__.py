"""ccl-tui: Codex Closed Loop.

Reads OpenAI Codex CLI session logs, detects friction and delight, ranks issues by impact and turns them
into Harbor evaluation tasks. The core packages (sources, store, signals, issues, tasks, semantic, text)
never import Textual or Rich; the terminal UI lives in ``ccl_tui.tui``.
"""

__version__ = "0.1.0"
