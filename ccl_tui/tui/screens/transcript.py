"""A session's transcript, scrolled to and highlighting the evidence event; n/p jump between signals."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ccl_tui.text.ansi import terminal_safe
from ccl_tui.tui.widgets.transcript_view import TranscriptView


class TranscriptScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="transcript.back"),
        Binding("t", "write_task", "Harbor task", id="transcript.task"),
    ]

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
        hub = self.app.hub  # type: ignore[attr-defined]
        session = await hub.session(self.session_id)
        events = await hub.events(self.session_id)
        signals = await hub.signals(self.session_id)
        if session is not None:
            times = "  ·  legacy file: no per-line times, events carry the session's start" if session.era == "legacy" else ""
            meta = (
                f"{session.id}  ·  {session.repo}  ·  {session.origin}  ·  {session.model or 'model not recorded'}"
                f"  ·  started {(session.started_at or '?')[:19].replace('T', ' ')}  ·  {session.turns} turn(s),"
                f" {len(events)} event(s), {len(signals)} signal(s){times}\ncwd {session.cwd}  ·  commit {session.git_commit or '?'}"
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
        status = f"signal {n}/{total}" if total else "no signals in this session"
        if block is not None:
            status += f"  ·  event #{block.event.seq} ({block.event.kind}, line {block.event.line})"
            if block.event.call_id:
                status += f"  ·  call {block.event.call_id}"
            if block.signals:
                status += "  ·  " + "; ".join(f"{s.kind}: {s.detail}" for s in block.signals)
        status += "  ·  n/p signals, Enter expand, a all records"
        self.query_one("#transcript-status", Static).update(Text(terminal_safe(status)))

    def action_write_task(self) -> None:
        view = self.query_one(TranscriptView)
        block = view.current_block
        if block is not None and any(s.polarity == "friction" for s in block.signals):
            self.app.write_task_for_signal(self.session_id, block.event.seq)  # type: ignore[attr-defined]
        elif self.issue_id:
            self.app.write_task(self.issue_id)  # type: ignore[attr-defined]
        else:
            self.notify("Move to a friction signal (n/p) to write its Harbor task.", severity="warning")
