"""asyncio.all_tasks() outside a running loop raises RuntimeError: its traceback is
Python's own (asyncplay hooks all_tasks to see the tasks asyncio.run cut off)."""
import asyncio
import os
import traceback

try:
    asyncio.all_tasks()
except RuntimeError as e:
    frames = traceback.extract_tb(e.__traceback__)
    print(e, [(os.path.basename(f.filename), f.name) for f in frames])
