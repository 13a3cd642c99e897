"""The threads a program can see, at every point it can look: before and after its first
event loop runs (asyncplay's helper thread must never appear, nor its blocking detector's
watchdog, started at the first loop), in and after a thread of its own, and after a fork."""

import _thread
import asyncio
import os
import sys
import threading
import time


workers = set()  # the kernel ids of the program's own threads, to see them really gone


def seen(where):
    if threading.current_thread() is not threading.main_thread():
        workers.add(threading.get_native_id())
    print(where, _thread._count(), threading.active_count(), len(threading.enumerate()))


seen("start")


async def main():
    seen("in the loop")
    await asyncio.sleep(0.05)  # the watchdog has had time to start, as it did
    seen("after a wait")
    await asyncio.to_thread(seen, "in a worker thread")


asyncio.run(main())
seen("after asyncio.run")
t = threading.Thread(target=seen, args=("in a thread",))
t.start()
t.join()
seen("after the thread")
sys.stdout.flush()
# A joined thread's kernel thread can outlive join() by a moment, and 3.12+ warns at fork()
# while the kernel still counts it: under python or not, that is a race with the machine's
# load. Wait until the program's own threads are gone, so the warning is decided by asyncplay
# alone (its helper must never make a fork warn).
while any(os.path.exists(f"/proc/self/task/{tid}") for tid in workers):
    time.sleep(0.001)
pid = os.fork()
if pid == 0:
    seen("in a forked child")
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
seen("after the fork")
asyncio.run(main())
seen("end")
