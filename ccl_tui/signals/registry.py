"""The one place detectors are registered. Each is a small pure function ``(view, thresholds) -> signals``."""

from __future__ import annotations

from collections.abc import Callable

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.signals import Signal
from ccl_tui.signals.session_view import SessionView

Detector = Callable[[SessionView, SignalThresholds], list[Signal]]

#: kind -> detector, in the order they run (delight detectors may read the friction found before them).
DETECTORS: dict[str, Detector] = {}


def detector(kind: str) -> Callable[[Detector], Detector]:
    def register(fn: Detector) -> Detector:
        if kind in DETECTORS:
            raise ValueError(f"two detectors for {kind!r}")
        DETECTORS[kind] = fn
        return fn

    return register


def load_all() -> dict[str, Detector]:
    """Import the detector modules (registration happens on import) and return the registry."""
    from ccl_tui.signals import delight, friction  # noqa: F401

    return DETECTORS
