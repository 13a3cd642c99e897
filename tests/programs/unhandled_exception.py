"""An exception escapes asyncio.run: traceback on stderr, exit status 1."""
import asyncio


def parse(text):
    return int(text)


async def load(text):
    await asyncio.sleep(0)
    return parse(text)


async def main():
    print("loading")
    values = await asyncio.gather(load("1"), load("two"))
    print(values)


asyncio.run(main())
