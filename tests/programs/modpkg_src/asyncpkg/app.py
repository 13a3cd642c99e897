import asyncio
import os
import sys

from . import helpers


async def main():
    print("name:", __name__, "package:", __package__, "spec:", __spec__.name)
    print("argv:", sys.argv)
    print("file:", __file__)
    print("path0 is cwd:", sys.path[0] == os.getcwd(), sys.path[0])
    print("doubled:", await asyncio.gather(helpers.double(1), helpers.double(2)))


asyncio.run(main())
