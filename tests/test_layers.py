"""The code's shape, enforced: every package imports only from the ones below it, and nothing cycles.

Each top-level package (``bridge``, ``plugin``, ``emulator``) is a stack of ranks, lowest first
(DESIGN §4; ``bridge/__init__.py`` draws the map). A rank holds one or more *units* (a module, or a
package with everything under it). A module may import any unit of a lower rank, and other modules
of its own unit; never a unit of a higher rank, nor another unit of its own rank (siblings such as
``bridge.feeds`` and ``bridge.outlook_check`` stay independent). Imports are read from the syntax
tree, deferred ones (inside functions) included, so an import hidden in a function to dodge a cycle
counts like any other. Within a unit, the module graph must be acyclic.

Across packages: ``bridge`` imports neither ``plugin`` nor ``emulator``; ``emulator`` imports
neither; ``plugin`` reaches the emulator only from the demo and the ``emulator`` command.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest rank first; a rank's units (separated by a comma) may not import each other.
BRIDGE = [
    "bridge.config", "bridge.logs", "bridge.i18n", "bridge.db", "bridge.models", "bridge.codes", "bridge.metrics",
    "bridge.migrate, bridge.migrations",
    "bridge.graph",
    "bridge.queue",
    "bridge.lms",
    "bridge.sync",
    "bridge.trust",
    "bridge.accounts",
    "bridge.feeds, bridge.outlook_check",
    "bridge.worker",
    "bridge",
]
PLUGIN = [
    "plugin.signing", "plugin.host", "plugin.limits", "plugin.contract", "plugin.services", "plugin.signed",
    "plugin.i18n",
    "plugin.refusals", "plugin.headers", "plugin.csrf", "plugin.launch", "plugin.templating", "plugin.redact",
    "plugin.words",
    "plugin.hooks, plugin.consent, plugin.feeds, plugin.user_state, plugin.page, plugin.ops",
    "plugin.app",
    "plugin.demo",
    "plugin.cli",
    "plugin",
]
EMULATOR = [
    "emulator.config", "emulator.errors", "emulator.zones", "emulator.csdl", "emulator.state",
    "emulator.odata", "emulator.opath", "emulator.rbac", "emulator.tokens", "emulator.throttle", "emulator.faults",
    "emulator.metrics",
    "emulator.certs", "emulator.events",
    "emulator.core",
    "emulator.calls",
    "emulator.calendar, emulator.directory, emulator.identity, emulator.consent",
    "emulator.delta, emulator.admin",
    "emulator.admin_rbac",
    "emulator.batch",
    "emulator.graph",
    "emulator.app",
    "emulator.seed",
    "emulator.server",
    "emulator.client",
    "emulator.testing",
    "emulator.bench, emulator.__main__",
    "emulator",
]
STACKS = {"bridge": BRIDGE, "plugin": PLUGIN, "emulator": EMULATOR}
# What a top-level package may import of the others (DESIGN §4): the emulator only for the demo and
# the `emulator` command, never on the product's path.
ACROSS = {"bridge": set(), "emulator": set(), "plugin": {"bridge"}}
EMULATOR_ALLOWED_FROM = ("plugin.demo.run", "plugin.cli.main")


@dataclass(frozen=True)
class Place:
    """Where a module stands: its rank in its package's stack and the unit it belongs to."""

    rank: int
    unit: str


def ranks(stack: Sequence[str]) -> dict[str, Place]:
    """Each unit's place, from a stack written lowest first."""
    return {unit.strip(): Place(rank, unit.strip()) for rank, row in enumerate(stack) for unit in row.split(",")}


def modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` by dotted name (a package by its own name), migrations included."""
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imported(name: str, path: Path) -> Iterable[tuple[str, int]]:
    """The dotted names ``path`` imports, with line numbers (deferred imports too; relative ones resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base, node.lineno
            yield from ((f"{base}.{alias.name}", node.lineno) for alias in node.names)


def place(name: str, places: dict[str, Place]) -> Place | None:
    """The unit ``name`` belongs to: the longest unit that is it or a package above it (the top
    package's own unit is its ``__init__`` alone: a module missing from the stack has no place)."""
    unit = name
    while "." in unit:
        if unit in places:
            return places[unit]
        unit = unit.rpartition(".")[0]
    return places.get(name)


def resolve(target: str, known: dict[str, Path]) -> str | None:
    """The module ``target`` names (``from a import b`` may name a module or a name in ``a``)."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def problems(top: str) -> list[str]:
    """Every import of ``top`` against the stacks, and every cycle among its modules."""
    everything = {m: p for package in STACKS for m, p in modules(package).items()}
    places = ranks(STACKS[top])
    found: list[str] = []
    graph: dict[str, set[str]] = {}
    for name, path in modules(top).items():
        here = place(name, places)
        if here is None:
            found.append(f"{name}: in no rank of the {top} stack")
            continue
        graph[name] = set()
        for target, line in imported(name, path):
            other_top = target.partition(".")[0]
            if other_top not in STACKS:
                continue  # the standard library and third-party packages
            module = resolve(target, everything)
            if module is None or module == name or name.startswith(module + "."):
                continue  # a package's own __init__ is not a dependency of its modules
            where = f"{path.relative_to(ROOT)}:{line}: {name} imports {module}"
            if other_top != top:
                allowed = other_top in ACROSS[top] or (
                    other_top == "emulator" and name.startswith(EMULATOR_ALLOWED_FROM))
                if not allowed:
                    found.append(f"{where} (the {top} package may not import {other_top})")
                continue
            graph[name].add(module)
            there = place(module, places)
            assert there is not None, module
            if there.rank > here.rank:
                found.append(f"{where}, which is above it ({there.unit} over {here.unit})")
            elif there.rank == here.rank and there.unit != here.unit:
                found.append(f"{where}, a sibling ({there.unit} and {here.unit} stay independent)")
    found += [f"cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return sorted(set(found))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("top", sorted(STACKS))
def test_imports_follow_the_stack(top: str) -> None:
    assert problems(top) == []


def test_a_wrong_import_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: an import upward, a sibling's, a deferred one closing a cycle, and
    one across packages are each reported (in a copy of the tree with the wrong imports added)."""
    import shutil

    for package in STACKS:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    wrong = {
        "bridge/graph/errors.py": "from bridge.sync import reconcile\n",
        "bridge/feeds/store.py": "from bridge.outlook_check import store\n",
        "bridge/models/base.py": "def late():\n    from bridge import metrics\n",
        "bridge/metrics.py": "from bridge import models\n",
        "bridge/queue/retry.py": "import plugin\n",
        "emulator/errors.py": "from bridge import config\n",
    }
    for relative, line in wrong.items():
        with (tmp_path / relative).open("a") as file:
            file.write("\n" + line)
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    found = problems("bridge") + problems("emulator")
    assert any("bridge.graph.errors imports bridge.sync.reconcile, which is above it" in p for p in found)
    assert any("bridge.feeds.store imports bridge.outlook_check.store, a sibling" in p for p in found)
    assert any("bridge.models.base imports bridge.metrics, which is above it" in p for p in found)
    assert any(p.startswith("cycle: ") and "bridge.metrics" in p and "bridge.models" in p for p in found)
    assert any("bridge.queue.retry imports plugin" in p for p in found)
    assert any("emulator.errors imports bridge.config (the emulator package may not import bridge)" in p
               for p in found)
