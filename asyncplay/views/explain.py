"""Short explanations of a run's warnings and cancellations, written for a learner.

Pure functions of a warning event (``docs/protocol.md``, ``warning``) and the run model:
what happened (with the warning's own facts: the task's name, the line, how long the loop
was held, the tasks of a deadlock), why asyncio does that, and the usual fix with a small
example. The TUI shows them in a modal (``tui/explain_screen.py``); nothing here imports
Textual, so the headless side could print them too.

Warnings come from a child process that runs the user's program, which may forge records:
every fact is type-checked before use, and a missing or odd one just leaves that detail out.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from asyncplay.model import SPAN_LINE, SPAN_START, RunModel, TaskInfo
from asyncplay.views.seconds import seconds_text
from asyncplay.views.task_story import NO_NAME

__all__ = [
    "KINDS",
    "SHORT_NAMES",
    "Explanation",
    "cancel_label",
    "explain",
    "explain_cancel",
    "short_name",
]

_NAME_MAX = 40  # a task name longer than this is cut in explanations


@dataclass(frozen=True)
class Explanation:
    """One explanation: a title, three short paragraphs and a small code example.

    ``file``/``line`` (1-based) say where in the program it happened, when known, so a
    view can offer to go there.
    """

    kind: str
    title: str
    what: str
    why: str
    fix: str
    example: str
    file: str | None = None
    line: int | None = None


# ---- reading facts safely ----------------------------------------------------------------


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _line(value: object) -> int | None:
    line = _int(value)
    return line if line is not None and line > 0 else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) if value >= 0 else None
    return None


def _cut(text: str, limit: int = _NAME_MAX) -> str:
    text = " ".join(text.split())  # no newlines or tabs from a forged name
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _task(model: RunModel | None, tid: object) -> TaskInfo | None:
    tid = _int(tid)
    if model is None or tid is None:
        return None
    return model.tasks.get(tid)


def _name(model: RunModel | None, tid: object, default: str = "a task") -> str:
    """The task's name (``task_story.NO_NAME`` for one named ""), or ``default``."""
    info = _task(model, tid)
    return _cut(info.name or NO_NAME) if info is not None else default


def _at(line: int | None, file: str | None = None, program: str | None = None) -> str:
    """`` at line 12`` (`` at line 12 of util.py`` when it is another file), or ""."""
    if line is None:
        return ""
    if file and program and os.path.abspath(file) != os.path.abspath(program):
        return f" at line {line} of {os.path.basename(file)}"
    return f" at line {line}"


# ---- one function per kind ----------------------------------------------------------------


