"""The package's layers: imports point one way, toward the core, and no module imports itself back.

The graph is read from the source (every ``import`` statement, top-level or inside a function), so
a lazy import that climbs a layer is caught as well as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import camreasoner

PACKAGE = Path(camreasoner.__file__).parent

# Lowest first: a part may import its own modules and those of the parts before it, never after.
LAYERS = (
    "core",
    "formats",
    "video",
    "qa",
    "observer",
    "model",
    "backends",
    "synth",
    "suite",
    "train",
    "evaluate",
    "label",
    "cli",
    "testing",
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name.split(".")[0] == "camreasoner"}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # "from pkg import name" names a module only when pkg.name is one.
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_part_is_a_known_layer():
    parts = {_part(m) for m in _graph()} - {"", "__main__"}
    assert parts <= set(LAYERS), f"parts with no layer: {sorted(parts - set(LAYERS))}"


def test_no_part_imports_a_part_above_it():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for module, targets in _graph().items():
        here = _part(module)
        if here in ("", "__main__"):
            continue
        for target in targets:
            there = _part(target)
            if there and there != here and rank[there] > rank[here]:
                upward.append(f"{module} -> {target}")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # A package __init__ that re-exports its own submodules is not a cycle of design.
    real = [c for c in cycles if not _is_reexport(c)]
    assert not real, "import cycles:\n" + "\n".join(real)


def _is_reexport(cycle: str) -> bool:
    nodes = cycle.split(" -> ")
    packages = {n for n in nodes if (PACKAGE.parent / n.replace(".", "/") / "__init__.py").exists()}
    others = [n for n in nodes if n not in packages]
    return bool(packages) and all(any(o.startswith(p + ".") for p in packages) for o in others)


def test_the_graph_sees_lazy_imports():
    """The walker reads imports inside functions too (the hints module imports the observer lazily)."""
    assert "camreasoner.observer" in _graph()["camreasoner.model.hints"] or any(
        t.startswith("camreasoner.observer") for t in _graph()["camreasoner.model.hints"]
    )
