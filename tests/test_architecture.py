"""The house's rules (docs/architecture.md, "Rules"), read from the code itself.

- No import cycle between asyncplay's modules, counting the imports inside functions and
  under ``if TYPE_CHECKING:`` (or the child's ``TYPE_CHECKING = False`` guard): an ast walk
  over every module, so an import that only runs later still counts.
- The layers, as the ``import-linter`` contracts of pyproject.toml (``lint-imports``).
- No module over 800 lines.

The cycle finder is proved on small synthetic packages first: a check that cannot fail
would pass here too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "asyncplay"
MAX_LINES = 800

# Cycles another part of issue #16 has not removed yet, each named with the reason; the
# check fails on any other cycle, and on one of these once it is gone (then delete it here).
KNOWN_CYCLES: dict[frozenset[str], str] = {}
# Modules over MAX_LINES that another part of issue #16 is still splitting.
KNOWN_BIG: dict[str, str] = {}


# ---- the import graph ------------------------------------------------------------------


def modules_of(package: Path) -> dict[str, Path]:
    """Every module of ``package`` (a folder): dotted name -> file (a package is its
    ``__init__.py``)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module of ``known`` that importing ``name`` runs: the longest known prefix."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """module -> {imported module of the same package -> line of the first such import}.

    Every ``import`` and ``from ... import`` anywhere in the module counts (ast.walk: in
    functions, classes and ``if TYPE_CHECKING:`` blocks too). ``from p import m`` is an
    import of the submodule ``p.m`` when there is one, else of ``p``.
    """
    known = modules_of(package)
    graph: dict[str, dict[str, int]] = {name: {} for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the module's own package upwards
                    base_parts = name.split(".")
                    drop = node.level - 1 if is_package else node.level
                    base_parts = base_parts[: len(base_parts) - drop] if drop else base_parts
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{alias.name}" for alias in node.names]
                targets = [t if t in known else base for t in targets]
            for target in targets:
                module = _resolve(target, known)
                if module is not None and module != name:
                    graph[name].setdefault(module, node.lineno)
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) for each group of modules that import each other
    (a strongly connected component of more than one module), shortest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted((_a_cycle(graph, group) for group in groups), key=len)


def _a_cycle(graph: dict[str, dict[str, int]], group: list[str]) -> list[str]:
    """The shortest cycle through the group's first module (breadth first)."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in came_from:
                    came_from[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {group}")  # (a component has one)


def describe(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    """``a -> b (b.py line 3 imports ...)``: each step with the line that makes it."""
    steps = [cycle[0]]
    for here, there in zip(cycle, cycle[1:], strict=False):
        steps.append(f"{there} (line {graph[here][there]} of {here})")
    return " -> ".join(steps)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


# ---- the finder has teeth ----------------------------------------------------------------


def test_the_cycle_finder_catches_a_cycle_through_an_import_inside_a_function(tmp_path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "import os\n\n\ndef later():\n    from pkg.a import thing\n    return thing\n",
            "c.py": "from pkg import a\n",  # imports into the cycle, is not part of it
        },
    )
    graph = import_graph(root)
    assert graph["pkg.b"] == {"pkg.a": 5}
    cycles = find_cycles(graph)
    assert cycles == [["pkg.a", "pkg.b", "pkg.a"]]
    assert (
        describe(graph, cycles[0]) == "pkg.a -> pkg.b (line 1 of pkg.a) -> pkg.a (line 5 of pkg.b)"
    )


@pytest.mark.parametrize(
    "guard",
    [
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n",
        "import typing\n\nif typing.TYPE_CHECKING:\n",
        "TYPE_CHECKING = False\nif TYPE_CHECKING:\n",  # the child's guard (no typing import)
    ],
)
def test_the_cycle_finder_counts_imports_only_for_type_checking(tmp_path, guard) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "",
            "sub/x.py": "from .. import y\n",  # relative, from a subpackage
            "y.py": guard + "    from pkg.sub.x import X\n",
        },
    )
    cycles = find_cycles(import_graph(root))
    assert cycles == [["pkg.sub.x", "pkg.y", "pkg.sub.x"]]


def test_the_cycle_finder_names_one_cycle_per_knot_and_passes_a_clean_package(tmp_path) -> None:
    knots = _package(
        tmp_path / "knots",
        {
            "__init__.py": "",
            "a.py": "import pkg.b\n",
            "b.py": "import pkg.c\n",
            "c.py": "def f():\n    import pkg.a\n",
            "d.py": "from . import e\n",
            "e.py": "from .d import f\n",
        },
    )
    assert find_cycles(import_graph(knots)) == [
        ["pkg.d", "pkg.e", "pkg.d"],
        ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
    ]
    clean = _package(
        tmp_path / "clean",
        {
            "__init__.py": "from pkg import a\n",  # a package importing its own modules
            "a.py": "from pkg import b\nimport json\n",
            "b.py": "def f():\n    from pkg.c import g\n",
            "c.py": "import os\n",
        },
    )
    assert find_cycles(import_graph(clean)) == []


# ---- the rules, on asyncplay -------------------------------------------------------------


