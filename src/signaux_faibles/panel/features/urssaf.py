"""URSSAF features per SIREN and month: cotisation, the two debt parts and their lags, ratio_dette, délais.

Legacy ``cotisationsdettes.ts`` / ``delais.ts`` and SFDL ``standard.json`` (``real_system.md`` §2.2–2.3), summed
from SIRET to SIREN as SFDL does.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

from signaux_faibles.panel.clean._common import add_months, month_start, months_between, siren_of
from signaux_faibles.panel.features._util import join_on_grid, month_events, months_window
from signaux_faibles.panel.features.feature import Feature

__all__ = ["DEBT_LAGS", "FEATURES", "urssaf_features"]

DEBT_LAGS = (1, 2, 3, 6, 12)
_G = "dette URSSAF"
_SRC = "clean_debit (stg_debit)"

FEATURES = (
    Feature(
        "cotisation",
        "Cotisations dues, each period's amount spread evenly over its months, summed over the "
        "SIRETs; NULL when no period covers the month",
        "clean_cotisation",
        "month",
        "EUR",
        _G,
    ),
    Feature(
        "montant_part_ouvriere",
        "Employee-part debt: sum over the SIRETs of the latest state of each debt "
        "known at the month (clean_debit forward-filled between events; the 20th rule)",
        _SRC,
        "month",
        "EUR",
        _G,
    ),
    Feature("montant_part_patronale", "Employer-part debt, same rule", _SRC, "month", "EUR", _G),
    *(
        Feature(
            f"montant_part_{p}_past_{k}",
            f"montant_part_{p} {k} month(s) before",
            _SRC,
            f"lag {k} months",
            "EUR",
            _G,
        )
        for p in ("ouvriere", "patronale")
        for k in DEBT_LAGS
    ),
    Feature(
        "cotisation_moy12m",
        "Mean of cotisation over the 12 calendar months up to the month; NULL unless all 12 are known",
        "clean_cotisation",
        "12 months",
        "EUR",
        _G,
    ),
    Feature(
        "ratio_dette",
        "(montant_part_ouvriere + montant_part_patronale) / cotisation_moy12m",
        "clean_debit, clean_cotisation",
        "month",
        "ratio",
        _G,
    ),
    Feature(
        "ratio_dette_moy12m",
        "Mean of ratio_dette over the 12 calendar months up to the month",
        "clean_debit, clean_cotisation",
        "12 months",
        "ratio",
        _G,
    ),
    Feature("tag_debit", "ratio_dette > 0.01", "clean_debit, clean_cotisation", "month", "boolean", _G),
    Feature(
        "tag_default",
        "ratio_dette > 1 in each of the last 3 months",
        "clean_debit, clean_cotisation",
        "3 months",
        "boolean",
        _G,
    ),
    Feature(
        "delai_montant_echeancier",
        "Sum of the amounts of the payment plans (délais) running at the month "
        "(created before the end of the month, due date not passed)",
        "clean_delai",
        "month",
        "EUR",
        _G,
    ),
    Feature(
        "delai_nb_jours_restants",
        "Days from the first of the month to the latest due date of the running plans",
        "clean_delai",
        "month",
        "days",
        _G,
    ),
    Feature(
        "delai_nb_jours_total", "Longest duration of the running plans", "clean_delai", "month", "days", _G
    ),
    Feature(
        "delai_deviation_remboursement",
        "(current debt − Σ montant × remaining days / duration) / Σ montant, "
        "over the running plans (legacy delais.ts): > 0 means repayment behind schedule",
        "clean_delai, clean_debit",
        "month",
        "ratio",
        _G,
    ),
)


def _cotisation_siren(clean_cotisation: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    c = clean_cotisation
    c = c.mutate(_start=month_start(c.periode), _n=months_between(c.periode, c.periode_fin))
    c = c.mutate(_n=ibis.ifelse(c._n < 1, 1, c._n))
    cal = calendar.select(m=calendar.periode)
    j = c.join(cal, [cal.m >= c._start, cal.m < add_months(c._start, c._n)])
    return j.group_by(siren=siren_of(j.siret), periode=j.m).agg(cotisation=(j.du / j._n).sum())


def _debt_siren(clean_debit: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    # clean_debit has a row per SIRET and period with an event: forward-filled to the next one
    a = month_events(clean_debit, "siret", ["part_ouvriere", "part_patronale"], calendar, unique=True)
    return a.group_by(siren=siren_of(a.siret), periode=a.periode).agg(
        montant_part_ouvriere=a.part_ouvriere.fill_null(0.0).sum(),
        montant_part_patronale=a.part_patronale.fill_null(0.0).sum(),
    )


def _delai_siren(clean_delai: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    d = clean_delai.filter(
        clean_delai.date_creation.notnull()
        & clean_delai.date_echeance.notnull()
        & (clean_delai.duree_delai > 0)
    )
    cal = calendar.select(m=calendar.periode)
    j = d.join(cal, [d.date_creation < add_months(cal.m, 1), d.date_echeance >= cal.m])
    j = j.mutate(_rest=j.date_echeance.delta(j.m, unit="day"))
    return j.group_by(siren=siren_of(j.siret), periode=j.m).agg(
        delai_montant_echeancier=j.montant_echeancier.sum(),
        delai_nb_jours_restants=j._rest.max(),
        delai_nb_jours_total=j.duree_delai.max(),
        _attendu=(j.montant_echeancier * j._rest / j.duree_delai).sum(),
    )


def urssaf_features(
    clean_cotisation: ibis.Table | None,
    clean_debit: ibis.Table | None,
    clean_delai: ibis.Table | None,
    calendar: ibis.Table,
    cache: Callable[[str, ibis.Table], ibis.Table] | None = None,
) -> ibis.Table | None:
    """URSSAF features keyed by ``(siren, periode)``, dense over ``calendar`` for every SIREN with URSSAF data.

    ``cache(name, table)`` (optional) materialises the SIREN-level cotisation and debts (see ``company_month``).
    """
    keep = cache or (lambda _name, t: t)
    parts: list[ibis.Table] = []
    keys: list[ibis.Table] = []  # every SIREN with URSSAF data, even with no event in the calendar
    if clean_cotisation is not None:
        parts.append(keep("urssaf_cotisation", _cotisation_siren(clean_cotisation, calendar)))
    if clean_debit is not None:
        parts.append(keep("urssaf_debit", _debt_siren(clean_debit, calendar)))
        keys.append(clean_debit.select(siren=siren_of(clean_debit.siret)).distinct())
    if not parts:
        return None
    t = join_on_grid(parts, calendar, keys)
    if clean_cotisation is None:
        t = t.mutate(cotisation=ibis.null("float64"))
    if clean_debit is None:
        t = t.mutate(montant_part_ouvriere=ibis.null("float64"), montant_part_patronale=ibis.null("float64"))
    t = t.mutate(
        montant_part_ouvriere=t.montant_part_ouvriere.fill_null(0.0),
        montant_part_patronale=t.montant_part_patronale.fill_null(0.0),
    )
    # two window passes (same partition and order, ROWS frames on the dense grid): lags and the cotisation's
    # 12-month mean, then the windows over ratio_dette (which needs that mean)
    w = ibis.window(group_by=t.siren, order_by=t.periode)
    w12 = months_window(t, "siren", 12)
    t = t.mutate(
        **{
            f"{c}_past_{k}": t[c].lag(k).over(w)
            for c in ("montant_part_ouvriere", "montant_part_patronale")
            for k in DEBT_LAGS
        },
        cotisation_moy12m=ibis.ifelse(
            t.cotisation.count().over(w12) >= 12, t.cotisation.mean().over(w12), ibis.null("float64")
        ),
    )
    dette = t.montant_part_ouvriere + t.montant_part_patronale
    t = t.mutate(
        ratio_dette=ibis.ifelse(t.cotisation_moy12m > 0, dette / t.cotisation_moy12m, ibis.null("float64"))
    )
    w12, w3 = months_window(t, "siren", 12), months_window(t, "siren", 3)
    t = t.mutate(
        ratio_dette_moy12m=t.ratio_dette.mean().over(w12),
        tag_debit=t.ratio_dette > 0.01,
        tag_default=(t.ratio_dette > 1).fill_null(False).cast("int32").sum().over(w3) >= 3,
    )
    if clean_delai is not None:
        dl = _delai_siren(clean_delai, calendar).rename(_k="siren", _p="periode")
        t = t.left_join(dl, [t.siren == dl._k, t.periode == dl._p]).drop("_k", "_p")
        dette = t.montant_part_ouvriere + t.montant_part_patronale
        t = t.mutate(
            delai_deviation_remboursement=ibis.ifelse(
                t.delai_montant_echeancier > 0,
                (dette - t._attendu) / t.delai_montant_echeancier,
                ibis.null("float64"),
            )
        ).drop("_attendu")
    else:
        t = t.mutate(
            delai_montant_echeancier=ibis.null("float64"),
            delai_nb_jours_restants=ibis.null("int64"),
            delai_nb_jours_total=ibis.null("int64"),
            delai_deviation_remboursement=ibis.null("float64"),
        )
    return t.select("siren", "periode", *(f.name for f in FEATURES))
