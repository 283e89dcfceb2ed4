"""The ccl-tui Textual application. One factory (``make_app``) serves the CLI, tests and screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from ccl_tui.tui.hub import Hub, LoadState, Source
from ccl_tui.tui.widgets.safety import TerminalSafeFilter

if TYPE_CHECKING:
    from ccl_tui.tasks.model import TaskResult

HIGH_CONTRAST = Theme(
    name="ccl-high-contrast",
    primary="#0033CC",
    secondary="#004D40",
    accent="#7A00CC",
    warning="#9A4D00",
    error="#B00020",
    success="#006100",
    foreground="#000000",
    background="#FFFFFF",
    surface="#FFFFFF",
    panel="#E6E6E6",
    boost="#DDDDDD",
    dark=False,
)
THEMES = ("textual-dark", "textual-light", "ccl-high-contrast", "nord")


class CclApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "ccl-tui"
    SUB_TITLE = "Codex Closed Loop"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
        Binding("question_mark", "help", "Help", tooltip="This help: the keys and the impact formula", id="app.help"),
        Binding(
            "ctrl+t",
            "cycle_theme",
            "Theme",
            tooltip="Switch theme (dark, light, high contrast, nord)",
            id="app.theme",
        ),
    ]

    def __init__(
        self,
        source: Source,
        *,
        mode: str = "triage",
        auto: float | None = None,
        theme: str | None = None,
        load: bool = True,
    ) -> None:
        super().__init__()
        self.hub = Hub(source)
        self.mode = mode
        self.auto = auto
        self._initial_theme = theme
        self._load = load
        self.data_changed: Signal[LoadState] = Signal(self, "data_changed")
        self._safety = TerminalSafeFilter()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters plus the terminal-safety one: every line any widget draws passes through it, so no
        untrusted text can act on the terminal however a screen shows it (``tui/widgets/safety.py``)."""
        return [*super().get_line_filters(), self._safety]

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        if self._initial_theme:
            self.theme = self._initial_theme
        if self.mode == "demo":
            from ccl_tui.tui.screens.demo import DemoScreen

            self.push_screen(DemoScreen(auto=self.auto))
        else:
            from ccl_tui.tui.screens.issues import IssuesScreen

            self.push_screen(IssuesScreen())
        if self._load:
            self.load_data()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def load_data(self) -> LoadState:
        """App-lifetime loader: ingest and detection run in the core's workers; this only awaits them."""
        state = await self.hub.load(self._publish)
        if state.phase == "error" and not self.hub.is_open:  # the database could not be opened
            self.notify(
                state.error or "the database could not be opened",
                title="database",
                severity="error",
                markup=False,
                timeout=30,
            )
        elif self.hub.is_open and self.hub.store.readonly_note:
            self.notify(
                self.hub.store.readonly_note, title="read-only database", severity="warning", markup=False, timeout=12
            )
        problems = state.summary.problems() if state.summary else []
        if problems:
            self.notify(
                "\n".join(problems), title="while reading sessions", severity="warning", markup=False, timeout=12
            )
        return state

    def _publish(self, state: LoadState) -> None:
        self.data_changed.publish(state)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                f"{type(event.worker.error).__name__}: {event.worker.error}",
                title="error",
                severity="error",
                markup=False,
                timeout=10,
            )

    async def on_unmount(self) -> None:
        await self.hub.close()

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        from ccl_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_cycle_theme(self) -> None:
        current = self.theme if self.theme in THEMES else THEMES[-1]
        self.theme = THEMES[(THEMES.index(current) + 1) % len(THEMES)]
        self.notify(f"theme: {self.theme}", timeout=1.5)

    def action_demo(self) -> None:
        from ccl_tui.tui.screens.demo import DemoScreen

        if not isinstance(self.screen, DemoScreen):
            self.push_screen(DemoScreen(auto=self.auto))

    def action_clusters(self) -> None:
        from ccl_tui.tui.screens.clusters import ClustersScreen

        self.push_screen(ClustersScreen())

    def action_improvement(self) -> None:
        """Closing the loop: pass rate per Harbor run and recurrence before/after each fix."""
        from ccl_tui.tui.screens.improvement import ImprovementScreen

        if not isinstance(self.screen, ImprovementScreen):
            self.push_screen(ImprovementScreen())

    @work(group="analyze", exclusive=True, exit_on_error=False)
    async def run_analyze(self, then: Callable[[], object] | None = None) -> None:
        """Cluster look-alike issues (semantic layer) and refresh the screens."""
        self.notify("clustering issues…", timeout=2)
        summary = await self.hub.analyze()
        self.notify(
            f"{summary.clusters} cluster(s) from {summary.issues} issue(s) with the {summary.embedder} embedder",
            markup=False,
            timeout=5,
        )
        self._publish(self.hub.state)
        if then is not None:
            then()

    @work(group="task", exit_on_error=False)
    async def write_task(self, issue_id: str, label: str | None = None) -> None:
        """One key writes the Harbor task for an issue and tells the user what it wrote and where."""
        self.notify(f"writing the Harbor task for {issue_id}…", timeout=2, markup=False)
        result = await self.hub.write_task(issue_id)
        self._announce_task(result, label or f"the task of issue {issue_id}")

    @work(group="task", exit_on_error=False)
    async def write_task_for_signal(self, session_id: str, seq: int, label: str | None = None) -> None:
        self.notify(f"writing the Harbor task for event #{seq}…", timeout=2, markup=False)
        result = await self.hub.write_task_for_signal(session_id, seq)
        self._announce_task(result, label or f"the task of the signal at event #{seq}")

    def _announce_task(self, result: TaskResult, label: str) -> None:
        note = f"\nneeds the repository: {result.reason}" if result.needs_repository else ""
        self.notify(
            f"{label[:1].upper()}{label[1:]}: written to {result.path}{note}",
            title="task ready",
            markup=False,
            timeout=8,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Guided demo", "Present the 7-stage guided demo", self.action_demo)
        yield SystemCommand("Switch theme", "Cycle dark / light / high contrast / nord", self.action_cycle_theme)
        yield SystemCommand("Help", "Keys and the impact formula", self.action_help)
        yield SystemCommand("Clusters", "Issues that mean the same, ranked by cluster impact", self.action_clusters)
        yield SystemCommand(
            "Improvement",
            "Did the fixes work? Pass rate per Harbor run, recurrence around each fix",
            self.action_improvement,
        )
        yield SystemCommand(
            "Analyze", "Cluster look-alike issues (offline embedder unless OPENAI_API_KEY is set)", self.run_analyze
        )
        write = getattr(screen, "action_write_task", None)
        if write is not None:
            yield SystemCommand("Write Harbor task", "Materialize the selected issue as a Harbor task", write)
        reload_ = getattr(screen, "action_reload", None)
        if reload_ is not None:
            yield SystemCommand("Reload issues", "Re-read the ranked issues", reload_)


def make_app(
    sessions: list[str] | None = None,
    db: str | None = None,
    *,
    demo: bool = False,
    auto: float | None = None,
    theme: str | None = None,
    source: Source | None = None,
    load: bool = True,
) -> CclApp:
    """Build the app: the CLI, tests and the screenshot script all come through here."""
    from ccl_tui.tui.launch import choose_source

    src = source or choose_source(sessions, db, demo=demo)
    return CclApp(src, mode="demo" if demo else "triage", auto=auto, theme=theme, load=load)