def test_no_import_cycle_in_asyncplay() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and graph["asyncplay.cli.run"]  # (the walk found the package)
    found = {frozenset(c): describe(graph, c) for c in find_cycles(graph)}
    new = [text for key, text in found.items() if key not in KNOWN_CYCLES]
    assert not new, "import cycles (an import inside a function counts):\n" + "\n".join(new)
    gone = [sorted(key) for key in KNOWN_CYCLES if key not in found]
    assert not gone, f"these known cycles are gone: delete them from KNOWN_CYCLES: {gone}"


def test_no_module_over_800_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules_of(PACKAGE).items()
    }
    big = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in KNOWN_BIG}
    assert not big, f"modules over {MAX_LINES} lines (split them by concept): {big}"
    done = [name for name in KNOWN_BIG if sizes.get(name, 0) <= MAX_LINES]
    assert not done, f"these are {MAX_LINES} lines or fewer now: delete them from KNOWN_BIG: {done}"


def test_the_child_imports_only_itself_and_the_protocol() -> None:
    """The contract in pyproject.toml lists the modules the child may not import; this
    reads the child's imports directly, so a module added later is covered too."""
    graph = import_graph(PACKAGE)
    wrong = {
        f"{module} (line {line} of {name})"
        for name, imported in graph.items()
        if name.startswith("asyncplay.child")
        for module, line in imported.items()
        if not module.startswith("asyncplay.child") and module != "asyncplay.protocol"
    }
    assert not wrong, f"the child imports more than itself and the protocol: {sorted(wrong)}"
    # The protocol runs in the child too: it imports nothing of asyncplay.
    assert graph["asyncplay.protocol"] == {}, graph["asyncplay.protocol"]


def test_the_child_imports_the_standard_library_only() -> None:
    """Besides asyncplay's child and protocol, only what every CPython 3.10+ has: the child
    runs on the program's interpreter, where nothing else is installed (``sitecustomize``:
    the boot runs the interpreter's own hook, if it has one, as ``site`` would)."""
    outside = []
    for name, path in modules_of(PACKAGE).items():
        if not (name.startswith("asyncplay.child") or name == "asyncplay.protocol"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                tops = [(node.module or "").split(".")[0]]
            else:
                continue
            outside += [
                f"{name} line {node.lineno}: {top}"
                for top in tops
                if top not in ("asyncplay", "sitecustomize") and top not in sys.stdlib_module_names
            ]
    assert not outside, f"the child imports outside the standard library: {outside}"


def test_the_childs_contract_forbids_every_other_module() -> None:
    """The import-linter contract names each forbidden module: none may be missing."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (child,) = [c for c in contracts if c.get("source_modules") == ["asyncplay.child"]]
    top = {name.split(".")[1] for name in modules_of(PACKAGE) if name.count(".") >= 1}
    should = {f"asyncplay.{name}" for name in top - {"child", "protocol", "__main__"}}
    missing = should - set(child["forbidden_modules"])
    assert not missing, f"add these to the child's forbidden_modules in pyproject.toml: {missing}"


PROCESS_CALLS = {"fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "popen"}
PROCESS_CALLS |= {f"exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
PROCESS_CALLS |= {"create_subprocess_exec", "create_subprocess_shell"}


def process_calls(source: str) -> list[str]:
    """``os.fork``, ``asyncio.create_subprocess_exec`` and their kin in ``source``."""
    return [
        f"line {node.lineno}: {node.value.id}.{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in PROCESS_CALLS
        and isinstance(node.value, ast.Name)
        and node.value.id in ("os", "pty", "asyncio", "posix")
    ]


def test_the_process_finder_sees_a_fork_in_a_method() -> None:
    source = "import os\nclass W:\n    def on_click(self):\n        if os.fork() == 0:\n            pass\n"
    assert process_calls(source) == ["line 4: os.fork"]
    assert process_calls("async def f(asyncio):\n    await asyncio.create_subprocess_exec('x')\n")
    assert process_calls("def f(binding):\n    return binding.system\n") == []


def test_panes_and_screens_start_no_process() -> None:
    """What the import contract cannot see: ``os.fork()``, ``asyncio.create_subprocess_exec``
    and their kin called from a widget (a process starts in tui/services/, off the UI)."""
    found = [
        f"{name} {call}"
        for name, path in modules_of(PACKAGE).items()
        if name.startswith(("asyncplay.tui.panes", "asyncplay.tui.screens"))
        for call in process_calls(path.read_text(encoding="utf-8"))
    ]
    assert not found, f"a widget starts a process: {found}"


def _lint_imports() -> str | None:
    beside = Path(sys.executable).with_name("lint-imports")
    return str(beside) if beside.exists() else shutil.which("lint-imports")


def test_the_import_linter_contracts_are_kept() -> None:
    command = _lint_imports()
    if command is None:
        pytest.skip("lint-imports is not installed (pip install '.[test]' installs import-linter)")
    r = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "Contracts:" in r.stdout, r.stdout + r.stderr  # it read pyproject.toml's contracts
    assert r.returncode == 0, r.stdout + r.stderr
