"""The status line: run state, elapsed time, how the run ended, Python and sandbox."""

from __future__ import annotations

import time

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from asyncplay.model import RunModel
from asyncplay.tui.ending_words import status_text

STATE_STYLE = {
    "running": "bold green",
    "starting": "bold green",
    "stopping": "bold yellow",
    "ended": "bold",
    "paused": "bold black on yellow",
}


Part = list[tuple[str, str]]  # (text, style) pieces of one part of the line


def status_line(
    model: RunModel | None,
    elapsed: float,
    python: str,
    sandbox: str | None,
    note: str | None = None,
    stopping: bool = False,
    width: int | None = None,
    urgent: bool = False,
    paused: list[str] | None = None,
    live: int | None = None,
) -> Text:
    """The status text; pure, so tests and snapshots see exactly what users see.

    Laid out for ``width`` cells (None: no limit), parts by priority: the run's state,
    then the note, then Python, then the sandbox. A part too long is shortened (its
    short form, or the note cut after a word, ``...``) or left out whole; nothing is cut
    mid-word. An ``urgent`` note (a one-off message, for a few seconds) goes before the
    Python version and the sandbox; the buffer's name, after Python. ``paused``: the
    pause line's forms, longest first (``views/stepping.pause_forms``), in the state's
    place: the longest that fits. ``live``: the program's live tasks, if counted already
    (:class:`LiveCount`).
    """
    head = _state(model, elapsed, stopping, live)
    if paused:
        fits = [f for f in paused if width is None or cell_len(f) <= width]
        line = fits[0] if fits else paused[-1]
        word, _, rest = line.partition(" ")
        head = [(word, STATE_STYLE["paused"]), (f" {rest}" if rest else "", "")]
    if width is not None:
        head = _fit_state(head, width)
    version = model.python if model and model.python else python
    facts = [
        [[(f"Python {version}", "")], [(f"py{version}", "")]],
        [[(f"sandbox {sandbox}", "")], [(f"sandbox {sandbox.split('+')[0]}", "")]]
        if sandbox
        else [],
    ]
    said = [[(note, "italic")]] if note else []
    parts = [p for p in (said, *facts) if p]  # in the order shown
    # ... and in the order kept: a one-off message first; the buffer's name after Python
    keep = [said, *facts] if urgent else [facts[0], said, facts[1]]
    order = [next(i for i, p in enumerate(parts) if p is k) for k in keep if k]
    text = Text(no_wrap=True, overflow="ellipsis")
    for piece, style in head:
        text.append(piece, style=style)
    room = None if width is None else width - cell_len(text.plain)
    if room is None or _fits([forms[0] for forms in parts], room, "  |  "):
        for forms in parts:
            _append(text, "  |  ", forms[0])
        return text
    # Each part's shortest form first, in priority order (what does not fit is left out;
    # an urgent note as whole as it fits), then each made as full as the room left
    # allows, the note first.
    options = [
        forms if forms is not said else _shortened(note or "", room - 3, keep_end=not urgent)
        for forms in parts
    ]
    chosen: list[Part | None] = [None] * len(parts)
    for index in order:
        forms = options[index]
        # an urgent note takes its fullest form that fits before the facts get any room
        fitting = [f for f in forms if _cost(f) <= room]
        if fitting:
            chosen[index] = fitting[0] if urgent and parts[index] is said else fitting[-1]
            room -= _cost(chosen[index])
    upgrades = sorted(order, key=lambda i: parts[i] is not said)  # the note first
    for index in upgrades:
        forms, current = options[index], chosen[index]
        if current is None:
            continue
        for form in forms:
            if _cost(form) - _cost(current) <= room:
                room -= _cost(form) - _cost(current)
                chosen[index] = form
                break
    for form in chosen:
        if form is not None:
            _append(text, " | ", form)
    return text


def _state(model: RunModel | None, elapsed: float, stopping: bool, live: int | None) -> Part:
    """The run's state in a few words (the full sentence of an ending is in the Output)."""
    if model is None:
        return [("ready", "bold")]
    if model.status == "ended" and model.end is not None:
        end = model.end
        code = end.get("exit_code")
        head, _, rest = status_text(end, model.limits, model.now).partition(" - ")
        part = [(head, "bold green" if code == 0 else "bold red")]
        return part + [(f" - {rest}", "")] if rest else part
    # Before the program's runtime says hello (the sandbox and the interpreter start, a
    # second or more on a busy machine) the time is the wall clock's; the program's own
    # clock then starts from 0: "running" would have counted 2.8 s, then 2.4 s.
    starting = model.protocol is None and not model.tasks
    state = "stopping" if stopping else "starting" if starting else "running"
    part = [(state, STATE_STYLE[state]), (f" {elapsed:.1f}s", "")]
    if starting:
        return part
    if model.tasks:
        user = live_tasks(model) if live is None else live
        part.append((f" - {user} live {'tasks' if user != 1 else 'task'}", ""))
    else:
        part.append((" - no task seen yet", ""))
    if model.waiting_for_input:  # the program blocks reading stdin (the runtime says)
        part.append((WAITS, "bold yellow"))
    return part


