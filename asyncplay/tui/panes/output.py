"""The output pane: the run's stdout and stderr, drawn line by line from the model.

A line-API widget like Textual's own ``Log``: it keeps no copy of the output, only a view
over the model's bounded deque, and renders just the rows on screen. The app calls
``sync`` on its steady tick; nothing happens per event. Each line shows the task that
printed it; stderr is coloured; a traceback's ``File "...", line N`` in the program's own
file can be jumped to (Enter, or a click). asyncplay's own warnings about the run (a task
never awaited, cut off, blocking the loop, a deadlock) follow the output, each pointing at
its line.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from asyncplay.model import OutputLine, RunModel
from asyncplay.tui.ending_words import sentence
from asyncplay.tui.panes.task_view import name_cell, name_width
from asyncplay.tui.panes.virtual_size import set_virtual_size
from asyncplay.views.summary import stale_figures
from asyncplay.views.text_cells import clean

TASK_WIDTH = 10  # cells for the task column (the least: it grows to the names that print)
MAX_TASK_WIDTH = 17  # ... up to this, and a fifth of the pane
MAX_LINE_CHARS = 2_000  # a longer line is shown cut (copying takes it whole)
MAX_WARNING_ROWS = 100  # asyncplay's own warnings listed under the output
_FILE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_WARN_LINE = re.compile(r"^(?P<file>/[^:]+\.py):(?P<line>\d+): \w*Warning")

STDERR_STYLE = Style(color="red", italic=True)  # italic survives NO_COLOR
TASK_STYLE = Style(dim=True)
NOTE_STYLE = Style(italic=True, dim=True)
WARNING_STYLE = Style(color="yellow", bold=True)
INPUT_STYLE = Style(color="cyan", italic=True)  # what the user typed (echoed), as input
_STREAM_STYLE = {"stderr": STDERR_STYLE, "asyncplay": WARNING_STYLE, "stdin": INPUT_STYLE}
INPUT_LABEL = "typed"  # the task column of an echoed line: the user's, not a task's
CURSOR_STYLE = Style(reverse=True)


def find_location(text: str) -> tuple[str, int] | None:
    """The (file, line) a traceback or warning line points at, if it names one."""
    match = _FILE_LINE.search(text) or _WARN_LINE.search(text)
    if match is None:
        return None
    return match.group("file"), int(match.group("line"))


def overwrite_returns(text: str) -> str:
    """A lone carriage return as a terminal does it: what follows overwrites the line from
    its start, so a progress bar shows its latest state (``10%\r50%`` reads ``50%``)."""
    if "\r" not in text:
        return text
    shown = ""
    for part in text.split("\r"):
        shown = part + shown[len(part) :]
    return shown


def _cells(text: str) -> int:
    """About the cells a line takes drawn (tabs expanded, CJK and emoji two each), so a
    long line can be scrolled to its end; bounded like the cut a long line gets."""
    text = text[: MAX_LINE_CHARS + 20]
    if "\t" in text:
        text = text.expandtabs()
    return len(text) if text.isascii() else cell_len(text)


class OutputPane(ScrollView, can_focus=True):
    """The run's output; up/down move a cursor line, Enter jumps to the line it names."""

    DEFAULT_CSS = """
    OutputPane { background: $surface; overflow-x: auto; overflow-y: scroll; }
    OutputPane:focus { background-tint: $foreground 5%; }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First line", show=False),
        Binding("end", "edge(1)", "Last line", show=False),
        Binding("left", "sideways(-1)", "Scroll left", show=False),
        Binding("right", "sideways(1)", "Scroll right", show=False),
        Binding("enter", "jump", "Go to line"),
        Binding("y", "copy_line", "Copy line"),
        Binding("a", "copy_all", "Copy all"),
    ]

    class Jump(Message):
        """A line of the program's file was chosen from the output (1-based)."""

        def __init__(self, line: int) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: RunModel | None = None
        self.program: str | None = None  # absolute path the run's code was compiled under
        self._program_ref = ""
        self._program_short = ""
        self.task_filter: int | None = None
        self._view: Sequence[OutputLine] = ()
        self._tail: list[OutputLine] = []  # lines still growing (in the view, never cached)
        self._warnings: list[tuple[OutputLine, str | None, int | None]] = []
        self._end: list[OutputLine] = []  # how the run ended, in asyncplay's words, wrapped
        self._note: str | None = None  # first row: "N lines dropped" or the filter
        self.origin: str | None = None  # the run's file, once the editor shows another
        self._first_abs = 0  # absolute number of _view[0] (unfiltered)
        self._state: tuple = ()
        self._width = 0
        self._measured = 0  # absolute line count whose widths are in _width
        self._gutter = TASK_WIDTH  # the task column: its widest name that printed, and a gap
        self._cache: LRUCache[OutputLine, Strip] = LRUCache(1024)
        self.cursor: int | None = None  # row in the view (note row included)
        self.follow = True

    # ---- fed by the app's tick ---------------------------------------------------------

    def show(self, model: RunModel | None, program: str | None = None) -> None:
        """Point the pane at a (new) run's model."""
        self.model = model
        self.program = os.path.abspath(program) if program else None
        # a traceback names the program's file by its full path: shown by its name (the
        # line number is what matters, and it must fit); jumping still uses the full text
        self._program_ref = f'"{self.program}"' if self.program else ""
        self._program_short = f'"{os.path.basename(self.program)}"' if self.program else ""
        self.task_filter = None
        self.origin = None
        self._width = 0
        self._measured = 0
        self._gutter = TASK_WIDTH
        self.cursor = None
        self.follow = True
        self._state = ()
        self._cache.clear()
        self.sync()

    def set_origin(self, name: str | None) -> None:
        """The editor now shows another file: the first row says whose output this is."""
        self.origin = name
        self._state = ()
        self.sync()

    def set_filter(self, task: int | None) -> None:
        self.task_filter = task
        self._state = ()
        self._cache.clear()
        self.cursor = None
        self.follow = True
        self.sync()

    def sync(self) -> None:
        """Catch up with the model: cheap when nothing changed since the last tick."""
        m = self.model
        if m is None:
            if self._state != ("empty",):
                self._state = ("empty",)
                self._view, self._note = (), None
                self.virtual_size = Size(0, 0)
                self.refresh()
            return
        total = m.dropped_lines + len(m.output)
        tail = list(m.partial.values())
        state = (
            id(m),
            total,
            self.task_filter,
            self.origin,
            m.warnings_version,  # also bumped when a slow step's warning is updated
            tuple((id(x), len(x.text)) for x in tail),
            id(m.end),
            self.size.width,
            self.visible_rows,  # a horizontal scrollbar came or went: the end moved
        )
        if state == self._state:
            return
        self._state = state
        if self.task_filter is None:
            self._view = m.output
            self._first_abs = m.dropped_lines
            self._note = (
                f"... {m.dropped_lines:,} earlier lines dropped" if m.dropped_lines else None
            )
        else:
            tid = self.task_filter
            self._view = [line for line in m.output if line.task == tid]
            info = m.tasks.get(tid)
            label = clean(info.name) if info is not None else f"task {tid}"
            self._note = f"only {label}'s lines (F8 shows all)"
        if self.origin is not None:
            mark = f"output of the run of {self.origin} (not the file in the editor)"
            self._note = f"{mark}; {self._note}" if self._note else mark
        self._warnings = self._warning_rows(m)
        self._end = self._end_rows(m)
        self._tail = tail  # an input() prompt shows before its line is finished
        gutter = self._gutter
        printed: set[int | None] = set()
        for line in tail:
            self._width = max(self._width, _cells(line.text))
            printed.add(line.task)
        new = total - max(self._measured, m.dropped_lines)
        if new > 0:
            out = m.output
            for i in range(max(0, len(out) - new), len(out)):
                width = _cells(out[i].text)
                if width > self._width:
                    self._width = width
                printed.add(out[i].task)
            self._measured = total
        most = max(TASK_WIDTH, min(MAX_TASK_WIDTH, self.scrollable_content_region.width // 5))
        for task in printed:
            gutter = max(gutter, name_width(self._label(task), 0, most - 1) + 1)
        if gutter != self._gutter:  # a longer name printed: every row's column moves
            self._gutter = gutter
            self._cache.clear()
        rows = self.row_count
        set_virtual_size(self, Size(self._width + self._gutter + 1, rows))
        if self.follow:
            self.cursor = None
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            # A line wider than the pane brings the horizontal scrollbar, which takes the
            # bottom row: only known once laid out, so the end is sought again then.
            self.call_after_refresh(self._keep_following)
        self.refresh()

    def _keep_following(self) -> None:
        if self.follow and self.scroll_offset.y != self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    @property
    def task_column(self) -> int:
        """Cells of the task column (the gap after it included)."""
        return self._gutter

    @property
    def visible_rows(self) -> int:
        """Rows the reader sees: the pane less its horizontal scrollbar, when it has one."""
        return max(1, self.scrollable_content_region.height)

    def _warning_rows(self, m: RunModel) -> list[tuple[OutputLine, str | None, int | None]]:
        rows = []
        for ev in m.warnings:
            if self.task_filter is not None and ev.get("task") != self.task_filter:
                continue
            if len(rows) == MAX_WARNING_ROWS:
                more = len(m.warnings) - MAX_WARNING_ROWS
                text = f"asyncplay: ... and {more:,} more warnings like these"
                rows.append((OutputLine("asyncplay", text, None, 0.0), None, None))
                break
            file, line = ev.get("file"), ev.get("line")
            where = f" ({os.path.basename(file)}:{line})" if file and line else ""
            text = f"asyncplay: {ev.get('message', ev.get('kind', 'warning'))}{where}"
            rows.append(
                (OutputLine("asyncplay", text, ev.get("task"), ev.get("t", 0.0)), file, line)
            )
        return rows

    def _end_rows(self, m: RunModel) -> list[OutputLine]:
        """The end of a run asyncplay decided (a limit, a stop), and the age of a killed
        program's figures (``summary.stale_figures``), wrapped to the pane."""
        if m.end is None:
            return []
        stale = stale_figures(m)  # (before the end's sentence: that one ends the output)
        said = [f"asyncplay: {stale[1]}" if stale else None, sentence(m.end)]
        width = max(20, self.scrollable_content_region.width - self._gutter - 1)
        return [
            OutputLine("asyncplay", row, None, m.now)
            for text in said
            if text
            for row in textwrap.wrap(text, width)
        ]

    @property
    def row_count(self) -> int:
        return self._body + (self._note is not None) + len(self._warnings) + len(self._end)

    @property
    def _body(self) -> int:
        return len(self._view)

    def line_at(self, row: int) -> OutputLine | None:
        index = row - (self._note is not None)
        if 0 <= index < len(self._view):
            return self._view[index]
        index -= len(self._view)
        if 0 <= index < len(self._warnings):
            return self._warnings[index][0]
        index -= len(self._warnings)
        if 0 <= index < len(self._end):
            return self._end[index]
        return None

    def text(self) -> str:
        """All the output the pane holds, warnings included (for copying)."""
        lines = [line.text for line in self._view]
        lines += [w[0].text for w in self._warnings]
        if self._end:
            lines.append(" ".join(line.text for line in self._end))
        return "\n".join(lines)

    # ---- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if row >= self.row_count:
            return Strip.blank(width, base)
        strip = self._row_strip(row, base)
        if row == self.cursor and self.has_focus:
            strip = strip.apply_style(CURSOR_STYLE)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _row_strip(self, row: int, base: Style) -> Strip:
        note = self._note is not None
        if note and row == 0:
            return Strip([Segment(self._note or "", base + NOTE_STYLE)])
        line = self.line_at(row)
        if line is None:
            return Strip.blank(0)
        # Keyed by the line object itself: the cache keeps it alive, so no id is reused.
        # An unfinished line still grows: never cached.
        growing = line in self._tail
        cached = None if growing else self._cache.get(line)
        if cached is not None:
            return cached
        # a CJK or tab name keeps its column; a long one loses its middle (consu~er-1)
        name = INPUT_LABEL if line.stream == "stdin" else self._label(line.task)
        label = name_cell(name, self._gutter - 1) + " "
        raw = overwrite_returns(line.text)
        if self._program_ref and self._program_ref in raw:  # the program's own file: its name
            raw = raw.replace(self._program_ref, self._program_short)
        if len(raw) > MAX_LINE_CHARS:
            raw = raw[:MAX_LINE_CHARS] + f" ... ({len(line.text) - MAX_LINE_CHARS:,} more)"
        text = clean(raw.expandtabs(), "?")  # no escape, C1 or bidi override reaches the terminal
        style = base + _STREAM_STYLE[line.stream] if line.stream in _STREAM_STYLE else base
        strip = Strip(
            [Segment(label, base + TASK_STYLE), Segment(text, style)],
            self._gutter + cell_len(text),
        )
        if not growing:
            self._cache[line] = strip
        return strip

    def _label(self, task: int | None) -> str:
        """The name the task column shows for a line printed by ``task`` (clean)."""
        if task is None or self.model is None:
            return ""
        info = self.model.tasks.get(task)
        return clean(info.name) if info is not None else str(task)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # ---- moving and jumping ------------------------------------------------------------

    def _set_cursor(self, row: int) -> None:
        rows = self.row_count
        if not rows:
            return
        self.cursor = max(0, min(rows - 1, row))
        self.follow = self.cursor == rows - 1
        self.scroll_to_region_row(self.cursor)
        self.refresh()

    def scroll_to_region_row(self, row: int) -> None:
        top = self.scroll_offset.y
        height = self.visible_rows
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def _current(self) -> int:
        if self.cursor is not None:
            return self.cursor
        return max(0, min(self.row_count - 1, self.scroll_offset.y + self.visible_rows - 1))

    def action_move(self, delta: int) -> None:
        self._set_cursor(self._current() + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self._current() + direction * max(1, self.visible_rows - 1))

    def action_sideways(self, direction: int) -> None:
        """Left/Right scroll a long line into view (lines never wrap: one row per line)."""
        step = max(4, (self.size.width - self._gutter) // 2)
        self.scroll_to(x=max(0, self.scroll_offset.x + direction * step), animate=False)

    def action_edge(self, end: int) -> None:
        self._set_cursor(self.row_count - 1 if end else 0)

    def location(self, row: int) -> int | None:
        """The program's line (1-based) that output row ``row`` points at, if any."""
        line = self.line_at(row)
        if line is None or self.program is None:
            return None
        index = row - (self._note is not None) - self._body
        if 0 <= index < len(self._warnings):
            _line, file, number = self._warnings[index]
            if not file or not number:
                return None
            return number if os.path.abspath(file) == self.program else None
        found = find_location(line.text)
        if found is None:
            return None
        file, number = found
        if os.path.abspath(file) != self.program:
            return None
        return number

    def action_jump(self) -> None:
        if self.cursor is None:
            return
        number = self.location(self.cursor)
        if number is not None:
            self.post_message(self.Jump(number))
        else:
            self.notify("This line names no line of the program.", severity="warning")

    def on_click(self, event: events.Click) -> None:
        row = event.y + self.scroll_offset.y
        if row < self.row_count:
            self._set_cursor(row)
            number = self.location(row)
            if number is not None:
                self.post_message(self.Jump(number))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_copy_line(self) -> None:
        line = self.line_at(self._current())
        if line is not None:
            self.app.copy_to_clipboard(line.text)
            self.notify("Copied the line (OSC 52).")

    def action_copy_all(self) -> None:
        self.app.copy_to_clipboard(self.text())
        self.notify(f"Copied {len(self._view):,} lines of output (OSC 52).")
