"""contextvars: tasks get a copy of the creator's context; changes inside stay inside."""
import asyncio
import contextvars

request_id = contextvars.ContextVar("request_id", default="none")


async def handler(n):
    print(f"handler {n} sees {request_id.get()}")
    request_id.set(f"changed-by-{n}")
    await asyncio.sleep(0)
    print(f"handler {n} after set sees {request_id.get()}")


async def main():
    request_id.set("outer")
    t = asyncio.create_task(handler(1))
    request_id.set("outer-2")
    await t
    print("main sees", request_id.get())
    await asyncio.gather(handler(2))
    asyncio.get_running_loop().call_soon(lambda: print("callback sees", request_id.get()))
    await asyncio.sleep(0)
    ctx = contextvars.copy_context()
    ctx.run(request_id.set, "in-copy")
    print("copy has", ctx[request_id], "main still", request_id.get())


print("module level sees", request_id.get())
asyncio.run(main())
print("after run sees", request_id.get())
