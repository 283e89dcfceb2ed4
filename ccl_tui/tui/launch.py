"""Decide what the app reads: the user's Codex sessions, explicit paths, or the bundled demo corpus."""

from __future__ import annotations

from pathlib import Path

from ccl_tui.locations import (
    bundled_demo_sessions,
    claude_home,
    codex_home,
    data_dir,
    default_db,
    default_homes,
    demo_db,
)
from ccl_tui.sources.discover import has_rollouts
from ccl_tui.tui.hub import Source


def demo_corpus() -> Path:
    """The bundled demo corpus; regenerated (deterministically) into the data dir when not shipped."""
    bundled = bundled_demo_sessions()
    if bundled.is_dir():
        return bundled
    target = data_dir() / "demo_sessions"
    if not target.is_dir():
        from ccl_tui.demo.generate import generate

        generate(target)
    return target


def demo_jobs(corpus: Path) -> tuple[Path, ...]:
    """The Harbor job folders that come with the demo corpus (runs of its issues' tasks)."""
    jobs = corpus / "harbor-jobs"
    return (jobs,) if jobs.is_dir() else ()


def choose_source(sessions: list[str] | None, db: str | None, *, demo: bool = False) -> Source:
    """``--sessions`` wins (also for the guided demo, to present on one's own logs); else the demo corpus for
    the demo; else ``$CODEX_HOME`` and Claude Code's home, those that hold sessions; else the demo corpus,
    with a note."""
    if sessions:
        return Source(tuple(Path(p).expanduser() for p in sessions), Path(db) if db else default_db())
    if demo:
        corpus = demo_corpus()
        return Source(
            (corpus,),
            Path(db) if db else demo_db(),
            note=None,
            fresh_db=db is None,
            jobs=demo_jobs(corpus),
            generated=True,
        )
    homes = tuple(h for h in default_homes() if has_rollouts(h))
    if homes:
        return Source(homes, Path(db) if db else default_db())
    home = codex_home()
    corpus = demo_corpus()
    return Source(
        (corpus,),
        Path(db) if db else demo_db(),
        jobs=demo_jobs(corpus),
        generated=True,
        note=f"No Codex or Claude Code sessions found in {home} or {claude_home()}: showing the bundled demo corpus"
        " (505 generated sessions of fictional projects, in Codex's format). Point ccl-tui at your own logs with"
        " --sessions PATH, CODEX_HOME or CLAUDE_CONFIG_DIR.",
    )
