"""asyncio.create_subprocess_exec: captured output, then a child writing to our stdout."""
import asyncio
import sys


async def main():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print('hello from the child')", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    print("child said:", out.decode().strip(), "| exit", proc.returncode)
    sys.stdout.flush()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; print('child writes to the shared stdout')"
    )
    print("second exit:", await proc.wait())


asyncio.run(main())
