"""URSSAF clean relations: cotisations, débits, délais, CCSF, procédures collectives (per date and per month).

Sources: opensignauxfaibles migrations ``011`` (cotisation), ``031`` (débit), ``015`` (délai), ``029``
(procol), ``044``/``050`` (procol at date); ``real_system.md`` §2.1.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from signaux_faibles.panel.clean._common import add_months, drop_blacklisted, siren_of

__all__ = [
    "PROCOL_SEVERITY",
    "clean_ccsf",
    "clean_cotisation",
    "clean_debit",
    "clean_delai",
    "clean_procol",
    "clean_procol_at_date",
]

#: Most severe first: when a company has several open proceedings, the most severe one is its state.
PROCOL_SEVERITY = ("liquidation", "redressement", "sauvegarde")
#: Stages that close a proceeding: the action is no longer open from that date.
PROCOL_CLOSING_STAGES = ("fin_procedure", "inclusion_autre_procedure")
#: A "plan de continuation" stops counting 10 years after its date.
PLAN_YEARS = 10


def clean_cotisation(stg_cotisation: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siret, periode, du, periode_fin)``: the contributions due, summed per SIRET and period start.

    ``periode`` is the first month of the declared period; ``periode_fin`` (exclusive, the latest one delivered
    for that start) lets the panel spread ``du`` over the months of the period.
    """
    c = stg_cotisation.filter(stg_cotisation.siret.notnull() & stg_cotisation.periode_debut.notnull())
    c = drop_blacklisted(c.mutate(siren=siren_of(c.siret)), blacklist)
    return c.group_by(["siret", c.periode_debut.name("periode")]).agg(
        du=c.du.sum(), periode_fin=c.periode_fin.max()
    )


def clean_debit(stg_debit: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siret, periode, part_ouvriere, part_patronale, is_last)``: the debt of a SIRET at each period with an event.

    A period is an accounting month (21st of m−1 to 20th of m: ``periode_prise_en_compte``). At each period where
    at least one debt of the SIRET has an event, each debt (``debit_id``) counts with its latest state known then
    (highest ``numero_historique_ecart_negatif`` among the events taken into account up to that period; ties:
    later period, later processing date), and the states are summed. A debt paid (state 0) then re-opened counts
    again from the re-opening. ``is_last`` marks the SIRET's last period. Between two events the debt is
    unchanged: consumers forward-fill.
    """
    s = stg_debit.filter(
        stg_debit.siret.notnull() & stg_debit.periode_prise_en_compte.notnull() & stg_debit.debit_id.notnull()
    )
    s = drop_blacklisted(s.mutate(siren=siren_of(s.siret)), blacklist)
    events = s.select("siret", periode=s.periode_prise_en_compte).distinct()
    d = s.select(
        d_siret=s.siret,
        debit_id=s.debit_id,
        ppc=s.periode_prise_en_compte,
        hist=s.numero_historique_ecart_negatif,
        date_traitement=s.date_traitement,
        part_ouvriere=s.part_ouvriere,
        part_patronale=s.part_patronale,
    )
    j = events.join(d, [events.siret == d.d_siret, d.ppc <= events.periode])
    w = ibis.window(
        group_by=[j.siret, j.periode, j.debit_id],
        order_by=[j.hist.desc(), j.ppc.desc(), j.date_traitement.desc()],
    )
    latest = j.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
    agg = latest.group_by(["siret", "periode"]).agg(
        part_ouvriere=latest.part_ouvriere.sum(), part_patronale=latest.part_patronale.sum()
    )
    return agg.mutate(is_last=agg.periode == agg.periode.max().over(group_by=agg.siret))


def clean_delai(stg_delai: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """The payment plans (délais) as delivered, one row per distinct plan (re-deliveries collapse)."""
    cols = [
        "siret",
        "numero_compte",
        "numero_contentieux",
        "date_creation",
        "date_echeance",
        "duree_delai",
        "denomination",
        "indic_6m",
        "annee_creation",
        "montant_echeancier",
        "stade",
        "action",
    ]
    d = stg_delai.filter(stg_delai.siret.notnull()).select(*cols).distinct()
    d = d.mutate(siren=siren_of(d.siret))
    return drop_blacklisted(d, blacklist)


def clean_ccsf(stg_ccsf: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siret, siren, numero_compte, date_traitement, stade, action)``: CCSF events (not in the real OSF views)."""
    c = stg_ccsf.filter(stg_ccsf.siret.notnull() & stg_ccsf.date_traitement.notnull())
    c = c.select("siret", "numero_compte", "date_traitement", "stade", "action").distinct()
    c = c.mutate(siren=siren_of(c.siret))
    return drop_blacklisted(c, blacklist)


