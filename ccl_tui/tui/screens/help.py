"""Keys, the impact formula and what the app is doing, in one modal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from ccl_tui.config.settings import ImpactWeights

KEYS = [
    ("everywhere", [("?", "this help"), ("ctrl+p", "command palette"), ("ctrl+t", "switch theme (dark, light, "
                    "high contrast)"), ("q / ctrl+q", "quit")]),
    ("issues", [("↑ ↓ / mouse", "move"), ("enter", "open the issue"), ("/", "search title, signature, id"),
                ("s / click a header", "sort"), ("t", "write the Harbor task for the issue"), ("c", "clusters of look-alike issues"),
                ("i", "improvement: did the fixes work?"), ("d", "guided demo")]),
    ("clusters", [("a", "(re)cluster with the semantic layer"), ("enter", "open the top member issue")]),
    ("improvement", [("f", "mark the day the fix went in (a suggested date is prefilled)"),
                     ("x", "clear the fix mark"), ("enter", "open the issue"), ("esc", "back")]),
    ("issue", [("enter", "open the transcript at the evidence event"), ("t", "write the Harbor task"),
               ("esc", "back")]),
    ("transcript", [("↑ ↓ pgup pgdn home end", "move between events"), ("n / p", "next / previous signal"),
                    ("enter / click", "expand or fold a long output"), ("a", "show every record (token counts, "
                    "context)"), ("t", "write the Harbor task for the signal under the cursor"), ("esc", "back")]),
    ("guided demo", [("enter / →", "next stage"), ("backspace / ←", "previous stage"), ("1-7", "jump to a stage"),
                     ("esc", "leave the demo")]),
]  # fmt: skip


def formula(w: ImpactWeights) -> str:
    """The impact formula with the weights in force (defaults, or the user's config)."""
    return (
        "impact = sessions x severity x cost x recency\n"
        "  sessions  distinct sessions where the failure happened (automated runs excluded unless you ask)\n"
        "  severity  worst occurrence per session, 0-1, averaged\n"
        "  cost      turn equivalents lost per session until the failing step succeeded:\n"
        f"            1 + extra prompts x {w.cost_per_turn:g} + minutes x {w.cost_per_minute:g}"
        f" + million uncached tokens x {w.cost_per_million_tokens:g} (+{w.unresolved_penalty:g} if never resolved)\n"
        f"  recency   halves every {w.recency_half_life_days:g} days since last seen (floor {w.recency_floor:g})\n"
        "Weights and thresholds: [impact] / [signals] in the config file (see README)."
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("ccl-tui: Codex Closed Loop", style="bold"), id="help-title")
            t = Table.grid(padding=(0, 2))
            t.add_column(style="bold")
            t.add_column(style="cyan", no_wrap=True)
            t.add_column()
            for section, keys in KEYS:
                for i, (key, what) in enumerate(keys):
                    t.add_row(Text(section if i == 0 else ""), Text(key), Text(what))
            yield Static(t)
            yield Static(Text(formula(self.app.hub.settings.impact)), id="help-formula")  # type: ignore[attr-defined]
            yield Static(Text("esc closes", style="dim"))

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)
