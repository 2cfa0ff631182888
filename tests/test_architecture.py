"""The package's shape, as a contract CI checks.

- **No import circle**: the graph of imports between modules of ``signaux_faibles`` (every import, at module level
  or inside a function: a lazy import that hides a circle is still a circle) has no cycle.
- **Layers**: a stage imports only from itself, from a stage below it, and from the shared foundation. The data's
  journey is ``sources < ingest < panel < model < lists``; the platform reads only what is published (it imports
  none of those stages); the twin stands beside them (it writes partner files, it reads none of the stages); the
  commands (``cli``, ``monthly``) sit on top.
- **Short functions**: no function over 80 lines, outside the generated database migrations.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "signaux_faibles"
ROOT = PACKAGE.parent
MAX_FUNCTION_LINES = 80

#: Modules every stage may import: words, settings, paths, engine and small helpers shared by all.
FOUNDATION = {"", "contract", "config", "layout", "engine", "cells", "geo", "identifiers", "naf"}
#: Each stage and the stages it may import (besides itself and the foundation).
MAY_IMPORT: dict[str, set[str]] = {
    "twin": set(),
    "sources": set(),
    "ingest": {"sources"},
    "panel": {"sources", "ingest"},
    "model": {"sources", "ingest", "panel"},
    "lists": {"sources", "ingest", "panel", "model"},
    "platform": set(),
    "monthly": {"sources", "ingest", "panel", "model", "lists", "platform"},
    "cli": {"twin", "sources", "ingest", "panel", "model", "lists", "platform", "monthly"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``module`` imports, wherever the import statement stands."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return {m for m in found if m in known and m != module}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle() -> None:
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_every_module_belongs_to_a_known_stage() -> None:
    unknown = sorted({stage(m) for m in import_graph()} - FOUNDATION - set(MAY_IMPORT))
    assert not unknown, f"modules outside the layering contract: {unknown} (add them to FOUNDATION or MAY_IMPORT)"


def test_stages_import_only_downwards() -> None:
    bad = []
    for module, targets in import_graph().items():
        own = stage(module)
        if own in FOUNDATION:
            wrong = {t for t in targets if stage(t) not in FOUNDATION}
        else:
            wrong = {t for t in targets if stage(t) not in FOUNDATION | MAY_IMPORT[own] | {own}}
        bad += [f"{module} → {t}" for t in sorted(wrong)]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def _long_functions() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:  # generated by Alembic, one long upgrade() per revision
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_over_80_lines() -> None:
    found = _long_functions()
    assert not found, "functions over 80 lines:\n" + "\n".join(found)


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_the_contract_names_only_known_stages(layer: str) -> None:
    assert MAY_IMPORT[layer] <= set(MAY_IMPORT), MAY_IMPORT[layer] - set(MAY_IMPORT)
