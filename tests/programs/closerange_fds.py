"""The program closes every fd from 3 to 1024, then uses asyncio as usual."""
import asyncio
import os

os.closerange(3, 1025)


async def worker(i):
    await asyncio.sleep(0)
    return i * i


async def main():
    print("squares:", await asyncio.gather(*(worker(i) for i in range(4))))
    r, w = os.pipe()
    os.write(w, b"pipe ok")
    print("pipe fds reused from low numbers:", r < 10, w < 10, os.read(r, 16).decode())
    os.close(r)
    os.close(w)


asyncio.run(main())
print("done")
