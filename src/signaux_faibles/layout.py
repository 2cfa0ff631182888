"""Every path under the data directory, in one place; and the month of a batch.

::

    $SF_DATA_DIR/
      staging/<table>/          ingested rows (symbolic link into .current, see ingest/_store.py)
      quarantine/<table>/       rejected rows and dropped values
      filtered/<table>/         rows outside the perimeter
      import_log.parquet        one line per file and batch
      .current -> .versions/…   the published ingest version; .ingest.lock held while an ingest runs
      clean/<clean_*>/          the clean relations (panel stage)
      panel/company_month/      the SIREN × month panel; panel_work/ while it is built
      models/<batch>/           model.joblib, model_logistic.joblib, metrics.json, report.html
      lists/<batch>/            scores.parquet, diff.parquet, summary.json
      exports/<batch>/          sf-json, CSV and XLSX exports of the list
      runs/<batch>/run.json     the monthly run's journal; runs/.lock held while one runs
      twin/                     the digital twin's batch folder and ground_truth.parquet
      platform.db, .secret_key  the platform's default database and key

This module imports nothing of the package: every stage may read it.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path

import pandas as pd

__all__ = ["DataDir", "batch_month"]

_BATCH_RE = re.compile(r"^(\d{2})(\d{2})(?:_\d+)?$")


def batch_month(batch: str) -> pd.Period:
    """``AAMM`` (or ``AAMM_NN``) → the batch's month, the last month of data it delivers (``1910`` → 2019-10)."""
    m = _BATCH_RE.match(batch)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"batch {batch!r}: expected AAMM or AAMM_NN (e.g. 2609)")
    return pd.Period(year=2000 + int(m.group(1)), month=int(m.group(2)), freq="M")


class DataDir:
    """The data directory ``root`` and the paths of what each stage writes in it."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DataDir({str(self.root)!r})"

    # --- any table folder: <layer>/<name>
    def table(self, layer: str, name: str) -> Path:
        """Folder of a Parquet table: ``<layer>/<name>/``."""
        return self.root / layer / name

    # --- ingest (published atomically, see signaux_faibles.ingest._store)
    @property
    def import_log(self) -> Path:
        return self.root / "import_log.parquet"

    def staging(self, table: str) -> Path:
        return self.table("staging", table)

    def quarantine(self, table: str) -> Path:
        return self.table("quarantine", table)

    def filtered(self, table: str) -> Path:
        return self.table("filtered", table)

    @property
    def versions(self) -> Path:
        return self.root / ".versions"

    @property
    def current(self) -> Path:
        return self.root / ".current"

    @property
    def ingest_lock(self) -> Path:
        return self.root / ".ingest.lock"

    # --- panel
    @property
    def clean_root(self) -> Path:
        return self.root / "clean"

    def clean(self, name: str) -> Path:
        return self.table("clean", name)

    @property
    def clean_tmp(self) -> Path:
        """Where new clean relations are written before they replace the published ones."""
        return self.root / ".clean.tmp"

    @property
    def clean_old(self) -> Path:
        """Where the previous clean relations wait while new ones replace them."""
        return self.root / ".clean.old"

    @property
    def panel(self) -> Path:
        """The SIREN × month panel ``panel/company_month/`` (one for all batches: rebuilt each month)."""
        return self.table("panel", "company_month")

    # --- model
    @property
    def models(self) -> Path:
        return self.root / "models"

    def model(self, batch: str) -> Path:
        """``models/<batch>/``: the models trained on ``batch``, their metrics and model card."""
        return self.models / batch

    def model_for(self, batch: str) -> Path:
        """The model trained on ``batch``, else the latest trained on an earlier batch (``…/model.joblib``)."""
        own = self.model(batch) / "model.joblib"
        if own.is_file():
            return own
        root = self.models
        earlier = (
            sorted(p.name for p in root.iterdir() if p.name <= batch and (p / "model.joblib").is_file())
            if root.is_dir()
            else []
        )
        if not earlier:
            raise FileNotFoundError(
                f"no model for batch {batch} under {root}: run `signaux-faibles train --batch {batch}` first"
            )
        return root / earlier[-1] / "model.joblib"

    # --- lists
    @property
    def lists(self) -> Path:
        return self.root / "lists"

    def list(self, batch: str) -> Path:
        """``lists/<batch>/``: ``scores.parquet``, ``diff.parquet`` and ``summary.json``."""
        return self.lists / batch

    def list_batches(self, before: str) -> builtins.list[str]:
        """Batches with a published list (``scores.parquet``) before ``before``, oldest first."""
        if not self.lists.is_dir():
            return []
        return sorted(p.name for p in self.lists.iterdir() if p.name < before and (p / "scores.parquet").is_file())

    def exports(self, batch: str) -> Path:
        return self.root / "exports" / batch

    # --- the monthly run
    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_journal(self, batch: str) -> Path:
        return self.runs / batch / "run.json"

    @property
    def run_lock(self) -> Path:
        return self.runs / ".lock"

    # --- the digital twin
    @property
    def twin(self) -> Path:
        return self.root / "twin"

    @property
    def ground_truth(self) -> Path:
        return self.twin / "ground_truth.parquet"
