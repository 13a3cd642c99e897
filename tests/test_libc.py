"""``asyncplay/libc.py``: libc through ``_ctypes`` as ``ctypes`` would call it, and a run's
start-up without ``ctypes`` itself (docs/performance.md, the seventh start-up pass).

The private names it uses are checked here on every installed Python: when CPython moves
one, this fails by name.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

import pytest
from helpers import env
from pythons import find_pythons

from asyncplay import libc

CHECK = """
import _ctypes, ctypes, sys
sys.path.insert(0, sys.argv[1])
from asyncplay import libc
missing = [n for n in libc.PRIVATE if not hasattr(_ctypes, n)]
assert not missing, missing
for name in ("c_int", "c_ushort", "c_ulong", "c_uint64", "c_void_p", "c_char"):
    ours, theirs = getattr(libc, name), getattr(ctypes, name)
    assert libc.sizeof(ours) == ctypes.sizeof(theirs), name
    assert ours._type_ == theirs._type_ or name == "c_uint64", name  # (ctypes': an alias)
got = libc.lib().getpid()
assert got == ctypes.CDLL(None, use_errno=True).getpid(), got
assert libc.VIA == "_ctypes", "libc fell back to ctypes: _ctypes moved"
print("ok")
"""


@pytest.mark.parametrize("python", sorted(set(find_pythons().values())))
def test_the_private_names_are_there_on_every_python(python) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(libc.__file__)))
    r = subprocess.run(
        [python, "-c", CHECK, root], env=env(), capture_output=True, text=True, timeout=60
    )
    assert r.stdout == "ok\n", r.stderr[-800:]


def test_a_function_is_ctypes_own_call() -> None:
    """Same results, same errno as ``ctypes.CDLL(None, use_errno=True)``."""
    ours = libc.lib()
    theirs = ctypes.CDLL(None, use_errno=True)
    assert ours.getppid() == theirs.getppid() == os.getppid()
    # A call that fails: errno is kept for get_errno, as with ctypes.
    assert ours.close(-1) == -1 and libc.get_errno() == errno.EBADF
    assert theirs.close(-1) == -1 and ctypes.get_errno() == errno.EBADF
    assert ours.prctl(3, 0, 0, 0, 0) == theirs.prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
    with pytest.raises(AttributeError):
        getattr(ours, "no_such_function_in_libc")  # noqa: B009
    assert libc.lib() is ours and ours.getpid is ours.getpid  # (loaded once, kept)
    assert libc.function("getpid") is not ours.getpid  # (its own, to give argtypes)


def test_a_structure_passed_by_reference() -> None:
    """A structure, ``byref`` and ``sizeof`` as the mounts and Landlock use them; an
    array's ``addressof`` as the seccomp filter's."""

    class Pair(libc.Structure):
        _fields_ = [("a", libc.c_uint64), ("b", libc.c_uint64)]

    class Theirs(ctypes.Structure):
        _fields_ = [("a", ctypes.c_uint64), ("b", ctypes.c_uint64)]

    assert libc.sizeof(Pair) == ctypes.sizeof(Theirs) == 16
    p = Pair(1 << 40, 7)
    r, w = os.pipe()
    try:  # write(2) the structure's bytes, as the kernel reads them through the pointer
        assert libc.lib().write(w, libc.byref(p), libc.sizeof(p)) == 16
        assert os.read(r, 16) == bytes(Theirs(1 << 40, 7))
        buf = (libc.c_char * 5).from_buffer_copy(b"a\0b\0c")
        assert libc.lib().write(w, libc.c_void_p(libc.addressof(buf)), 5) == 5
        assert os.read(r, 5) == b"a\0b\0c"
    finally:
        os.close(r)
        os.close(w)


# A _ctypes that moved (3.16?), simulated before asyncplay.libc is imported: ctypes' own
# calls, the same interface, the guard still on.
MOVED = """
import _ctypes, ctypes, errno, os, sys
sys.path.insert(0, sys.argv[1])
how = sys.argv[2]
if how == "classes":  # a name gone: the classes cannot be made at import
    del _ctypes.CFuncPtr
elif how == "flags":  # a name of another type
    _ctypes.FUNCFLAG_USE_ERRNO = "errno"
else:  # dlopen's arguments changed: libc cannot be opened through it
    def dlopen(*args):
        raise TypeError("dlopen() takes no arguments")
    _ctypes.dlopen = dlopen