def _never_awaited(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    found = re.search(r"coroutine '([^']+)' was never awaited", _str(w.get("message")) or "")
    coro = _cut(found.group(1).rsplit(".", 1)[-1]) if found else None
    what = (
        f"You called {coro}(){_at(line)} but never awaited the coroutine it returned, "
        "so its body never ran."
        if coro
        else f"A coroutine was created{_at(line)} but never awaited, so its body never ran."
    )
    return (
        "Coroutine never awaited",
        what,
        "Calling an async function does not run it: it only builds a coroutine object. "
        "The code inside runs when something awaits it or a task is made of it. Python "
        "warns when such an object is thrown away unused.",
        "Await it where you need its result, or start it as a task to run it alongside; "
        "keep a reference to the task and await it later.",
        "await fetch()                        # run it now, wait for it\n"
        "task = asyncio.create_task(fetch())  # or run it alongside\n"
        "...\n"
        "await task",
    )


def _never_retrieved(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    info = _task(model, w.get("task"))
    name = _name(model, w.get("task"))
    exc = ""
    if info is not None and info.exc_type:
        exc = f" with {_cut(info.exc_type)}"
        if info.exc_msg:
            exc += f": {_cut(info.exc_msg, 60)}"
    return (
        "Task exception was never retrieved",
        f"{name} failed{exc}{_at(line)}, and nothing ever awaited it or asked for its "
        "result, so the error was only logged when the task was garbage-collected.",
        "A task keeps its exception until someone awaits the task or calls result() or "
        "exception(). If nobody does, asyncio can only report it when the task object is "
        "destroyed, long after the failure and far from its cause.",
        "Await every task you create (directly, with gather, or in a TaskGroup on 3.11+) "
        "so its exception reaches your code.",
        "task = asyncio.create_task(work())\n"
        "await task          # the exception is raised here\n"
        "async with asyncio.TaskGroup() as tg:  # or, 3.11+:\n"
        "    tg.create_task(work())  # raised when the block ends",
    )


def _destroyed_pending(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    name = _name(model, w.get("task"))
    if w.get("cancelled_at_exit"):  # asyncio.run's cancel at the end never got through
        return (
            "Task cancelled at exit never finished",
            f"{name} was still waiting{_at(line)} when the program ended. asyncio.run "
            "cancelled it, but it never finished, and it was discarded with the loop.",
            "A cancel is delivered by raising CancelledError where the task waits; a task "
            "awaiting another task passes the cancel on to it. Tasks awaiting each other in "
            "a ring pass it round for ever (RecursionError), and a task that catches "
            "CancelledError and waits again swallows it.",
            "Break the ring: no two tasks should await each other. Let CancelledError "
            "propagate (clean up in a finally block instead of catching it).",
            "try:\n    await work()\nfinally:\n    cleanup()",
        )
    return (
        "Task destroyed while pending",
        f"{name} was garbage-collected while it was still waiting{_at(line)}: it never "
        "finished and its remaining code never ran.",
        "The event loop keeps only weak references to tasks. A task that nothing else "
        "references, waiting on something nothing else references either, can be "
        "collected in the middle of its work.",
        "Keep a strong reference to every task you create until it is done: a variable "
        "you await later, a set, or a TaskGroup.",
        "background = set()\n"
        "task = asyncio.create_task(work())\n"
        "background.add(task)\n"
        "task.add_done_callback(background.discard)",
    )


_MAIN_ENDINGS = ("returned", "raised", "cancelled", "interrupted")


def _main_ended(w: dict, model: RunModel | None) -> tuple[str, str | None]:
    """How main() ended, for a cut_off warning: the warning's own ``main_ended`` (and
    ``main_exc``), else (recordings made before the key) the model's first task made
    outside any task, and the run's end ("stopped": asyncplay's stop is a Ctrl+C)."""
    how = w.get("main_ended")
    if how in _MAIN_ENDINGS:
        exc = _str(w.get("main_exc"))
        return how, _cut(exc, 40) if exc and how == "raised" else None
    stopped = bool(model and isinstance(model.end, dict) and model.end.get("reason") == "stopped")
    main = None
    if model is not None:
        main = next((t for t in model.tasks.values() if t.parent is None and not t.internal), None)
    if main is not None and main.state == "failed":
        if main.exc_type == "KeyboardInterrupt":
            return "interrupted", None
        return "raised", _cut(main.exc_type, 40) if _str(main.exc_type) else None
    if stopped:
        return "interrupted", None
    if main is not None and main.state == "cancelled":
        return "cancelled", None
    return "returned", None


_FINALLY_EXAMPLE = (
    "async def main():\n"
    "    t = asyncio.create_task(work())\n"
    "    try:\n"
    "        await other_work()\n"
    "    finally:\n"
    "        await t  # waited for even when other_work() fails"
)


def _cut_off(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    name = _name(model, w.get("task"))
    how, exc = _main_ended(w, model)
    shutdown = (
        "asyncio.run() cancels every task still pending once main() ends, however it "
        "ends, and waits for them to stop."
    )
    if how == "raised":
        return (
            "Task cut off when main() failed",
            f"{name} was still running{_at(line)} when main() raised "
            f"{exc or 'an exception'}, so asyncio.run() cancelled it on the way out.",
            f"{shutdown} main() did not return here: its exception ended it early, and "
            "the task was stopped with it.",
            "Fix the exception first: the traceback in the output shows where main() "
            "raised it. If the task must finish even when main() fails, await it in a "
            "finally block.",
            _FINALLY_EXAMPLE,
        )
    if how == "cancelled":
        return (
            "Task cut off when main() was cancelled",
            f"{name} was still running{_at(line)} when main() was cancelled, so "
            "asyncio.run() cancelled it too.",
            f"{shutdown} main() did not return here: it was cancelled (its row in the "
            "task table says by whom).",
            "Find why main() was cancelled. If the task must finish anyway, await it in "
            "a finally block of main().",
            _FINALLY_EXAMPLE,
        )
    if how == "interrupted":
        return (
            "Task cut off when the run was stopped",
            f"{name} was still running{_at(line)} when the run was interrupted (Ctrl+C, "
            "or asyncplay's stop), so asyncio.run() cancelled it.",
            "Ctrl+C (asyncplay's stop sends the same signal) makes asyncio.run() cancel "
            "main() and then every task still pending, and wait for them to stop.",
            "Nothing to fix for this: the task was cut off because the run was stopped. "
            "To let a task clean up when that happens, put the clean-up in try/finally.",
            "async def worker():\n"
            "    try:\n"
            "        while True:\n"
            "            await asyncio.sleep(1)\n"
            "    finally:\n"
            '        print("worker stopped")  # runs on Ctrl+C too',
        )
    return (
        "Task cut off when main() returned",
        f"{name} was still running{_at(line)} when main() returned, so asyncio.run() "
        "cancelled it before it could finish.",
        "asyncio.run() ends the program when main() returns: it cancels every task still "
        "pending and waits for them to stop. Starting a task does not make main() wait "
        "for it.",
        "Await the tasks you start before main() returns: one by one, with gather, or by "
        "creating them in a TaskGroup (3.11+), which waits for all of them.",
        "async def main():\n"
        "    t1 = asyncio.create_task(work(1))\n"
        "    t2 = asyncio.create_task(work(2))\n"
        "    await asyncio.gather(t1, t2)  # main waits for both",
    )


def _slow_step(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    name = _name(model, w.get("task"))
    seconds = _seconds(w.get("duration"))
    held = f"for {seconds_text(seconds)}" if seconds is not None else "too long"
    so_far = " so far" if w.get("ongoing") is True else ""
    return (
        "The event loop was blocked",
        f"{name} held the event loop {held}{so_far} without reaching an await{_at(line)}. "
        "No other task could run meanwhile.",
        "asyncio runs one task at a time in one thread and switches only at an await. "
        "A blocking call (time.sleep, a slow read, requests.get) or a long computation "
        "freezes every task until it returns.",
        "Use the asyncio version of the call, or move blocking work to a thread with "
        "asyncio.to_thread (or loop.run_in_executor). Pure-Python CPU work still holds "
        "the GIL: a ProcessPoolExecutor really runs it in parallel.",
        "await asyncio.sleep(1)  # not time.sleep(1)\n"
        "data = await asyncio.to_thread(read, path)  # I/O in a thread\n"
        "loop = asyncio.get_running_loop()  # CPU work in a process:\n"
        "n = await loop.run_in_executor(process_pool, crunch)",
    )


def _deadlock(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    ids = w.get("tasks") if isinstance(w.get("tasks"), list) else []
    found = [_task(model, tid) for tid in ids[:6]]
    names = [_cut(info.name) for info in found if info is not None]
    more = f" and {len(ids) - 6} more" if len(ids) > 6 else ""
    if w.get("cycle") is True:
        ring = " awaits ".join(names) + (f" awaits {names[0]}" if names else "")
        what = (
            f"{ring}{more}: the tasks await each other in a ring, so none of them can ever finish."
            if len(names) > 1
            else "Tasks await each other in a ring, so none of them can ever finish."
        )
        title = "Deadlock: tasks await each other"
    else:
        who = f"{', '.join(names)}{more}: e" if names else "E"
        what = (
            f"{who}very task is waiting and nothing is left that could wake them (no "
            "timer, I/O, thread or subprocess). The program hangs until it is stopped."
        )
        title = "Deadlock: every task is waiting"
    if line is not None:
        what += f" The first waits at line {line}."
    return (
        title,
        what,
        "An await only returns when what it waits on completes. Two tasks awaiting each "
        "other never do; neither does an Event nobody sets, a Queue nobody feeds, or an "
        "asyncio.Lock taken twice (it is not re-entrant).",
        "Break the cycle: let one side not wait for the other, make sure something sets "
        "the Event or puts to the Queue, and put a time limit on waits that may never end.",
        "try:\n"
        "    await asyncio.wait_for(event.wait(), timeout=5)\n"
        "except TimeoutError:  # asyncio.TimeoutError before 3.11\n"
        "    print('nobody set the event')",
    )


def _loop_error(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    said = _str(w.get("message")) or "an error"
    return (
        "The event loop reported an error",
        f"{_cut(said, 160)}{'' if line is None else f' (line {line})'}",
        "When a callback scheduled with call_soon/call_later raises, or a future or "
        "transport fails with nobody to tell, asyncio cannot raise it into your code: it "
        "hands it to the loop's exception handler, which logs it.",
        "Catch errors inside callbacks and protocol methods, or set your own handler to "
        "see every such error.",
        "def handler(loop, context):\n"
        "    print('loop error:', context['message'])\n"
        "asyncio.get_running_loop().set_exception_handler(handler)",
    )


def _untraceable(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    return (
        "This event loop cannot be traced",
        "The program runs an event loop that is not built on asyncio's own (uvloop, for "
        "example): asyncplay cannot see its tasks, so the table and timeline stay empty.",
        "asyncplay watches the steps of asyncio's BaseEventLoop. Loops built outside "
        "asyncio, such as uvloop (on libuv), run tasks without passing through it.",
        "To watch the program here, run it on asyncio's default loop (uvloop is a drop-in "
        "speed-up you can turn back on later).",
        "asyncio.run(main())  # not uvloop.run(), no uvloop.install()",
    )


def _channel_lost(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    return (
        "asyncplay lost sight of the program",
        "The program closed or broke asyncplay's event channel, or left with os._exit(): "
        "what it did after that is not shown.",
        "asyncplay reads the program's tasks through a private file descriptor. Closing "
        "descriptors the program did not open (os.closerange) or os._exit(), which skips "
        "all clean-up, cut that channel.",
        "Close only the files you opened, and end with sys.exit() or by returning from "
        "main() instead of os._exit().",
        "sys.exit(1)  # not os._exit(1)",
    )


def _tracer_failed(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    said = _str(w.get("message"))
    if _str(w.get("site")):  # one part of the tracer failed during the run, not all of it
        return (
            "asyncplay's tracer failed in part",
            f"{_cut(said, 200)} The program itself was not affected.",
            "This is asyncplay's failure, not your program's: its own code met something "
            "it did not expect, caught it, and carried on without that part.",
            "Read what it shows with care; if it persists, report it with the Python "
            "version and the snippet.",
            "import sys; print(sys.version)",
        )
    return (
        "asyncplay could not trace this run",
        f"{_cut(said, 160) if said else 'asyncplay could not install its tracer.'} The "
        "program ran normally, but untraced: no tasks or timeline are shown.",
        "This is asyncplay's failure, not your program's: something about this Python or "
        "this program's asyncio setup was not what the tracer expected.",
        "Run it again; if it persists, report it with the Python version and the snippet.",
        "import sys; print(sys.version)",
    )


def _sandbox_network(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    said = _str(w.get("message"))
    return (
        "the run had no network",
        f"{_cut(said, 200) if said else 'The program failed to reach the network.'}",
        "asyncplay's sandbox gave this run loopback only (--network off, or --network on "
        "could not be had here, which the run's first line said): names do not resolve and "
        "nothing outside the program itself can be reached. The program is not at fault.",
        "Run it with --network on (the default: outbound access, the machine's own services "
        "out of reach) or --network host (the machine's network as python has it); in the "
        "editor, Settings (F9), Network.",
        "# in a shell: asyncplay run --network on fetch.py",
    )


def _sandbox_write(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    said = _str(w.get("message"))
    return (
        "the sandbox kept a folder read-only",
        f"{_cut(said, 200) if said else 'The program could not write a file.'}",
        "asyncplay's sandbox lets a run write its working directory and its own folder, "
        "and keeps the rest of the machine read-only (when asyncplay runs as root, the "
        "program runs as the unprivileged user nobody). The program is not at fault.",
        "Write inside the project folder, or run it with --write DIR to let it write DIR "
        "too (a system folder stays read-only).",
        "# in a shell: asyncplay run --write ~/results report.py",
    )


def _stepping_lost(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    return (
        "stepping stopped working",
        "The run was paused, asked to go on, and did not answer: the program's own code "
        "had taken asyncplay's control channel. Stepping is off for this run; it goes on "
        "unpaused.",
        "asyncplay steps a run through a private pipe the program holds at a high file "
        "descriptor. A thread of the program that reads every descriptor it finds, or "
        "code that closes or replaces descriptors it did not open, takes the commands.",
        "Read and close only the files you opened; run it again to step it.",
        "os.close(fd)  # only an fd your own code opened",
    )


def _breakpoints_refused(w: dict, model: RunModel | None, line: int | None) -> tuple[str, ...]:
    return (
        "line breakpoints are off",
        "The program traces itself (sys.settrace: a debugger, coverage), so asyncplay "
        "left its tracer alone and line breakpoints cannot pause it. Task breakpoints and "
        "F10 still work.",
        "On Python 3.10 and 3.11 a line breakpoint needs sys.settrace, which one tracer at "
        "a time can hold; 3.12 and later give asyncplay a sys.monitoring tool of its own.",
        "Remove the program's own sys.settrace() while stepping it, or step it on Python "
        "3.12 or later.",
        "# sys.settrace(my_tracer)  # off while stepping in asyncplay",
    )


_KINDS = {
    "never_awaited": _never_awaited,
    "exception_never_retrieved": _never_retrieved,
    "destroyed_pending": _destroyed_pending,
    "cut_off": _cut_off,
    "slow_step": _slow_step,
    "deadlock": _deadlock,
    "loop_error": _loop_error,
    "untraceable_loop": _untraceable,
    "channel_lost": _channel_lost,
    "tracer_failed": _tracer_failed,
    "sandbox_network": _sandbox_network,
    "sandbox_write": _sandbox_write,
    "stepping_lost": _stepping_lost,
    "breakpoints_refused": _breakpoints_refused,
}
#: Every warning kind this module explains (the others get a generic explanation).
KINDS: tuple[str, ...] = tuple(_KINDS)

#: A few words per kind, for one-line lists (the warnings list, a timeline's cursor).
SHORT_NAMES: dict[str, str] = {
    "never_awaited": "never awaited",
    "exception_never_retrieved": "exception unseen",
    "destroyed_pending": "task destroyed",
    "cut_off": "cut off",
    "slow_step": "loop blocked",
    "deadlock": "deadlock",
    "loop_error": "loop error",
    "untraceable_loop": "untraceable loop",
    "channel_lost": "trace lost",
    "tracer_failed": "tracer failed",
    "sandbox_network": "no network",
    "sandbox_write": "read-only folder",
    "stepping_lost": "stepping lost",
    "breakpoints_refused": "no line breakpoints",
}


def short_name(kind: object) -> str:
    """``loop blocked`` for ``slow_step``; an unknown kind as it is (cut), else ``warning``."""
    if isinstance(kind, str) and kind in SHORT_NAMES:
        return SHORT_NAMES[kind]
    return _cut(kind, 24) if isinstance(kind, str) and kind.strip() else "warning"


def explain(warning: dict, model: RunModel | None = None) -> Explanation:
    """The explanation of one ``warning`` event; never raises, whatever the event holds."""
    if not isinstance(warning, dict):
        warning = {}
    kind = _str(warning.get("kind")) or "unknown"
    line = _line(warning.get("line"))
    file = _str(warning.get("file"))
    build = _KINDS.get(kind)
    if build is not None:
        title, what, why, fix, example = build(warning, model, line)
    else:
        said = _str(warning.get("message")) or "no details were given"
        title = f"Warning: {_cut(kind)}"
        what = f"{_cut(said, 200)}{_at(line)}."
        why = "asyncplay does not have an explanation for this kind of warning yet."
        fix = "Read the message above; the line it names is the place to look."
        example = ""
    return Explanation(kind, title, what, why, fix, example, file, line)


# ---- cancellations ------------------------------------------------------------------------


def explain_cancel(model: RunModel | None, task: TaskInfo | int | None) -> Explanation | None:
    """Why ``task`` was cancelled (its ``cancel_source``), or None if it was not cancelled."""
    info = task if isinstance(task, TaskInfo) else _task(model, task)
    if info is None or (info.state != "cancelled" and not info.cancel_source):
        return None
    src = info.cancel_source if isinstance(info.cancel_source, dict) else {}
    cause = src.get("cause") if src.get("cause") in _CANCEL_CAUSES else "unknown"
    line = _line(src.get("line"))
    file = _str(src.get("file"))
    name = _cut(info.name)
    by = _name(model, src.get("by"), "") if src.get("by") is not None else ""
    if info.finished and info.state != "cancelled" and _own_limit(model, info, src, cause):
        return _went_on(info, name, by, _at(line), cause, file, line)
    title, what, why = _CANCEL_CAUSES[cause](name, by, _at(line))
    if info.finished and info.state != "cancelled":
        what += (
            f" Yet it ended {info.state}: it caught the CancelledError, or the request "
            "was withdrawn (as wait_for does on time-out)."
        )
    elif not info.finished and not info.unfinished:
        what += " It has not stopped yet."
    return Explanation(
        f"cancel:{cause}",
        title,
        what,
        why,
        "Put clean-up in try/finally (it runs when the task is cancelled), and let "
        "CancelledError propagate: swallowing it breaks timeouts and TaskGroups.",
        "try:\n    await work()\nfinally:\n    await close()  # runs on cancel too",
        file,
        line,
    )


def _own_limit(model: RunModel | None, info: TaskInfo, src: dict, cause: str) -> bool:
    """Whether ``info`` is the task that set the time limit (or runs the TaskGroup's block),
    not one it awaited that the cancel was passed on to: asyncio.timeout (and wait_for on
    3.12+) cancels the very wait the task is in, so the source's line is the task's own
    suspension line then; a TaskGroup's failing child is a child of the group's task.
    When the facts are missing, the task is taken as the owner."""
    if cause == "taskgroup":
        by = _task(model, src.get("by"))
        return by is None or by.id == info.id or by.parent == info.id
    if cause != "timeout":
        return False
    t, line = _seconds(src.get("t")), _line(src.get("line"))
    before = [s for s in info.spans if t is not None and s[SPAN_START] <= t]
    if line is None or not before:
        return True
    return before[-1][SPAN_LINE] == line


_LIMIT_EXAMPLE = (
    "try:\n"
    "    async with asyncio.timeout(0.5):  # 3.11+\n"
    "        await fetch()\n"
    "    # 3.10: await asyncio.wait_for(fetch(), 0.5)\n"
    "except TimeoutError:  # asyncio.TimeoutError on 3.10\n"
    '    print("too slow: skipped")'
)


def _went_on(
    info: TaskInfo, name: str, by: str, at: str, cause: str, file: str | None, line: int | None
) -> Explanation:
    """A task whose own time limit ran out, or whose TaskGroup stopped, and which went on:
    asyncio un-cancels it and raises TimeoutError (or an ExceptionGroup) in its place."""
    if info.state == "failed":
        exc = f" with {_cut(info.exc_type)}" if _str(info.exc_type) else ""
        after = f"and {name} ended failed{exc}"
    else:
        after = f"{name} caught it and went on, and ended {info.state}"
    if cause == "timeout":
        return Explanation(
            "cancel:timeout",
            f"{name} hit a time limit",
            f"A time limit ran out while {name} was waiting{at}: asyncio cancelled that "
            "wait. Leaving the block under the limit (asyncio.timeout, or wait_for on "
            f"3.12+) turned the CancelledError into TimeoutError; {after}.",
            "This is how time limits work: asyncio.timeout() (3.11+) cancels the task "
            "waiting under the limit when the time is up, then un-cancels it and raises "
            "TimeoutError where the block ends. On 3.10 and 3.11, wait_for() cancels the "
            "work it waits for instead, and raises TimeoutError in the waiting task.",
            "Nothing to fix: only the wait under the limit was stopped, not the task. "
            "Check that the TimeoutError was expected, and catch it where the limit is set.",
            _LIMIT_EXAMPLE,
            file,
            line,
        )
    who = f"{by} failed{at}" if by else f"a task of its TaskGroup failed{at}"
    return Explanation(
        "cancel:taskgroup",
        f"{name}'s TaskGroup stopped after a failure",
        f"{who}, so the TaskGroup cancelled its other tasks and the wait {name} was in "
        "(in its async with block, or at its end). The block then raised an "
        f"ExceptionGroup; {after}.",
        "This is how TaskGroup (3.11+) works: when one of its tasks fails, it cancels the "
        "others and the task running the block, then un-cancels that task and raises an "
        "ExceptionGroup holding the errors.",
        "Nothing to fix in the cancel: fix the task that failed (its row shows the "
        "exception), or catch its error with except* where the group is used.",
        "try:\n"
        "    async with asyncio.TaskGroup() as tg:\n"
        "        tg.create_task(work())\n"
        "except* ValueError as group:\n"
        '    print("failed:", group.exceptions)',
        file,
        line,
    )


def _cancelled_by_call(name: str, by: str, at: str) -> tuple[str, str, str]:
    who = f"{by} called {name}.cancel()" if by else f"{name}.cancel() was called"
    return (
        f"{name} was cancelled by cancel()",
        f"{who}{at}.",
        "cancel() asks the task to stop: CancelledError is raised inside it at the await "
        "where it waits. Cancelling a gather cancels its children the same way.",
    )


def _cancelled_by_timeout(name: str, by: str, at: str) -> tuple[str, str, str]:
    return (
        f"{name} was cancelled by a timeout",
        f"A time limit expired{at}: {name} had not finished when its time was up.",
        "asyncio.wait_for() and asyncio.timeout() (3.11+) cancel the work under the time "
        "limit when the time runs out; the waiting code then gets TimeoutError.",
    )


def _cancelled_by_taskgroup(name: str, by: str, at: str) -> tuple[str, str, str]:
    who = f"{by} failed{at}" if by else f"a task of its TaskGroup failed{at}"
    return (
        f"{name} was cancelled by its TaskGroup",
        f"{who}, so the TaskGroup cancelled {name} with the rest of its tasks.",
        "When one task of a TaskGroup (3.11+) raises, the group cancels all the others "
        "and then raises an ExceptionGroup holding the errors.",
    )


def _cancelled_at_shutdown(name: str, by: str, at: str) -> tuple[str, str, str]:
    return (
        f"{name} was cancelled at shutdown",
        f"{name} was still pending when main() returned, raised or was cancelled (or "
        "Ctrl+C stopped the run), so asyncio.run() cancelled it.",
        "asyncio.run() cancels every task left pending once main() is done, then waits "
        "for them to finish unwinding before it closes the loop.",
    )


def _cancelled_unknown(name: str, by: str, at: str) -> tuple[str, str, str]:
    return (
        f"{name} was cancelled",
        f"{name} was cancelled{at}, from somewhere asyncplay could not see.",
        "A plain callback (loop.call_later(1, task.cancel)), another thread, or a task "
        "built by a custom task factory cancels without a task or line asyncplay can name.",
    )


_CANCEL_CAUSES = {
    "cancel": _cancelled_by_call,
    "timeout": _cancelled_by_timeout,
    "taskgroup": _cancelled_by_taskgroup,
    "shutdown": _cancelled_at_shutdown,
    "unknown": _cancelled_unknown,
}


def cancel_label(model: RunModel | None, info: TaskInfo, width: int = 14) -> str:
    """Who cancelled a task in at most ``width`` cells: ``✕ by main:12``, ``timeout :9``,
    ``taskgroup :30``, ``shutdown``, ``✕ ?`` (unknown); "" when no source was reported.
    The line is kept and a long name is cut instead."""
    src = info.cancel_source if isinstance(info.cancel_source, dict) else None
    if not src:
        return ""
    cause = src.get("cause") if src.get("cause") in _CANCEL_CAUSES else "unknown"
    line = _line(src.get("line"))
    where = f":{line}" if line is not None else ""
    if cause == "cancel":
        by = _name(model, src.get("by"), "") if src.get("by") is not None else ""
        head = "✕ by "
        room = width - len(head) - len(where)
        if not by:
            text = f"✕ cancel(){' ' + where if where else ''}"
        elif len(by) <= room:
            text = f"{head}{by}{where}"
        elif room >= 2:
            text = f"{head}{by[: room - 1]}~{where}"
        else:
            text = f"{head}{by}"
    elif cause == "unknown":
        text = f"✕ ?{' ' + where if where else ''}"
    else:
        text = f"{cause}{' ' + where if where else ''}"
    return text if len(text) <= width else text[: width - 1] + "~"
