"""The impact score of an issue, factor by factor: why this rank."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ccl_tui.model.issues import Issue
from ccl_tui.tui.widgets.charts import bar


class ScoreBreakdown(Static):
    """sessions x severity x cost x recency = impact, each factor with a bar and a plain explanation."""

    DEFAULT_CSS = """
    ScoreBreakdown { height: auto; padding: 0 1; border: round $primary 40%; }
    """

    def __init__(
        self,
        issue: Issue | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = "why this rank"
        self._issue = issue

    def on_mount(self) -> None:
        if self._issue is not None:
            self.show_issue(self._issue)

    def show_issue(self, issue: Issue | None) -> None:
        self._issue = issue
        if issue is None:
            self.update(Text("select an issue", style="dim"))
            return
        imp = issue.impact
        t = Table.grid(padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column(justify="right", no_wrap=True)
        t.add_column(no_wrap=True)
        t.add_column(overflow="fold")
        rows = [
            ("sessions", f"{imp.sessions}", bar(min(imp.sessions, 50), 50, 10), "distinct sessions affected"),
            ("severity", f"{imp.severity:.2f}", bar(imp.severity, 1, 10), "worst occurrence per session, 0-1"),
            (
                "cost",
                f"{imp.cost:.2f}",
                bar(min(imp.cost, 5), 5, 10),
                f"turn equivalents: {imp.turns_lost:.1f} prompts, {imp.minutes_lost:.1f} min, "
                f"{imp.tokens_lost / 1000:,.0f}k tokens; unresolved {imp.unresolved:.0%}",
            ),
            (
                "recency",
                f"{imp.recency:.2f}",
                bar(imp.recency, 1, 10),
                f"last seen {imp.days_since_last:.1f} days ago"
                if imp.days_since_last is not None
                else "no time recorded: counted as old",
            ),
        ]
        for name, value, b, why in rows:
            t.add_row(Text(name), Text(value), Text(b, style="cyan"), Text(why, style="dim"))
        t.add_row(
            Text("impact", style="bold reverse"), Text(f"{imp.impact:.1f}", style="bold"), Text(""), Text(imp.formula())
        )
        self.update(t)
