"""20,000 tasks, each awaiting sleep(0) three times: the per-step tracing cost."""

from __future__ import annotations

from _common import compare

PROGRAM = """
import asyncio

async def tiny():
    for _ in range(3):
        await asyncio.sleep(0)

async def main():
    await asyncio.gather(*(tiny() for _ in range(20_000)))

asyncio.run(main())
"""

if __name__ == "__main__":
    compare("tasks", PROGRAM, default_rounds=7)
