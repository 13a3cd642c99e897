"""Hello-world start-up: two interpreters and asyncplay's own imports."""

from __future__ import annotations

from _common import compare

PROGRAM = 'print("hello, world")\n'

if __name__ == "__main__":
    compare("hello", PROGRAM, default_rounds=15)
