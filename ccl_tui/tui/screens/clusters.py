"""Issues that mean the same, grouped by the semantic layer and ranked by cluster impact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ccl_tui.text.ansi import terminal_safe
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.widgets.table import Table

if TYPE_CHECKING:
    from ccl_tui.semantic.cluster import Cluster


class ClustersScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="clusters.back"),
        Binding("a", "analyze", "Re-cluster", tooltip="(Re)cluster with the semantic layer", id="clusters.analyze"),
    ]
    #: What the help lists besides the bindings.
    HELP_GESTURES = (("enter", "Open the top member issue"),)

    def __init__(self) -> None:
        super().__init__()
        self._clusters: list[Cluster] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="clusters-note", markup=False)
        table = Table(id="clusters-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="clusters-members", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "clusters: failures that mean the same"
        table = self.query_one("#clusters-table", DataTable)
        for label in ("#", "impact", "cluster", "issues", "sessions", "named by"):
            table.add_column(label)
        self.load()

    @work(exclusive=True, group="clusters")
    async def load(self) -> None:
        clusters = await self.hub.clusters()
        analyzed = any(c.embedder for c in clusters)
        self._clusters = clusters
        note = (
            f"{len(clusters)} cluster(s) over {sum(len(c.members) for c in clusters)} issue(s); "
            "a cluster's impact counts each affected session once."
            if analyzed
            else "Not clustered yet: press a to group look-alike issues (offline embedder unless OPENAI_API_KEY is set)."
        )
        self.query_one("#clusters-note", Static).update(note)
        table = self.query_one("#clusters-table", DataTable)
        table.clear()
        table.add_rows(
            [
                (
                    Text(str(c.rank)),
                    Text(f"{c.impact.impact:.1f}"),
                    Text(terminal_safe(c.name)),
                    Text(str(len(c.members))),
                    Text(str(c.impact.sessions)),
                    Text("model" if c.model_derived else "rules"),
                )
                for c in clusters
            ]
        )
        self._show_members()
        table.focus()

    @on(DataTable.RowHighlighted, "#clusters-table")
    def _show_members(self) -> None:
        row = self.query_one("#clusters-table", DataTable).cursor_row
        if not 0 <= row < len(self._clusters):
            return
        c = self._clusters[row]
        text = Text()
        if c.summary:
            text.append(
                terminal_safe(c.summary) + (" (model-derived)" if c.model_derived else "") + "\n", style="italic"
            )
        text.append("members: ", style="bold")
        text.append("; ".join(f"#{i.rank} {terminal_safe(i.title)} ({i.impact.sessions} sessions)" for i in c.members))
        self.query_one("#clusters-members", Static).update(text)

    @on(DataTable.RowSelected, "#clusters-table")
    def _open(self) -> None:
        row = self.query_one("#clusters-table", DataTable).cursor_row
        if 0 <= row < len(self._clusters):
            from ccl_tui.tui.screens.issue import IssueScreen

            self.app.push_screen(IssueScreen(self._clusters[row].members[0].id))

    def action_analyze(self) -> None:
        self.ccl.run_analyze(then=self.load)
