"""What the pages and the API show, assembled under the access policy (one place for both).

Each function takes the request context and what ``guard.ensure_allowed`` granted (or filters with
``visible_companies``), asks ``guard.may`` for each confidential block, records
the audit events of what it returns in the request's transaction, and returns plain dictionaries (JSON-ready).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session

from ...contract import ALERT_HIGH, ALERT_MODERATE, ALERTED
from ..models import Company, Establishment, List, Score
from ..policy import Action, ListRef, Territory, restrict_explanation, visible_companies
from ..services.list_rows import json_number as _num
from ..services.list_rows import name_match, name_rank
from ..store.series import BdfStatement, CompanyMonth, DianeStatement, ProcolEvent
from .context import Ctx
from .guard import Granted, may

__all__ = ["SEARCH_LIMIT", "SearchResults", "company_view", "establishment_view", "lists_overview",
           "search"]  # fmt: skip

#: Confidential blocks of the company page and the action that guards each.
BLOCKS = {
    "scores": Action.VIEW_SCORE,
    "urssaf": Action.VIEW_URSSAF,
    "dgefp": Action.VIEW_DGEFP,
    "bdf": Action.VIEW_BDF,
}
COMPANY_FIELDS = (
    "siren",
    "raison_sociale",
    "categorie_juridique",
    "libelle_categorie_juridique",
    "activite_principale",
    "libelle_activite_principale",
    "naf_section",
    "libelle_naf_section",
    "siret_siege",
    "departement",
    "libelle_departement",
    "region",
    "libelle_region",
    "creation",
    "est_actif",
)
ESTABLISHMENT_FIELDS = (
    "siret",
    "siren",
    "siege",
    "adresse",
    "code_commune",
    "departement",
    "libelle_departement",
    "region",
    "libelle_region",
    "ape",
    "date_creation",
    "latitude",
    "longitude",
    "est_actif",
)


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for f in fields:
        v = getattr(obj, f)
        out[f] = v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
    return out


def _term_structure(s: Any) -> list[dict[str, Any]] | None:
    """The score's term structure: probability of a first judgment within 3, 6, 12 and 18 months (the 18-month
    point is the list's probability); None for a list scored without it or a firm already in proceedings."""
    shorter = (s.probability_3m, s.probability_6m, s.probability_12m)
    if s.procedure_en_cours or any(v is None or v != v for v in shorter):
        return None
    return [
        {"months": m, "probability": float(v)}
        for m, v in zip((3, 6, 12, 18), (*shorter, s.probability), strict=True)
    ]


def _series(rows: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {f: _num(v.isoformat() if isinstance(v, dt.date) else v) for f, v in zip(fields, r, strict=True)}
        for r in rows
    ]


#: French words of a proceeding's action and stage (``procol_events``).
ACTIONS_FR = {"liquidation": "liquidation judiciaire", "redressement": "redressement judiciaire",
              "sauvegarde": "procédure de sauvegarde"}  # fmt: skip
STAGES_FR = {"ouverture": "ouverture", "plan_continuation": "plan de continuation", "fin_procedure": "fin de procédure",
             "solde_procedure": "clôture", "abandon_procedure": "abandon", "inclusion_autre_procedure": "conversion",
             "plan_sauvegarde": "plan de sauvegarde", "plan_redressement": "plan de redressement"}  # fmt: skip


