"""Triage home: every issue ranked by impact, filterable, searchable, sortable; Enter drills down."""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from ccl_tui.model.issues import Issue
from ccl_tui.model.signals import FRICTION_KINDS
from ccl_tui.scope import AGENT_LABEL, AGENTS, ALL_ORIGINS, Scope, scope_from
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import shorten
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.hub import LoadState
from ccl_tui.tui.widgets.charts import LoadStatus
from ccl_tui.tui.widgets.score import ScoreBreakdown
from ccl_tui.tui.widgets.table import Table

SORTS = {
    "impact": (lambda i: -i.impact.impact, "impact"),
    "sessions": (lambda i: -i.impact.sessions, "sessions"),
    "last seen": (lambda i: tuple(-ord(c) for c in (i.last_seen or "")), "last seen"),
    "kind": (lambda i: (i.kind, -i.impact.impact), "kind"),
    "title": (lambda i: i.title.lower(), "title"),
}
PAGE = 200
SCOPES = [("user sessions", "user"), ("all origins", "all")] + [(o, o) for o in ALL_ORIGINS]


def scope_for(origin: str, kind: str | None, repo: str | None, agent: str | None = None) -> Scope:
    return scope_from(None if origin == "user" else origin, kind=kind, repo=repo, agent=agent)


class IssuesScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("slash", "search", "Search", tooltip="Search title, signature, id", id="issues.search"),
        Binding("escape", "clear_search", "Clear", tooltip="Clear the search", show=False),
        Binding(
            "s", "cycle_sort", "Sort", tooltip="Sort by impact, sessions, last seen, kind or title", id="issues.sort"
        ),
        Binding("t", "write_task", "Harbor task", tooltip="Write the Harbor task for the issue", id="issues.task"),
        Binding("r", "reload", "Reload", tooltip="Re-read the ranked issues", show=False),
        Binding("c", "app.clusters", "Clusters", tooltip="Clusters of look-alike issues", id="issues.clusters"),
        Binding(
            "i", "app.improvement", "Improvement", tooltip="Improvement: did the fixes work?", id="issues.improvement"
        ),
        Binding("d", "app.demo", "Demo", tooltip="The guided demo", id="issues.demo"),
    ]
    #: What the help lists besides the bindings: keys and clicks the table handles.
    HELP_GESTURES = (
        ("↑ ↓ / mouse", "Move between issues"),
        ("enter", "Open the issue"),
        ("click a header", "Sort by that column"),
    )

    #: The column the list is sorted by (a key of ``SORTS``).
    sort_key: var[str] = var("impact", init=False)
    #: The search: issues whose title, signature or id contain it (any case).
    query_text: var[str] = var("", init=False)

    def __init__(self) -> None:
        super().__init__()
        self._issues: list[Issue] = []
        self._shown: list[Issue] = []
        self._last_refresh = -1
        self._repos: list[str] = []
        self._loaded = 0  # rows added to the table so far (a prefix of _shown)
        self._user_moved = False
        self._title_w: int | None = None  # the title column's width (None: fit its content)
        self._show_kind = True
        self._was_loading = True

    def compose(self) -> ComposeResult:
        yield Header()
        note = self.hub.source.note
        yield Static(note or "", id="source-note", markup=False, classes="" if note else "hidden")
        yield LoadStatus(id="load-status")
        with Horizontal(id="filters"):
            yield Select([(k, k) for k in FRICTION_KINDS], prompt="all kinds", id="filter-kind", allow_blank=True)
            yield Select(SCOPES, value="user", id="filter-origin", allow_blank=False)
            yield Select([], prompt="all repos", id="filter-repo", allow_blank=True)
            # shown once the store holds sessions of more than Codex
            agents = [(AGENT_LABEL[a], a) for a in AGENTS]
            yield Select(agents, prompt="all agents", id="filter-agent", allow_blank=True, classes="hidden")
            yield Input(placeholder="search title, signature, id…", id="search", classes="hidden")
        table = Table(id="issues-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="issues-empty", markup=False, classes="hidden")
        yield ScoreBreakdown(id="issues-score")
        yield Static("", id="issues-summary", markup=False)
        yield Footer()

    SHORT = 32  # below this height the score panel gives its rows to the table (Enter shows it on the issue)

    #: Width of every column but the title and the kind, with cell padding and the scrollbar.
    OTHER_COLUMNS = 4 + 6 + 8 + 10 + 2 * 5 + 5
    KIND_COLUMN = 18 + 2
    NARROW = 100  # below this width the kind column goes (the kind filter and the titles still say it)

    def _layout(self, width: int) -> tuple[bool, int | None]:
        """(show the kind column, the title column's width): the title fits its content on wide terminals and
        takes what is left on narrow ones, so the sessions and last-seen columns stay on screen."""
        kind = width >= self.NARROW
        if width >= 130:
            return kind, None
        return kind, max(16, width - self.OTHER_COLUMNS - (self.KIND_COLUMN if kind else 0))

    def _add_columns(self, table: DataTable[Text], width: int) -> None:
        self._show_kind, self._title_w = self._layout(width)
        table.add_column("#", key="rank")
        table.add_column("impact", key="impact")
        if self._show_kind:
            table.add_column("kind", key="kind")
        table.add_column("title", key="title", width=self._title_w)
        table.add_column("sessions", key="sessions")
        table.add_column("last seen", key="last seen")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < self.SHORT, "-short")
        if self._layout(event.size.width) != (self._show_kind, self._title_w):
            table = self.query_one("#issues-table", DataTable)
            table.clear(columns=True)
            self._add_columns(table, event.size.width)
            if self._issues:
                self.refill()

    def on_mount(self) -> None:
        self.sub_title = "issues ranked by impact"
        table = self.query_one("#issues-table", DataTable)
        self._add_columns(table, self.app.size.width)
        self.ccl.data_changed.subscribe(self, self.on_data_changed)
        self.on_data_changed(self.hub.state)
        table.focus()

    # ------------------------------------------------------------------ data
    def on_data_changed(self, state: LoadState) -> None:
        self.query_one(LoadStatus).update_state(state)
        if state.refreshes != self._last_refresh and self.hub.is_open:
            self._last_refresh = state.refreshes
            self.load_issues()
        elif state.loading != self._was_loading and self.hub.is_open:
            # The load ended after the last ranking pass: the list is current, its summary line and empty-state
            # note must say the load is over. (A database that could not be opened has nothing to summarize.)
            self._update_summary()
            self.run_worker(self._explain_empty(), group="issues-empty", exclusive=True)
        self._was_loading = state.loading

    @property
    def scope(self) -> Scope:
        kind = self.query_one("#filter-kind", Select).value
        origin = self.query_one("#filter-origin", Select).value
        repo = self.query_one("#filter-repo", Select).value
        agent = self.query_one("#filter-agent", Select).value
        return scope_for(
            origin if isinstance(origin, str) else "user",
            kind if isinstance(kind, str) else None,
            repo if isinstance(repo, str) else None,
            agent if isinstance(agent, str) else None,
        )

    @work(exclusive=True, group="issues")
    async def load_issues(self) -> None:
        hub = self.hub
        if not hub.is_open:
            return
        issues = await hub.issues(self.scope)
        repos, agents = await hub.repos_and_agents()
        self.query_one("#filter-agent", Select).set_class(set(agents) <= {"codex"}, "hidden")
        repo_select = self.query_one("#filter-repo", Select)
        current = repo_select.value
        if repos != self._repos:
            self._repos = repos
            with repo_select.prevent(Select.Changed):
                repo_select.set_options([(r, r) for r in repos])
                if isinstance(current, str) and current in repos:
                    repo_select.value = current
        self._issues = issues
        self.refill()
        await self._explain_empty()

    async def _explain_empty(self) -> None:
        """An empty list says why, once loading is over: no sessions were found where the app looked, or the
        sessions read have no friction in the chosen scope."""
        empty = self.query_one("#issues-empty", Static)
        if self._issues or self.hub.state.loading:
            empty.set_class(True, "hidden")
            self.set_class(False, "-empty")
            return
        sessions = (await self.hub.overview()).sessions
        where = ", ".join(str(p) for p in self.hub.source.paths) or "the default Codex and Claude Code homes"
        if sessions == 0:
            text = (
                f"No Codex or Claude Code sessions found in {where}.\n\n"
                "Point ccl-tui at them with --sessions DIR (or set CODEX_HOME / CLAUDE_CONFIG_DIR), or try it on"
                " generated sessions: ccl-tui demo"
            )
        else:
            text = (
                f"No friction in {self.scope.describe()}: {sessions:,} session(s) read, none with a failure in this"
                " scope. Choose another origin, kind or repository above."
            )
        empty.update(text)
        empty.set_class(False, "hidden")
        self.set_class(True, "-empty")

    def refill(self) -> None:
        table = self.query_one("#issues-table", DataTable)
        # Keep the issue the user picked under the cursor across re-ranks; until they pick one, stay on top.
        selected = self.highlighted.id if self.highlighted and self._user_moved else None
        q = self.query_text.lower()
        shown = [
            i for i in self._issues if not q or q in i.title.lower() or q in i.signature.lower() or q in i.id.lower()
        ]
        key, _ = SORTS[self.sort_key]
        shown.sort(key=key)
        self._shown = shown
        self._loaded = 0
        table.clear()
        target = next((n for n, i in enumerate(shown) if i.id == selected), 0) if selected is not None else 0
        self._load_rows(max(PAGE, target + 1))
        table.move_cursor(row=target, animate=False)
        self.show_score()
        self._update_summary()

    def _update_summary(self) -> None:
        state = self.hub.state
        q = self.query_text
        shown_of = f"{len(self._shown):,} of {len(self._issues):,}" if q else f"{len(self._shown):,}"
        self.query_one("#issues-summary", Static).update(
            f"{shown_of} issue(s) · scope {self.scope.describe()} · sorted by {self.sort_key}"
            + (f"   ·   loading… {state.progress.sessions:,} sessions so far" if state.loading else "")
        )

    def _load_rows(self, upto: int) -> None:
        """Rows are added in pages as the cursor nears the end: 10k issues never block a repaint."""
        rows = self._shown[self._loaded : upto]
        if not rows:
            return
        title_w, kind = self._title_w, self._show_kind
        self.query_one("#issues-table", DataTable).add_rows(
            [
                (
                    Text(str(i.rank), justify="right"),
                    Text(f"{i.impact.impact:.1f}", justify="right"),
                    *((Text(i.kind),) if kind else ()),
                    Text(shorten(terminal_safe(i.title), title_w) if title_w else terminal_safe(i.title)),
                    Text(str(i.impact.sessions), justify="right"),
                    Text((i.last_seen or "")[:10]),
                )
                for i in rows
            ]
        )
        self._loaded += len(rows)

    @property
    def highlighted(self) -> Issue | None:
        table = self.query_one("#issues-table", DataTable)
        row = table.cursor_row
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def show_score(self) -> None:
        self.query_one(ScoreBreakdown).show_issue(self.highlighted)

    def watch_sort_key(self) -> None:
        self.refill()

    def watch_query_text(self) -> None:
        self.refill()

    # ------------------------------------------------------------------ events
    def on_key(self, event: events.Key) -> None:
        if event.key in ("up", "down", "pageup", "pagedown", "home", "end"):
            self._user_moved = True

    def on_click(self) -> None:
        self._user_moved = True

    @on(DataTable.RowHighlighted, "#issues-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self._loaded - PAGE // 4 and self._loaded < len(self._shown):
            self._load_rows(self._loaded + PAGE)
        self.show_score()

    @on(DataTable.RowSelected, "#issues-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        issue = self.highlighted
        if issue is not None:
            from ccl_tui.tui.screens.issue import IssueScreen

            self.app.push_screen(IssueScreen(issue.id, self.scope))

    @on(DataTable.HeaderSelected, "#issues-table")
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == "rank":
            key = "impact"
        if key in SORTS:
            self.sort_key = key
            self.notify(f"sorted by {key}", timeout=1.5)

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.load_issues()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#issues-table", DataTable).focus()

    # ------------------------------------------------------------------ actions
    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("hidden")
        box.focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#search", Input)
        if box.value or not box.has_class("hidden"):
            box.value = ""
            box.add_class("hidden")
            self.query_one("#issues-table", DataTable).focus()

    def action_cycle_sort(self) -> None:
        keys = list(SORTS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        self.notify(f"sorted by {self.sort_key}", timeout=1.5)

    def action_reload(self) -> None:
        self.hub.clear_issue_cache()
        self.load_issues()

    def action_write_task(self) -> None:
        issue = self.highlighted
        if issue is not None:
            self.ccl.write_task(issue.id)
