"""sys.argv, __file__, sys.path[0] and a sibling-module import, run from another cwd."""
import sys

sys.dont_write_bytecode = True

import asyncio  # noqa: E402
import os  # noqa: E402

import sibling_helper  # noqa: E402


async def main():
    import __main__

    print("argv:", sys.argv)
    print("file:", __file__)
    print("name:", __name__, "package:", __package__, "spec:", __main__.__spec__)
    print("loader:", type(__main__.__loader__).__name__)
    print("path0:", sys.path[0])
    print("cwd:", os.getcwd())
    print("helper:", await sibling_helper.greet("asyncplay"))
    print("helper file:", sibling_helper.__file__)


asyncio.run(main())
