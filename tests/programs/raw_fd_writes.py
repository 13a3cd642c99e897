"""Writes through sys.stdout.buffer and os.write(1/2), flushed so the order is fixed."""
import asyncio
import os
import sys


async def main():
    print("text line 1", flush=True)
    sys.stdout.buffer.write(b"buffer line\n")
    sys.stdout.buffer.flush()
    os.write(1, b"fd line\n")
    print("text line 2", flush=True)
    os.write(2, b"fd err line\n")
    await asyncio.sleep(0)
    print("text line 3")


asyncio.run(main())
