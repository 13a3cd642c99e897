"""The run's standard input: one line at a time, and end-of-file on a key."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message

from asyncplay.tui.textual_private.key_order import InOrderInput


class StdinBox(InOrderInput):
    """Enter sends the line (with its newline) to the running program; ctrl+d sends EOF."""

    DEFAULT_CSS = """
    StdinBox { height: 1; border: none; padding: 0 1; background: $boost; }
    StdinBox:focus { border: none; background-tint: $foreground 8%; }
    """

    BINDINGS = [
        Binding("ctrl+d", "eof", "Send EOF"),
    ]

    class Line(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class EndOfFile(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="stdin (Ctrl+L): type a line for input(), Enter sends it", id=id
        )

    async def action_submit(self) -> None:
        self.post_message(self.Line(self.value))
        self.value = ""

    def action_eof(self) -> None:
        self.post_message(self.EndOfFile())
