"""The program's asyncio objects (issue #15): queues, locks, semaphores, conditions,
events and executor jobs, from real runs whose figures are known by construction, on the
oldest and the newest installed CPython; and nothing of it for a program that uses none.
"""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import asyncplay
from pythons import find_pythons

from asyncplay.model import build
from asyncplay.views import objects, summary


def _newest() -> str | None:
    for exe in ("python3.15", "python3.14"):
        found = shutil.which(exe) or (
            f"/usr/local/bin/{exe}" if os.access(f"/usr/local/bin/{exe}", os.X_OK) else None
        )
        if found:
            return found
    return find_pythons().get("3.13")


OLDEST_AND_NEWEST = {"oldest": lambda: find_pythons().get("3.10"), "newest": _newest}

KNOWN = """
import asyncio, time
from concurrent.futures import ThreadPoolExecutor

class Pipeline:
    def __init__(self):
        self.jobs = asyncio.Queue(maxsize=2)

async def producer(p):
    for i in range(5):
        await p.jobs.put(i)          # the consumer is slow: blocks on a full queue

async def consumer(p):
    for _ in range(5):
        await p.jobs.get()
        await asyncio.sleep(0.1)
        p.jobs.task_done()

async def worker(sem):
    async with sem:                  # 6 workers, 2 permits, 0.1 s each
        await asyncio.sleep(0.1)

async def main():
    p = Pipeline()
    sem = asyncio.Semaphore(2)
    bounded = asyncio.BoundedSemaphore()
    cond = asyncio.Condition()
    ev = asyncio.Event()
    internal = asyncio.PriorityQueue()   # its own Event is asyncio's, not reported
    await asyncio.gather(producer(p), consumer(p), *(worker(sem) for _ in range(6)))
    await p.jobs.join()
    async with bounded:
        pass
    async with cond:
        cond.notify_all()
    ev.set()
    await ev.wait()
    await asyncio.to_thread(time.sleep, 0.05)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="w") as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, time.sleep, 0.1) for _ in range(3)))
    internal.put_nowait((1, "x"))

asyncio.run(main())
"""


@pytest.fixture(scope="module", params=sorted(OLDEST_AND_NEWEST))
def known_run(request, tmp_path_factory):
    python = OLDEST_AND_NEWEST[request.param]()
    if python is None:
        pytest.skip(f"no {request.param} CPython installed")
    folder = tmp_path_factory.mktemp("known")
    (folder / "known.py").write_text(KNOWN)
    r = asyncplay("run", "--json", "--python", python, "known.py", cwd=folder)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_each_kind_is_reported_once_with_its_name_and_line(known_run) -> None:
    created = {(e["name"], e["kind"], e["line"]) for e in known_run.kinds("primitive")}
    assert created == {
        ("self.jobs", "Queue", 7),
        ("sem", "Semaphore", 25),
        ("bounded", "BoundedSemaphore", 26),
        ("cond", "Condition", 27),
        ("ev", "Event", 28),
        ("internal", "PriorityQueue", 29),
    }
    assert all(e["file"].endswith("known.py") for e in known_run.kinds("primitive"))


def test_a_bounded_queue_with_a_slow_consumer(known_run) -> None:
    (q,) = [e for e in known_run.kinds("summary")[0]["queues"] if e["name"] == "self.jobs"]
    assert q["maxsize"] == 2 and q["peak_size"] == 2
    assert q["puts"] == 5 and q["gets"] == 5
    # The consumer takes an item each 0.1 s: with 2 queued, the puts of items 4 and 5
    # each wait about 0.1 s (item 3's only until the consumer's first get).
    assert 0.15 <= q["put_wait"] <= 0.6, q
    assert q["get_wait"] < 0.05, q
    model = build(known_run.events)
    (jobs,) = [p for p in model.primitives.values() if p.name == "self.jobs"]
    sizes = [n for _t, n in jobs.sizes]
    assert max(sizes) == 2 and sizes[-1] == 0


def test_a_semaphore_shared_by_more_workers_than_permits(known_run) -> None:
    locks = {e["name"]: e for e in known_run.kinds("summary")[0]["locks"]}
    sem = locks["sem"]
    assert sem["permits"] == 2 and sem["acquisitions"] == 6
    assert sem["max_waiters"] == 4
    assert 0.18 <= sem["longest_wait"] <= 0.5, sem  # the last two wait two rounds
    assert 0.55 <= sem["held"] <= 1.2, sem  # 6 holds of 0.1 s
    assert locks["bounded"]["acquisitions"] == 1 and locks["bounded"]["max_waiters"] == 0
    assert locks["cond"]["acquisitions"] == 1
    assert locks["ev"]["acquisitions"] == 1  # one completed wait()
    assert not any(lock["holders"] or lock["waiters"] for lock in locks.values())


