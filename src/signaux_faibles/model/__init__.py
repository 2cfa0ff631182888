"""The failure model: the production classifier, the logistic baseline and the benchmark command.

The names are imported lazily, so that mounting the ``model`` sub-command does not load LightGBM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .benchmark import read_arff, read_table, run_benchmark
    from .estimators import FailureClassifier, make_baseline_lightgbm, make_logistic_pipeline

__all__ = [
    "FailureClassifier",
    "make_baseline_lightgbm",
    "make_logistic_pipeline",
    "read_arff",
    "read_table",
    "run_benchmark",
]

_HOME = {
    "FailureClassifier": "estimators",
    "make_baseline_lightgbm": "estimators",
    "make_logistic_pipeline": "estimators",
    "read_arff": "benchmark",
    "read_table": "benchmark",
    "run_benchmark": "benchmark",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
