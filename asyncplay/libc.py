"""libc's functions and C structures through ``_ctypes``, the C half of ``ctypes``.

``import ctypes`` makes some thirty classes and loads ``ctypes._endian`` (9.8 M
instructions, about 2.5 ms, on 3.13): every command paid it first thing (``selfguard``'s
``prctl``), and a root run's mounts and every run's pre-exec code call libc too. What
asyncplay calls needs only what ``ctypes`` itself is made of: a function of the process's
own libc (``lib().prctl``: ``ctypes.CDLL(None, use_errno=True).prctl``, same arguments and
``int`` result), ``get_errno``, a ``Structure`` of the few C types below, ``byref``,
``sizeof`` and ``addressof``.

These are private names of CPython's (``_ctypes``'s): the ones used are listed in
``PRIVATE`` and ``tests/test_libc.py`` checks each against ``ctypes`` on every installed
Python, and that a run's start-up imports ``ctypes`` itself only on 3.14+ (where a
``_ctypes.Structure`` subclass imports ``ctypes._layout``, and so ``ctypes``, anyway).
Where they move, a run keeps working: if the classes cannot be made at import, or libc
cannot be opened or called through them, ``ctypes`` itself does it
(``ctypes.CDLL(None, use_errno=True)`` and its own types, the same interface), and
``VIA`` says which.
"""

from __future__ import annotations

__all__ = [
    "PRIVATE",
    "VIA",
    "Structure",
    "addressof",
    "byref",
    "c_char",
    "c_int",
    "c_ulong",
    "c_uint64",
    "c_ushort",
    "c_void_p",
    "function",
    "get_errno",
    "lib",
    "sizeof",
]

#: ``_ctypes``'s names this module uses (tests/test_libc.py).
PRIVATE = (
    "CFuncPtr",
    "FUNCFLAG_CDECL",
    "FUNCFLAG_USE_ERRNO",
    "RTLD_LOCAL",
    "Structure",
    "_SimpleCData",
    "addressof",
    "byref",
    "dlopen",
    "get_errno",
    "sizeof",
)

# (what a _ctypes that moved raises as its classes are made or called)
_MOVED = (ImportError, AttributeError, TypeError, ValueError)

try:
    import _ctypes

    Structure = _ctypes.Structure
    byref = _ctypes.byref
    sizeof = _ctypes.sizeof
    addressof = _ctypes.addressof
    get_errno = _ctypes.get_errno

    # The C types, each as ``ctypes`` defines it (its type code).
    class c_int(_ctypes._SimpleCData):  # noqa: N801 (ctypes' names)
        _type_ = "i"

    class c_ushort(_ctypes._SimpleCData):  # noqa: N801
        _type_ = "H"

    class c_ulong(_ctypes._SimpleCData):  # noqa: N801
        _type_ = "L"

    class c_uint64(_ctypes._SimpleCData):  # noqa: N801
        _type_ = "Q"

    class c_void_p(_ctypes._SimpleCData):  # noqa: N801
        _type_ = "P"

    class c_char(_ctypes._SimpleCData):  # noqa: N801
        _type_ = "c"

    class _Function(_ctypes.CFuncPtr):
        """A libc function as ``CDLL(None, use_errno=True)`` makes it: cdecl, errno kept
        for ``get_errno``, an ``int`` result."""

        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = c_int

    _RTLD_LOCAL = _ctypes.RTLD_LOCAL
    _dlopen = _ctypes.dlopen
    VIA = "_ctypes"
except _MOVED:
    from ctypes import (  # type: ignore[assignment]
        Structure,
        addressof,
        byref,
        c_char,
        c_int,
        c_uint64,
        c_ulong,
        c_ushort,
        c_void_p,
        get_errno,
        sizeof,
    )

    VIA = "ctypes"


class _Lib:
    """The process's own libc (``dlopen(NULL)``), a function per attribute, kept."""

    def __init__(self) -> None:
        # (``CDLL(None)``'s: RTLD_LOCAL, to which dlopen adds RTLD_NOW)
        self._handle = _dlopen(None, _RTLD_LOCAL)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        func = _Function((name, self))  # (raises AttributeError for a name libc lacks)
        setattr(self, name, func)
        return func

    def __getitem__(self, name: str) -> object:
        """A function of its own, not kept (as ``CDLL``'s ``[name]``)."""
        return _Function((name, self))


_LIB: list = []


def _open() -> object:
    """libc through ``_ctypes``, tried with one call; else ``ctypes``' own ``CDLL``."""
    global VIA
    if VIA == "_ctypes":
        import os

        try:
            handle = _Lib()
            if handle.getpid() == os.getpid():
                return handle
        except _MOVED:
            pass  # (the calls moved: ctypes' own, below)
        VIA = "ctypes"
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def lib() -> object:
    """libc, loaded once (``OSError`` where it cannot be): a function per attribute, as
    ``ctypes.CDLL(None, use_errno=True)``'s."""
    if not _LIB:
        _LIB.append(_open())
    return _LIB[0]


def function(name: str) -> object:
    """A function of libc's of the caller's own, to give ``argtypes`` (``lib()``'s are
    shared)."""
    return lib()[name]  # type: ignore[index]
