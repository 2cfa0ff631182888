"""Ingestion: a batch folder of partner files → staging tables, quarantine and import log, published atomically.

See ``docs/data.md`` for the layout and the guarantees.
"""

from signaux_faibles.ingest._run import FileReport, ingest_batch, run_ingest
from signaux_faibles.ingest._store import Store

__all__ = ["FileReport", "Store", "ingest_batch", "run_ingest"]
