"""A session's transcript, scrolled to and highlighting the evidence event; n/p jump between signals."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ccl_tui.model.events import agent_of
from ccl_tui.scope import AGENT_LABEL
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.widgets.transcript_view import TranscriptView


class TranscriptScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="transcript.back"),
        Binding(
            "t",
            "write_task",
            "Harbor task",
            tooltip="Write the Harbor task for the signal under the cursor",
            id="transcript.task",
        ),
    ]
    #: What the help lists besides the bindings (the transcript's own keys come from ``TranscriptView``).
    HELP_GESTURES = (("click", "Move to an event; click it again to expand or fold it"),)

    def __init__(self, session_id: str, focus_seq: int | None = None, *, issue_id: str | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.focus_seq = focus_seq
        self.issue_id = issue_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="transcript-meta", markup=False)
        yield TranscriptView(id="transcript")
        yield Static("", id="transcript-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"session {self.session_id[:13]}"
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        hub = self.hub
        session = await hub.session(self.session_id)
        events = await hub.events(self.session_id)
        signals = await hub.signals(self.session_id)
        if session is not None:
            times = (
                "  ·  legacy file: no per-line times, events carry the session's start"
                if session.era == "legacy"
                else ""
            )
            agent = agent_of(session.originator)
            who = f"{AGENT_LABEL[agent]} {session.origin}" if agent != "codex" else session.origin
            start = (
                f"branch {session.git_branch} (no commit recorded)" if agent != "codex" and session.git_branch else ""
            )
            meta = (
                f"{session.id}  ·  {session.repo}  ·  {who}  ·  {session.model or 'model not recorded'}"
                f"  ·  started {(session.started_at or '?')[:19].replace('T', ' ')}  ·  {session.turns} turn(s),"
                f" {len(events)} event(s), {len(signals)} signal(s) on {len({x.seq for x in signals})} marked event(s){times}\ncwd {session.cwd}  ·  {start or 'commit ' + (session.git_commit or '?')}"
            )
            self.query_one("#transcript-meta", Static).update(Text(terminal_safe(meta)))
        view = self.query_one(TranscriptView)
        view.load(events, signals, self.focus_seq)
        view.focus()

    @on(TranscriptView.CursorMoved)
    def _moved(self, event: TranscriptView.CursorMoved) -> None:
        view = event.view
        block = event.block
        n, total = view.signal_position()
        status = f"marked event {n}/{total}" if total else "no signals in this session"
        if view.show_all:
            status = "ALL RECORDS  ·  " + status
        if block is not None:
            status += f"  ·  event #{block.event.seq} ({block.event.kind}, line {block.event.line})"
            if block.event.call_id:
                status += f"  ·  call {block.event.call_id}"
            if block.signals:
                status += "  ·  " + "; ".join(f"{s.kind}: {s.detail}" for s in block.signals)
        status += "  ·  n/p signals, Enter expand, a all records"
        self.query_one("#transcript-status", Static).update(Text(terminal_safe(status)))

    def action_write_task(self) -> None:
        """The task of the signal under the cursor (friction: a fix task; delight: a keep-green task; a red ->
        green loop: a fix task), else the issue's, and the notification says which."""
        view = self.query_one(TranscriptView)
        block = view.current_block
        usable = [s for s in block.signals if s.kind != "unverifiable"] if block is not None else []
        if block is not None and usable:
            best = max(usable, key=lambda s: (s.polarity == "friction", s.severity))
            what = "keep-green task" if best.polarity == "delight" else "fix task"
            self.ccl.write_task_for_signal(
                self.session_id,
                block.event.seq,
                label=f"{what} for the {best.kind} at event #{block.event.seq}",
            )
        elif self.issue_id:
            self.ccl.write_task(self.issue_id, label=f"no signal under the cursor: the task of issue {self.issue_id}")
        else:
            self.notify("Move to a signal (n/p) to write its Harbor task.", severity="warning")
