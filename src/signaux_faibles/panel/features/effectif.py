"""Head counts per SIREN and month: establishments summed (``effectif``) and the company file (``effectif_ent``),
the last known value carried forward (at most 12 months), and lags 6/12/18/24 (legacy ``effectifs.ts``)."""

from __future__ import annotations

import ibis

from signaux_faibles.panel.clean._common import siren_of
from signaux_faibles.panel.features._util import join_on_grid, month_events
from signaux_faibles.panel.features.feature import Feature

__all__ = ["CARRY_MONTHS", "EFFECTIF_LAGS", "FEATURES", "effectif_features"]

EFFECTIF_LAGS = (6, 12, 18, 24)
#: A head count is carried forward at most this many months after its month (then the establishment counts no more).
CARRY_MONTHS = 12
_G = "emploi"

FEATURES = (
    Feature(
        "effectif",
        "Head count: sum over the SIRETs of their latest known monthly head count (carried "
        f"forward at most {CARRY_MONTHS} months)",
        "clean_effectif",
        "month",
        "persons",
        _G,
    ),
    Feature(
        "effectif_reporte",
        "True when some SIRET's head count is carried forward (no value for the month)",
        "clean_effectif",
        "month",
        "boolean",
        _G,
    ),
    *(
        Feature(
            f"effectif_past_{k}",
            f"effectif {k} months before",
            "clean_effectif",
            f"lag {k} months",
            "persons",
            _G,
        )
        for k in EFFECTIF_LAGS
    ),
    Feature(
        "effectif_ent",
        "Company head count (URSSAF company file), latest known value carried forward at most "
        f"{CARRY_MONTHS} months",
        "clean_effectif_ent",
        "month",
        "persons",
        _G,
    ),
    Feature(
        "effectif_ent_reporte",
        "True when effectif_ent is carried forward",
        "clean_effectif_ent",
        "month",
        "boolean",
        _G,
    ),
    *(
        Feature(
            f"effectif_ent_past_{k}",
            f"effectif_ent {k} months before",
            "clean_effectif_ent",
            f"lag {k} months",
            "persons",
            _G,
        )
        for k in EFFECTIF_LAGS
    ),
)


def effectif_features(
    clean_effectif: ibis.Table | None, clean_effectif_ent: ibis.Table | None, calendar: ibis.Table
) -> ibis.Table | None:
    """``(siren, periode, effectif…, effectif_ent…, _effectif_past_3)``, dense over ``calendar`` for every SIREN with a
    head count (``_effectif_past_3``: the effectif 3 months before, used by the panel, not a feature)."""
    parts: list[ibis.Table] = []
    # SIRENs of each file: their flags are false (not NULL) in the months without a carried value
    keys: dict[str, ibis.Table] = {}
    if clean_effectif is not None:
        e = clean_effectif
        a = month_events(e, "siret", ["effectif"], calendar, CARRY_MONTHS)
        parts.append(
            a.group_by(siren=siren_of(a.siret), periode=a.periode).agg(
                effectif=a.effectif.sum().cast("int64"),
                effectif_reporte=((a.asof_date < a.periode) & a.effectif.notnull()).any(),
            )
        )
        keys["effectif_reporte"] = e.select(siren=siren_of(e.siret)).distinct()
    if clean_effectif_ent is not None:
        e = clean_effectif_ent
        a = month_events(e, "siren", ["effectif_ent"], calendar, CARRY_MONTHS)
        parts.append(
            a.select(
                "siren",
                "periode",
                "effectif_ent",
                effectif_ent_reporte=(a.asof_date < a.periode) & a.effectif_ent.notnull(),
            )
        )
        keys["effectif_ent_reporte"] = e.select("siren").distinct()
    if not parts:
        return None
    t = join_on_grid(parts, calendar, list(keys.values()))
    for flag, sirens in keys.items():
        k = sirens.mutate(_known=ibis.literal(True)).rename(_k="siren")
        t = t.left_join(k, t.siren == k._k).drop("_k")
        t = t.mutate(**{flag: ibis.ifelse(t._known, t[flag].fill_null(False), ibis.null("boolean"))}).drop(
            "_known"
        )
    if clean_effectif is None:
        t = t.mutate(effectif=ibis.null("int64"), effectif_reporte=ibis.null("boolean"))
    if clean_effectif_ent is None:
        t = t.mutate(effectif_ent=ibis.null("int64"), effectif_ent_reporte=ibis.null("boolean"))
    w = ibis.window(group_by=t.siren, order_by=t.periode)
    t = t.mutate(
        **{f"effectif_past_{k}": t.effectif.lag(k).over(w) for k in EFFECTIF_LAGS},
        **{f"effectif_ent_past_{k}": t.effectif_ent.lag(k).over(w) for k in EFFECTIF_LAGS},
        # internal, for the panel's dette_par_effectif_diff_3m (not a feature of its own)
        _effectif_past_3=t.effectif.lag(3).over(w),
    )
    return t.select("siren", "periode", *(f.name for f in FEATURES), "_effectif_past_3")
