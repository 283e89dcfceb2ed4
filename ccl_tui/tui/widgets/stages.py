"""The seven stages of the guided demo, one widget each: Problem, Solution, Data, Signals, Issues, Harbor Task,
Closing. ``DemoScreen`` holds them in order (``DEMO_STAGES``) and shows one at a time.

Every stage says what it is (``TITLE``: its heading; ``SHORT_TITLE``: its name in the stage bar), whether it
follows the data while it loads (``LIVE``), and fills itself from the hub in :meth:`Stage.refresh_data`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static, TextArea, Tree
from textual.widgets.tree import TreeNode

from ccl_tui.model.issues import Issue
from ccl_tui.model.results import REFERENCE_AGENTS
from ccl_tui.model.signals import DELIGHT_KINDS, FRICTION_KINDS
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import shorten
from ccl_tui.text.numbers import pct
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.widgets.charts import BarChart, LoadStatus, StatCard, bar
from ccl_tui.tui.widgets.flow import FlowDiagram
from ccl_tui.tui.widgets.score import ScoreBreakdown
from ccl_tui.tui.widgets.table import Table

if TYPE_CHECKING:
    from ccl_tui.tui.hub import Hub, LoadState


class StageTitle(Static):
    DEFAULT_CSS = "StageTitle { text-style: bold; color: $accent; padding: 1 2 0 2; height: auto; }"


class Lead(Static):
    DEFAULT_CSS = "Lead { padding: 0 2 1 2; color: $text-muted; height: auto; }"


class Stage(CclAccess, Widget):
    """One stage of the guided demo.

    A stage is also the Textual container that lays it out. Subclasses name that container first,
    ``class DataStage(VerticalScroll, Stage)``: Textual takes a widget's default styles from its first base.
    """

    #: The heading shown on the stage.
    TITLE: ClassVar[str]
    #: The stage's name in the stage bar and the screen's sub-title.
    SHORT_TITLE: ClassVar[str]
    #: Refilled on every change of the load state while it is shown (its figures count up as the data loads).
    LIVE: ClassVar[bool] = False

    async def refresh_data(self, hub: Hub) -> None:
        """Fill the stage from the hub: when it is shown, and on live data when ``LIVE``."""

    def show_load(self, state: LoadState) -> None:
        """Every change of the load state, whether the stage is shown or not."""

    def move_cursor(self, delta: int) -> None:
        """↑ / ↓ while the stage is shown (nothing on a stage takes focus: ENTER must advance the demo)."""


class ProblemStage(VerticalScroll, Stage):
    TITLE = "Coding agents fail the same way, again and again"
    SHORT_TITLE = "Problem"
    LIVE = True

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
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

    async def refresh_data(self, hub: Hub) -> None:
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


class SolutionStage(Vertical, Stage):
    TITLE = "The closed loop: from a session log to a measured fix"
    SHORT_TITLE = "Solution"

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
        yield Lead("ccl-tui reads what Codex already writes and closes the loop, end to end, offline.", markup=False)
        yield FlowDiagram(id="flow")


class DataStage(VerticalScroll, Stage):
    TITLE = "Data: your Codex sessions, read as they load"
    #: The heading on the bundled demo corpus.
    GENERATED_TITLE = "Data: generated sessions in Codex's real on-disk format, read as they load"
    SHORT_TITLE = "Data"
    LIVE = True

    def compose(self) -> ComposeResult:
        yield StageTitle(self.GENERATED_TITLE if self.hub.source.generated else self.TITLE, markup=False)
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

    def show_load(self, state: LoadState) -> None:
        self.query_one("#d-load", LoadStatus).update_state(state)

    async def refresh_data(self, hub: Hub) -> None:
        ov = await hub.overview()
        self.query_one("#d-sessions", StatCard).show(f"{ov.sessions:,}", "sessions")
        self.query_one("#d-events", StatCard).show(f"{ov.events:,}", "events on the trace spine")
        self.query_one("#d-repos", StatCard).show(f"{len(ov.repos)}", "repos")
        span = f"{(ov.first_session or '?')[:10]} → {(ov.last_session or '?')[:10]}"
        self.query_one("#d-span", StatCard).show(span, "date span")
        rate = hub.state.progress.events_per_s
        self.query_one("#d-rate", StatCard).show(f"{rate:,.0f}", "events/s while loading")
        self.query_one("#d-origins", BarChart).set_data(list(ov.origins.items()))
        self.query_one("#d-repos-chart", BarChart).set_data(ov.repos)


class SignalsStage(VerticalScroll, Stage):
    TITLE = "Signals: friction and delight, each pointing at its evidence"
    SHORT_TITLE = "Signals"
    LIVE = True

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
        yield Static("", id="s-total", markup=False)
        with Horizontal(classes="charts"):
            yield BarChart("friction", id="s-friction", classes="friction")
            yield BarChart("delight", id="s-delight", classes="delight")

    async def refresh_data(self, hub: Hub) -> None:
        ov = await hub.overview()
        fr = [(k, ov.friction.get(k, 0)) for k in FRICTION_KINDS]
        de = [(k, ov.delight.get(k, 0)) for k in DELIGHT_KINDS]
        self.query_one("#s-friction", BarChart).set_data(sorted(fr, key=lambda kv: -kv[1]))
        self.query_one("#s-delight", BarChart).set_data(sorted(de, key=lambda kv: -kv[1]))
        total = sum(ov.friction.values()) + sum(ov.delight.values())
        loading = "  (still loading…)" if hub.state.loading else ""
        self.query_one("#s-total", Static).update(
            Text.assemble(
                (f"{total:,} signals", "bold"),
                f" = {sum(ov.friction.values()):,} friction + ",
                f"{sum(ov.delight.values()):,} delight in {ov.sessions:,} sessions (live from the store){loading}",
            )
        )


class IssuesStage(Vertical, Stage):
    TITLE = "Issues: the same failure grouped across sessions, ranked by impact"
    SHORT_TITLE = "Issues"
    LIVE = True
    #: The issues in the table.
    TOP = 10

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._issues: list[Issue] = []

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
        table = Table(id="i-table", cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        yield table
        yield ScoreBreakdown(id="i-score")

    def on_mount(self) -> None:
        table = self.query_one("#i-table", DataTable)
        for label in ("#", "impact", "kind", "title", "sessions"):
            table.add_column(label)

    async def refresh_data(self, hub: Hub) -> None:
        issues = (await hub.issues())[: self.TOP]
        self._issues = issues
        table = self.query_one("#i-table", DataTable)
        row = table.cursor_row
        table.clear()
        table.add_rows(
            [
                (
                    Text(str(i.rank)),
                    Text(f"{i.impact.impact:.1f}"),
                    Text(i.kind),
                    Text(terminal_safe(i.title)),
                    Text(str(i.impact.sessions)),
                )
                for i in issues
            ]
        )
        if issues:
            table.move_cursor(row=min(max(row, 0), len(issues) - 1), animate=False)
        self._show_issue_score()

    def move_cursor(self, delta: int) -> None:
        table = self.query_one("#i-table", DataTable)
        table.move_cursor(row=max(0, table.cursor_row + delta), animate=False)

    @on(DataTable.RowHighlighted, "#i-table")
    def _show_issue_score(self) -> None:
        row = self.query_one("#i-table", DataTable).cursor_row
        issue = self._issues[row] if 0 <= row < len(self._issues) else None
        self.query_one("#i-score", ScoreBreakdown).show_issue(issue)


class HarborTaskStage(Vertical, Stage):
    TITLE = "Harbor task: a top issue as an eval that measures"
    SHORT_TITLE = "Harbor Task"

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
        yield Static("", id="t-path", markup=False)
        with Horizontal(id="t-body"):
            yield Tree("task", id="t-tree")
            with Vertical(id="t-files"):
                yield TextArea("", id="t-instruction", read_only=True, show_line_numbers=False)
                yield TextArea("", id="t-toml", read_only=True, language="toml", show_line_numbers=False)

    def on_mount(self) -> None:
        for widget in self.query("#t-tree, #t-instruction, #t-toml"):
            widget.can_focus = False

    async def refresh_data(self, hub: Hub) -> None:
        """Write the task of the first top issue whose task is a proven fix, and show its files."""
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
        contract = result.contract
        text.append(f"#{chosen.rank} {terminal_safe(chosen.title)}: ", style="bold")
        if contract is not None:
            style = "green" if contract.cls == "proven-fix" else "yellow"
            text.append(contract.label(), style=f"bold {style}")
            text.append(f", {terminal_safe(contract.reason)}")
        width = self.screen.size.width
        for issue, why in passed[:2]:  # higher-ranked issues whose task would not measure a fix, and why
            first = terminal_safe(why).split(". ")[0].split("; it ")[0]
            text.append(f"\n  #{issue.rank} passed over: {shorten(first, max(width - 24, 30))}", style="dim")
        if len(passed) > 2:
            text.append(f"\n  (+{len(passed) - 2} more passed over)", style="dim")
        text.append("\ntask written to ", style="bold")
        text.append(str(task_dir))
        if result.needs_repository:
            text.append(f"   ({result.reason})")
        path_w.update(text)
        tree: Tree[None] = self.query_one("#t-tree", Tree)
        tree.clear()
        tree.root.set_label(Text(task_dir.name))
        folders: dict[tuple[str, ...], TreeNode[None]] = {(): tree.root}
        for parts, size in await hub.task_files(task_dir):
            parent = folders[parts[:-1]]
            if size is None:
                folders[parts] = parent.add(Text(parts[-1] + "/"))
            else:
                parent.add_leaf(Text(f"{parts[-1]}  ({size:,} B)"))
        tree.root.expand_all()
        self.query_one("#t-instruction", TextArea).load_text(await hub.task_text(task_dir, "instruction.md"))
        self.query_one("#t-toml", TextArea).load_text(await hub.task_text(task_dir, "task.toml"))


class ClosingStage(VerticalScroll, Stage):
    TITLE = "Every session → data → eval → measured fix"
    SHORT_TITLE = "Closing"
    LIVE = True

    def compose(self) -> ComposeResult:
        yield StageTitle(self.TITLE, markup=False)
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

    def _bar_room(self, label_width: int) -> int:
        """Bar length for a line that starts with ``label_width`` columns: 30, less on a narrow terminal."""
        return max(6, min(30, self.screen.size.width - label_width - 8))

    def _before_after(self, text: Text, split: str, before: float, n_before: int, after: float, n_after: int) -> None:
        b = f"before {split}: {pct(before):>4} of {n_before} sessions at risk"
        a = f"from   {split}: {pct(after):>4} of {n_after} sessions at risk"
        width = max(len(b), len(a)) + 2
        room = self._bar_room(width)
        text.append(f"\n  {b:<{width}}")
        text.append(bar(before, max(before, 1e-9), room), style="red")
        text.append(f"\n  {a:<{width}}")
        text.append(bar(after, max(before, 1e-9), room) or "▏", style="green")

    async def refresh_data(self, hub: Hub) -> None:
        ov = await hub.overview()
        issues = await hub.issues()
        improvements = await hub.change_points()
        report = await hub.results()
        text = Text()
        weeks = self.query_one("#c-weeks", BarChart)
        tracked = {e.issue_id: e for e in report.issues}
        # the issue to show: a measured fix (marked, or found as a change point), else the best Harbor result
        marked = [e for e in report.issues if e.recurrence is not None]
        focus_id = (
            marked[0].issue_id
            if marked
            else improvements[0].issue_id
            if improvements
            else report.issues[0].issue_id
            if report.issues
            else None
        )
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
            text.append(
                f"\n  {rec.verdict}: {100 * c.difference:+.0f} points (95% CI {100 * c.low:+.0f} to"
                f" {100 * c.high:+.0f}, same origin mix), fix marked for {split}."
            )
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
                text.append(
                    f"\n  pass rate {100 * c.difference:+.0f} points (95% CI {100 * c.low:+.0f} to"
                    f" {100 * c.high:+.0f}, {verdict})"
                )
        # tasks shown to measure: a real run of the reference agents where oracle passes every trial, nop none
        proven: list[str] = []
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
            text.append(
                "\n\nTasks shown to measure (real harbor runs; oracle = the solution, nop = nothing):", style="bold"
            )
            for line in proven[:3]:
                text.append(f"\n  {line}")
        if focus_id is not None and split is not None:
            rates = await hub.weekly(focus_id)
            weeks.title = f"share of sessions hit, week by week (fix at {split})"
            weeks.reset_scale()
            weeks.set_data(
                [(f"week of {w.week}{'  ← fix' if w.contains(split) else ''}", round(100 * w.rate)) for w in rates]
            )
        else:
            weeks.set_data([])
        if not text:
            text.append("No significant before/after change in the data yet.", style="dim")
        self.query_one("#c-fix", Static).update(text)
        self.query_one("#c-sessions", StatCard).show(f"{ov.sessions:,}", "sessions read")
        self.query_one("#c-signals", StatCard).show(f"{ov.signals:,}", "signals with evidence")
        self.query_one("#c-issues", StatCard).show(f"{len(issues):,}", "issues ranked by impact")
        self.query_one("#c-task", StatCard).show(f"{hub.tasks_written():,}", "Harbor tasks written")


#: The demo, in order.
DEMO_STAGES: tuple[type[Stage], ...] = (
    ProblemStage,
    SolutionStage,
    DataStage,
    SignalsStage,
    IssuesStage,
    HarborTaskStage,
    ClosingStage,
)
