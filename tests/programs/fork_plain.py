"""os.fork() in a single-threaded program: no 'multi-threaded' DeprecationWarning (3.12+)."""
import os
import sys

pid = os.fork()
if pid == 0:
    print("child")
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
print("parent")
