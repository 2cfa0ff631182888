"""``signaux-faibles model …``: the failure model's commands (mounted by the main CLI as ``model``)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

if TYPE_CHECKING:
    from .benchmark import Protocol

model_app = typer.Typer(help="Failure model: benchmark the production configuration.", no_args_is_help=True)


class ProtocolName(StrEnum):
    holdout90 = "holdout90"
    kfold10 = "kfold10"
    time = "time"


@model_app.callback()
def main() -> None:
    """Failure model."""


@model_app.command()
def benchmark(
    target: Annotated[str, typer.Option(help="Binary target column (e.g. class)")],
    data: Annotated[Path | None, typer.Option(help="Data file: CSV, Parquet or ARFF")] = None,
    id_col: Annotated[
        str | None, typer.Option("--id", help="Entity id column: no id on both sides of a split")
    ] = None,
    time_col: Annotated[str | None, typer.Option("--time", help="Time column (protocol 'time')")] = None,
    protocol: Annotated[ProtocolName, typer.Option(help="Evaluation protocol")] = ProtocolName.holdout90,
    train: Annotated[
        Path | None, typer.Option(help="Training file (with --test; overrides --protocol)")
    ] = None,
    test: Annotated[Path | None, typer.Option(help="Test file (with --train)")] = None,
    splits: Annotated[int | None, typer.Option(help="Run only the first N splits of the protocol")] = None,
) -> None:
    """Benchmark the production model on a tabular file; prints one JSON object (AUC-ROC, AUC-PR, Brier)."""
    from .benchmark import run_benchmark

    for path in (data, train, test):
        if path is not None and not path.is_file():
            typer.echo(f"error: no such file {path}", err=True)
            raise typer.Exit(2)
    try:
        result = run_benchmark(
            data, target, id_col, time_col, cast("Protocol", protocol.value), train, test, n_splits=splits
        )
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(json.dumps(result))