from asyncplay import libc, selfguard
assert libc.VIA == ("_ctypes" if how == "dlopen" else "ctypes"), libc.VIA
assert libc.lib().getpid() == os.getpid() and libc.VIA == "ctypes"
assert libc.lib().close(-1) == -1 and libc.get_errno() == errno.EBADF
class Pair(libc.Structure):
    _fields_ = [("a", libc.c_uint64), ("b", libc.c_ulong)]
r, w = os.pipe()
assert libc.lib().write(w, libc.byref(Pair(1 << 40, 7)), libc.sizeof(Pair)) == 16
assert os.read(r, 16) == (1 << 40).to_bytes(8, sys.byteorder) + (7).to_bytes(8, sys.byteorder)
buf = (libc.c_char * 2).from_buffer_copy(b"ab")
assert libc.lib().write(w, libc.c_void_p(libc.addressof(buf)), 2) == 2 and os.read(r, 2) == b"ab"
f = libc.function("getppid")
f.argtypes = []
assert f is not libc.function("getppid") and f() == os.getppid()
assert selfguard.guard() and selfguard.is_guarded()
print("ok")
"""


@pytest.mark.parametrize("how", ["classes", "flags", "dlopen"])
def test_a_moved_ctypes_falls_back_to_ctypes(how) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(libc.__file__)))
    r = subprocess.run(
        [sys.executable, "-c", MOVED, root, how],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout == "ok\n", r.stderr[-800:]


GUARD = """
import sys
sys.path.insert(0, sys.argv[1])
from asyncplay import selfguard
assert not selfguard.is_guarded()
assert selfguard.guard() and selfguard.is_guarded()
print("ok")
"""


@pytest.mark.parametrize("python", sorted(set(find_pythons().values())))
def test_the_guard_holds_on_every_python(python) -> None:
    """Linux always has prctl(PR_SET_DUMPABLE): the guard must hold on each Python (the
    command says so in one line where it does not)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(libc.__file__)))
    r = subprocess.run(
        [python, "-c", GUARD, root], env=env(), capture_output=True, text=True, timeout=60
    )
    assert r.stdout == "ok\n", r.stderr[-800:]


# As the command runs (``main()`` of the real command: the guard first, ``os._exit`` last).
PROBE = """
import os, sys
import asyncplay.cli as cli
out = sys.argv[1]
sys.argv = ["asyncplay", *sys.argv[2:]]
def exit_now(status):
    with open(out, "w") as f:
        f.write(repr({"status": status, "ctypes": "ctypes" in sys.modules}))
    os._exit(status)
cli._exit_now = exit_now
cli.main()
"""


@pytest.mark.parametrize("layer", ["none", "rlimit", "default"])
@pytest.mark.parametrize("version", sorted(find_pythons()))
def test_a_run_never_imports_ctypes(tmp_path, version, layer) -> None:
    """The guard's prctl, a root run's mounts and user namespace, the pre-exec code of
    each layer (the seccomp filter, Landlock's scoping, the drop to the run user): all
    through asyncplay/libc.py, none through ``ctypes`` (9.8 M instructions at start-up).
    On 3.14+ a ``_ctypes.Structure`` subclass with ``_fields_`` imports ``ctypes._layout``
    (its layout moved to Python), and that imports ``ctypes``: there it is expected."""
    import ast

    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    out = tmp_path / "probe.txt"
    flags = [] if layer == "default" else ["--sandbox", layer]
    r = subprocess.run(
        [find_pythons()[version], "-c", PROBE, str(out), "run", "--quiet", *flags, "hello.py"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert r.stdout == b"hello, world\n", r.stderr[-800:]
    assert r.stderr == b"", r.stderr[-800:]  # (the guard held: no warning)
    expected = tuple(map(int, version.split("."))) >= (3, 14)
    assert ast.literal_eval(out.read_text()) == {"status": 0, "ctypes": expected}


def test_a_guard_that_fails_says_so_in_one_line(tmp_path) -> None:
    """Where the prctl is not there (libc or _ctypes moved), the command runs and says the
    protection is off, once."""
    (tmp_path / "hello.py").write_text('print("hello, world")\n')
    out = tmp_path / "probe.txt"
    probe = "from asyncplay import selfguard\nselfguard._PRCTL.append(None)\n" + PROBE
    r = subprocess.run(
        [sys.executable, "-c", probe, str(out), "run", "--quiet", "--sandbox", "none", "hello.py"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.stdout == "hello, world\n", r.stderr[-800:]
    (line,) = r.stderr.splitlines()
    assert line.startswith("asyncplay: warning: could not make asyncplay's process non-dumpable")