def _libelle_procol(action: ir.StringValue, stade: ir.StringValue) -> ir.StringValue:
    return ibis.cases(
        (stade == "fin_procedure", "In bonis"),
        ((action == "redressement") & (stade == "plan_continuation"), "Plan de redressement"),
        (action == "redressement", "Redressement judiciaire"),
        (action == "liquidation", "Liquidation judiciaire"),
        ((action == "sauvegarde") & (stade == "plan_continuation"), "Plan de sauvegarde"),
        (action == "sauvegarde", "Sauvegarde"),
        else_=ibis.null("string"),
    )


def clean_procol(stg_procol: ibis.Table, blacklist: ibis.Table | None = None) -> ibis.Table:
    """``(siren, date_effet, action_procol, stade_procol, libelle_procol)``: judgments per SIREN.

    The administrative closing (``solde_procedure``) is dropped; duplicates collapse.
    """
    p = stg_procol.filter(
        stg_procol.siret.notnull()
        & stg_procol.date_effet.notnull()
        & (stg_procol.stade_procol.isnull() | (stg_procol.stade_procol != "solde_procedure"))
    )
    p = p.select(
        siren=siren_of(p.siret),
        date_effet=p.date_effet,
        action_procol=p.action_procol,
        stade_procol=p.stade_procol,
    ).distinct()
    p = p.mutate(libelle_procol=_libelle_procol(p.action_procol, p.stade_procol))
    return drop_blacklisted(p, blacklist)


def clean_procol_at_date(clean_procol: ibis.Table, calendar: ibis.Table) -> ibis.Table:
    """``(siren, periode, date_effet, action_procol, stade_procol, libelle_procol)``: open proceeding per month.

    For each SIREN with a judgment and each month of ``calendar`` (column ``periode``): the latest stage of each
    action (liquidation, redressement, sauvegarde) dated on or before the month; an action whose latest stage
    closes it (``fin_procedure``, ``inclusion_autre_procedure``) or is a ``plan_continuation`` 10 years old or
    more is not open; among the open ones the most severe wins (liquidation > redressement > sauvegarde). A month
    with no open proceeding has no row ("in bonis").
    """
    sirens = clean_procol.select(g_siren=clean_procol.siren).distinct()
    grid = sirens.cross_join(calendar.select("periode"))
    p = clean_procol
    j = grid.join(p, [grid.g_siren == p.siren, p.date_effet <= grid.periode])
    w = ibis.window(
        group_by=[j.siren, j.periode, j.action_procol],
        order_by=[j.date_effet.desc(), j.stade_procol.desc()],
    )
    last = j.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
    open_ = last.filter(
        ~last.stade_procol.isin(PROCOL_CLOSING_STAGES).fill_null(False)
        & ~(
            (last.stade_procol == "plan_continuation").fill_null(False)
            & (add_months(last.date_effet, 12 * PLAN_YEARS) <= last.periode)
        )
    )
    severity = ibis.cases(
        *((open_.action_procol == a, i) for i, a in enumerate(PROCOL_SEVERITY)), else_=len(PROCOL_SEVERITY)
    )
    w2 = ibis.window(group_by=[open_.siren, open_.periode], order_by=[severity, open_.date_effet.desc()])
    best = open_.mutate(rn=ibis.row_number().over(w2)).filter(lambda t: t.rn == 0)
    return best.select("siren", "periode", "date_effet", "action_procol", "stade_procol", "libelle_procol")
