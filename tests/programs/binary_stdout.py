"""Binary and non-UTF-8 bytes through sys.stdout.buffer, plus non-ASCII text via print."""
import asyncio
import sys


async def main():
    print("text first: ünïcödé ✓", flush=True)
    out = sys.stdout.buffer
    out.write(bytes(range(256)))
    out.write(b"\n\xff\xfe invalid utf-8 \xc3\x28 \xe2\x82 end\n")
    out.write("encoded ünïcödé ✓\n".encode())
    out.write(b"\r\n\x00\x1b[31mansi\x1b[0m\n")
    out.write(b"split \xe2\x82")
    out.flush()
    await asyncio.sleep(0)
    out.write(b"\xac euro, completed across writes\n")
    out.flush()
    print("text last")


asyncio.run(main())
