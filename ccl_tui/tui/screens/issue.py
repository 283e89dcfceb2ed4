"""One issue: its score breakdown, the sessions it hit and the evidence; Enter opens a transcript."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ccl_tui.model.issues import Evidence, Issue
from ccl_tui.scope import Scope, agents_text
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.widgets.score import ScoreBreakdown
from ccl_tui.tui.widgets.table import Table


class IssueScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="issue.back"),
        Binding(
            "t",
            "write_task",
            "Harbor task (evidence)",
            tooltip="Write the Harbor task for the highlighted evidence",
            id="issue.task",
        ),
    ]
    #: What the help lists besides the bindings.
    HELP_GESTURES = (("enter", "Open the transcript at the evidence event"),)

    def __init__(self, issue_id: str, scope: Scope | None = None) -> None:
        super().__init__()
        self.issue_id = issue_id
        self.scope = scope or Scope()
        self.issue: Issue | None = None
        self._rows: list[Evidence] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="issue-head"):
            yield Static("", id="issue-title", markup=False)
            yield Static("", id="issue-meta", markup=False)
        with Horizontal(id="issue-body"):
            yield ScoreBreakdown(id="issue-score")
        yield Static(
            "Sessions and evidence (Enter opens the transcript at the evidence event)", id="issue-hint", markup=False
        )
        table = Table(id="issue-sessions", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#issue-sessions", DataTable)
        for label in ("session", "started", "repo", "origin", "event", "severity", "evidence"):
            table.add_column(label)
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        hub = self.hub
        issue = await hub.issue(self.issue_id, self.scope)
        if issue is None:
            self.query_one("#issue-title", Static).update(f"issue {self.issue_id} is no longer in scope")
            return
        self.issue = issue
        self.sub_title = f"issue #{issue.rank}"
        self.query_one("#issue-title", Static).update(
            Text(f"#{issue.rank}  {terminal_safe(issue.title)}", style="bold")
        )
        meta = (
            f"{issue.id}  ·  kind {issue.kind}  ·  signature: {issue.signature}\n"
            f"{issue.occurrences} occurrence(s) in {issue.impact.sessions} session(s)  ·  repos: {', '.join(issue.repos)}"
            f"  ·  first {(issue.first_seen or '?')[:16]}  last {(issue.last_seen or '?')[:16]}"
            f"  ·  kinds {', '.join(f'{k} {v}' for k, v in issue.kinds.items())}"
        )
        if agents_text(issue.agents):  # once Claude Code sessions are in: whose sessions hit it
            meta += "\nsessions by agent: " + agents_text(issue.agents)
        if issue.cluster_id:
            cluster = next((c for c in await hub.clusters() if c.id == issue.cluster_id), None)
            if cluster is not None and len(cluster.members) > 1:
                others = [f"#{m.rank} {m.title}" for m in cluster.members if m.id != issue.id]
                label = "cluster (model-derived)" if cluster.model_derived else "cluster"
                meta += f"\n{label} {cluster.id} '{cluster.name}': same problem as {'; '.join(others)}"
        self.query_one("#issue-meta", Static).update(Text(terminal_safe(meta)))
        self.query_one(ScoreBreakdown).show_issue(issue)
        sessions = {s.id: s for s in await hub.sessions([e.session_id for e in issue.evidence])}
        table = self.query_one("#issue-sessions", DataTable)
        table.clear()
        self._rows = list(issue.evidence)
        table.add_rows(
            [
                (
                    Text(e.session_id[:13]),
                    Text(
                        ((sessions[e.session_id].started_at or "") if e.session_id in sessions else "")[:16].replace(
                            "T", " "
                        )
                    ),
                    Text(terminal_safe(sessions[e.session_id].repo or "") if e.session_id in sessions else ""),
                    Text(terminal_safe(sessions[e.session_id].origin or "") if e.session_id in sessions else ""),
                    Text(f"#{e.seq}"),
                    Text(f"{e.severity:.2f}"),
                    Text(terminal_safe(e.detail)),
                )
                for e in self._rows
            ]
        )
        table.focus()

    @property
    def selected(self) -> Evidence | None:
        table = self.query_one("#issue-sessions", DataTable)
        row = table.cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @on(DataTable.RowSelected, "#issue-sessions")
    def _open(self) -> None:
        e = self.selected
        if e is not None:
            from ccl_tui.tui.screens.transcript import TranscriptScreen

            self.app.push_screen(TranscriptScreen(e.session_id, e.seq, issue_id=self.issue_id))

    def action_write_task(self) -> None:
        """The task for the highlighted evidence (that session's failure); the issue's own without one."""
        e = self.selected
        if e is not None:
            self.ccl.write_task_for_signal(e.session_id, e.seq)
        else:
            self.ccl.write_task(self.issue_id)
