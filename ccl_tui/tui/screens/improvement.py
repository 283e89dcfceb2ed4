"""Closing the loop: per issue, the Harbor pass rate in each imported run and how often it still happens
in real sessions since its fix, with suggested fix dates found from the data alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import clip
from ccl_tui.text.numbers import pct
from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.hub import LoadState
from ccl_tui.tui.widgets.charts import BarChart
from ccl_tui.tui.widgets.table import Table

if TYPE_CHECKING:
    from ccl_tui.issues.trend import ChangePoint
    from ccl_tui.model.results import Fix, IssueImprovement
    from ccl_tui.results.api import ImprovementReport as ResultsReport

EMPTY = (
    "Nothing to measure yet: no issue has Harbor results or a fix mark, and no issue's rate dropped "
    "significantly in the sessions read.\n\n"
    "To close the loop:\n"
    "  1. write an issue's Harbor task (t on the issues screen) and run it with Harbor\n"
    "  2. ccl-tui results import JOB_DIR      import the run: its pass rate shows here per run\n"
    "  3. ccl-tui fix ISSUE_ID --date D       mark the first day with the fix (or press f on a listed issue)\n\n"
    "Issues appear here once they have Harbor results, a fix mark, or a change point found in the data."
)
VERDICT_STYLE = {"dropped": "bold green", "rose": "bold red", "no significant change": "bold yellow"}


def clean(text: str) -> str:
    """Untrusted text for one line: no control codes, no line breaks."""
    return " ".join(terminal_safe(text).split())


def short(text: str, width: int) -> str:
    """Untrusted text for one cell of ``width`` columns."""
    return clip(clean(text), width)


@dataclass(slots=True)
class Row:
    """One table row: a tracked issue (Harbor trials or a fix mark) and/or a suggested change point."""

    issue_id: str
    title: str
    rank: int
    entry: IssueImprovement | None
    suggestion: ChangePoint | None

    @property
    def fix(self) -> Fix | None:
        return self.entry.fix if self.entry is not None else None

    @property
    def tracked(self) -> bool:
        return self.entry is not None and (self.entry.fix is not None or bool(self.entry.runs))


class FixDialog(CclAccess, ModalScreen["Fix | None"]):
    """Mark the first day with an issue's fix; enter saves, a bad date is shown here, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fix.cancel")]

    def __init__(self, issue_id: str, title: str, day: str, note: str = "") -> None:
        super().__init__()
        self.issue_id = issue_id
        self.issue_title = title
        self.day = day
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="fix-dialog"):
            head = Text("Mark the fix\n", style="bold")
            head.append(clean(self.issue_title))
            head.append(f"  [{self.issue_id}]", style="dim")
            yield Static(head, id="fix-title")
            yield Static("First day with the fix (YYYY-MM-DD; empty: today)", classes="fix-label")
            yield Input(value=self.day, placeholder="YYYY-MM-DD", id="fix-date")
            yield Static("Note (optional)", classes="fix-label")
            yield Input(value=clean(self.note), placeholder="what changed, e.g. a PR link", id="fix-note")
            yield Static("", id="fix-error", markup=False)
            yield Static("enter saves · tab next field · esc cancels", id="fix-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#fix-date", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.save()

    @work(exclusive=True, group="fix-dialog", exit_on_error=False)
    async def save(self) -> None:
        day = self.query_one("#fix-date", Input).value.strip() or None
        note = self.query_one("#fix-note", Input).value
        try:
            fix = await self.hub.mark_fix(self.issue_id, day, note)
        except ValueError as exc:
            self.query_one("#fix-error", Static).update(Text(clean(str(exc))))
            self.query_one("#fix-date", Input).focus()
            return
        self.dismiss(fix)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImprovementScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="improvement.back"),
        Binding(
            "f",
            "mark_fix",
            "Mark fix",
            tooltip="Mark the day the fix went in (a suggested date is prefilled)",
            id="improvement.fix",
        ),
        Binding("x", "clear_fix", "Clear fix", tooltip="Clear the fix mark", id="improvement.clear"),
        Binding("r", "reload", "Reload", tooltip="Re-read the results", show=False, id="improvement.reload"),
    ]
    #: What the help lists besides the bindings.
    HELP_GESTURES = (("enter", "Open the issue"),)

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Row] = []
        self._report: ResultsReport | None = None
        self._last_refresh = -1
        self._keep: str | None = None  # issue to put the cursor on after the next refill
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="imp-note", markup=False)
        yield Static(Text(EMPTY), id="imp-empty", classes="hidden")
        table = Table(id="imp-table", cursor_type="row", zebra_stripes=True)
        yield table
        with Vertical(id="imp-detail"):
            yield Static("", id="imp-title", markup=False)
            with Horizontal(id="imp-panels"):
                with VerticalScroll(id="imp-runs-panel"):
                    yield BarChart(
                        "pass rate per run (passed/graded)",
                        id="imp-runs",
                        label_width=36,
                        show_share=False,
                        unit="%",
                        maximum=100,
                    )
                    yield Static("", id="imp-runs-text", markup=False)
                with VerticalScroll(id="imp-weeks-panel"):
                    yield BarChart(
                        "share of sessions hit per week (hit/at risk)",
                        id="imp-weeks",
                        label_width=44,
                        show_share=False,
                        unit="%",
                    )
                    yield Static("", id="imp-weeks-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "improvement: did the fixes work?"
        self.query_one("#imp-runs-panel").border_title = "Harbor: pass rate per run"
        self.query_one("#imp-weeks-panel").border_title = "Real sessions: recurrence around the fix"
        table = self.query_one("#imp-table", DataTable)
        for label in ("#", "issue", "fix", "recurrence", "pass rate", "n"):
            table.add_column(label)
        self.ccl.data_changed.subscribe(self, self.on_data_changed)
        self.on_data_changed(self.hub.state)
        table.focus()

    # ------------------------------------------------------------------ data
    def on_data_changed(self, state: LoadState) -> None:
        if state.refreshes != self._last_refresh and self.hub.is_open:
            self._last_refresh = state.refreshes
            self.load()

    @work(exclusive=True, group="improvement", exit_on_error=False)
    async def load(self) -> None:
        hub = self.hub
        if not hub.is_open:
            return
        report = await hub.results()
        suggestions = await hub.change_points()
        tracked = {e.issue_id for e in report.issues}
        fixed = {e.issue_id for e in report.issues if e.fix is not None}
        suggested = {s.issue_id: s for s in suggestions if s.issue_id not in fixed}
        rows = [Row(e.issue_id, e.title, e.rank, e, suggested.get(e.issue_id)) for e in report.issues]
        untracked = [s for s in suggestions if s.issue_id not in tracked]
        if untracked:  # one query for all of them
            more = await hub.issue_results([s.issue_id for s in untracked])
            entries = {e.issue_id: e for e in more.issues}
            for s in untracked:
                entry = entries.get(s.issue_id)
                rows.append(Row(s.issue_id, s.title, entry.rank if entry else 0, entry, s))
        self._report = report
        self._rows = rows
        self.refill()
        self.loaded = True

    def refill(self) -> None:
        table = self.query_one("#imp-table", DataTable)
        current = self.highlighted
        keep = self._keep or (current.issue_id if current else None)
        self._keep = None
        table.clear()
        for r in self._rows:
            table.add_row(*self._cells(r))
        empty = not self._rows
        self.query_one("#imp-empty").set_class(not empty, "hidden")
        table.set_class(empty, "hidden")
        self.query_one("#imp-detail").set_class(empty, "hidden")
        target = next((n for n, r in enumerate(self._rows) if r.issue_id == keep), 0)
        if self._rows:
            table.move_cursor(row=target, animate=False)
        self._show_note()
        self.show_detail()

    def _cells(self, r: Row) -> tuple[Text, ...]:
        e = r.entry
        fix = r.fix
        if fix is not None:
            rec = e.recurrence if e is not None else None
            verdict = rec.verdict if rec is not None else "not in the current ranking"
            verdict_cell = Text(verdict, style=VERDICT_STYLE.get(verdict, ""))
        elif r.suggestion is not None:
            verdict_cell = Text(f"suggested: change on {r.suggestion.split}, press f", style="italic")
        else:
            verdict_cell = Text("no fix marked", style="dim")
        runs = e.runs if e is not None else []
        return (
            Text(str(r.rank) if r.rank else "-", justify="right"),
            Text(short(r.title, 60)),
            Text(fix.fixed_on if fix is not None else "-"),
            verdict_cell,
            Text(" → ".join(pct(x.passed.rate) for x in runs) if runs else "-"),
            Text(" → ".join(str(x.passed.n) for x in runs) if runs else "-"),
        )

    def _show_note(self) -> None:
        report = self._report
        text = Text()
        if report is None or not report.runs:
            text.append("No Harbor runs imported (ccl-tui results import JOB_DIR)")
        else:
            text.append(f"{len(report.runs)} Harbor run(s): ")
            text.append(", ".join(clean(r.describe()) for r in report.runs))
            if report.baseline and report.after and report.baseline != report.after:
                text.append(f"   comparing {clean(report.baseline)} → {clean(report.after)}")
        tracked = sum(r.tracked for r in self._rows)
        suggested = sum(r.suggestion is not None for r in self._rows)
        text.append(f"\n{tracked} tracked issue(s), {suggested} suggested fix date(s)")
        text.append("  ·  enter opens the issue, f marks its fix, x clears it", style="dim")
        if self.hub.state.loading:
            text.append("  ·  still loading…", style="italic")
        self.query_one("#imp-note", Static).update(text)

    @property
    def highlighted(self) -> Row | None:
        row = self.query_one("#imp-table", DataTable).cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # ------------------------------------------------------------------ detail
    @on(DataTable.RowHighlighted, "#imp-table")
    def show_detail(self) -> None:
        r = self.highlighted
        runs_chart = self.query_one("#imp-runs", BarChart)
        weeks_chart = self.query_one("#imp-weeks", BarChart)
        runs_chart.reset_scale()
        weeks_chart.reset_scale()
        if r is None:
            self.query_one("#imp-title", Static).update("")
            runs_chart.set_data([])
            weeks_chart.set_data([])
            self.query_one("#imp-runs-text", Static).update("")
            self.query_one("#imp-weeks-text", Static).update("")
            return
        title = Text()
        title.append(f"#{r.rank}  " if r.rank else "", style="bold")
        title.append(clean(r.title), style="bold")
        title.append(f"  [{r.issue_id}]", style="dim")
        fix = r.fix
        if fix is not None:
            title.append(f"\nfixed on {fix.fixed_on}")
            if fix.note:
                title.append(": ")
                title.append(clean(fix.note), style="italic")
        else:
            title.append("\nno fix marked: press f to mark the first day with the fix", style="dim")
        self.query_one("#imp-title", Static).update(title)
        self._show_runs(r)
        self._show_weeks(r)

    def _show_runs(self, r: Row) -> None:
        e = r.entry
        runs = e.runs if e is not None else []
        chart = self.query_one("#imp-runs", BarChart)
        chart.set_data(
            [(f"{short(x.describe(), 34)}  {x.passed.hits}/{x.passed.n}", round(100 * x.passed.rate)) for x in runs]
        )
        chart.set_class(not runs, "hidden")
        t = Text()
        if not runs:
            t.append("No Harbor trials for this issue yet.\n", style="dim")
            t.append(
                "Write its task (t on the issues screen), run it with Harbor, then:\n  ccl-tui results import JOB_DIR"
            )
        for x in runs:
            t.append(clean(x.describe()), style="bold")
            t.append(f": pass rate {x.passed.describe()}\n")
            t.append(
                f"  n = {x.passed.n} graded of {x.trials} trial(s); {x.errors} with errors, {x.ungraded} ungraded\n"
            )
        if e is not None and e.run_change is not None and e.baseline and e.after:
            c = e.run_change
            t.append(f"\n{clean(e.baseline)} → {clean(e.after)}: ", style="bold")
            t.append(f"{pct(c.before)} → {pct(c.after)}, {c.describe()}, ")
            if c.significant:
                t.append("significant", style="bold green" if c.difference > 0 else "bold red")
            else:
                t.append("not significant", style="bold yellow")
        elif len(runs) == 1:
            t.append("\nOne run so far: import a run made after the fix to compare.", style="dim")
        self.query_one("#imp-runs-text", Static).update(t)

    def _show_weeks(self, r: Row) -> None:
        e = r.entry
        fix = r.fix
        mark_day, mark = None, ""
        if fix is not None:
            mark_day, mark = fix.fixed_on, "← fix"
        elif r.suggestion is not None:
            mark_day, mark = r.suggestion.split, "← change point"
        weeks = e.weeks if e is not None else []
        chart = self.query_one("#imp-weeks", BarChart)
        chart.set_class(not weeks, "hidden")
        chart.set_data(
            [
                (
                    f"week of {w.week}  {w.hits}/{w.sessions}" + (f"  {mark}" if w.contains(mark_day) else ""),
                    round(100 * w.rate),
                )
                for w in weeks
            ]
        )
        t = Text()
        rec = e.recurrence if e is not None else None
        if fix is not None and rec is not None:
            t.append(f"Sessions hit before {fix.fixed_on}: ", style="bold")
            t.append(rec.before.describe() + "\n")
            t.append(f"Sessions hit from {fix.fixed_on}: ", style="bold")
            t.append(rec.after.describe() + "\n")
            t.append("Change (standardized to one origin mix): ", style="bold")
            t.append(rec.change.describe() + "\n")
            t.append("Verdict: ", style="bold")
            t.append(rec.verdict, style=VERDICT_STYLE.get(rec.verdict, "bold"))
        elif fix is not None:
            t.append("This issue is not in the current ranking: no sessions to compare.", style="dim")
        else:
            s = r.suggestion
            if s is not None:
                t.append("Suggested fix date ", style="bold")
                t.append(s.split, style="bold")
                t.append(
                    f": the share of sessions hit fell from {pct(s.before_rate)} ({s.before_hits}/"
                    f"{s.before_sessions}) to {pct(s.after_rate)} ({s.after_hits}/{s.after_sessions}) "
                    f"(z = {s.z:.1f}), found from the data alone.\n"
                )
                t.append("Press f to mark it as the fix date and measure the recurrence.", style="italic")
            else:
                t.append(
                    "No fix marked: press f to mark the first day with the fix and measure the recurrence.", style="dim"
                )
        self.query_one("#imp-weeks-text", Static).update(t)

    # ------------------------------------------------------------------ actions
    @on(DataTable.RowSelected, "#imp-table")
    def _open(self) -> None:
        r = self.highlighted
        if r is not None:
            from ccl_tui.tui.screens.issue import IssueScreen

            self.app.push_screen(IssueScreen(r.issue_id))

    def action_mark_fix(self) -> None:
        r = self.highlighted
        if r is None:
            self.notify("no issue to mark: see the text on screen", timeout=3)
            return
        fix = r.fix
        if fix is None and r.suggestion is not None:
            day = r.suggestion.split
        elif fix is not None:
            day = fix.fixed_on
        else:
            day = date.today().isoformat()
        self.app.push_screen(FixDialog(r.issue_id, r.title, day, fix.note if fix else ""), self._fix_saved)

    def _fix_saved(self, fix: Fix | None) -> None:
        if fix is None:
            return
        self._keep = fix.issue_id
        self.notify(f"fix marked for {fix.issue_id}: first day {fix.fixed_on}", markup=False, timeout=3)
        self.load()

    def action_clear_fix(self) -> None:
        r = self.highlighted
        if r is None or r.fix is None:
            self.notify("the highlighted issue has no fix mark", markup=False, timeout=3)
            return
        self._keep = r.issue_id
        self._clear(r.issue_id)

    @work(group="improvement-fix", exit_on_error=False)
    async def _clear(self, issue_id: str) -> None:
        await self.hub.clear_fix(issue_id)
        self.notify(f"fix mark removed from {issue_id}", markup=False, timeout=3)
        self.load()

    def action_reload(self) -> None:
        self.load()
