"""Financial features per SIREN and month: Banque de France ratios, DIANE fields and SFDL-like ratios derived from
them, Altares paydex. A statement applies only once published (``date_publication <= periode <
date_fin_validite``, see ``clean/financial.py``): no look-ahead."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from signaux_faibles import contract
from signaux_faibles.panel.clean.financial import BDF_RATIOS
from signaux_faibles.panel.features._util import asof, grid, month_events, months_window
from signaux_faibles.panel.features.feature import Feature

__all__ = [
    "DIANE_FIELDS",
    "DIANE_RATIOS",
    "FEATURES",
    "PAYDEX_BINS",
    "bdf_features",
    "diane_features",
    "fpi_features",
    "paydex_features",
]

_F = "santé financière"
_P = "retards de paiement"

#: DIANE fields kept as they are (kEUR or ratios as delivered): the shared list but ``charge_personnel`` (only
#: inside a ratio).
DIANE_FIELDS = tuple(f for f in contract.DIANE_FIELDS if f != "charge_personnel")


def _div(a: ir.NumericValue, b: ir.NumericValue) -> ir.FloatingValue:
    return ibis.ifelse(b != 0, a / b, ibis.null("float64"))


#: Ratios derived from DIANE (SFDL ``extract_financial_DGFiP.py``, the ones the DIANE fields allow).
DIANE_RATIOS = {
    "ebe_sur_ca": ("excedent_brut_d_exploitation / ca", lambda t: _div(t.excedent_brut_d_exploitation, t.ca)),
    "va_sur_effectif": (
        "valeur_ajoutee / effectif_consolide",
        lambda t: _div(t.valeur_ajoutee, t.effectif_consolide),
    ),
    "charges_personnel_sur_va": (
        "charge_personnel / valeur_ajoutee",
        lambda t: _div(t.charge_personnel, t.valeur_ajoutee),
    ),
    "frais_financiers_sur_ebe": (
        "charges_financieres / excedent_brut_d_exploitation",
        lambda t: _div(t.charges_financieres, t.excedent_brut_d_exploitation),
    ),
    "resultat_sur_ca": ("benefice_ou_perte / ca", lambda t: _div(t.benefice_ou_perte, t.ca)),
    "delai_paiement_sur_delai_encaissement": (
        "credit_fournisseur / credit_client",
        lambda t: _div(t.credit_fournisseur, t.credit_client),
    ),
}

#: Paydex bins (SFDL ``standard.json``): (−inf,0], (0,15], (15,30], (30,60], (60,90], (90,inf).
PAYDEX_BINS = ((0, "<=0"), (15, "0-15"), (30, "15-30"), (60, "30-60"), (90, "60-90"))
PAYDEX_LAGS = (3, 6, 12)
#: Windows (months) of the paydex means: a monthly value is noisy, its recent mean much less.
PAYDEX_MEANS = (3, 6, 12)
#: A paydex value is carried forward at most this many months.
PAYDEX_CARRY_MONTHS = 12
#: An FPI value likewise.
FPI_CARRY_MONTHS = 12

FEATURES = (
    *(
        Feature(
            r,
            f"Banque de France ratio {r} of the latest balance sheet published and still valid",
            "clean_bdf (stg_bdf)",
            "as of month (published 7 months after closing, valid 13)",
            "ratio",
            _F,
        )
        for r in BDF_RATIOS
    ),
    *(
        Feature(
            f"{r}_past_1",
            f"{r} of the balance sheet before that one",
            "clean_bdf",
            "previous year",
            "ratio",
            _F,
        )
        for r in BDF_RATIOS
    ),
    *(
        Feature(
            f"diane_{c}",
            f"DIANE field {c} of the latest statement published and still valid",
            "clean_diane (stg_diane)",
            "as of month (published 7 months after closing, valid 14)",
            contract.DIANE_UNITS[c],
            _F,
        )
        for c in DIANE_FIELDS
    ),
    *(
        Feature(n, f"{d} (DIANE, same statement)", "clean_diane", "as of month", "ratio", _F)
        for n, (d, _) in DIANE_RATIOS.items()
    ),
    Feature(
        "paydex_nb_jours",
        f"Altares paydex (mean days of payment delay), latest value carried forward at "
        f"most {PAYDEX_CARRY_MONTHS} months",
        "clean_paydex (stg_paydex)",
        "as of month",
        "days",
        _P,
    ),
    *(
        Feature(
            f"paydex_nb_jours_past_{k}",
            f"paydex_nb_jours {k} months before",
            "clean_paydex",
            f"lag {k} months",
            "days",
            _P,
        )
        for k in PAYDEX_LAGS
    ),
    *(
        Feature(
            f"paydex_nb_jours_moy{k}m",
            f"Mean of paydex_nb_jours over the {k} calendar months up to the month (the months with a value)",
            "clean_paydex",
            f"{k} months",
            "days",
            _P,
        )
        for k in PAYDEX_MEANS
    ),
    Feature(
        "paydex_diff_12m",
        "paydex_nb_jours − paydex_nb_jours_past_12",
        "clean_paydex",
        "12 months",
        "days",
        _P,
    ),
    Feature(
        "paydex_bin",
        "paydex_nb_jours binned: <=0, 0-15, 15-30, 30-60, 60-90, >90 (upper bounds included)",
        "clean_paydex",
        "as of month",
        "label",
        _P,
    ),
    *(
        Feature(
            f"fpi_{k}",
            f"Altares FPI {k}+ (risk out of 100 of a payment over {k} days late) clipped to [0, 100] then divided "
            f"by 100 (as the real system), latest value carried forward at most {FPI_CARRY_MONTHS} months",
            "clean_fpi (stg_altares_stock, stg_altares_increment, stg_altares_datapi)",
            "as of month",
            "ratio",
            _P,
        )
        for k in (30, 90)
    ),
)


def bdf_features(clean_bdf: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, <6 ratios>, <6 ratios>_past_1)`` where a valid balance sheet is published."""
    if clean_bdf is None:
        return None
    b = clean_bdf
    g = grid(b.select("siren"), calendar)
    e = b.select(
        _k=b.siren,
        _arrete=b.arrete_bilan_bdf,
        _pub=b.date_publication,
        _fin=b.date_fin_validite,
        **{r: b[r] for r in BDF_RATIOS},
    )
    j = g.join(e, [g.siren == e._k, e._pub <= g.periode])
    w = ibis.window(group_by=[j.siren, j.periode], order_by=j._arrete.desc())
    j = j.mutate(_rn=ibis.row_number().over(w))
    j = j.filter(j._rn <= 1)
    cur = (j._rn == 0) & (j.periode < j._fin)
    prev = j._rn == 1
    out = j.group_by(["siren", "periode"]).agg(
        _valid=cur.any(),
        **{r: ibis.ifelse(cur, j[r], ibis.null("float64")).max() for r in BDF_RATIOS},
        **{f"{r}_past_1": ibis.ifelse(prev, j[r], ibis.null("float64")).max() for r in BDF_RATIOS},
    )
    return out.filter(out._valid).drop("_valid")


