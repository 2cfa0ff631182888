"""No module of the panel package imports an engine (DuckDB, PySpark): the backend is chosen at the edge."""

from __future__ import annotations

import ast
from pathlib import Path

import signaux_faibles.panel as panel

FORBIDDEN = ("duckdb", "pyspark")


def test_no_panel_module_imports_duckdb_or_pyspark() -> None:
    root = Path(panel.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 8
    offenders = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{f.relative_to(root)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
            if (  # ibis.duckdb.connect() / ibis.pyspark.connect()
                isinstance(node, ast.Attribute)
                and node.attr in FORBIDDEN
                and isinstance(node.value, ast.Name)
                and node.value.id == "ibis"
            ):
                offenders.append(f"{f.relative_to(root)}: ibis.{node.attr}")
    assert offenders == []
