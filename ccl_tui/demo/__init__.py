"""Deterministic generator of a realistic demo corpus of Codex CLI rollout files.

Run ``python -m ccl_tui.demo.generate --out demo_sessions --sessions 500 --seed 2026``: 500 planned sessions, the
runnable episode's sessions (episode.py: a real failing check and its real fix), the git bundles of the corpus's
repositories (gitrepos.py: every recorded commit is real), simulated Harbor job folders and ``CORPUS.md``.
"""