def live_tasks(model: RunModel) -> int:
    """The program's tasks not finished (asyncio's own not counted): one look at each."""
    return sum(1 for t in model.tasks.values() if not t.internal and not t.finished)


class LiveCount:
    """:func:`live_tasks` for the status line of a running model, counted again when a task
    was added or the run's status changed, else at most every :attr:`every` seconds (of
    the wall's clock) while the run steps: a look at 10,000 tasks each tick was a
    millisecond of every tick."""

    every = 0.25

    def __init__(self) -> None:
        self._key: tuple = ()
        self._steps = -1
        self._at = 0.0
        self._count = 0

    def __call__(self, model: RunModel) -> int:
        clock = time.monotonic()
        key = (id(model), len(model.tasks), model.status, len(model.warnings))
        steps = model.steps
        fresh = key == self._key and (steps == self._steps or clock - self._at < self.every)
        if not fresh:
            self._key, self._steps, self._at = key, steps, clock
            self._count = live_tasks(model)
        return self._count


TASK_COUNT = ("live task", "live tasks", "no task seen yet")
WAITS = " - waits for input: Ctrl+L to type"
WAITS_SHORT = " - input? Ctrl+L"


def _fit_state(part: Part, width: int) -> Part:
    """The state in ``width`` cells: the task count left out, then the input hint
    shortened, then words dropped from the end, marked ``...`` (never a word cut)."""
    if _over(part, width):
        part = [(p, s) for p, s in part if not p.endswith(TASK_COUNT)]
    if _over(part, width):
        part = [(WAITS_SHORT if p == WAITS else p, s) for p, s in part]
    while _over(part, width) and part:
        piece, style = part[-1]
        words = piece.rstrip(".").split(" ")
        if len([w for w in words if w]) > 1:
            part[-1] = (" ".join(words[:-1]).rstrip(" -;,:") + "...", style)
        elif len(part) > 1:
            part.pop()
        else:
            break
    return part


def _over(part: Part, width: int) -> bool:
    return sum(cell_len(p) for p, _s in part) > width


def _cost(part: Part) -> int:
    return 3 + sum(cell_len(piece) for piece, _style in part)  # " | " before it


def _fits(parts: list[Part], room: int, gap: str) -> bool:
    return sum(len(gap) + sum(cell_len(p) for p, _s in part) for part in parts) <= room


def _append(text: Text, gap: str, part: Part) -> None:
    text.append(gap)
    for piece, style in part:
        text.append(piece, style=style)


def _shortened(note: str, room: int, keep_end: bool) -> list[Part]:
    """The note whole, then shorter, longest first, cut at a word (or a ``/``): a message
    keeps its start (``settings saved...``); the buffer's name its end, where the file's
    or snippet's name is (``...snippet sequential``)."""
    forms = [note]
    if keep_end:
        path = min((i for i in (note.find("/"), note.find("~/")) if i >= 0), default=-1)
        head, tail = (note[:path], note[path:]) if path >= 0 else ("", note)
        cuts = "/" if path >= 0 else " "  # a path keeps its file's name whole
        for index, char in enumerate(tail):
            if char in cuts and 0 < index < len(tail) - 1:
                forms.append(head + "..." + tail[index + (char == " ") :])
    else:
        words = note.split(" ")
        for end in range(len(words) - 1, 1, -1):
            forms.append(" ".join(words[:end]).rstrip(";,:") + "...")
    fitting = [form for form in forms if cell_len(form) <= room] or forms[-1:]
    return [[(form, "italic")] for form in fitting]


class StatusBar(Static):
    """Updated on the app's tick; only repaints when its text changed."""

    DEFAULT_CSS = """
    StatusBar { width: 1fr; height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last = ""

    def show(self, text: Text) -> None:
        if text.plain != self._last:
            self._last = text.plain
            # One line of the screen's width whatever it says: repainted, never laid out
            # again (a layout of the whole screen, 15-40 ms, at every tick of a run).
            self.update(text, layout=False)

    @property
    def plain(self) -> str:
        return self._last
