"""Headless command implementations behind ``ccl-tui <command>`` (Rich output, ``--json`` for tools)."""
