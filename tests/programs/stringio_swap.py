"""sys.stdout replaced by io.StringIO (and redirect_stdout), then restored."""
import asyncio
import contextlib
import io
import sys


async def chatty(n):
    print(f"chatty {n}")
    await asyncio.sleep(0)
    return n


async def main():
    print("before swap")
    real = sys.stdout
    sys.stdout = io.StringIO()
    await chatty(1)
    await asyncio.create_task(chatty(2))
    captured = sys.stdout.getvalue()
    sys.stdout = real
    print("captured:", repr(captured))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        await asyncio.gather(chatty(3), chatty(4))
    print("redirected:", repr(buf.getvalue()))
    sys.stdout = io.StringIO()
    sys.stdout = sys.__stdout__
    print("restored via __stdout__:", sys.stdout is sys.__stdout__)
    print("isinstance TextIOWrapper:", isinstance(sys.stdout, io.TextIOWrapper))
    print("encoding/errors:", sys.stdout.encoding, sys.stdout.errors)


asyncio.run(main())
