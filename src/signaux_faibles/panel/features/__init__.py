"""Panel features: pure functions ``ibis.Table -> ibis.Table`` over the clean relations.

The seam
--------
:func:`signaux_faibles.panel.build.build_clean` publishes the clean relations under ``DATA_DIR/clean/<name>/``
(Parquet; see ``docs/panel.md``). :func:`signaux_faibles.panel.company_month.company_month` reads them back
(by name), calls the functions of this package with a month calendar (the window extended 24 months back,
:func:`~signaux_faibles.panel.features._util.extended_calendar`) and joins their outputs, keyed by
``(siren, periode)``, on its SIREN × month spine. Modules: ``urssaf`` (cotisation, debts, délais), ``effectif``,
``ap`` (activité partielle), ``procol``, ``financial`` (BdF, DIANE, paydex, FPI), ``ccsf``, ``groups`` (Ellisphere),
``sirene`` (company attributes);
``registry`` lists every column (name, definition, source, window, unit, group) and writes
``docs/data_dictionary.md``. Rules kept:

- no import of duckdb or pyspark here (``tests/panel/test_panel_no_engine_imports.py`` checks it);
- no look-ahead: a value at month m uses only data dated ≤ m (debts: ``clean_debit`` periods already encode the
  20th rule; head counts and paydex: last known value carried forward; statements: only once published);
- "as of" joins are a left join on ``date <= periode`` + ``row_number()`` newest first (no ``asof_join``: Spark):
  :func:`~signaux_faibles.panel.features._util.asof`;
- per-SIREN outputs are dense over the calendar (one row per month), so a lag of k rows is k months; calendar
  means use ``ibis.range_window(preceding=ibis.interval(months=11))``;
- ``clean_debit`` has a row only where an event occurred: forward-filled per SIRET; likewise ``clean_effectif``
  (flagged ``effectif_reporte``); ``clean_cotisation.du`` spreads over ``[periode, periode_fin)``;
  ``clean_bdf`` / ``clean_diane`` apply on ``date_publication <= periode < date_fin_validite``;
- SIRET-level amounts (cotisation, both debt parts, effectif, AP hours) are summed to the SIREN.
"""

from signaux_faibles.panel.features.ap import ap_features
from signaux_faibles.panel.features.ccsf import ccsf_features
from signaux_faibles.panel.features.effectif import effectif_features
from signaux_faibles.panel.features.financial import (
    bdf_features,
    diane_features,
    fpi_features,
    paydex_features,
)
from signaux_faibles.panel.features.groups import group_features
from signaux_faibles.panel.features.procol import procol_features
from signaux_faibles.panel.features.sirene import company_attributes
from signaux_faibles.panel.features.urssaf import urssaf_features

__all__ = [
    "ap_features",
    "bdf_features",
    "ccsf_features",
    "company_attributes",
    "diane_features",
    "effectif_features",
    "fpi_features",
    "group_features",
    "paydex_features",
    "procol_features",
    "urssaf_features",
]
