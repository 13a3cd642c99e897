"""The await graph: who waits on whom, as a tree of tasks (``--graph``, like ``pstree``).

The child names what a task waits on in a person's words (``Task-3``, ``gather(3)``,
``Queue.get()``); ``edges`` turns those words back into tasks: a task name into the live task
of that name (the newest, if names repeat), a ``gather``/``wait``/``TaskGroup`` into the
waiting task's unfinished children. ``tree`` is pure (the TUI can draw the same nodes);
``render`` makes the text. Cycles are drawn once and marked, never followed forever.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from functools import partial
from operator import itemgetter

from asyncplay.model import SPAN_FILE, SPAN_LINE, SPAN_START, RunModel, TaskInfo, WaitSnapshot
from asyncplay.views import objects
from asyncplay.views.task_story import chain_text
from asyncplay.views.text_cells import clean

# What a task waits on that stands for several of its own children.
GROUP_PREFIXES = ("gather(", "wait(", "TaskGroup.", "as_completed(")

MAX_DEPTH = 50  # levels of an await chain drawn
FOLD_LEAVES = 4  # this many alike tasks waiting side by side fold into one line

Waits = dict[int, tuple]  # task id -> (awaiting, wait_file, wait_line)

# What ``waits_at`` says of a task that waits on nothing at a past moment: created but not
# stepped yet, or in the middle of a step. Never a task's name (the parentheses), so
# ``edges`` never mistakes them for one.
NOT_STARTED = "(not started)"
RUNNING = "(running)"
MARKERS = frozenset({NOT_STARTED, RUNNING})

_START = itemgetter(SPAN_START)  # a span's start: the key its list is sorted by


class Node:
    """A task in the tree (``kind`` ``task``), or a repeat of one already drawn (``seen``),
    one that closes a cycle (``cycle``), or one past ``MAX_DEPTH`` (``deep``)."""

    __slots__ = ("task", "kind", "children")

    def __init__(self, task: int, kind: str = "task") -> None:
        self.task = task
        self.kind = kind
        self.children: list[Node] = []

    def __repr__(self) -> str:
        return f"<Node {self.kind} {self.task} {self.children!r}>"


def _by_name(model: RunModel, waits: Waits) -> dict[str, int]:
    """Name -> task id: a live task beats a finished one, a newer one an older one."""
    index: dict[str, tuple[bool, int]] = {}
    for t in model.tasks.values():
        rank = (t.id in waits, t.id)
        old = index.get(t.name)
        if old is None or rank > old:
            index[t.name] = rank
    return {name: rank[1] for name, rank in index.items()}


def _lock_edges(model: RunModel, waits: Waits, out: dict[int, list[int]]) -> None:
    """A task blocked acquiring a lock or semaphore waits on the tasks holding it (as the
    model has them now: only for a task whose wait drawn is its wait now), so two tasks
    taking two locks in opposite orders are drawn as the cycle they are."""
    for p in model.primitives.values():
        if p.is_queue or not p.holders:
            continue
        for tid, why in p.waiters:
            if why != "acquire" or tid is None or tid not in waits or tid in out:
                continue
            info = model.tasks.get(tid)
            if info is None or waits[tid][0] != info.awaiting:
                continue
            holders = [h for h in p.holders if h is not None and h != tid and h in waits]
            if holders:
                out[tid] = holders


def _count(awaiting: str) -> int | None:
    """The k of ``gather(k)`` / ``wait(k)``, when the words carry it."""
    inner = awaiting[awaiting.find("(") + 1 : awaiting.find(")")]
    return int(inner) if inner.isdigit() else None


def edges(model: RunModel, waits: Waits) -> dict[int, list[int]]:
    """Each waiting task -> the tasks it waits on (only tasks still waiting themselves).

    A group (``gather(3)``, ``TaskGroup.__aexit__()``) stands for the waiting task's
    unfinished children; with a count, only those of the last ``k`` it created
    (``_gathered``), so a background task it started earlier is not drawn under it.
    """
    names = _by_name(model, waits)
    out: dict[int, list[int]] = {}
    groups: list[int] = []
    for tid, (awaiting, _file, _line) in waits.items():
        if not awaiting or awaiting in MARKERS:
            continue
        target = names.get(awaiting)
        if target is not None and target != tid and target in waits:
            out[tid] = [target]
        elif awaiting.startswith(GROUP_PREFIXES):
            groups.append(tid)
    _lock_edges(model, waits, out)
    direct = {kids[0] for kids in out.values()}
    for tid in groups:
        info = model.tasks.get(tid)
        kids = [c for c in (info.children if info else ()) if c in waits and c != tid]
        k = _count(waits[tid][0])
        if k is not None and kids and info is not None:
            kids = _gathered(info.children, kids, k, direct)
        if kids:
            out[tid] = kids
    return out


def _gathered(children: list[int], waiting: list[int], k: int, direct: set[int]) -> list[int]:
    """Which of a task's waiting children its ``gather(k)`` holds.

    A task creates nothing while it waits, so the ones it gathered are among the children
    it created up to the newest one still waiting; of those, the last ``k``, once the ones
    another task awaits by name are dropped (newest first) while there are more than
    ``k``: they are likelier someone else's. Finished ones count towards ``k`` but are not
    drawn; a background task started before them is not in the gather.
    """
    position = {c: i for i, c in enumerate(children)}
    newest = max(position.get(c, -1) for c in waiting)
    pool = children[: newest + 1]
    extra = len(pool) - k
    dropped = set()
    for c in reversed(pool):
        if extra <= 0:
            break
        if c in direct:
            dropped.add(c)
            extra -= 1
    held = set([c for c in pool if c not in dropped][-k:])
    return [c for c in waiting if c in held]


def _stepped_between(info: TaskInfo, since: float, until: float) -> bool:
    """Did a step of the task start in (since, until]?"""
    spans = info.spans
    return bisect_right(spans, until, key=_START) > bisect_right(spans, since, key=_START)


def snapshot_at(model: RunModel, t: float) -> WaitSnapshot | None:
    """The deadlock snapshot that still tells the waits at ``t``: the last one taken at or
    before ``t``, if no task was created, ended or stepped since (else ``None``)."""
    snap = None
    for s in model.snapshots:
        if s.t <= t:
            snap = s
    if snap is None:
        return None
    since = snap.t
    for info in model.tasks.values():
        if since < info.created <= t or (info.ended is not None and since < info.ended <= t):
            return None
        if _stepped_between(info, since, t):
            return None
    return snap


def waits_at(model: RunModel, t: float | None = None) -> Waits:
    """What each task alive at run time ``t`` waited on then, like ``model.waits()`` (which
    it is when ``t`` is ``None`` or at/after the latest event).

    Rebuilt from each task's spans: between two steps a task awaits what the step before
    awaited, at that step's line; inside a step it is ``RUNNING`` (at the line it resumed
    from); before its first step ``NOT_STARTED``. Tasks not created yet or ended by ``t``
    are absent. A deadlock snapshot still true at ``t`` (``snapshot_at``) is used as it is,
    not rebuilt. Approximation: past ``MAX_SPANS_PER_TASK`` the model merges spans, and a
    merged span keeps only its last step's wait, so anywhere inside a merged span the task
    is said to await what that last step awaited (neither running nor an earlier wait).
    """
    if t is None or t >= model.now:
        return model.waits()
    return _waits_at(model, t, snapshot_at(model, t))


def _waits_at(model: RunModel, t: float, snap: WaitSnapshot | None) -> Waits:
    if snap is not None:
        return {
            tid: (NOT_STARTED, None, None)
            if w[0] is None and tid in model.tasks and not _stepped_by(model.tasks[tid], snap.t)
            else w
            for tid, w in snap.waits.items()
        }
    out: Waits = {}
    for info in model.tasks.values():
        if info.created > t or (info.ended is not None and info.ended <= t):
            continue
        spans = info.spans
        i = bisect_right(spans, t, key=_START) - 1
        if i < 0:
            out[info.id] = (NOT_STARTED, None, None)
            continue
        start, extent, busy, steps, awaiting, file, line = spans[i]
        if steps == 1 and t < start + busy:
            before = spans[i - 1] if i else None
            out[info.id] = (
                (RUNNING, before[SPAN_FILE], before[SPAN_LINE] or None)
                if before
                else (RUNNING, None, None)
            )
        else:
            out[info.id] = (awaiting, file, line or None)
    return out


def _stepped_by(info: TaskInfo, t: float) -> bool:
    return bool(info.spans) and info.spans[0][SPAN_START] <= t


class Moment:
    """The waits a view shows for one moment, and which moment that is (``when``):
    ``live`` (the run goes on, ``t`` its latest time), ``end`` (the run ended with tasks
    still waiting), ``deadlock`` (the run ended: the last deadlock snapshot, because
    nothing waits at the end or the end is that same picture), ``finished`` (the run ended,
    nothing waits, no deadlock) or ``cursor`` (a chosen past moment; ``snapshot`` set when
    a deadlock snapshot still told it). Not-started tasks say ``NOT_STARTED`` in every case
    (``model.waits()`` says ``None``, like a task that is ready to run)."""

    __slots__ = ("t", "when", "waits", "snapshot", "stuck")

    def __init__(
        self, t: float, when: str, waits: Waits, snapshot: WaitSnapshot | None, stuck: dict
    ) -> None:
        self.t = t
        self.when = when
        self.waits = waits
        self.snapshot = snapshot
        self.stuck = stuck  # task id -> "cycle" / "stall" (see ``stuck``)

    def __repr__(self) -> str:
        return f"<Moment {self.when} t={self.t:.3f} {len(self.waits)} waiting>"


def moment(model: RunModel, t: float | None = None) -> Moment:
    """What the await graph shows at run time ``t`` (``None``: now, or the run's end)."""
    snap: WaitSnapshot | None = None
    if t is not None and t < model.now:
        when, at = "cursor", t
        snap = snapshot_at(model, t)
        waits = _waits_at(model, t, snap)
    else:
        at = model.now
        waits = model.waits()
        when = "live"
        if model.status == "ended":
            last = model.snapshots[-1] if model.snapshots else None
            if last is not None and (not waits or waits == last.waits):
                when, at, snap, waits = "deadlock", last.t, last, dict(last.waits)
            else:
                when = "end" if waits else "finished"
    tasks = model.tasks
    for tid, w in waits.items():
        if w[0] is None and tid in tasks and not _stepped_by(tasks[tid], at):
            waits[tid] = (NOT_STARTED, None, None)
    return Moment(at, when, waits, snap, stuck(model, waits, at))


def cycle_members(links: dict[int, list[int]]) -> set[int]:
    """Tasks on a cycle of ``links`` (strongly connected parts of two or more): Tarjan's
    algorithm with an explicit stack, so a chain of thousands does not recurse."""
    # Only a task that waits on someone can be on a cycle: drop the edges to leaves first
    # (a gather of 10,000 sleepers is then one node, not 10,001).
    links = {v: [w for w in ws if w in links] for v, ws in links.items()}
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: set[int] = set()
    for root in links:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(links.get(root, ())))]
        while work:
            v, kids = work[-1]
            w = next(kids, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(links.get(w, ()))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                part = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    part.append(x)
                    if x == v:
                        break
                if len(part) > 1:
                    out.update(part)
    return out


def stuck(model: RunModel, waits: Waits, t: float | None = None) -> dict[int, str]:
    """Deadlocked tasks at a moment: task id -> ``"cycle"`` (awaiting each other in a ring,
    from ``edges`` or a ``deadlock`` warning with ``cycle``) or ``"stall"`` (a deadlock
    warning without a cycle: nothing left could wake them). A warning counts from its time
    on (``t`` ``None``: the latest), while all its tasks still wait and none has stepped."""
    out = dict.fromkeys(cycle_members(edges(model, waits)), "cycle")
    until = model.now if t is None else t
    for w in model.warnings:
        if w.get("kind") != "deadlock" or not isinstance(w.get("t"), (int, float)):
            continue
        ids = w.get("tasks")
        if w["t"] > until or not isinstance(ids, list) or not ids:
            continue
        infos = [model.tasks.get(i) if isinstance(i, int) else None for i in ids]
        live = [
            info
            for info in infos
            if info is not None and info.id in waits and not _stepped_between(info, w["t"], until)
        ]
        if len(live) < len(infos):
            continue
        for info in live:
            if out.get(info.id) != "cycle":
                out[info.id] = "cycle" if w.get("cycle") else "stall"
    return out


def tree(model: RunModel, waits: Waits | None = None, all_tasks: bool = False) -> list[Node]:
    """Roots (tasks nobody waits on, in creation order) with what each waits on below it;
    tasks only reachable through a cycle start extra roots, from the oldest."""
    if waits is None:
        waits = model.waits()
    tasks = model.tasks
    shown = {
        tid: w
        for tid, w in waits.items()
        if tid in tasks and (all_tasks or not tasks[tid].internal)
    }
    links = edges(model, shown)
    awaited = {c for kids in links.values() for c in kids}
    drawn: set[int] = set()

    def grow(root: int) -> Node:
        """Depth first with an explicit stack: an await chain of thousands of tasks must
        not hit Python's recursion limit."""
        top = Node(root)
        drawn.add(root)
        path = {root}
        stack = [(top, iter(links.get(root, ())), 0)]
        while stack:
            node, kids, depth = stack[-1]
            child = next(kids, None)
            if child is None:
                stack.pop()
                path.discard(node.task)
            elif child in path:
                node.children.append(Node(child, "cycle"))
            elif child in drawn:
                node.children.append(Node(child, "seen"))
            elif depth + 1 >= MAX_DEPTH:  # what hangs below is hidden, not a new root
                node.children.append(Node(child, "deep"))
                hidden = [child]
                while hidden:
                    tid = hidden.pop()
                    if tid not in drawn:
                        drawn.add(tid)
                        hidden += links.get(tid, ())
            else:
                grown = Node(child)
                drawn.add(child)
                path.add(child)
                node.children.append(grown)
                stack.append((grown, iter(links.get(child, ())), depth + 1))
        return top

    roots = [grow(tid) for tid in shown if tid not in awaited]
    for tid in sorted(shown):
        if tid not in drawn:
            roots.append(grow(tid))
    return roots


def _where(file: str | None, line: int | None, cwd: str) -> str:
    if not file or not line:
        return ""
    from asyncplay.views.summary import short_file

    rel = short_file(file, cwd) if os.path.isabs(file) else file
    return f"{clean(rel)}:{line}"


def node_line(
    task: TaskInfo, wait: tuple, cwd: str = ".", name: str | None = None, on: str = ""
) -> str:
    """A task's line in the printed tree: ``worker-A (worker) at g.py:22, awaiting sleep(2)``
    (``on``: the object it is blocked on, ``lock (g.py:5) held by main``)."""
    awaiting, file, line = wait
    text = f"{clean(name or task.name)} ({clean(task.coro)})"
    where = _where(file, line, cwd)
    if where:
        text += f" at {where}"
    if awaiting:
        text += f", awaiting {clean(awaiting)}"
        if on:
            text += f" on {on}"
    elif task.state == "running":  # a step in progress (a loop that never awaits)
        text += ", running"
    elif task.state == "pending" and task.steps == 0:
        text += ", not started yet"
    else:
        text += ", ready to run"
    return text


def render(
    model: RunModel,
    waits: Waits | None = None,
    all_tasks: bool = False,
    cwd: str = ".",
    ascii_only: bool = False,
    marked: frozenset[int] = frozenset(),
) -> list[str]:
    """The tree as text; tasks in ``marked`` (a deadlock warning's) say so."""
    if waits is None:
        waits = model.waits()
    roots = tree(model, waits, all_tasks)
    tee, last, bar, gap = (
        ("|- ", "`- ", "|  ", "   ") if ascii_only else ("├─ ", "└─ ", "│  ", "   ")
    )
    lines: list[str] = []

    def line(item: Node | tuple[int, Node]) -> str:
        if isinstance(item, tuple):  # n alike leaves folded into one line
            n, sample = item
            task = model.tasks[sample.task]
            return node_line(task, waits[sample.task], cwd, name=f"{n} tasks")
        task = model.tasks[item.task]
        if item.kind == "cycle":
            return f"{clean(task.name)} again: a cycle, each task here awaits the next"
        if item.kind == "seen":
            return f"{clean(task.name)} (drawn above)"
        if item.kind == "deep":
            return f"{clean(task.name)} ... (deeper than {MAX_DEPTH} levels: not drawn)"
        wait = waits[item.task]
        on = objects.blocked_on_words(model, item.task, cwd) if wait[0] == task.awaiting else ""
        text = node_line(task, wait, cwd, on=on)
        return f"{text}  [deadlocked]" if item.task in marked else text

    # Iterative, like ``tree``: (item, prefix of its line, branch glyph, prefix for below).
    todo: list = [(root, "", "", "") for root in reversed(_fold(roots, model, waits))]
    while todo:
        item, prefix, branch, below = todo.pop()
        lines.append(f"{prefix}{branch}{line(item)}")
        if isinstance(item, tuple) or item.kind != "task":
            continue
        kids = _fold(item.children, model, waits)
        task = model.tasks[item.task]
        # (the chain is where the task waits now: shown with that wait only, not a past one)
        now = (task.awaiting, task.wait_file, task.wait_line)
        chain = chain_text(task, partial(_where, cwd=cwd)) if waits[item.task] == now else ""
        if chain:
            lines.append(f"{prefix}{below}{bar if kids else gap}  coroutines: {clean(chain)}")
        for i in range(len(kids) - 1, -1, -1):
            end = i == len(kids) - 1
            todo.append((kids[i], prefix + below, last if end else tee, gap if end else bar))
    return lines


def _fold(nodes: list[Node], model: RunModel, waits: Waits) -> list:
    """Leaves alike (same coroutine, wait and line) past ``FOLD_LEAVES`` become one
    ``(count, sample)`` entry where the first of them was: a gather of 10,000 sleepers is a
    line, not a screenful."""
    return [
        (len(item), item[0]) if isinstance(item, list) else item
        for item in fold_groups(nodes, model, waits)
    ]


def fold_groups(
    nodes: list[Node], model: RunModel, waits: Waits, at_least: int = FOLD_LEAVES
) -> list[Node | list[Node]]:
    """``nodes`` with each set of ``at_least`` or more alike leaves (same coroutine, wait
    and line) replaced, where its first one was, by the list of them."""
    keys: dict[tuple, list[Node]] = {}
    for n in nodes:
        if n.kind == "task" and not n.children:
            keys.setdefault((model.tasks[n.task].coro, *waits[n.task]), []).append(n)
    out: list[Node | list[Node]] = []
    for n in nodes:
        if n.kind == "task" and not n.children:
            group = keys[(model.tasks[n.task].coro, *waits[n.task])]
            if len(group) >= at_least:
                if group[0] is n:
                    out.append(group)
                continue
        out.append(n)
    return out


def snapshot_lines(
    model: RunModel,
    snap: WaitSnapshot,
    all_tasks: bool = False,
    cwd: str = ".",
    ascii_only: bool = False,
) -> list[str]:
    """The tree at one deadlock warning, headed by when and the warning's words (printed
    at that moment by ``asyncplay run --graph``, and again in the graph at the end)."""
    dash = "-" if ascii_only else "─"
    message = snap.warning.get("message") or "deadlock"
    parts = [
        f"{dash * 2} await graph at the deadlock warning ({snap.t:.2f} s) {dash * 10}",
        clean(str(message)),
    ]
    stuck = snap.warning.get("tasks")
    marked = (
        frozenset(t for t in stuck if isinstance(t, int))
        if isinstance(stuck, list)
        else frozenset()
    )
    return parts + render(model, snap.waits, all_tasks, cwd, ascii_only, marked)


def graph_text(
    model: RunModel, all_tasks: bool = False, cwd: str = ".", ascii_only: bool = False
) -> str:
    """``--graph``: the tree at each deadlock warning, then at the end of the run."""
    dash = "-" if ascii_only else "─"
    parts: list[str] = []
    for snap in model.snapshots:
        parts += snapshot_lines(model, snap, all_tasks, cwd, ascii_only)
    waits = model.waits()
    if model.snapshots and waits == model.snapshots[-1].waits:
        parts.append("(the same at the end of the run)")
        return "\n".join(parts)
    lines = render(model, waits, all_tasks, cwd, ascii_only)
    when = "the end of the run" if model.status == "ended" else "this moment"
    if lines:
        parts.append(f"{dash * 2} await graph at {when} ({model.now:.2f} s) {dash * 10}")
        parts += lines
    else:
        parts.append(f"{dash * 2} await graph: no task was waiting at {when} {dash * 10}")
    return "\n".join(parts)
