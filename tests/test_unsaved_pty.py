"""No lost edits, end to end: the real command in tmux, typing, quitting, killing
(SIGKILL, SIGHUP), then every typed text looked for on disk (issue 13's scenarios)."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest
from test_tui_pty import Tmux, others, wait_gone

pytestmark = pytest.mark.skipif(
    not any(
        os.access(os.path.join(d, "tmux"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)
    ),
    reason="tmux is not installed",
)


class Term(Tmux):
    """Tmux whose ``wait_screen`` also finds a needle a dialog or toast wrapped."""

    def wait_screen(self, needle: str, name: str = "app", timeout: float = 30) -> str:
        """Wait for ``needle``, also when a dialog or toast wrapped it over lines."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(name)
            if needle in text or needle in flat(text) or needle in flat(toasts(text)):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the screen:\n{text}")
            time.sleep(0.1)

    def quit(self, pid: int, name: str = "app") -> None:
        self.keys("C-q", name=name)
        wait_gone(pid)


def toasts(screen: str) -> str:
    """The text right of a toast's left edge (``▌``), line by line: a toast over a pane
    whose own text goes on beside it (the Lesson view) reads whole."""
    return "\n".join(line.rsplit("▌", 1)[1] for line in screen.splitlines() if "▌" in line)


def flat(screen: str) -> str:
    """The screen's words in one line: borders and line breaks dropped."""
    drawn = "".join(" " if 0x2500 <= ord(c) <= 0x259F else c for c in screen)
    return " ".join(drawn.split())


