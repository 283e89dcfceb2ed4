"""The guided 7-stage demo for presenting live: ENTER/→ next, BACKSPACE/← back, 1-7 jump, q quit.

Every figure comes from the store as it loads: the Data and Signals stages count up live while the
corpus is ingested, and the Harbor Task stage writes a real task for the top issue. Each stage is its own
widget (``tui/widgets/stages.py``); this screen holds them in order and shows one at a time.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Header, Static

from ccl_tui.tui.base import CclAccess
from ccl_tui.tui.hub import LoadState
from ccl_tui.tui.widgets.stages import DEMO_STAGES, Stage

#: The stages' names, in order.
STAGES = tuple(stage.SHORT_TITLE for stage in DEMO_STAGES)


class DemoScreen(CclAccess, Screen[None]):
    BINDINGS = [
        Binding("enter,right,space", "next", "Next", tooltip="Next stage", id="demo.next"),
        Binding("backspace,left", "prev", "Back", tooltip="Previous stage", id="demo.back"),
        Binding("escape", "leave", "Triage", tooltip="Leave the demo for the ranked issues", id="demo.leave"),
        Binding("up", "cursor(-1)", "Move in the Issues stage's table", show=False),
        Binding("down", "cursor(1)", "Move in the Issues stage's table", show=False),
        *[
            Binding(str(n), f"jump({n - 1})", "Jump to a stage", show=False, key_display=f"1-{len(STAGES)}")
            for n in range(1, len(STAGES) + 1)
        ],
    ]
    #: Below this width the stage bar names only the current stage (the others keep their number).
    NARROW = 100

    #: The index of the stage shown (clamped to the stages; setting it again refreshes the stage).
    stage: var[int] = var(0, init=False, always_update=True)

    def __init__(self, auto: float | None = None) -> None:
        super().__init__()
        self.auto = auto
        self.stages: tuple[Stage, ...] = tuple(stage(id=f"stage-{n}") for n, stage in enumerate(DEMO_STAGES))
        self._auto_timer: Timer | None = None

    @property
    def current(self) -> Stage:
        """The stage on screen."""
        return self.stages[self.stage]

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="demo-nav"):
            for n, stage in enumerate(self.stages):
                yield Static(f" {n + 1} {stage.SHORT_TITLE} ", id=f"nav-{n}", classes="nav-pill", markup=False)
        with ContentSwitcher(initial=self.stages[0].id, id="demo-stages"):
            yield from self.stages
        yield Static("", id="demo-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "guided demo"
        self.ccl.data_changed.subscribe(self, self.on_data_changed)
        if self.auto:
            self._auto_timer = self.set_interval(self.auto, self.action_next)
        self.stage = 0

    # ------------------------------------------------------------------ navigation
    def _label_nav(self) -> None:
        narrow = self.size.width < self.NARROW
        for n, stage in enumerate(self.stages):
            pill = self.query_one(f"#nav-{n}", Static)
            current = stage is self.current
            pill.set_class(current, "-current")
            pill.update(f" {n + 1} {stage.SHORT_TITLE} " if current or not narrow else f" {n + 1} ")

    def on_resize(self) -> None:
        self._label_nav()

    def validate_stage(self, index: int) -> int:
        return max(0, min(len(self.stages) - 1, index))

    def watch_stage(self) -> None:
        stage = self.current
        self.query_one(ContentSwitcher).current = stage.id
        self._label_nav()
        self.sub_title = f"stage {self.stage + 1}/{len(self.stages)}: {stage.SHORT_TITLE}"
        hint = "ENTER / → next   ·   ← back   ·   1-7 jump   ·   ctrl+t theme   ·   esc triage   ·   q quit"
        if self.auto:
            hint += f"   ·   auto: {self.auto:g}s per stage"
        self.query_one("#demo-hint", Static).update(hint)
        self.refresh_stage()

    def action_next(self) -> None:
        if self.stage < len(self.stages) - 1:
            self.stage += 1
        elif self._auto_timer is not None:
            self._auto_timer.stop()

    def action_prev(self) -> None:
        self.stage -= 1

    def action_jump(self, index: int) -> None:
        self.stage = index

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            from ccl_tui.tui.screens.issues import IssuesScreen

            self.app.switch_screen(IssuesScreen())

    def action_cursor(self, delta: int) -> None:
        self.current.move_cursor(delta)

    # ------------------------------------------------------------------ data
    def on_data_changed(self, state: LoadState) -> None:
        for stage in self.stages:
            stage.show_load(state)
        if self.current.LIVE:
            self.refresh_stage()

    @work(exclusive=True, group="stage")
    async def refresh_stage(self) -> None:
        """Fill the stage on screen from the hub (a newer refresh cancels this one)."""
        if self.hub.is_open:
            await self.current.refresh_data(self.hub)
