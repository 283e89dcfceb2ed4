"""Deterministic generator of a realistic demo corpus of Codex CLI rollout files.

Run ``python -m ccl_tui.demo.generate --out demo_sessions --sessions 500 --seed 2026``.
"""