@pytest.fixture
def term(tmp_path):
    t = Term(tmp_path, 100, 30)
    yield t
    t.kill_server()
    deadline = time.monotonic() + 20  # a hung-up app takes a moment to end
    while others(set()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert others(set()) == [], "a process of the app was left"


def restored(screen: str, name: str, note: str = "restored your unsaved edits") -> bool:
    """The status line says the edits came back: its note (shown for a few seconds, which
    a loaded machine may outlast), the toast over it, or the buffer marked unsaved."""
    text = flat(screen)
    return note in text or "brought back" in text or f"{name} *" in screen


def kept_texts(home: Path) -> list[str]:
    """The text of every unsaved buffer kept on disk."""
    texts = []
    for path in sorted((home / "unsaved").glob("*.json")):
        texts.append(json.loads(path.read_text())["text"])
    return texts


def wait_kept(home: Path, marker: str, timeout: float = 10.0) -> float:
    """Poll the disk until an unsaved entry holds ``marker``; the seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        try:
            if any(marker in t for t in kept_texts(home)):
                return time.monotonic() - start
        except (OSError, ValueError):
            pass  # a file renamed or half-listed this instant: look again
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} never reached the disk: {kept_texts(home)}")
        time.sleep(0.02)


def make(path: Path, text: str = "print('saved')\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_edits_to_one_file_survive_editing_another(term, tmp_path) -> None:
    """Scenario 1: lab1 edited, quit, lab2 edited, quit: lab1's edits still there, and
    ``asyncplay`` alone reopens the last buffer with its edits."""
    lab1 = make(tmp_path / "p1" / "lab1.py")
    lab2 = make(tmp_path / "p2" / "lab2.py")
    pid = term.start("p1/lab1.py")
    term.wait_screen("print('saved')")
    term.type("# kept-one")
    term.quit(pid)
    pid = term.start("p2/lab2.py", name="two")
    term.wait_screen("print('saved')", name="two")
    term.type("# kept-two", name="two")
    term.quit(pid, name="two")
    texts = kept_texts(term.home)
    assert any("# kept-one" in t for t in texts) and any("# kept-two" in t for t in texts)
    assert lab1.read_text() == lab2.read_text() == "print('saved')\n"  # never written
    pid = term.start("p1/lab1.py", name="three")
    screen = term.wait_screen("# kept-one", name="three")
    assert restored(screen, "lab1.py")
    term.quit(pid, name="three")
    pid = term.start(name="four")  # no argument: the last buffer
    screen = term.wait_screen("# kept-one", name="four")  # lab1 was the last one open
    assert restored(screen, "lab1.py", "restored your last buffer")
    term.quit(pid, name="four")


def test_three_main_py_in_three_folders_keep_their_own_edits(term, tmp_path) -> None:
    """Scenario 2, through Ctrl+O and ``asyncplay OTHER``: no edits overwrite others."""
    for folder in "abc":
        make(tmp_path / folder / "main.py")
    pid = term.start("a/main.py")
    term.wait_screen("print('saved')")
    term.type("# edit-a")
    term.keys("C-o")
    term.wait_screen("Open file")
    term.type("b/main.py")
    term.keys("Enter")
    term.wait_screen("are kept")
    term.type("# edit-b")
    term.quit(pid)
    pid = term.start("c/main.py", name="c")
    term.wait_screen("print('saved')", name="c")
    term.type("# edit-c", name="c")
    term.quit(pid, name="c")
    texts = kept_texts(term.home)
    assert len(texts) == 3
    for marker in ("# edit-a", "# edit-b", "# edit-c"):
        assert sum(marker in t for t in texts) == 1, (marker, texts)
    pid = term.start("b/main.py", name="b")
    screen = term.wait_screen("# edit-b", name="b")
    assert restored(screen, "main.py") and "# edit-a" not in screen
    term.quit(pid, name="b")


@pytest.mark.parametrize("ending", ["A quits first", "B quits first", "SIGKILL A, SIGHUP B"])
def test_two_playgrounds_on_one_file_keep_both_sides(term, tmp_path, ending) -> None:
    """Scenario 3: the second is told (swap-file style), edits a separate copy; both
    sides' edits survive whatever order they end in."""
    make(tmp_path / "lab.py")
    a = term.start("lab.py", name="A")
    term.wait_screen("print('saved')", name="A")
    term.type("# from-A", name="A")
    wait_kept(term.home, "# from-A")
    b = term.start("lab.py", name="B")
    screen = term.wait_screen("is already open", name="B")
    assert "with unsaved edits" in flat(screen)
    term.keys("c", name="B")
    term.wait_screen("a copy of lab.py", name="B")
    term.type("# from-B", name="B")
    wait_kept(term.home, "# from-B")
    if ending == "A quits first":
        term.quit(a, name="A")
        term.quit(b, name="B")
    elif ending == "B quits first":
        term.quit(b, name="B")
        term.quit(a, name="A")
    else:
        os.kill(a, signal.SIGKILL)
        wait_gone(a)
        term.tmux("kill-session", "-t", "B")  # the SSH connection drops: SIGHUP
        wait_gone(b)
    texts = kept_texts(term.home)
    assert any("# from-A" in t and "# from-B" not in t for t in texts), texts
    assert any("# from-B" in t and "# from-A" not in t for t in texts), texts
    # A's file comes back with A's edits, and nobody holds it any more.
    pid = term.start("lab.py", name="again")
    screen = term.wait_screen("# from-A", name="again")
    assert restored(screen, "lab.py")
    term.quit(pid, name="again")


def test_read_only_view_of_a_file_open_elsewhere(term, tmp_path) -> None:
    make(tmp_path / "lab.py")
    a = term.start("lab.py", name="A")
    term.wait_screen("print('saved')", name="A")
    term.type("# from-A", name="A")
    wait_kept(term.home, "# from-A")
    b = term.start("lab.py", name="B")
    term.wait_screen("is already open", name="B")
    term.keys("r", name="B")
    term.wait_screen("(read-only)", name="B")
    term.type("# typed-in-B", name="B")
    term.quit(b, name="B")
    term.quit(a, name="A")
    texts = kept_texts(term.home)
    assert texts and all("# typed-in-B" not in t for t in texts)
    assert any("# from-A" in t for t in texts)


def test_autosave_delay_and_sigkill_loses_nothing_typed_before_it(term, tmp_path) -> None:
    """Edits reach the disk within about a second of the last keystroke (not only on Run
    or quit): a SIGKILL after that loses nothing."""
    make(tmp_path / "lab.py")
    pid = term.start("lab.py")
    term.wait_screen("print('saved')")
    delays = []
    for n in range(3):
        term.type(f"# typed-{n} ")
        delays.append(wait_kept(term.home, f"# typed-{n} "))
    print(f"autosave delay after the last keystroke: {[round(d, 2) for d in delays]} s")
    assert max(delays) < 2.0, delays  # 0.4 s debounce + a write; generous on a busy box
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    pid = term.start("lab.py", name="again")
    screen = term.wait_screen("# typed-2", name="again")
    assert restored(screen, "lab.py")
    term.quit(pid, name="again")


def test_unsaved_work_is_listed_opened_and_discarded_on_request(term, tmp_path) -> None:
    make(tmp_path / "one.py", "one = 1\n")
    make(tmp_path / "two.py", "two = 2\n")
    for name in ("one", "two"):
        pid = term.start(f"{name}.py", name=name)
        term.wait_screen(f"{name} = ", name=name)
        term.keys("End", name=name)
        term.type(f"  # changed-{name}", name=name)
        term.quit(pid, name=name)
    make(tmp_path / "three.py", "three = 3\n")
    pid = term.start("three.py", name="list")
    term.wait_screen("three = 3", name="list")
    term.keys("F2", name="list")
    screen = term.wait_screen("Unsaved work", name="list")
    assert "two.py" in screen and "line 1:" in screen and "ago" in screen
    term.type("two", name="list")  # the filter: only two.py's entry (and no snippet)
    term.wait_screen("Unsaved edits to", name="list")
    term.keys("C-d", name="list")
    term.wait_screen("Discard unsaved edits?", name="list")
    term.keys("y", name="list")
    term.wait_screen("Discarded the unsaved edits", name="list")
    assert not any("changed-two" in t for t in kept_texts(term.home))
    assert any("changed-one" in t for t in kept_texts(term.home))
    term.keys("C-u", name="list")  # clear the filter
    term.type("one.py", name="list")
    term.wait_screen("Unsaved edits to", name="list")
    term.keys("Enter", name="list")  # open it: its edits come back
    screen = term.wait_screen("# changed-one", name="list")
    assert "one = 1" in screen
    term.quit(pid, name="list")


def test_damaged_files_are_moved_aside_each_with_its_own_name_and_said(term, tmp_path) -> None:
    """Scenario 4."""
    home = term.home
    home.mkdir(parents=True)
    make(tmp_path / "x.py")
    for n in range(2):
        (home / "autosave.json").write_text(f"{{damaged {n}")
        (home / "settings.json").write_text(f"[not settings {n}")
        pid = term.start("x.py", name=f"s{n}")
        term.wait_screen("moved aside", name=f"s{n}")
        term.quit(pid, name=f"s{n}")
    assert len(list(home.glob("autosave.json.bad-*"))) == 2
    assert {p.read_text() for p in home.glob("settings.json.bad-*")} == {
        "[not settings 0",
        "[not settings 1",
    }


def test_strange_files_never_followed_blocked_on_or_left_open(term, tmp_path) -> None:
    """Scenario 5: a planted symlink, /dev/zero, a FIFO; folders 0700 under umask 000."""
    home = tmp_path / "deep" / "er" / "home"
    term.home = home
    victim = make(tmp_path / "victim.txt", '{"text": "not yours"}')
    os.chmod(victim, 0o644)
    home.mkdir(parents=True)
    (home / "autosave.json").symlink_to(victim)
    (home / "settings.json").symlink_to("/dev/zero")
    pid = term.start(prefix="umask 000;")
    term.wait_screen("moved aside")
    term.quit(pid)
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert victim.read_text() == '{"text": "not yours"}'
    (home / "autosave.json").unlink()  # the one the quit wrote, in place of the link
    os.mkfifo(home / "autosave.json")
    pid = term.start(name="fifo", prefix="umask 000;")
    term.wait_screen("not a regular file", name="fifo")  # started: the FIFO did not hang it
    term.quit(pid, name="fifo")
    # Folders asyncplay creates are 0700 whatever the umask.
    term.home = tmp_path / "fresh" / "nested" / "home"
    make(tmp_path / "y.py")
    pid = term.start("y.py", name="umask", prefix="umask 000;")
    term.wait_screen("print('saved')", name="umask")
    term.type("# x", name="umask")
    wait_kept(term.home, "# x")
    term.quit(pid, name="umask")
    for folder in (
        tmp_path / "fresh",
        tmp_path / "fresh" / "nested",
        term.home,
        term.home / "unsaved",
    ):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_ctrl_s_on_a_bundled_lesson_proposes_the_current_directory(term, tmp_path) -> None:
    pid = term.start("gather")
    term.wait_screen("gather")
    term.keys("C-s")
    screen = term.wait_screen("Save as (in")
    assert "Save as (in ~," in screen  # HOME is tmp_path, the current directory
    term.type("mine")
    term.keys("Enter")
    term.wait_screen("saved ~/mine.py")
    assert (tmp_path / "mine.py").read_text().startswith('"""gather')
    term.quit(pid)


def test_two_playgrounds_on_two_files_and_asyncplay_alone(term, tmp_path) -> None:
    """Both edited at once, both quit: both kept; ``asyncplay`` alone while another
    playground still has the last buffer open is told so rather than editing it too."""
    make(tmp_path / "lab1.py")
    make(tmp_path / "lab2.py")
    a = term.start("lab1.py", name="A")
    b = term.start("lab2.py", name="B")
    term.wait_screen("print('saved')", name="A")
    term.wait_screen("print('saved')", name="B")
    term.type("# one-A", name="A")
    term.type("# two-B", name="B")
    wait_kept(term.home, "# two-B")
    wait_kept(term.home, "# one-A")
    term.quit(a, name="A")
    term.type(" # more-B", name="B")  # B writes last: the last buffer is lab2 now
    deadline = time.monotonic() + 10  # the entry is written first, then autosave.json
    while not json.loads((term.home / "autosave.json").read_text())["path"].endswith("lab2.py"):
        assert time.monotonic() < deadline, "B's autosave never named lab2.py"
        time.sleep(0.05)
    c = term.start(name="C")
    screen = term.wait_screen("is already open", name="C")
    assert "lab2.py" in flat(screen) and "with unsaved edits" in flat(screen)
    term.keys("r", name="C")
    term.wait_screen("(read-only)", name="C")
    term.quit(c, name="C")
    term.quit(b, name="B")
    texts = kept_texts(term.home)
    assert any("# one-A" in t for t in texts) and any("# two-B" in t for t in texts)


def test_the_snippet_browser_never_drops_the_file_left(term, tmp_path) -> None:
    """F2 to a bundled lesson over an edited file, the lesson's copy edited too, quit:
    both kept; ``asyncplay gather`` brings the edited copy back."""
    make(tmp_path / "lab.py")
    pid = term.start("lab.py")
    term.wait_screen("print('saved')")
    term.type("# file-edit")
    term.keys("F2")
    term.wait_screen("Bundled")
    term.type("gather")
    term.keys("Enter")
    # the toast's first words (the lesson's text beside it would interleave the rest)
    term.wait_screen("Your unsaved edits to")
    term.keys("C-Home")
    term.type("# lesson-edit")
    term.quit(pid)
    texts = kept_texts(term.home)
    assert any("# file-edit" in t for t in texts) and any("# lesson-edit" in t for t in texts)
    pid = term.start("gather", name="again")
    screen = term.wait_screen("# lesson-edit", name="again")
    assert restored(screen, "gather", "restored your edited copy")
    term.quit(pid, name="again")