def test_executor_jobs_of_known_length_in_a_pool(known_run) -> None:
    jobs = known_run.kinds("summary")[0]["executor_jobs"]
    main_id = next(e["id"] for e in known_run.kinds("task_created") if e["coro"] == "main")
    assert [j["function"] for j in jobs] == ["time.sleep"] * 4
    default, *pooled = jobs
    assert default["pool"] == "default" and default["thread"] == "asyncio_0"
    assert default["task"] is not None and 0.04 <= default["duration"] <= 0.5
    assert {j["pool"] for j in pooled} == {"ThreadPoolExecutor-1"}
    assert {j["thread"] for j in pooled} == {"w_0", "w_1"}
    assert all(j["task"] == main_id for j in pooled)
    # Two workers, three jobs of 0.1 s: one of them waits a round for a worker.
    assert max(j["queued"] for j in pooled) >= 0.08
    assert all(0.09 <= j["duration"] <= 0.5 for j in pooled)
    model = build(known_run.events)
    ours = [j for j in model.executor_jobs.values() if j.pool != "default"]
    _series, busy, backlog = objects.busy_over_time(ours, model.now)
    assert busy == 2 and backlog >= 1


def test_the_summary_has_a_section_per_kind_used(known_run) -> None:
    text = summary.summary(build(known_run.events), cwd="/nowhere")
    assert "── queues (2)" in text and "self.jobs (known.py:7)" in text
    assert "── locks, semaphores, conditions, events (4)" in text
    assert "sem (known.py:25)" in text and "Semaphore(2)" in text
    assert "── executor jobs (4)" in text
    assert "pool ThreadPoolExecutor-1: 3 job(s), 2 thread(s), at most 2 busy at once" in text


NONE_USED = """
import asyncio
async def child(n):
    await asyncio.sleep(0.01 * n)
async def main():
    await asyncio.gather(*(child(n) for n in range(3)))
    tracer = asyncio.events.Handle._run.__globals__["_tracer"]
    print("flush untouched:", "flush" not in vars(tracer))
    cond = asyncio.Condition()     # made by the program: traced...
    print("queue class untouched:", asyncio.Queue.put.__code__.co_filename.endswith("queues.py"))
    print("condition's lock untouched:", "acquire" not in vars(cond._lock))
    print("flush wrapped now:", "flush" in vars(tracer))
asyncio.run(main())
"""


