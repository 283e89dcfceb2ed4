"""Keys, the impact formula and what the app is doing, in one modal.

Nothing here is kept by hand, so it cannot drift from the app: the keys are the ``BINDINGS`` of the app and of
each screen (and of the widgets a screen relies on for its keys), every binding that has a description,
explained by its ``tooltip`` when it has one. A screen's ``HELP_GESTURES`` adds what its widgets handle
without a binding of the screen (Enter on a table row, a click). The formula shows the weights the app ranks
with: the user's config file over the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.screens.clusters import ClustersScreen
from ccl_tui.tui.screens.demo import DemoScreen
from ccl_tui.tui.screens.improvement import ImprovementScreen
from ccl_tui.tui.screens.issue import IssueScreen
from ccl_tui.tui.screens.issues import IssuesScreen
from ccl_tui.tui.screens.transcript import TranscriptScreen
from ccl_tui.tui.widgets.transcript_view import TranscriptView

if TYPE_CHECKING:
    from ccl_tui.config.settings import ImpactWeights

#: The help's sections after "everywhere" (the app's own keys): a title and the classes whose keys it lists.
SECTIONS: tuple[tuple[str, tuple[type[DOMNode], ...]], ...] = (
    ("issues", (IssuesScreen,)),
    ("clusters", (ClustersScreen,)),
    ("improvement", (ImprovementScreen,)),
    ("issue", (IssueScreen,)),
    ("transcript", (TranscriptScreen, TranscriptView)),
    ("guided demo", (DemoScreen,)),
)

#: Key names as the help spells them (Textual's own names elsewhere: ``ctrl+t``, ``pgup``, ``?``).
KEY_NAMES = {
    "escape": "esc",
    "enter": "enter",
    "backspace": "backspace",
    "space": "space",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}

Row = tuple[str, str]  # (keys, what they do)


def key_name(binding: Binding) -> str:
    """How the help shows a binding's key: its ``key_display`` when it has one, else e.g. ``ctrl+t``, ``↑``, ``?``."""
    if binding.key_display:
        return binding.key_display
    *modifiers, key = binding.key.split("+")
    return "+".join([*modifiers, KEY_NAMES.get(key) or format_key(key)])


def binding_rows(bindings: Iterable[BindingType]) -> list[Row]:
    """A row per thing the bindings do, for every binding with a description: the tooltip (else the description)
    with all the keys that do it ("esc / backspace")."""
    rows: dict[str, list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        if not binding.description or binding.system:
            continue
        keys = rows.setdefault(binding.tooltip or binding.description, [])
        name = key_name(binding)
        if name not in keys:
            keys.append(name)
    return [(" / ".join(keys), what) for what, keys in rows.items()]


def class_rows(classes: Sequence[type[DOMNode]]) -> list[Row]:
    """What the help lists for these classes: their gestures, then their own ``BINDINGS`` (not inherited ones)."""
    rows: list[Row] = []
    for cls in classes:
        rows.extend(getattr(cls, "HELP_GESTURES", ()))
    for cls in classes:
        rows.extend(binding_rows(vars(cls).get("BINDINGS", ())))
    return rows


def app_rows(app: App[object]) -> list[Row]:
    """The keys that work everywhere: the app's own bindings and the command palette's."""
    bindings: list[BindingType] = list(vars(type(app)).get("BINDINGS", ()))
    if app.ENABLE_COMMAND_PALETTE:
        bindings.append(
            Binding(
                app.COMMAND_PALETTE_BINDING,
                "command_palette",
                "Command palette",
                key_display=app.COMMAND_PALETTE_DISPLAY,
                tooltip="Command palette: every action, searchable",
            )
        )
    return binding_rows(bindings)


def help_sections(app: App[object]) -> list[tuple[str, list[Row]]]:
    """Every section of the help, in order, with its rows."""
    return [("everywhere", app_rows(app))] + [(title, class_rows(classes)) for title, classes in SECTIONS]


def formula(w: ImpactWeights) -> str:
    """The impact formula with the weights in force (defaults, or the user's config)."""
    return (
        "impact = sessions x severity x cost x recency\n"
        "  sessions  distinct sessions where the failure happened (automated runs excluded unless you ask)\n"
        "  severity  worst occurrence per session, 0-1, averaged\n"
        "  cost      turn equivalents lost per session until the failing step succeeded:\n"
        f"            1 + extra prompts x {w.cost_per_turn:g} + minutes x {w.cost_per_minute:g}"
        f" + million uncached tokens x {w.cost_per_million_tokens:g}\n"
        f"            (+{w.unresolved_penalty:g} if it never succeeded)\n"
        f"  recency   halves every {w.recency_half_life_days:g} days since last seen (floor {w.recency_floor:g})\n"
        "Weights and thresholds: [impact] / [signals] in the config file (see README)."
    )


class HelpScreen(CclAccess, ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("ccl-tui: Codex Closed Loop", style="bold"), id="help-title")
            t = Table.grid(padding=(0, 2))
            t.add_column(style="bold")
            t.add_column(style="cyan", no_wrap=True)
            t.add_column()
            for section, rows in help_sections(self.app):
                for i, (keys, what) in enumerate(rows):
                    t.add_row(Text(section if i == 0 else ""), Text(keys), Text(what))
            yield Static(t, id="help-keys")
            yield Static(Text(formula(self.hub.settings.impact)), id="help-formula")
            yield Static(Text("esc closes", style="dim"))
