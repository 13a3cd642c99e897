"""200,000 printed lines: the cost of attributing output to tasks."""

from __future__ import annotations

from _common import compare

PROGRAM = """
import asyncio

async def main():
    for i in range(200_000):
        print("line", i)

asyncio.run(main())
"""

if __name__ == "__main__":
    compare("prints", PROGRAM, default_rounds=7)