def test_a_program_without_primitives_pays_nothing(tmp_path) -> None:
    (tmp_path / "plain.py").write_text(NONE_USED)
    r = asyncplay("run", "--json", "plain.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.program_stdout
    assert "flush untouched: True" in out
    assert "queue class untouched: True" in out
    assert "condition's lock untouched: True" in out
    assert "flush wrapped now: True" in out
    kinds = {e["event"] for e in r.events}
    assert "executor_job" not in kinds
    # Only the Condition the program made at the end; nothing before it.
    assert [e["kind"] for e in r.kinds("primitive")] == ["Condition"]
    s = r.kinds("summary")[0]
    assert s["queues"] == [] and s["executor_jobs"] == [] and len(s["locks"]) == 1


def test_the_timeline_draws_a_lane_per_worker_thread_and_queue_sizes(known_run) -> None:
    from asyncplay.views import timeline
    from asyncplay.views.timeline_objects import ObjectLanes

    model = build(known_run.events)
    text = timeline.timeline_text(model, 100, extra=ObjectLanes(model, queue_sizes=True))
    labels = ("executor asyncio_0", "executor w_0", "executor w_1", "self.jobs size/2")
    lanes = {
        label: line[len(label) :]
        for line in text.splitlines()
        for label in labels
        if line.startswith(label + " ")
    }
    assert {"executor asyncio_0", "executor w_0", "executor w_1"} <= set(lanes), text
    assert "█" in lanes["executor w_0"] and "█" in lanes["executor w_1"]
    assert "self.jobs size/2" in lanes and "█" in lanes["self.jobs size/2"]
    assert all(len(line) <= 100 for line in text.splitlines())
    plain = timeline.timeline_text(model, 100, extra=ObjectLanes(model))
    assert "executor w_0" in plain and "size/2" not in plain


def _forged_model(name: str) -> object:
    from asyncplay.model import RunModel, apply

    m = RunModel()
    for ev in (
        {"event": "task_created", "t": 0.0, "id": 1, "name": "main", "coro": "main",
         "parent": None, "internal": False, "file": "/p/a.py", "line": 3},
        {"event": "primitive", "t": 0.1, "id": 1, "kind": "Queue", "name": name,
         "file": "/p/a.py", "line": 4, "maxsize": 0},
        {"event": "primitive", "t": 0.1, "id": 2, "kind": "Lock", "name": name,
         "file": "/p/a.py", "line": 5},
        {"event": "executor_job", "t": 0.2, "id": 1, "function": name, "task": 1,
         "pool": "default", "thread": "asyncio_0", "submitted": 0.1, "started": 0.1,
         "ended": 0.2},
    ):  # fmt: skip
        apply(m, ev)
    return m


@pytest.mark.parametrize("width", [40, 60])
def test_the_sections_keep_the_task_tables_width_rules(width) -> None:
    name = "a_very_long_queue_name_that_would_push_every_figure_out_of_sight\x1b[31m"
    text = summary.summary(_forged_model(name), width=width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), text
    assert "\x1b" not in text  # the program's text is cleaned for a terminal
    # The name gives way (cut in the middle, ~), the figures after it stay in sight.
    row = next(line for line in lines if line.startswith("a_ve~"))
    assert "~" in row and "unbounded" in row
    wide = summary.summary(_forged_model(name), width=0)
    assert max(len(line) for line in wide.splitlines()) > 80


INSIGHTS = """
import asyncio

async def producer(q):
    for i in range(8):
        await q.put(i)

async def consumer(q):
    for _ in range(8):
        await q.get()
        await asyncio.sleep(0.05)

async def slow_holder(lock):
    async with lock:
        await asyncio.sleep(0.2)

async def job(sem):
    async with sem:
        await asyncio.sleep(0.1)

async def main():
    q = asyncio.Queue(maxsize=2)
    lock = asyncio.Lock()
    sem = asyncio.Semaphore(1)
    fast = asyncio.Lock()
    async with fast:
        pass
    await asyncio.gather(
        producer(q), consumer(q), slow_holder(lock), slow_holder(lock), *(job(sem) for _ in range(5))
    )

asyncio.run(main())
"""


def test_what_the_figures_say_is_explained(tmp_path) -> None:
    (tmp_path / "ins.py").write_text(INSIGHTS)
    r = asyncplay("run", "--json", "ins.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    said = objects.insights(build(r.events))
    assert len(said) == 3, said
    full, held, crowded = said
    assert full.startswith("q (ins.py:22) was full for") and "consumers are the bottleneck" in full
    assert held.startswith("lock (ins.py:23) was held for up to") and "1 task(s) waited" in held
    assert crowded.startswith("sem (ins.py:24) had") and "for its 1 permit(s)" in crowded
    # An Event-free, uncontended lock says nothing; the summary says the same words.
    assert not any(s.startswith("fast") for s in said)
    text = summary.summary(build(r.events), cwd=str(tmp_path))
    assert "consumers are the bottleneck" in text


LOCK_ORDER = """
import asyncio, os

async def one(a, b):
    async with a:
        await asyncio.sleep(0.05)
        async with b:
            pass

async def main():
    first = asyncio.Lock()
    second = asyncio.Lock()
    asyncio.get_running_loop().call_later(0.5, os._exit, 0)  # stuck for good by then
    await asyncio.gather(one(first, second), one(second, first))

asyncio.run(main())
"""


def test_a_lock_order_deadlock_is_a_cycle_in_the_await_graph(tmp_path) -> None:
    from asyncplay.views import graph

    (tmp_path / "dl.py").write_text(LOCK_ORDER)
    r = asyncplay("run", "--json", "dl.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    model = build(r.events)
    waits = model.waits()
    links = graph.edges(model, waits)
    workers = sorted(t.id for t in model.tasks.values() if t.coro == "one")
    assert links[workers[0]] == [workers[1]] and links[workers[1]] == [workers[0]]
    assert set(workers) <= graph.cycle_members(links)
    text = "\n".join(graph.render(model, cwd=str(tmp_path)))
    assert "awaiting Lock.acquire() on second (dl.py:12) held by Task-3 one" in text
    assert "a cycle, each task here awaits the next" in text


PROCESS_POOL = """
import asyncio, time
from concurrent.futures import ProcessPoolExecutor

def work(n):
    time.sleep(0.1)
    return n * 2

async def main():
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2) as pool:
        print(await asyncio.gather(*(loop.run_in_executor(pool, work, n) for n in range(3))))

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_a_process_pools_jobs_and_their_durations(tmp_path) -> None:
    (tmp_path / "pp.py").write_text(PROCESS_POOL)
    r = asyncplay("run", "--json", "pp.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.program_stdout == "[0, 2, 4]\n"
    jobs = r.kinds("summary")[0]["executor_jobs"]
    assert [j["function"] for j in jobs] == ["work"] * 3
    assert {j["pool"] for j in jobs} == {"ProcessPoolExecutor-1"}
    assert all(j["thread"] is None and j["started"] is None for j in jobs)
    assert all(j["ended"] is not None and j["duration"] >= 0.09 for j in jobs)


def test_the_headless_summary_counts_the_objects_exactly(tmp_path) -> None:
    """``asyncplay run`` without --json is figures mode: a lock's, semaphore's,
    condition's and event's state goes every 0.2 s and at the end, not at every flush
    (child/primitive_figures.py SEND_EVERY); the summary's counts are the program's."""
    (tmp_path / "known.py").write_text(KNOWN)
    r = asyncplay("run", "known.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    rows: dict[str, list[str]] = {}  # kind -> the row's figures (the labels may be cut)
    for line in r.stderr.decode().splitlines():
        cells = [c.strip() for c in line.strip().split("  ") if c]
        if len(cells) > 2:
            rows.setdefault(cells[1], cells[2:])
    assert rows["Semaphore(2)"][:2] == ["6", "4"], r.stderr.decode()  # acquired, peak waiting
    assert rows["BoundedSemaphore(1)"][:2] == ["1", "0"], r.stderr.decode()
    assert rows["Condition"][:2] == ["1", "0"], r.stderr.decode()
    assert rows["Event"][:2] == ["1", "0"], r.stderr.decode()
    assert rows["Queue"][:4] == ["2", "2", "5", "5"], r.stderr.decode()  # maxsize, peak, puts, gets


ABRUPT = """\
import asyncio, os
async def main():
    lock = asyncio.Lock()
    ev = asyncio.Event()
    for i in range(1000):
        async with lock:
            await asyncio.sleep(0)
    ev.set()
    await asyncio.sleep(0.05)
    os._exit(3)
asyncio.run(main())
"""


DUE = """\
import asyncio, os
async def main():
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()
    ev = asyncio.Event()
    for i in range(1000):
        async with lock:
            await asyncio.sleep(0)
    ev.set()
    fut = loop.create_future()
    loop.call_at(loop.time() - 1, fut.set_result, None)  # due before the loop selects
    await fut
    os._exit(3)
asyncio.run(main())
"""


@pytest.mark.parametrize("name", ["abrupt", "due"])
def test_a_run_that_ends_abruptly_after_a_short_wait_shows_the_objects_last_state(
    name: str, tmp_path
) -> None:
    """Figures mode defers the objects' states when the loop never waits (a busy run);
    a real wait, however short, sends them first: a run that then dies (``os._exit``, a
    limit's kill) shows the 1,000 acquisitions and the set event, not its first state
    (a lock held for the whole run). Found by review: deferred until a wait of 0.2 s.
    "due": the loop meant to wait, but its timer was due by the time it selected (what a
    loaded machine makes of a short sleep: this test flaked so); that select of 0 with
    nothing ready sends the deferred states as a wait would."""
    (tmp_path / f"{name}.py").write_text({"abrupt": ABRUPT, "due": DUE}[name])
    r = asyncplay("run", f"{name}.py", cwd=tmp_path)
    assert r.returncode == 3, r.stderr[-3000:]
    rows: dict[str, list[str]] = {}
    for line in r.stderr.decode().splitlines():
        cells = [c.strip() for c in line.strip().split("  ") if c]
        if len(cells) > 2:
            rows.setdefault(cells[1], cells[2:])
    assert rows["Lock"][0] == "1000", r.stderr.decode()  # acquired
    assert rows["Event"][-1] != "0µs", r.stderr.decode()  # held: how long it was set
