"""Imported by argv_file_sibling.py from its own directory."""
import asyncio


async def greet(who):
    await asyncio.sleep(0)
    return f"hello, {who}"
