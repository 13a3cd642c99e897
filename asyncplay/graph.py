"""The await graph: who waits on whom, as a tree of tasks (``--graph``, like ``pstree``).

The child names what a task waits on in a person's words (``Task-3``, ``gather(3)``,
``Queue.get()``); ``edges`` turns those words back into tasks: a task name into the live task
of that name (the newest, if names repeat), a ``gather``/``wait``/``TaskGroup`` into the
waiting task's unfinished children. ``tree`` is pure (the TUI can draw the same nodes);
``render`` makes the text. Cycles are drawn once and marked, never followed forever.
"""

from __future__ import annotations

import os

from asyncplay.model import RunModel, TaskInfo

# What a task waits on that stands for several of its own children.
GROUP_PREFIXES = ("gather(", "wait(", "TaskGroup.", "as_completed(")

MAX_DEPTH = 50  # levels of an await chain drawn
FOLD_LEAVES = 4  # this many alike tasks waiting side by side fold into one line

Waits = dict[int, tuple]  # task id -> (awaiting, wait_file, wait_line)


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


def _count(awaiting: str) -> int | None:
    """The k of ``gather(k)`` / ``wait(k)``, when the words carry it."""
    inner = awaiting[awaiting.find("(") + 1 : awaiting.find(")")]
    return int(inner) if inner.isdigit() else None


def edges(model: RunModel, waits: Waits) -> dict[int, list[int]]:
    """Each waiting task -> the tasks it waits on (only tasks still waiting themselves).

    A group (``gather(3)``) stands for the waiting task's unfinished children. When it has
    more of them than the group holds, the ones another task awaits by name are dropped
    first (newest first): they are likelier someone else's.
    """
    names = _by_name(model, waits)
    out: dict[int, list[int]] = {}
    groups: list[int] = []
    for tid, (awaiting, _file, _line) in waits.items():
        if not awaiting:
            continue
        target = names.get(awaiting)
        if target is not None and target != tid and target in waits:
            out[tid] = [target]
        elif awaiting.startswith(GROUP_PREFIXES):
            groups.append(tid)
    direct = {kids[0] for kids in out.values()}
    for tid in groups:
        info = model.tasks.get(tid)
        kids = [c for c in (info.children if info else ()) if c in waits and c != tid]
        k = _count(waits[tid][0])
        if k is not None:
            for c in reversed([c for c in kids if c in direct]):
                if len(kids) <= k:
                    break
                kids.remove(c)
        if kids:
            out[tid] = kids
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
    rel = os.path.relpath(file, cwd) if os.path.isabs(file) else file
    if rel.startswith(".." + os.sep):
        rel = os.path.basename(file)
    return f"{rel}:{line}"


def describe(task: TaskInfo, wait: tuple, cwd: str = ".", name: str | None = None) -> str:
    """``worker-A (worker) at g.py:22, awaiting sleep(2)``."""
    awaiting, file, line = wait
    text = f"{name or task.name} ({task.coro})"
    where = _where(file, line, cwd)
    if where:
        text += f" at {where}"
    if awaiting:
        text += f", awaiting {awaiting}"
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
            return describe(task, waits[sample.task], cwd, name=f"{n} tasks")
        task = model.tasks[item.task]
        if item.kind == "cycle":
            return f"{task.name} again: a cycle, each task here awaits the next"
        if item.kind == "seen":
            return f"{task.name} (drawn above)"
        if item.kind == "deep":
            return f"{task.name} ... (deeper than {MAX_DEPTH} levels: not drawn)"
        text = describe(task, waits[item.task], cwd)
        return f"{text}  [deadlocked]" if item.task in marked else text

    # Iterative, like ``tree``: (item, prefix of its line, branch glyph, prefix for below).
    todo: list = [(root, "", "", "") for root in reversed(_fold(roots, model, waits))]
    while todo:
        item, prefix, branch, below = todo.pop()
        lines.append(f"{prefix}{branch}{line(item)}")
        if isinstance(item, tuple) or item.kind != "task":
            continue
        kids = _fold(item.children, model, waits)
        for i in range(len(kids) - 1, -1, -1):
            end = i == len(kids) - 1
            todo.append((kids[i], prefix + below, last if end else tee, gap if end else bar))
    return lines


def _fold(nodes: list[Node], model: RunModel, waits: Waits) -> list:
    """Leaves alike (same coroutine, wait and line) past ``FOLD_LEAVES`` become one
    ``(count, sample)`` entry where the first of them was: a gather of 10,000 sleepers is a
    line, not a screenful."""
    keys: dict[tuple, list[Node]] = {}
    for n in nodes:
        if n.kind == "task" and not n.children:
            keys.setdefault((model.tasks[n.task].coro, *waits[n.task]), []).append(n)
    out: list = []
    for n in nodes:
        if n.kind == "task" and not n.children:
            group = keys[(model.tasks[n.task].coro, *waits[n.task])]
            if len(group) >= FOLD_LEAVES:
                if group[0] is n:
                    out.append((len(group), n))
                continue
        out.append(n)
    return out


def graph_text(
    model: RunModel, all_tasks: bool = False, cwd: str = ".", ascii_only: bool = False
) -> str:
    """``--graph``: the tree at each deadlock warning, then at the end of the run."""
    dash = "-" if ascii_only else "─"
    parts: list[str] = []
    for snap in model.snapshots:
        message = snap.warning.get("message") or "deadlock"
        parts.append(f"{dash * 2} await graph at the deadlock warning ({snap.t:.2f} s) {dash * 10}")
        parts.append(message)
        stuck = snap.warning.get("tasks")
        marked = (
            frozenset(t for t in stuck if isinstance(t, int))
            if isinstance(stuck, list)
            else frozenset()
        )
        parts += render(model, snap.waits, all_tasks, cwd, ascii_only, marked)
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
