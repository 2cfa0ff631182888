"""The columns :func:`signaux_faibles.panel.company_month.company_month` computes itself: the keys, the target and
the cross-source debt per head (the other features come from the modules of this package)."""

from __future__ import annotations

from signaux_faibles.panel.features.feature import Feature

__all__ = ["FEATURES", "HORIZON_MONTHS"]

HORIZON_MONTHS = 18

FEATURES = (
    Feature("siren", "Company identifier", "all sources", "", "code", "clé"),
    Feature("periode", "Month (first day)", "calendar", "", "date", "clé"),
    Feature(
        "in_perimeter",
        "SIREN in the perimeter (clean_filter); true for all when no filter was imported",
        "clean_filter (stg_filter_import)",
        "current",
        "boolean",
        "clé",
    ),
    Feature(
        "date_premier_jugement",
        "First collective-proceedings judgment since 2014 (any action)",
        "clean_procol",
        "whole history (target only)",
        "date",
        "cible",
    ),
    Feature(
        "failure",
        f"1 when date_premier_jugement <= periode + {HORIZON_MONTHS} months (months after the "
        "judgment included), else 0",
        "clean_procol",
        f"next {HORIZON_MONTHS} months",
        "0/1",
        "cible",
    ),
    Feature(
        "time_til_failure",
        "Months from the month to the month of date_premier_jugement (<= 0: already judged; NULL: never)",
        "clean_procol",
        "future",
        "months",
        "cible",
    ),
    Feature(
        "signal_fort",
        "time_til_failure <= 0: already in proceedings at the month (a 'signal fort'; "
        "evaluation may keep or drop these rows)",
        "clean_procol",
        "past",
        "boolean",
        "cible",
    ),
    Feature(
        "dette_par_effectif",
        "(montant_part_ouvriere + montant_part_patronale) / effectif",
        "clean_debit, clean_effectif",
        "month",
        "EUR per person",
        "dette URSSAF",
    ),
    Feature(
        "dette_par_effectif_diff_3m",
        "dette_par_effectif − its value 3 months before",
        "clean_debit, clean_effectif",
        "3 months",
        "EUR per person",
        "dette URSSAF",
    ),
)
