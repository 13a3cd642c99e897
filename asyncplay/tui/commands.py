"""The app's commands, in one table: its key bindings and its command palette come from it.

A row names the action (``action_<name>`` on the app), its keys (None: the palette's only,
e.g. the await graph has no key of its own), the binding's short description (the footer's
and the help screen's words) and, when the command is in the palette, its title and help
there. :func:`bindings` gives the app's ``BINDINGS``, :func:`palette` its palette commands:
a binding added here is in the palette too (or says, in the table, that it is not), never
typed twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from textual.binding import Binding

__all__ = ["COMMANDS", "Command", "bindings", "key_words", "palette"]


class Command(NamedTuple):
    """One thing the user can ask for: by a key, in the palette, or both."""

    action: str
    keys: str | None  # Textual's key list ("f5,ctrl+r"); None: palette only
    description: str  # the binding's words (footer, help screen)
    title: str | None = None  # the palette's title; None: not in the palette
    help: str = ""  # the palette's line under the title (the keys are added to it)
    show: bool = True  # shown in the footer


# Priority: the editor's own keys must not shadow these (TextArea binds F6 and F7).
# Every key checked against TextArea's and Input's bindings in Textual 8.2: ctrl+c copies a
# selection, else stops the run as in a terminal (action_interrupt); no alt chords (they
# arrive split over slow links). Every F key is taken and TextArea/Input bind ctrl+e, so
# explain is Shift+F1 ("help on this"; xterm, VTE and tmux send ESC [1;2P, which Textual
# reads as shift+f1; it stays ``e`` in the timeline). The order is the
# help screen's.
COMMANDS: tuple[Command, ...] = (
    Command("run", "f5,ctrl+r,ctrl+j", "Run", "Run", "Run the editor's text"),
    Command("stop", "f6,ctrl+t", "Stop", "Stop", "Stop the running program"),
    Command(
        "step",
        "f10",
        "Step",
        "Step",
        "Start the run paused; paused: run one task step; running: pause (F5 continues)",
    ),
    Command("save", "ctrl+s", "Save", "Save", "Save the buffer to its file"),
    Command("help", "f1", "Help", "Help", "Keys and the task table's columns"),
    Command("snippets", "f2", "Snippets", "Snippets", "Browse the bundled and your own snippets"),
    Command("timeline", "f4", "Timeline", "Timeline", "Who ran when, and the await graph"),
    Command(
        "switch_pane",
        "f7",
        "Switch view",
        "Switch view",
        "Output / tasks, or timeline / graph, on small screens",
    ),
    Command(
        "step_back",
        "shift+f10",
        "Step back",
        "Step back",
        "Playback: one recorded task step back",
        show=False,
    ),
    Command("leave_playback", "escape", "Leave playback", show=False),
    Command(
        "explain",
        "shift+f1",
        "Explain",
        "Explain a warning",
        "Why it happened and the usual fix",
        show=False,
    ),
    Command(
        "toggle_breakpoint",
        "ctrl+b",
        "Breakpoint",
        "Toggle a breakpoint",
        "On the editor's line, or on the task chosen in the table, timeline or graph (b)",
        show=False,
    ),
    Command(
        "check",
        "f11",
        "Check",
        "Check the exercise",
        "Run the exercise's checks (virtual clock) and show the verdicts",
        show=False,
    ),
    Command("open_file", "ctrl+o", "Open", "Open file", "Open a Python file", show=False),
    Command(
        "save_as",
        "f12",
        "Save as",
        "Save as",
        "Save the buffer under a new name",
        show=False,
    ),
    Command(
        "filter_output",
        "f8",
        "Filter",
        "Filter output to the selected task",
        "Or show all lines again",
        show=False,
    ),
    Command(
        "settings",
        "f9",
        "Settings",
        "Settings",
        "Limits, Python, theme, sandbox, network",
        show=False,
    ),
    Command("find", "ctrl+f", "Find", "Find", "Find text in the editor", show=False),
    Command(
        "goto_line",
        "ctrl+g",
        "Go to line",
        "Go to line",
        "Move the cursor to a line",
        show=False,
    ),
    Command("find_next", "f3", "Find next", show=False),
    Command("find_previous", "shift+f3", "Find previous", show=False),
    Command("next_pane", "ctrl+n", "Next pane", "Next pane", "Move the focus", show=False),
    Command("focus_stdin", "ctrl+l", "Type to stdin", show=False),
    Command("interrupt", "ctrl+c", "Stop", show=False),
    Command("quit", "ctrl+q", "Quit"),  # the palette has Textual's own Quit
    # The palette's only: no key of the app's own.
    Command(
        "graph",
        None,
        "Await graph",
        "Await graph",
        "Who awaits whom, now or at the timeline's cursor",
    ),
    Command(
        "objects",
        None,
        "Queues, locks and executor jobs",
        "Queues, locks and executor jobs",
        "The program's asyncio objects: who holds each, who waits (Enter: the task)",
    ),
    Command(
        "lesson",
        None,
        "Lesson",
        "The lesson's text",
        "The lesson's or exercise's text beside the code, and an exercise's verdicts",
    ),
    Command(
        "play_back",
        None,
        "Play the run back",
        "Play the run back",
        "The finished run step by step: F5 plays, F10 steps, shift+F10 back, Esc leaves (p)",
    ),
    Command(
        "playback_speed",
        None,
        "Playback speed",
        "Playback speed",
        "0.25x to 4x the recorded pace",
    ),
    Command(
        "saved_version",
        None,
        "Open the saved version",
        "Open the saved version",
        "The file as saved; your unsaved edits stay kept (F2 lists them)",
    ),
    Command(
        "toggle_internal",
        None,
        "Show or hide internal tasks",
        "Show or hide internal tasks",
        "asyncio's own tasks in the table, timeline and graph (i)",
    ),
    Command("copy_output", None, "Copy output", "Copy output", "The whole output, via OSC 52"),
    Command(
        "copy_selection",
        None,
        "Copy selection",
        "Copy selection",
        "The editor's selection, via OSC 52",
    ),
)


def key_words(keys: str) -> str:
    """``f5,ctrl+r`` as the palette says it: ``F5, ctrl+r``."""
    return ", ".join(k.upper() if k[:1] == "f" and k[1:].isdigit() else k for k in keys.split(","))


def bindings(commands: tuple[Command, ...] | None = None) -> list[Binding]:
    """The app's ``BINDINGS``: every row with keys, all priority (see above)."""
    commands = COMMANDS if commands is None else commands
    return [
        Binding(c.keys, c.action, c.description, show=c.show, priority=True)
        for c in commands
        if c.keys is not None
    ]


def palette(
    target: object, commands: tuple[Command, ...] | None = None
) -> Iterator[tuple[str, str, Callable[[], object]]]:
    """``(title, help, callback)`` of every palette row: ``target.action_<name>``."""
    commands = COMMANDS if commands is None else commands
    for c in commands:
        if c.title is None:
            continue
        help_ = f"{c.help} ({key_words(c.keys)})" if c.keys else c.help
        yield c.title, help_, getattr(target, f"action_{c.action}")