def diane_features(clean_diane: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, diane_<field>…, <ratio>…)`` where a valid DIANE statement is published."""
    if clean_diane is None:
        return None
    d = clean_diane
    fields = [c for c in DIANE_FIELDS if c in d.columns]
    extra = [c for c in ("charge_personnel",) if c in d.columns and c not in fields]
    d = d.mutate(**{c: d[c].cast("float64") for c in [*fields, *extra]})
    g = grid(d.select("siren"), calendar)
    a = asof(g, d, "siren", "date_publication", [*fields, *extra], valid_until="date_fin_validite")
    a = a.filter(a.asof_date.notnull())
    missing = {c: ibis.null("float64") for c in (*DIANE_FIELDS, "charge_personnel") if c not in a.columns}
    a = a.mutate(**missing)
    return a.select(
        "siren",
        "periode",
        **{f"diane_{c}": a[c] for c in DIANE_FIELDS},
        **{n: fn(a) for n, (_, fn) in DIANE_RATIOS.items()},
    )


def paydex_features(clean_paydex: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, paydex_nb_jours, lags 3/6/12, means over 3/6/12 months, paydex_diff_12m, paydex_bin)``,
    dense per SIREN."""
    if clean_paydex is None:
        return None
    p = clean_paydex.mutate(nb_jours=clean_paydex.nb_jours.cast("float64"))
    # clean_paydex: one value per SIREN and month, carried 12 months; dense per SIREN for the lags
    m = month_events(p, "siren", ["nb_jours"], calendar, PAYDEX_CARRY_MONTHS, unique=True)
    m = m.rename(_k="siren", _p="periode")
    g = grid(p.select("siren"), calendar)
    a = g.left_join(m, [g.siren == m._k, g.periode == m._p]).drop("_k", "_p")
    a = a.select("siren", "periode", paydex_nb_jours=a.nb_jours)
    # lags and means in one window pass (same partition and order; ROWS frames on the dense grid)
    w = ibis.window(group_by=a.siren, order_by=a.periode)
    a = a.mutate(
        **{f"paydex_nb_jours_past_{k}": a.paydex_nb_jours.lag(k).over(w) for k in PAYDEX_LAGS},
        **{
            f"paydex_nb_jours_moy{k}m": a.paydex_nb_jours.mean().over(months_window(a, "siren", k))
            for k in PAYDEX_MEANS
        },
    )
    x = a.paydex_nb_jours
    return a.mutate(
        paydex_diff_12m=x - a.paydex_nb_jours_past_12,
        paydex_bin=ibis.cases(
            *((x <= ub, label) for ub, label in PAYDEX_BINS), (x.notnull(), ">90"), else_=ibis.null("string")
        ),
    )


def fpi_features(clean_fpi: ibis.Table | None, calendar: ibis.Table) -> ibis.Table | None:
    """``(siren, periode, fpi_30, fpi_90)``: the latest FPI (clipped to [0, 100], / 100) carried forward at most
    12 months; only the months that have one."""
    if clean_fpi is None:
        return None
    f = clean_fpi
    f = f.mutate(
        **{c: f[c].cast("float64").clip(lower=0.0, upper=100.0) / 100.0 for c in ("fpi_30", "fpi_90")}
    )
    m = month_events(f, "siren", ["fpi_30", "fpi_90"], calendar, FPI_CARRY_MONTHS, unique=True)
    return m.select("siren", "periode", "fpi_30", "fpi_90")
