"""Exit statuses asyncplay itself decides; the program's own status passes through.

One home for them, shared by the command line and the session, and listed in
docs/protocol.md. Import-free: the command line reads them before anything else loads.
"""

from __future__ import annotations

CHECKS_FAILED = 1  # check: a check of the exercise failed
USAGE = 2
RECORDING = 65  # replay: not a recording, damaged, or cut short (sysexits' EX_DATAERR)
RECORDING_VERSION = 66  # replay: recorded in a format or protocol this asyncplay cannot read
INTERNAL = 70
POLICY_DENIED = 77  # a request above the lab policy's ceilings (sysexits' EX_NOPERM)
POLICY_BROKEN = 78  # the lab policy file is unreadable, untrusted or malformed (EX_CONFIG)
# asyncplay attach PID: why a process cannot be attached to (one line says what would allow it)
ATTACH_NO_PROCESS = 80  # no such process
ATTACH_NOT_PYTHON = 81  # not Python, or a Python before 3.13 (no debug offsets)
ATTACH_OLD_PYTHON = 82  # Python 3.13: sys.remote_exec came in 3.14
ATTACH_DISABLED = 83  # PYTHON_DISABLE_REMOTE_DEBUG or -X disable-remote-debug in the target
ATTACH_OTHER_USER = 84  # another user's process
ATTACH_PTRACE = 85  # the kernel refuses: not dumpable, or kernel.yama.ptrace_scope
ATTACH_NO_LOOP = 86  # no running asyncio loop (or one asyncplay cannot trace, or one attached)
ATTACH_NO_ANSWER = 87  # the main thread ran no Python code in time (blocked in a C call)
PROCS = 120
OUTPUT = 121
MEMORY = 122
CPU = 123
TIMEOUT = 124
EVENTS = 125
STOPPED = 130
