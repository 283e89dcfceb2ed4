"""The guided 7-stage demo for presenting live: ENTER/→ next, BACKSPACE/← back, 1-7 jump, q quit.

Every figure comes from the store as it loads: the Data and Signals stages count up live while the
corpus is ingested, and the Harbor Task stage writes a real task for the top issue.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Header, Static, TextArea, Tree

from ccl_tui.issues.model import Issue
from ccl_tui.results.model import REFERENCE_AGENTS
from ccl_tui.signals.model import DELIGHT_KINDS, FRICTION_KINDS
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import shorten
from ccl_tui.tui.hub import LoadState
from ccl_tui.tui.widgets.charts import BarChart, LoadStatus, StatCard, bar
from ccl_tui.tui.widgets.flow import FlowDiagram
from ccl_tui.tui.widgets.score import ScoreBreakdown

STAGES = ("Problem", "Solution", "Data", "Signals", "Issues", "Harbor Task", "Closing")


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


class StageTitle(Static):
    DEFAULT_CSS = "StageTitle { text-style: bold; color: $accent; padding: 1 2 0 2; height: auto; }"


class Lead(Static):
    DEFAULT_CSS = "Lead { padding: 0 2 1 2; color: $text-muted; height: auto; }"


class DemoScreen(Screen[None]):
    BINDINGS = [
        Binding("enter,right,space", "next", "Next", id="demo.next"),
        Binding("backspace,left", "prev", "Back", id="demo.back"),
        Binding("escape", "leave", "Triage", id="demo.leave"),
        Binding("up", "issue_cursor(-1)", show=False),
        Binding("down", "issue_cursor(1)", show=False),
        *[Binding(str(i + 1), f"jump({i})", show=False) for i in range(len(STAGES))],
    ]

    def __init__(self, auto: float | None = None) -> None:
        super().__init__()
        self.stage = 0
        self.auto = auto
        self._auto_timer: Timer | None = None
        self._flow_timer: Timer | None = None
        self._issues: list[Issue] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="demo-nav"):
            for i, name in enumerate(STAGES):
                yield Static(f" {i + 1} {name} ", id=f"nav-{i}", classes="nav-pill", markup=False)
        with ContentSwitcher(initial="stage-0", id="demo-stages"):
            with VerticalScroll(id="stage-0"):
                yield StageTitle("Coding agents fail the same way, again and again", markup=False)
                yield Lead(
                    "Every Codex session is logged to ~/.codex, step by step. The same failures repeat across "
                    "sessions and repositories: a missing dependency, a sandbox without network, a patch that "
                    "no longer applies. Nobody turns them into tests, so nothing proves a fix worked.",
                    markup=False,
                )
                with Horizontal(classes="cards"):
                    yield StatCard(id="p-share")
                    yield StatCard(id="p-turns")
                    yield StatCard(id="p-minutes")
                    yield StatCard(id="p-tokens")
                yield Static("", id="p-top", markup=False)
                yield BarChart(
                    "costliest failures by impact (sessions x severity x cost x recency)",
                    id="p-chart",
                    classes="friction",
                    label_width=62,
                    show_share=False,
                )
            with Vertical(id="stage-1"):
                yield StageTitle("The closed loop: from a session log to a measured fix", markup=False)
                yield Lead("ccl-tui reads what Codex already writes and closes the loop, end to end, offline.",
                           markup=False)  # fmt: skip
                yield FlowDiagram(id="flow")
            with VerticalScroll(id="stage-2"):
                generated = getattr(self.app.hub.source, "generated", False)  # type: ignore[attr-defined]
                yield StageTitle(
                    "Data: generated sessions in Codex's real on-disk format, read as they load"
                    if generated
                    else "Data: your Codex sessions, read as they load",
                    markup=False,
                )
                yield LoadStatus(id="d-load")
                with Horizontal(classes="cards"):
                    yield StatCard(id="d-sessions")
                    yield StatCard(id="d-events")
                    yield StatCard(id="d-repos")
                    yield StatCard(id="d-span")
                    yield StatCard(id="d-rate")
                with Horizontal(classes="charts"):
                    yield BarChart("sessions by origin", id="d-origins")
                    yield BarChart("sessions by repository", id="d-repos-chart")
            with VerticalScroll(id="stage-3"):
                yield StageTitle("Signals: friction and delight, each pointing at its evidence", markup=False)
                yield Static("", id="s-total", markup=False)
                with Horizontal(classes="charts"):
                    yield BarChart("friction", id="s-friction", classes="friction")
                    yield BarChart("delight", id="s-delight", classes="delight")
            with Vertical(id="stage-4"):
                yield StageTitle("Issues: the same failure grouped across sessions, ranked by impact", markup=False)
                table: DataTable[Text] = DataTable(id="i-table", cursor_type="row", zebra_stripes=True)
                yield table
                yield ScoreBreakdown(id="i-score")
            with Vertical(id="stage-5"):
                yield StageTitle("Harbor task: a top issue as an eval that measures", markup=False)
                yield Static("", id="t-path", markup=False)
                with Horizontal(id="t-body"):
                    yield Tree("task", id="t-tree")
                    with Vertical(id="t-files"):
                        yield TextArea("", id="t-instruction", read_only=True, show_line_numbers=False)
                        yield TextArea("", id="t-toml", read_only=True, language="toml", show_line_numbers=False)
            with VerticalScroll(id="stage-6"):
                yield StageTitle("Every session → data → eval → measured fix", markup=False)
                yield Static("", id="c-fix", markup=False)
                yield BarChart("", id="c-weeks", label_width=30, show_share=False, unit="%")
                with Horizontal(classes="cards"):
                    yield StatCard(id="c-sessions")
                    yield StatCard(id="c-signals")
                    yield StatCard(id="c-issues")
                    yield StatCard(id="c-task")
                yield Lead(
                    "pip install -e . && ccl-tui   ·   headless: ccl-tui ingest | report | task | tasks export"
                    "   ·   your own logs: ccl-tui --sessions ~/.codex",
                    markup=False,
                )
        yield Static("", id="demo-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "guided demo"
        table = self.query_one("#i-table", DataTable)
        for label in ("#", "impact", "kind", "title", "sessions"):
            table.add_column(label)
        # Nothing on a stage takes focus: ENTER must always advance the presentation.
        for widget in (table, self.query_one("#t-tree"), self.query_one("#t-instruction"), self.query_one("#t-toml")):
            widget.can_focus = False
        self.app.data_changed.subscribe(self, self.on_data_changed)  # type: ignore[attr-defined]
        self._flow_timer = self.set_interval(1.2, self._advance_flow, pause=True)
        if self.auto:
            self._auto_timer = self.set_interval(self.auto, self.action_next)
        self.show_stage(0)

    # ------------------------------------------------------------------ navigation
    NARROW = 100  # below this width the stage bar names only the current stage (the others keep their number)

    def _label_nav(self) -> None:
        narrow = self.size.width < self.NARROW
        for i, name in enumerate(STAGES):
            pill = self.query_one(f"#nav-{i}", Static)
            pill.set_class(i == self.stage, "-current")
            pill.update(f" {i + 1} {name} " if i == self.stage or not narrow else f" {i + 1} ")

    def on_resize(self) -> None:
        self._label_nav()

    def show_stage(self, index: int) -> None:
        self.stage = max(0, min(len(STAGES) - 1, index))
        self.query_one(ContentSwitcher).current = f"stage-{self.stage}"
        self._label_nav()
        self.sub_title = f"stage {self.stage + 1}/{len(STAGES)}: {STAGES[self.stage]}"
        hint = "ENTER / → next   ·   ← back   ·   1-7 jump   ·   ctrl+t theme   ·   esc triage   ·   q quit"
        if self.auto:
            hint += f"   ·   auto: {self.auto:g}s per stage"
        self.query_one("#demo-hint", Static).update(hint)
        if self._flow_timer is not None:
            (self._flow_timer.resume if self.stage == 1 else self._flow_timer.pause)()
        self.refresh_stage()

    def action_next(self) -> None:
        if self.stage < len(STAGES) - 1:
            self.show_stage(self.stage + 1)
        elif self._auto_timer is not None:
            self._auto_timer.stop()

    def action_prev(self) -> None:
        self.show_stage(self.stage - 1)

    def action_jump(self, index: int) -> None:
        self.show_stage(index)

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            from ccl_tui.tui.screens.issues import IssuesScreen

            self.app.switch_screen(IssuesScreen())

    def action_issue_cursor(self, delta: int) -> None:
        if self.stage == 4:
            table = self.query_one("#i-table", DataTable)
            table.move_cursor(row=max(0, table.cursor_row + delta), animate=False)

    def _advance_flow(self) -> None:
        self.query_one(FlowDiagram).advance()

    def on_data_changed(self, state: LoadState) -> None:
        self.query_one("#d-load", LoadStatus).update_state(state)
        if self.stage in (0, 2, 3, 4, 6):
            self.refresh_stage()

    # ------------------------------------------------------------------ data per stage
    @work(exclusive=True, group="stage")
    async def refresh_stage(self) -> None:
        hub = self.app.hub  # type: ignore[attr-defined]
        if not hub.is_open:
            return
        stage = self.stage
        if stage == 0:
            await self._fill_problem(hub)
        elif stage == 2:
            await self._fill_data(hub)
        elif stage == 3:
            await self._fill_signals(hub)
        elif stage == 4:
            await self._fill_issues(hub)
        elif stage == 5:
            await self._fill_task(hub)
        elif stage == 6:
            await self._fill_closing(hub)

    async def _fill_problem(self, hub) -> None:  # type: ignore[no-untyped-def]
        ov = await hub.overview()
        issues = await hub.issues()
        self.query_one("#p-share", StatCard).show(
            pct(ov.friction_share), f"of {ov.user_sessions} user sessions hit friction"
        )
        self.query_one("#p-turns", StatCard).show(f"{ov.turns_lost:,}", "extra prompts spent recovering")
        self.query_one("#p-minutes", StatCard).show(f"{ov.minutes_lost / 60:,.1f} h", "spent until failures cleared")
        self.query_one("#p-tokens", StatCard).show(f"{ov.tokens_lost / 1e6:,.0f}M", "tokens spent on failures")
        top = Text()
        if issues:
            i = issues[0]
            top.append("most costly failure: ", style="bold")
            top.append(terminal_safe(i.title), style="bold red")
            top.append(
                terminal_safe(f" in {i.impact.sessions} sessions across {len(i.repos)} repos: {', '.join(i.repos)}")
            )
        self.query_one("#p-top", Static).update(top)
        # One measure, sorted by it: impact (the rank), with the sessions it hit in the label.
        self.query_one("#p-chart", BarChart).set_data(
            [(f"{terminal_safe(i.title)} · {i.impact.sessions} sessions", round(i.impact.impact)) for i in issues[:6]]
        )

    async def _fill_data(self, hub) -> None:  # type: ignore[no-untyped-def]
        ov = await hub.overview()
        st = hub.state
        self.query_one("#d-sessions", StatCard).show(f"{ov.sessions:,}", "sessions")
        self.query_one("#d-events", StatCard).show(f"{ov.events:,}", "events on the trace spine")
        self.query_one("#d-repos", StatCard).show(f"{len(ov.repos)}", "repos")
        span = f"{(ov.first_session or '?')[:10]} → {(ov.last_session or '?')[:10]}"
        self.query_one("#d-span", StatCard).show(span, "date span")
        rate = st.progress.events_per_s
        self.query_one("#d-rate", StatCard).show(f"{rate:,.0f}", "events/s while loading")
        self.query_one("#d-origins", BarChart).set_data(list(ov.origins.items()))
        self.query_one("#d-repos-chart", BarChart).set_data(ov.repos)

    async def _fill_signals(self, hub) -> None:  # type: ignore[no-untyped-def]
        ov = await hub.overview()
        fr = [(k, ov.friction.get(k, 0)) for k in FRICTION_KINDS]
        de = [(k, ov.delight.get(k, 0)) for k in DELIGHT_KINDS]
        self.query_one("#s-friction", BarChart).set_data(sorted(fr, key=lambda kv: -kv[1]))
        self.query_one("#s-delight", BarChart).set_data(sorted(de, key=lambda kv: -kv[1]))
        total = sum(ov.friction.values()) + sum(ov.delight.values())
        loading = "  (still loading…)" if hub.state.loading else ""
        self.query_one("#s-total", Static).update(Text.assemble(
            (f"{total:,} signals", "bold"), f" = {sum(ov.friction.values()):,} friction + ",
            f"{sum(ov.delight.values()):,} delight in {ov.sessions:,} sessions (live from the store){loading}",
        ))  # fmt: skip

    async def _fill_issues(self, hub) -> None:  # type: ignore[no-untyped-def]
        issues = (await hub.issues())[:10]
        self._issues = issues
        table = self.query_one("#i-table", DataTable)
        row = table.cursor_row
        table.clear()
        table.add_rows([
            (Text(str(i.rank)), Text(f"{i.impact.impact:.1f}"), Text(i.kind), Text(terminal_safe(i.title)), Text(str(i.impact.sessions)))
            for i in issues
        ])  # fmt: skip
        if issues:
            table.move_cursor(row=min(max(row, 0), len(issues) - 1), animate=False)
        self._show_issue_score()

    @on(DataTable.RowHighlighted, "#i-table")
    def _show_issue_score(self) -> None:
        row = self.query_one("#i-table", DataTable).cursor_row
        issue = self._issues[row] if 0 <= row < len(self._issues) else None
        self.query_one("#i-score", ScoreBreakdown).show_issue(issue)

    async def _fill_task(self, hub) -> None:  # type: ignore[no-untyped-def]
        path_w = self.query_one("#t-path", Static)
        if hub.state.loading:
            path_w.update("waiting for the data to finish loading…")
            return
        issues = await hub.issues()
        if not issues:
            path_w.update("no issues to turn into a task yet")
            return
        path_w.update(f"writing the Harbor task for #1 {issues[0].title} …")
        try:
            chosen, result, passed = await hub.demo_task(issues)
        except Exception as exc:  # shown, never fatal: the demo goes on
            path_w.update(Text(f"could not write the task: {type(exc).__name__}: {exc}", style="red"))
            return
        task_dir = Path(result.path)
        text = Text()
        contract = getattr(result, "contract", None)
        text.append(f"#{chosen.rank} {terminal_safe(chosen.title)}: ", style="bold")
        if contract is not None:
            style = "green" if contract.cls == "proven-fix" else "yellow"
            text.append(contract.label(), style=f"bold {style}")
            text.append(f", {terminal_safe(contract.reason)}")
        for issue, why in passed[:2]:  # higher-ranked issues whose task would not measure a fix, and why
            first = terminal_safe(why).split(". ")[0].split("; it ")[0]
            text.append(f"\n  #{issue.rank} passed over: {shorten(first, max(self.size.width - 24, 30))}", style="dim")
        if len(passed) > 2:
            text.append(f"\n  (+{len(passed) - 2} more passed over)", style="dim")
        text.append("\ntask written to ", style="bold")
        text.append(str(task_dir))
        if getattr(result, "needs_repository", False):
            text.append(f"   ({result.reason})")
        path_w.update(text)
        tree = self.query_one("#t-tree", Tree)
        tree.clear()
        tree.root.set_label(Text(task_dir.name))
        folders = {(): tree.root}
        for parts, size in await hub.task_files(task_dir):
            parent = folders[parts[:-1]]
            if size is None:
                folders[parts] = parent.add(Text(parts[-1] + "/"))
            else:
                parent.add_leaf(Text(f"{parts[-1]}  ({size:,} B)"))
        tree.root.expand_all()
        self.query_one("#t-instruction", TextArea).load_text(await hub.task_text(task_dir, "instruction.md"))
        self.query_one("#t-toml", TextArea).load_text(await hub.task_text(task_dir, "task.toml"))

    def _bar_room(self, label_width: int) -> int:
        """Bar length for a line that starts with ``label_width`` columns: 30, less on a narrow terminal."""
        return max(6, min(30, self.size.width - label_width - 8))

    def _before_after(self, text: Text, split: str, before: float, n_before: int, after: float, n_after: int) -> None:
        b = f"before {split}: {pct(before):>4} of {n_before} sessions at risk"
        a = f"from   {split}: {pct(after):>4} of {n_after} sessions at risk"
        width = max(len(b), len(a)) + 2
        room = self._bar_room(width)
        text.append(f"\n  {b:<{width}}")
        text.append(bar(before, max(before, 1e-9), room), style="red")
        text.append(f"\n  {a:<{width}}")
        text.append(bar(after, max(before, 1e-9), room) or "▏", style="green")

    async def _fill_closing(self, hub) -> None:  # type: ignore[no-untyped-def]
        ov = await hub.overview()
        issues = await hub.issues()
        improvements = await hub.improvements()
        report = await hub.results()
        text = Text()
        weeks = self.query_one("#c-weeks", BarChart)
        tracked = {e.issue_id: e for e in report.issues}
        # the issue to show: a measured fix (marked, or found as a change point), else the best Harbor result
        marked = [e for e in report.issues if e.recurrence is not None]
        focus_id = (marked[0].issue_id if marked else improvements[0].issue_id if improvements
                    else report.issues[0].issue_id if report.issues else None)  # fmt: skip
        entry = tracked.get(focus_id or "")
        imp = next((i for i in improvements if i.issue_id == focus_id), None)
        split = None
        if entry is not None and entry.recurrence is not None:
            rec = entry.recurrence
            split = rec.fixed_on
            text.append("Measured fix: ", style="bold")
            text.append(terminal_safe(entry.title), style="bold")
            self._before_after(text, split, rec.before.rate, rec.before.n, rec.after.rate, rec.after.n)
            c = rec.change
            text.append(f"\n  {rec.verdict}: {100 * c.difference:+.0f} points (95% CI {100 * c.low:+.0f} to"
                        f" {100 * c.high:+.0f}, same origin mix), fix marked for {split}.")  # fmt: skip
        elif imp is not None:
            split = imp.split
            text.append("Measured fix: ", style="bold")
            text.append(terminal_safe(imp.title), style="bold")
            self._before_after(text, split, imp.before_rate, imp.before_sessions, imp.after_rate, imp.after_sessions)
            text.append(
                f"\n  a {pct(imp.drop)} drop (z = {imp.z:.1f}), found from the data alone: no fix date was given."
            )
        measured = [r for r in entry.runs if (r.agent or "") not in REFERENCE_AGENTS] if entry is not None else []
        if entry is not None and measured:
            if split is None:
                text.append(terminal_safe(entry.title), style="bold")
            text.append("\n\nHarbor runs of its task:", style="bold")
            labels = [f"{r.describe()}: {pct(r.passed.rate):>4} ({r.passed.hits}/{r.passed.n})" for r in measured]
            width = max(len(x) for x in labels) + 2
            for r, label in zip(measured, labels, strict=True):
                text.append(f"\n  {terminal_safe(label):<{width}}")
                text.append(bar(r.passed.rate, 1.0, self._bar_room(width)) or "▏", style="green")  # full scale: 100%
            if entry.run_change is not None:
                c = entry.run_change
                verdict = "significant" if c.significant else "not significant"
                text.append(f"\n  pass rate {100 * c.difference:+.0f} points (95% CI {100 * c.low:+.0f} to"
                            f" {100 * c.high:+.0f}, {verdict})")  # fmt: skip
        # tasks shown to measure: a real run of the reference agents where oracle passes every trial, nop none
        proven = []
        for e in report.issues:
            ref = {r.agent: r for r in e.runs if r.agent in REFERENCE_AGENTS and r.provenance != "simulated"}
            if "oracle" in ref and "nop" in ref and ref["oracle"].passed.n and ref["nop"].passed.n:
                o, n = ref["oracle"].passed, ref["nop"].passed
                if o.hits == o.n and n.hits == 0:
                    local = " (local, unisolated)" if ref["oracle"].provenance == "local" else ""
                    proven.append(
                        f"#{e.rank} {terminal_safe(e.title)}: oracle {o.hits}/{o.n}, nop {n.hits}/{n.n}{local}"
                    )
        if proven:
            text.append("\n\nTasks shown to measure (real harbor runs; oracle = the solution, nop = nothing):",
                        style="bold")  # fmt: skip
            for line in proven[:3]:
                text.append(f"\n  {line}")
        if focus_id is not None and split is not None:
            rates = await hub.weekly(focus_id)
            weeks.title = f"share of sessions hit, week by week (fix at {split})"
            weeks.reset_scale()
            weeks.set_data([
                (f"week of {w.week}{'  ← fix' if w.contains(split) else ''}",
                 round(100 * w.rate))
                for w in rates
            ])  # fmt: skip
        else:
            weeks.set_data([])
        if not text:
            text.append("No significant before/after change in the data yet.", style="dim")
        self.query_one("#c-fix", Static).update(text)
        self.query_one("#c-sessions", StatCard).show(f"{ov.sessions:,}", "sessions read")
        self.query_one("#c-signals", StatCard).show(f"{ov.signals:,}", "signals with evidence")
        self.query_one("#c-issues", StatCard).show(f"{len(issues):,}", "issues ranked by impact")
        self.query_one("#c-task", StatCard).show(f"{hub.tasks_written():,}", "Harbor tasks written")
