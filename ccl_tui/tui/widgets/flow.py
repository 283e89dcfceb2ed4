"""The closed loop drawn with widgets: six boxes joined by arrows, a highlight travelling along the flow while
the diagram is on screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive, var
from textual.widgets import Static

#: The box titles on terminals under 100 columns, where a box holds about eight characters a line.
SHORT_TITLES = ("Codex logs", "trace", "SQLite + Chroma", "signals", "Harbor task", "measure the fix")
NARROW = 100

STEPS: tuple[tuple[str, str], ...] = (
    ("Codex session", "rollout-*.jsonl in ~/.codex:\nevery era, .zst, archived"),
    ("trace spine", "ordered events: prompts, calls,\noutputs, denials, compactions"),
    ("SQLite + ChromaDB", "incremental ingest;\nembeddings cluster look-alikes"),
    ("signal detection", "friction & delight, each\npointing at its evidence event"),
    ("Harbor task", "the failure, pinned to its\ncommit, as an eval task"),
    ("measured improvement", "rate before vs after a fix;\nscore agents on the task"),
)


class FlowStep(Static):
    DEFAULT_CSS = """
    FlowStep {
        width: 1fr; height: 7; border: round $primary 40%; padding: 0 1; content-align: center middle;
        text-align: center; color: $text-muted;
    }
    FlowStep.-active { border: heavy $accent; color: $text; background: $accent 15%; text-style: bold; }
    FlowDiagram.-narrow FlowStep { padding: 0; }
    """


class Arrow(Static):
    DEFAULT_CSS = """
    Arrow { width: 3; height: 7; content-align: center middle; color: $text-muted; }
    Arrow.-active { color: $accent; text-style: bold; }
    FlowDiagram.-narrow Arrow { width: 2; }
    """


class FlowDiagram(Vertical):
    """Six steps in a row and a return arrow underneath; ``active`` moves the highlight, every ``STEP_S``
    seconds while the diagram is shown and ``playing``."""

    DEFAULT_CSS = """
    FlowDiagram { height: auto; }
    FlowDiagram > Horizontal { height: 7; }
    FlowDiagram > #flow-back { height: 2; color: $text-muted; content-align: center top; }
    FlowDiagram > #flow-back.-active { color: $accent; text-style: bold; }
    FlowDiagram > #flow-caption { height: 3; padding: 1 2 0 2; color: $text; }
    """

    active: reactive[int] = reactive(0)
    #: The highlight travels on its own (set False to hold it, e.g. for a still frame).
    playing: var[bool] = var(True, init=False)
    #: Seconds the highlight rests on each step.
    STEP_S = 1.2

    def compose(self) -> ComposeResult:
        with Horizontal():
            for i, (title, _) in enumerate(STEPS):
                if i:
                    yield Arrow("─▶", id=f"flow-arrow-{i}")
                yield FlowStep(title, id=f"flow-step-{i}")
        yield Static(self._back_line(120), id="flow-back", markup=False)
        yield Static("", id="flow-caption", markup=False)

    @staticmethod
    def _back_line(width: int) -> str:
        """The return arrow under the boxes, as wide as the diagram (one line at any width)."""
        label = " back to the agent: fewer failures next time "
        dashes = max(width - len(label) - 2, 2)
        return "◀" + "─" * (dashes // 2) + label + "─" * (dashes - dashes // 2) + "┘"

    def on_mount(self) -> None:
        self.watch_active(0)
        self._timer = self.set_interval(self.STEP_S, self.advance, pause=True)

    def on_show(self) -> None:
        if self.playing:
            self._timer.resume()

    def on_hide(self) -> None:
        self._timer.pause()

    def watch_playing(self, playing: bool) -> None:
        if playing and self.is_on_screen:
            self._timer.resume()
        else:
            self._timer.pause()

    def on_resize(self) -> None:
        width = self.size.width
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        for i, (title, _) in enumerate(STEPS):
            self.query_one(f"#flow-step-{i}", FlowStep).update(SHORT_TITLES[i] if narrow else title)
        self.query_one("#flow-back", Static).update(self._back_line(width))

    def advance(self) -> None:
        self.active = (self.active + 1) % (len(STEPS) + 1)

    def watch_active(self, active: int) -> None:
        for i in range(len(STEPS)):
            self.query_one(f"#flow-step-{i}", FlowStep).set_class(i == active, "-active")
            if i:
                self.query_one(f"#flow-arrow-{i}", Arrow).set_class(i == active, "-active")
        back = active == len(STEPS)
        self.query_one("#flow-back", Static).set_class(back, "-active")
        if back:
            caption = (
                "...and back: the agent, its instructions or its sandbox are fixed, and the next sessions show it."
            )
        else:
            title, what = STEPS[active]
            caption = f"{active + 1}. {title}: {what.replace(chr(10), ' ')}"
        self.query_one("#flow-caption", Static).update(caption)
