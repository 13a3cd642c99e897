"""``python -m asyncplay``."""

from __future__ import annotations

import sys

from asyncplay.cli import main

if __name__ == "__main__":
    sys.exit(main())
