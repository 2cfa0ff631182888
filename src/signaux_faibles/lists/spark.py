"""Scoring on Spark (``engine = "spark"``): the month's rows as a Spark DataFrame, the saved model applied by chunk
with ``mapInPandas``, the slim results back to the driver for the list's global steps.

- The month's perimeter rows are read by Spark from the panel's Parquet folder, partitioned by SIREN into about
  ``settings.score_chunk_companies`` companies per partition, sorted by SIREN within each; a ``mapInPandas`` batch
  (``spark.sql.execution.arrow.maxRecordsPerBatch``, set to the same number) is one chunk.
- First pass: each executor loads the saved model (``model.joblib``, from the path: the data directory must be
  reachable from the executors, as the panel is) and returns per company the displayed probability, plus the
  explanations' base probability on each batch's first row. The driver collects these two numbers per company,
  finds the firms already in collective proceedings and the list's thresholds (global steps).
- Second pass: each executor scores its chunks with :func:`.chunks.score_chunk`, the same function as the
  DuckDB engine's (it reads the chunk's history from the panel's Parquet files: flags, debt by month, expert
  adjustments; then the explanations and what-if of the alerted companies) and returns the slim per-company
  columns, with the micro explanations as arrays; the driver assembles the list as :mod:`.score` does.

The list is the same as the DuckDB engine's (same companies, levels, probabilities, explanations): the same
functions run on the same rows; only where they run changes. The executors' Python needs ``signaux_faibles``
installed (``PYSPARK_PYTHON``; by default the driver's own interpreter, which suits a ``local[…]`` master).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from signaux_faibles.config import Settings
from signaux_faibles.model.artefact import TERM_COLUMNS, FailureModel
from signaux_faibles.model.explain import micro

from .chunks import ChunkContext, Explainer, read_history, score_chunk

__all__ = ["SparkRunner"]

_SLIM = ("siren", "periode", "etat_proc_collective", "date_premier_jugement")
_MODELS: dict[str, FailureModel] = {}


def _model(path: str) -> FailureModel:
    """The saved model, loaded once per Python worker."""
    if path not in _MODELS:
        _MODELS[path] = FailureModel.load(Path(path))
    return _MODELS[path]


def _frame(rows: pd.DataFrame) -> pd.DataFrame:
    """A ``mapInPandas`` batch as the panel reader gives it: ``periode`` as a month, sorted by SIREN."""
    rows = rows.assign(periode=pd.to_datetime(rows["periode"]).dt.to_period("M"))
    return rows.sort_values("siren", kind="stable").reset_index(drop=True)


def _first_pass(model_path: str) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _model(model_path)
        for batch in batches:
            rows = _frame(batch)
            base = np.full(len(rows), np.nan)
            if len(rows):
                base[0] = Explainer(model, rows).base()
            p = model.predict_proba(rows)
            yield pd.DataFrame({"siren": rows.siren.astype(str), "probability": p, "base": base})

    return run


def _second_pass(
    model_path: str, panel: str, fields: dict[str, Any], names: list[str]
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        ctx = ChunkContext(model=_model(model_path), **fields)
        for batch in batches:
            rows = _frame(batch)
            history = read_history(
                Path(panel), rows.siren.astype(str).tolist(), ctx.month, ctx.history_months
            )
            out, mic = score_chunk(ctx, rows, history)
            arrays: list[list[float] | None] = [None] * len(out)
            if len(mic):
                for j, values in zip(mic.index, mic.reindex(columns=names).to_numpy(), strict=True):
                    arrays[j] = values.tolist()
            out["micro"] = pd.Series(arrays, index=out.index, dtype=object)
            yield out

    return run


def _second_schema(adjustments: tuple[str, ...]) -> str:
    terms = ", ".join(f"{c} double" for c in TERM_COLUMNS)
    moves = "".join(f", _adj_{n} int" for n in adjustments)
    return (f"siren string, probability double, alert_pre_adjustment string, {terms}, hausse_urssaf boolean, "
            "ap_12m boolean, dette_urssaf double, alert string, adjustments string, macro_expl string, "
            f"what_if string{moves}, micro array<double>")  # fmt: skip


class SparkRunner:
    """Chunks scored on Spark (``settings.spark_master``), for :func:`.score.score`."""

    def __init__(
        self, settings: Settings, panel: Path, month: pd.Period, model_path: Path, size: int
    ) -> None:
        from pyspark.sql import functions as F

        from signaux_faibles.engine import connect

        self.con = connect(settings, "spark")  # the executors' Python: engine.spark_session
        session: Any = self.con._session
        session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(size))
        self.panel, self.month, self.model_path = (
            Path(panel).resolve(),
            month,
            str(Path(model_path).resolve()),
        )
        df = session.read.parquet(str(self.panel))
        df = df.where(F.col("in_perimeter") & (F.col("periode") == F.lit(month.to_timestamp().date())))
        n = df.count()
        self.rows = df.repartition(max(1, -(-n // size)), "siren").sortWithinPartitions("siren").cache()

    def slim(self) -> pd.DataFrame:
        cols = [c for c in _SLIM if c in self.rows.columns]
        rows = _frame(self.rows.select(*cols).toPandas())
        self.sirens = rows.siren.astype(str).to_numpy()
        return rows

    def probabilities(self) -> tuple[np.ndarray, float]:
        got = self.rows.mapInPandas(
            _first_pass(self.model_path), "siren string, probability double, base double"
        )
        res = got.toPandas().sort_values("siren", kind="stable").reset_index(drop=True)
        self._check(res)
        return res.probability.to_numpy(dtype=float), float(res.base.dropna().iloc[0])

    def results(self, ctx: ChunkContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        features = ctx.model.features
        names = [str(c) for c in micro(ctx.model, pd.DataFrame(np.zeros((1, len(features) + 1)),
                                                               columns=[*features, "bias"])).columns]  # fmt: skip
        fields = {"month": ctx.month, "thresholds": ctx.thresholds, "judged": ctx.judged,
                  "adjustments": ctx.adjustments}  # fmt: skip
        run = _second_pass(self.model_path, str(self.panel), fields, names)
        got = self.rows.mapInPandas(run, _second_schema(ctx.adjustments))
        out = got.toPandas().sort_values("siren", kind="stable").reset_index(drop=True)
        self._check(out)
        alerted = np.flatnonzero(out.micro.notna().to_numpy())
        values = np.asarray([out.micro.iloc[j] for j in alerted], dtype=float).reshape(
            len(alerted), len(names)
        )
        return out.drop(columns="micro"), pd.DataFrame(values, index=alerted, columns=names)

    def _check(self, res: pd.DataFrame) -> None:
        if len(res) != len(self.sirens) or not (res.siren.to_numpy() == self.sirens).all():
            raise RuntimeError("Spark scored other companies than the month's")  # pragma: no cover

    def close(self) -> None:
        from signaux_faibles.engine import stop

        self.rows.unpersist()
        stop(self.con)
