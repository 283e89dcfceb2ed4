"""Typed access to the running ccl-tui app and its hub, for screens and widgets.

Textual types ``self.app`` as ``App[object]``; the app's own attributes (``hub``, ``data_changed``,
``write_task``...) need the concrete class. Mix :class:`CclAccess` in before the Textual base class::

    class IssuesScreen(CclAccess, Screen[None]): ...

and use ``self.ccl`` (the :class:`~ccl_tui.tui.app.CclApp`) and ``self.hub`` (its :class:`~ccl_tui.tui.hub.Hub`).
The mixin is a plain ``MessagePump``, not a ``DOMNode``: the Textual base after it keeps providing the styles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.message_pump import MessagePump

if TYPE_CHECKING:  # the app module imports the screens lazily; importing it here at runtime would be a cycle
    from ccl_tui.tui.app import CclApp
    from ccl_tui.tui.hub import Hub


class CclAccess(MessagePump):
    """``ccl``: the running :class:`CclApp`; ``hub``: its door to the core."""

    @property
    def ccl(self) -> CclApp:
        """The running app, typed (every screen and widget of ccl-tui runs inside a ``CclApp``)."""
        return cast("CclApp", self.app)

    @property
    def hub(self) -> Hub:
        """The app's :class:`Hub`: loading state, queries and actions on the store."""
        return self.ccl.hub