def procedure_of(procol: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A company's collective proceeding from its judgments (public data): the first judgment and the latest
    stage, in French; None when it has none. Such a firm is not a prevention case (never alerted)."""
    events = [e for e in procol if e.get("action_procol") in ACTIONS_FR and e.get("date_effet")]
    if not events:
        return None
    first, last = events[0], events[-1]
    return {
        "en_cours": True,
        "date_premier_jugement": first["date_effet"],
        "action": ACTIONS_FR[last["action_procol"]],
        "stade": STAGES_FR.get(last.get("stade_procol") or "", (last.get("stade_procol") or "").replace("_", " ")),
        "date_dernier_jugement": last["date_effet"],
    }


def _value(v: Any) -> Any:
    """A date as ISO text, NaN as None (JSON)."""
    return _num(v.isoformat() if isinstance(v, dt.date) else v)


def _statements(db: Session, model: Any, order: Any, siren: str) -> list[dict[str, Any]]:
    """Every statement of a company (DIANE, Banque de France) with all its columns, in ``order``."""
    return [
        {k: _value(v) for k, v in d.__dict__.items() if not k.startswith("_")}
        for d in db.scalars(select(model).where(model.siren == siren).order_by(order))
    ]


def _months(db: Session, siren: str) -> list[Any]:
    """The company's monthly series (effectifs, URSSAF, activité partielle), by month, as named columns."""
    m = CompanyMonth
    return list(
        db.execute(
            select(
                m.periode,
                m.effectif,
                m.effectif_ent,
                m.etat_proc_collective,
                m.cotisation,
                m.montant_part_ouvriere,
                m.montant_part_patronale,
                m.delai_montant_echeancier,
                m.delai_nb_jours_restants,
                m.apart_heures_autorisees,
                m.apart_heures_consommees,
            )
            .where(m.siren == siren)
            .order_by(m.periode)
        ).all()
    )


def _procol(db: Session, siren: str) -> list[dict[str, Any]]:
    fields = ("date_effet", "action_procol", "stade_procol", "libelle_procol")
    p = ProcolEvent
    rows = db.execute(
        select(p.date_effet, p.action_procol, p.stade_procol, p.libelle_procol)
        .where(p.siren == siren)
        .order_by(p.date_effet)
    ).all()
    return _series(rows, fields)


def _urssaf(r: Row[Any]) -> dict[str, Any]:
    ouvriere, patronale = r.montant_part_ouvriere, r.montant_part_patronale
    return {
        "periode": r.periode.isoformat(),
        "cotisation": _num(r.cotisation),
        "dette_part_ouvriere": _num(ouvriere),
        "dette_part_patronale": _num(patronale),
        "dette": None if ouvriere is None and patronale is None else (_num(ouvriere) or 0) + (_num(patronale) or 0),
        "delai_montant_echeancier": _num(r.delai_montant_echeancier),
        "delai_nb_jours_restants": r.delai_nb_jours_restants,
    }


def _dgefp(r: Row[Any]) -> dict[str, Any]:
    return {
        "periode": r.periode.isoformat(),
        "apart_heures_autorisees": _num(r.apart_heures_autorisees),
        "apart_heures_consommees": _num(r.apart_heures_consommees),
    }


def _score(li: Any, s: Score, perms: dict[str, bool]) -> dict[str, Any]:
    """One list's score of the company (its explanation not yet restricted to the actor's rights)."""
    return {
        "list_id": li.id,
        "liste": li.label,
        "batch": li.batch,
        "algo": li.algo,
        "periode": li.periode.isoformat(),
        "threshold_high": li.threshold_high,
        "threshold_moderate": li.threshold_moderate,
        "probability": s.probability,
        "alert": s.alert,
        "alert_pre_adjustment": s.alert_pre_adjustment,
        "adjustments": s.adjustments,
        "rank": s.rank,
        "base_probability": s.base_probability,
        "macro_expl": s.macro_expl,
        "micro_expl": s.micro_expl,
        "what_if": s.what_if,
        "first_alert": s.first_alert,
        "procedure_en_cours": bool(s.procedure_en_cours),
        "etat_procol": s.etat_procol,
        "date_procol": s.date_procol.isoformat() if s.date_procol else None,
        "term_structure": _term_structure(s),
        # the list's flags follow their own data rights
        **({"dette_urssaf": _num(s.dette_urssaf), "hausse_urssaf": s.hausse_urssaf} if perms["urssaf"] else {}),
        **({"ap_12m": s.ap_12m} if perms["dgefp"] else {}),
    }


def _scores(db: Session, siren: str, perms: dict[str, bool], rights: frozenset[str]) -> list[dict[str, Any]]:
    """The company's scores on every list, newest first, as the actor's rights allow."""
    rows = db.execute(
        select(
            List.id,
            List.label,
            List.batch,
            List.algo,
            List.periode,
            List.threshold_high,
            List.threshold_moderate,
            Score,
        )
        .join(Score, Score.list_id == List.id)
        .where(Score.siren == siren)
        .order_by(List.periode.desc(), List.id.desc())
    ).all()
    return [restrict_explanation(_score(r, r.Score, perms), rights) for r in rows]


def company_view(ctx: Ctx, granted: Granted) -> dict[str, Any]:
    """The company page's data for ``ctx.actor``, once ``ensure_allowed(VIEW_COMPANY)`` granted it; with the
    partners' blocks of ``services.partners`` (``paiements``, ``ccsf``, ``groupes``) as the guard allows each."""
    from ..services.partners import partner_blocks

    db, facts = ctx.db, granted.facts
    assert facts is not None
    siren = facts.siren
    company = db.get(Company, siren)
    etabs = db.scalars(
        select(Establishment).where(Establishment.siren == siren).order_by(Establishment.siret)
    ).all()
    perms = {name: may(ctx, action, facts) for name, action in BLOCKS.items()}
    perms["diane"] = may(ctx, Action.VIEW_ACCOUNTS, facts)  # published accounts: in the territory or followed
    out: dict[str, Any] = {
        "siren": siren,
        "identity": _row(company, COMPANY_FIELDS) if company else {"siren": siren},
        "establishments": [_row(e, ESTABLISHMENT_FIELDS) for e in etabs],
        "in_territory": granted.in_territory,
        # whether the company was ever alerted is score-derived: null without the score block
        "alerted": facts.alerted if perms["scores"] else None,
        "followed": facts.followed,
        "permissions": perms,
    }
    months = _months(db, siren)
    out["effectif"] = [
        {f: _value(getattr(r, f)) for f in ("periode", "effectif", "effectif_ent", "etat_proc_collective")}
        for r in months
    ]
    out["procol"] = _procol(db, siren)
    out["procedure"] = procedure_of(out["procol"])
    if perms["diane"]:
        out["diane"] = _statements(db, DianeStatement, DianeStatement.exercice, siren)
    blocks = {
        "scores": ("score", lambda: _scores(db, siren, perms, ctx.actor.rights)),
        "urssaf": ("urssaf", lambda: [_urssaf(r) for r in months]),
        "dgefp": ("dgefp", lambda: [_dgefp(r) for r in months]),
        "bdf": ("bdf", lambda: _statements(db, BdfStatement, BdfStatement.arrete_bilan, siren)),
    }
    shown = []
    for name, (word, read) in blocks.items():
        if perms[name]:
            out[name] = read()
            shown.append(word)
    # the partners' blocks (issue 23): « paiements » (bdf), CCSF (urssaf), « groupes » (identity)
    partners, words = partner_blocks(db, siren, lambda action: may(ctx, action, facts))
    out.update(partners)
    shown += words
    ctx.audit("company_viewed", siren=siren)
    if shown:
        ctx.audit("confidential_shown", siren=siren, detail={"blocks": shown})
    return out


def establishment_view(ctx: Ctx, granted: Granted) -> dict[str, Any]:
    """An establishment, its company's identity, its series and délais as the guard allows each block
    (``services.establishments``), and the company's other establishments, once ``ensure_allowed(VIEW_COMPANY)``
    granted it."""
    from ..services.establishments import establishment_blocks, other_establishments

    etab, facts = granted.establishment, granted.facts
    assert etab is not None and facts is not None
    siret = etab.siret
    company = ctx.db.get(Company, etab.siren)
    blocks, shown = establishment_blocks(ctx.db, siret, lambda action: may(ctx, action, facts))
    ctx.audit("company_viewed", siren=etab.siren, siret=siret)
    if shown:
        ctx.audit("confidential_shown", siren=etab.siren, siret=siret, detail={"blocks": shown})
    return {
        "establishment": _row(etab, ESTABLISHMENT_FIELDS),
        "company": _row(company, COMPANY_FIELDS) if company else {"siren": etab.siren},
        "in_territory": granted.in_territory,
        "followed": facts.followed,
        **blocks,
        "other_establishments": other_establishments(ctx.db, etab.siren, siret),
    }


def lists_overview(ctx: Ctx) -> list[dict[str, Any]]:
    """The published lists, newest first; alert counts in the actor's view with the ``score`` right."""
    lists = ctx.db.scalars(select(List).order_by(List.periode.desc(), List.id.desc())).all()
    counts: dict[int, dict[str, int]] = {}
    score_right = may(ctx, Action.VIEW_LIST_SCORES)
    if score_right:
        rows = ctx.db.execute(
            select(Score.list_id, Score.alert, func.count())
            .where(Score.alert.in_(ALERTED), visible_companies(ctx.actor, Score.siren))
            .group_by(Score.list_id, Score.alert)
        ).all()
        for lid, alert, n in rows:
            counts.setdefault(lid, {})[alert] = n
    out = []
    for li in lists:
        # with the score right a list without visible alert counts 0; without it the counts are not given
        c = counts.get(li.id, {}) if score_right else None
        out.append({
            "id": li.id,
            "label": li.label,
            "batch": li.batch,
            "algo": li.algo,
            "periode": li.periode.isoformat(),
            "nb_f1": c.get(ALERT_HIGH, 0) if c is not None else None,
            "nb_f2": c.get(ALERT_MODERATE, 0) if c is not None else None,
            "total": sum(c.values()) if c is not None else None,
        })  # fmt: skip
    return out


#: How many results a search shows (the first ones, best first); ``SearchResults.total`` says how many matched.
SEARCH_LIMIT = 50


class SearchResults(list[dict[str, Any]]):
    """A search's first results (a plain list for JSON), with ``total``: how many companies matched in all."""

    total: int = 0


def _search_towns(db: Session, sirens: list[str]) -> dict[str, str]:
    """The head office's town (the address's second line, postcode left out), by SIREN."""
    rows = db.execute(
        select(Establishment.siren, Establishment.adresse, Establishment.code_commune)
        .join(Company, Company.siren == Establishment.siren)
        .where(Establishment.siren.in_(sirens), Establishment.siret == Company.siret_siege)
    ).all()
    towns = {}
    for siren, adresse, code in rows:
        lines = (adresse or "").split("\n")
        town = lines[1].strip() if len(lines) > 1 else ""
        postcode, _, name = town.partition(" ")
        towns[siren] = (name if postcode.isdigit() and name else town) or (code or "")
    return towns


def _search_alerts(ctx: Ctx, sirens: list[str]) -> dict[str, str]:
    """The alert level on the latest list, for the alerted companies, when the actor may see that list's alerts
    (the score right: what the list page shows them)."""
    latest = ctx.db.scalar(select(List.id).order_by(List.periode.desc(), List.id.desc()).limit(1))
    if latest is None or not may(ctx, Action.VIEW_LIST_SCORES, ListRef(latest)):
        return {}
    rows = ctx.db.execute(
        select(Score.siren, Score.alert).where(
            Score.list_id == latest, Score.siren.in_(sirens), Score.alert.in_(ALERTED)
        )
    ).all()
    return {siren: alert for siren, alert in rows}


def _search_procedures(db: Session, sirens: list[str]) -> dict[str, str]:
    """The collective proceeding (public judgments) in French, e.g. « liquidation judiciaire (ouverture) »."""
    p = ProcolEvent
    events: dict[str, list[dict[str, Any]]] = {}
    for r in db.execute(
        select(p.siren, p.date_effet, p.action_procol, p.stade_procol)
        .where(p.siren.in_(sirens))
        .order_by(p.siren, p.date_effet)
    ).all():
        events.setdefault(r.siren, []).append(
            {"date_effet": r.date_effet, "action_procol": r.action_procol, "stade_procol": r.stade_procol}
        )
    out = {}
    for siren, evs in events.items():
        proc = procedure_of(evs)
        if proc is not None:
            out[siren] = f"{proc['action']} ({proc['stade']})" if proc["stade"] else proc["action"]
    return out


def search(ctx: Ctx, q: str, limit: int = SEARCH_LIMIT, national: bool = False) -> SearchResults:
    """Companies visible to the actor whose name holds the words of ``q`` whatever the case and the accents (best
    matches first: the whole name, its beginning, a word's beginning, elsewhere), or whose SIREN or one SIRET
    starts with ``q``; with their town, département, alert level (if the actor may see it) and proceeding.

    ``national`` (the real system's ``ignorezone``): every company on
    the platform (an establishment in an open région, the policy's rule for a national territory), those outside
    the actor's view with their identity only (``visible`` False: no alert level, no proceeding, no page)."""
    q = q.strip()
    out = SearchResults()
    if len(q) < 2:
        return out
    digits = q.replace(" ", "")
    if digits.isdigit():
        match = or_(
            Company.siren.startswith(digits[:9]),
            Company.siren.in_(select(Establishment.siren).where(Establishment.siret.startswith(digits))),
        )
        rank: Any = Company.siren
    else:
        match, rank = name_match(q), name_rank(q)  # % and _ are text
    visible = visible_companies(ctx.actor, Company.siren)
    scope = visible_companies(replace(ctx.actor, territory=Territory(national=True)), Company.siren) if national \
        else visible  # fmt: skip
    rows = ctx.db.execute(
        select(Company.siren, Company.raison_sociale, Company.departement, Company.libelle_departement,
               Company.libelle_activite_principale, visible.label("visible"), func.count().over().label("total"))
        .where(match, scope)
        .order_by(rank, Company.raison_sociale_folded, Company.raison_sociale, Company.siren)
        .limit(limit)
    ).all()  # fmt: skip
    out.total = rows[0].total if rows else 0
    sirens = [r.siren for r in rows]
    seen = [r.siren for r in rows if r.visible]
    towns = _search_towns(ctx.db, sirens) if sirens else {}
    alerts = _search_alerts(ctx, seen) if seen else {}
    procedures = _search_procedures(ctx.db, seen) if seen else {}
    ctx.audit("search", detail={"q": q[:100], "results": len(rows), "total": out.total}
              | ({"national": True, "outside": len(sirens) - len(seen)} if national else {}))  # fmt: skip
    out.extend(
        {"siren": r.siren, "raison_sociale": r.raison_sociale, "departement": r.departement,
         "libelle_departement": r.libelle_departement, "commune": towns.get(r.siren) or None,
         "activite": r.libelle_activite_principale, "alert": alerts.get(r.siren),
         "procedure": procedures.get(r.siren), "visible": bool(r.visible)}
        for r in rows
    )  # fmt: skip
    return out
