"""Exit statuses asyncplay itself decides; the program's own status passes through.

One home for them, shared by the command line and the session, and listed in
docs/protocol.md. Import-free: the command line reads them before anything else loads.
"""

from __future__ import annotations

USAGE = 2
RECORDING = 65  # replay: not a recording, damaged, or cut short (sysexits' EX_DATAERR)
RECORDING_VERSION = 66  # replay: recorded in a format or protocol this asyncplay cannot read
INTERNAL = 70
POLICY_DENIED = 77  # a request above the lab policy's ceilings (sysexits' EX_NOPERM)
POLICY_BROKEN = 78  # the lab policy file is unreadable, untrusted or malformed (EX_CONFIG)
PROCS = 120
OUTPUT = 121
MEMORY = 122
CPU = 123
TIMEOUT = 124
EVENTS = 125
STOPPED = 130
