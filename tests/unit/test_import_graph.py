"""The structure drawn from the imports: no circle between the top-level packages, a pure core.

Every `import` in the tree counts, those inside functions too (a lazy import hides a circle, it does
not remove it). A unit is a top-level package (`workflows`, `forms`, `notifications`) or a first-level
part of `aap` (`aap.dossiers`, `aap.financing`, `aap.models`…).

The edges (HTTP endpoints and their dependencies, the web pages, the commands, the composition root)
put the domains together: they may import any domain, no domain imports them, and they are left out of
the domain graph (`aap.accounts.endpoints` → `aap.deps` → `aap.accounts.service` is not a circle of the
domains).
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aap", "workflows", "forms", "notifications")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


EDGES = ("aap.app", "aap.main", "aap.cli", "aap.deps", "aap.wiring", "aap.web", "aap.demo")


def is_edge(module: str) -> bool:
    return module.startswith(EDGES) or module.rsplit(".", 1)[-1].endswith(("endpoints", "cli"))


def _unit(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "aap" and len(parts) > 1 else parts[0]


def _imported(node: ast.AST, module: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against the importing module's package
            parts = module.split(".") + (["__init__"] if modules[module].name == "__init__.py" else [])
            base = ".".join(parts[: -node.level] + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    else:
        return []
    return [name for name in names if name in modules]


def module_imports() -> dict[str, set[str]]:
    modules = _modules()
    return {
        module: {
            t
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            for t in _imported(node, module, modules)
        }
        for module, path in modules.items()
    }


def import_graph() -> dict[str, dict[str, set[str]]]:
    """Domain unit → imported unit → the imports that make the edge (to say where a circle comes from)."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for module, targets in module_imports().items():
        for target in targets:
            if not is_edge(module) and _unit(target) != _unit(module):
                graph[_unit(module)][_unit(target)].add(f"{module} → {target}")
    return graph


def _circles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        on_stack.add(unit)
        for target in graph.get(unit, {}):
            if target not in index:
                visit(target)
                low[unit] = min(low[unit], low[target])
            elif target in on_stack:
                low[unit] = min(low[unit], index[target])
        if low[unit] == index[unit]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == unit:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for unit in list(graph):
        if unit not in index:
            visit(unit)
    return found


def test_the_graph_sees_the_known_edges() -> None:
    """A sanity check of the drawing itself: a test over an empty graph would pass for nothing."""
    graph = import_graph()
    assert "aap.dossiers" in graph["aap.attachments"]
    assert "aap.dossiers" in graph["aap.financing"]
    assert "workflows" in graph["aap.dossiers"]


def test_a_circle_would_be_found() -> None:
    graph = {"a": {"b": {"a.x → b.y"}}, "b": {"c": {"b.y → c.z"}}, "c": {"a": {"c.z → a.x"}}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_circle_between_top_level_packages() -> None:
    graph = import_graph()
    circles = _circles(graph)
    details = [
        f"{' ↔ '.join(circle)}: "
        + "; ".join(sorted(edge for u in circle for t in circle for edge in graph[u].get(t, ())))
        for circle in circles
    ]
    assert circles == [], "\n".join(details)


def test_no_domain_imports_an_edge() -> None:
    wrong = sorted(
        f"{module} → {target}"
        for module, targets in module_imports().items()
        for target in targets
        if not is_edge(module) and is_edge(target)
    )
    assert wrong == []


def test_the_pure_core_imports_nothing_from_aap() -> None:
    graph = import_graph()
    for core in ("workflows", "forms"):
        outside = {target for target in graph.get(core, {}) if target not in ("workflows", "forms")}
        assert outside == set(), f"{core} imports {sorted(outside)}: {dict(graph[core])}"
