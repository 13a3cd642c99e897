"""A task closes every fd above 2, the loop's own among them: the loop then fails with
EBADF as under plain Python, and no frame of the exception's traceback is asyncplay's."""
import asyncio
import os
import sys
import traceback


async def closer():
    os.closerange(3, 1 << 16)
    await asyncio.sleep(0.01)


async def main():
    await asyncio.create_task(closer())


loop = asyncio.new_event_loop()
try:
    loop.run_until_complete(main())
except OSError as e:
    frames = traceback.extract_tb(e.__traceback__)
    print(type(e).__name__, e.errno, [(os.path.basename(f.filename), f.name) for f in frames])
sys.stdout.flush()
os._exit(0)  # the loop's fds are gone: skip its close (and its noise in __del__)
