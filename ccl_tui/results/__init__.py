"""Closing the loop: Harbor run results per issue, and the issue's recurrence in real sessions around a fix.

``harbor_job`` reads ``harbor run`` job folders; ``matching`` ties each trial to the issue its task came from;
``stats`` has the intervals; ``recurrence`` measures an issue's rate before and after its fix; ``improvement``
puts both together; ``api`` is what the CLI and the TUI call.
"""
