"""CPython's private asyncio names the child runtime depends on: the one place they are listed.

``tests/test_private_asyncio.py`` checks every name here on every installed CPython
3.10-3.15, so a CPython release that moves one fails loudly there instead of quietly
breaking a trace. A module of the runtime that touches a private name of asyncio takes it
(or the table naming it) from here.
"""

from __future__ import annotations

__all__ = [
    "CANCEL_CAUSES",
    "NAMED_PRIVATE",
    "PRIVATE_NAMES",
    "PRIVATE_NAMES_BY_VERSION",
    "SEE_THROUGH",
    "SPAWNERS",
    "STEP_NAMES",
]

# Private asyncio names the runtime depends on (verified by a test on every 3.1X).
PRIVATE_NAMES = {
    "asyncio.events.Handle": ("_run", "_callback", "_args", "_context", "_loop", "_cancelled"),
    # stepping (pause_record.py): a timer's due time, the loop's timers
    "asyncio.events.TimerHandle": ("_when",),
    "asyncio.events": ("_set_running_loop",),
    "asyncio.base_events.BaseEventLoop": (
        "create_task",
        "call_exception_handler",
        "_asyncgen_finalizer_hook",
    ),
    "concurrent.futures.thread": ("_threads_queues",),
    "asyncio.runners": ("_cancel_all_tasks",),
    "asyncio.tasks": ("_GatheringFuture", "__sleep0", "all_tasks"),
    "asyncio.tasks.Task": ("_fut_waiter", "_exception", "_result", "_source_traceback"),
    "asyncio.format_helpers": ("_format_callback_source",),
    # primitives.py: a Lock's own fast path (is it taken at once?), a Condition's lock, a
    # Semaphore's permits at creation, a Queue's count of items not yet task_done()
    "asyncio.locks.Lock()": ("_locked", "_waiters"),
    "asyncio.locks.Condition()": ("_lock",),
    "asyncio.locks.Semaphore()": ("_value", "_waiters"),
    "asyncio.locks.Event()": ("_value",),  # set or not, read without a call
    # a Queue's items, count of items not yet task_done(), and lines of blocked putters
    # and getters (replaced by a deque that times the waits)
    "asyncio.queues.Queue()": ("_queue", "_unfinished_tasks", "_putters", "_getters"),
    # executor_jobs.py: the loop's default pool, once run_in_executor(None, ...) made it
    "asyncio.base_events.BaseEventLoop()": (
        "_ready",  # (stepping.py: a stop before a step puts the step back first in it)
        "_scheduled",  # pause_record.py: the timers a pause shows
        "_selector",
        "_ssock",
        "_task_factory",
        "_debug",
        "_default_executor",
        "_check_callback",  # executor_jobs.py: what debug mode refuses
    ),
}

# Private names used on some versions only: (owner, name, first, last version). The
# test checks each where its range says; "local" names are a function's local variables,
# "assigned" ones attributes a function sets (instance attributes of a class hard to build).
PRIVATE_NAMES_BY_VERSION = (
    ("assigned asyncio.tasks._GatheringFuture.__init__", "_children", (3, 10), None),
    ("asyncio.runners.Runner", "_on_sigint", (3, 11), None),
    ("asyncio.timeouts.Timeout", "_on_timeout", (3, 11), None),
    ("asyncio.timeouts.Timeout()", "_task", (3, 11), None),
    ("asyncio.taskgroups.TaskGroup", "_abort", (3, 11), None),
    ("asyncio.taskgroups.TaskGroup", "_on_task_done", (3, 11), None),
    ("local asyncio.taskgroups.TaskGroup._on_task_done", "task", (3, 11), None),
    ("asyncio.tasks", "_cancel_and_wait", (3, 10), (3, 11)),
    ("local asyncio.tasks.wait_for", "waiter", (3, 10), (3, 11)),
)

# Where asyncio cancels tasks itself (the cancellation source; see cancels.cancel_cause):
# (owner, function, cause). A function missing on this version is just not told.
CANCEL_CAUSES = (
    ("asyncio.runners.Runner", "_on_sigint", "shutdown"),  # Ctrl+C cancels the main task
    ("asyncio.tasks", "_cancel_and_wait", "wait_for"),  # 3.10-3.11 wait_for's inner task
    ("asyncio.timeouts.Timeout", "_on_timeout", "timeout"),  # timeout(); wait_for on 3.12+
    ("asyncio.taskgroups.TaskGroup", "_abort", "taskgroup"),
    ("asyncio.taskgroups.TaskGroup", "_on_task_done", "taskgroup"),
)

# asyncio's public calls that create a task on the caller's behalf. A task is asyncio's own
# ("internal") when asyncio code other than these stands between it and the user's code
# and its coroutine is asyncio's (the shutdown tasks asyncio.run creates), or when
# asyncio's async-generator finalizer made it; create_task(asyncio.sleep(1)) is the user's.
SPAWNERS = frozenset(
    {
        "create_task",
        "ensure_future",
        "_ensure_future",
        "gather",
        "shield",
        "wait_for",
        "as_completed",
        "wait",
        "_wait",
        "run_until_complete",
        "run_coroutine_threadsafe",
        "__aexit__",
        "_aexit",
        "_wrap_awaitable",
        "staggered_race",
    }
)
# A wait is named by the outermost public asyncio call the program made (queue.join()
# waits in an Event.wait(), as_completed in a Queue.get()), looking through wait_for to what
# it waits for (sleep(10)), and by these private frames when the program called into one.
SEE_THROUGH = frozenset({"wait_for"})
NAMED_PRIVATE = frozenset({"_wait_for_one"})  # as_completed()
# The names of a task's step callback (C and Python tasks, 3.10-3.15).
STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup", "_Task__step", "_Task__wakeup"})
