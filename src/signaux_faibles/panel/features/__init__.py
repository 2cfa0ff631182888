"""Panel features (next step; not written yet): pure functions ``ibis.Table -> ibis.Table`` over the clean relations.

The seam
--------
:func:`signaux_faibles.panel.build.build_clean` publishes the clean relations under ``DATA_DIR/clean/<name>/``
(Parquet; see ``docs/panel.md``). Features read them back with
``signaux_faibles.engine.read_table(con, data_dir, "clean", name)`` and each feature module exposes functions
that take tables (and a month calendar from :func:`signaux_faibles.panel.clean.month_calendar`) and return a
table keyed by ``(siren, periode)`` or ``(siret, periode)``; :mod:`signaux_faibles.panel.company_month` joins
them on its SIREN × month spine. Rules to keep:

- no import of duckdb or pyspark here (``tests/panel/test_no_engine_imports.py`` checks it);
- "as of" joins are a left join on ``date <= periode`` + ``row_number()`` newest first (no ``asof_join``: Spark);
- calendar windows use ``ibis.range_window(preceding=ibis.interval(months=11))``, not row windows;
- ``clean_debit`` has a row only where an event occurred: forward-fill it per SIRET over the calendar;
  likewise ``clean_effectif`` (flag the carried values); ``clean_cotisation.du`` spreads over
  ``[periode, periode_fin)``; ``clean_bdf`` / ``clean_diane`` apply on ``date_publication <= periode <
  date_fin_validite``.
"""
