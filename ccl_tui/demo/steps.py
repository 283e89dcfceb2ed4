"""Era-neutral building blocks of a session story; the renderers turn them into rollout records."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Patch:
    """One apply_patch call: the freeform ``*** Begin Patch`` input and the matching unified diffs."""

    path: str  # repository-relative
    text: str
    diff: str  # unified diff (update) or file content (add)
    kind: str = "update"  # "update" | "add" | "delete"
    billed: str = ""  # the text whose length the context-token estimate charges, when not ``text`` (patches.py)

    @property
    def stat(self) -> str:
        return {"add": "A ", "delete": "D "}.get(self.kind, "M ") + self.path


@dataclass(slots=True)
class Think:
    summary: str


@dataclass(slots=True)
class Say:
    text: str


@dataclass(slots=True)
class Exec:
    cmd: str
    output: str = ""
    exit_code: int = 0
    seconds: float = 0.2
    justification: str | None = None  # the model asks to run outside the sandbox
    declined: bool = False  # ...and the user said no
    cost: int = 0  # context tokens the output adds (0 = estimate from the text)


@dataclass(slots=True)
class ApplyPatch:
    patch: Patch
    error: str | None = None  # verification failure text
    declined: bool = False
    cost: int = 0


@dataclass(slots=True)
class UpdatePlan:
    steps: list[tuple[str, str]]
    explanation: str | None = None


@dataclass(slots=True)
class Hiccup:
    """Transport trouble the CLI reports as events (only persisted by era C builds)."""

    kind: str  # "stream" (stream_error reconnects, then recovers) | "error" (an error event)
    message: str = ""
    info: object = None
    attempts: int = 2


Step = Think | Say | Exec | ApplyPatch | UpdatePlan | Hiccup


@dataclass(slots=True)
class Turn:
    prompt: str
    steps: list[Step] = field(default_factory=list)
    final: str | None = None
    aborted: bool = False  # the user pressed Esc; ``orphan`` is the call left without output
    orphan: Exec | None = None
    pause: float = 30.0  # seconds the user took before sending the prompt


@dataclass(slots=True)
class Story:
    turns: list[Turn] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # injected root-cause keys, in order of appearance
    secrets: list[str] = field(default_factory=list)  # kinds of planted fake secrets

    def steps(self) -> list[Step]:
        return [step for turn in self.turns for step in turn.steps]
