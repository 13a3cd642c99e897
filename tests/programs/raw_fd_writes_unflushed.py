"""print() mixed with sys.stdout.buffer and os.write, with no explicit flush (stdout is a pipe).

Plain Python block-buffers a piped stdout: the print() text stays in sys.stdout's buffer
until exit, so every os.write byte reaches the pipe first, even across task switches.
"""
import asyncio
import os
import sys


async def main():
    print("text line 1")
    sys.stdout.buffer.write(b"buffer line\n")
    os.write(1, b"fd line\n")
    print("text line 2")
    sys.stderr.write("stderr partial, ")
    os.write(2, b"fd err line\n")
    sys.stderr.write("stderr end\n")
    await asyncio.sleep(0)
    os.write(1, b"fd line after a task switch\n")
    print("text line 3")


asyncio.run(main())
