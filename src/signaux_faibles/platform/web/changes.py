"""What changed since the previous list: entries, exits (and why), rises and falls of level.

``list_changes(ctx, list_id, …)`` reads ``list_changes`` (the diff ``signaux-faibles score`` writes against the
previous list) for the companies visible to the actor, with the ``score`` right (a change of level is derived
from the score), filtered like the list (départements, sectors, name or SIREN, followed companies left out) and
by kind of change. The page ``/listes/{id}/evolutions``, the API ``/api/lists/{id}/changes`` and the dashboard's
counts all read it.

Why a company left the list, from what the platform holds at this list:

- **procédure collective**: it is on the list with a collective proceeding under way (a firm already judged is
  no longer a prevention case);
- **risque en baisse**: it is on the list without an alert;
- **entreprise fermée**: SIRENE says it has ceased;
- **hors périmètre**: it is no longer scored (below the perimeter's headcount, or no recent data).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from ...contract import ALERT_LABELS, ALERTED
from ..models import Company, Follow, List, ListChange, Score
from ..policy import Action, ListRef, visible_companies
from ..services.list_rows import NAF_SECTIONS, ListFilters, name_or_siren
from .context import Ctx
from .deps import CtxDep
from .guard import Granted, ensure_allowed
from .rendering import render

__all__ = ["CHANGES", "EXIT_REASONS", "change_counts", "list_changes", "router"]

router = APIRouter(include_in_schema=False)
#: The kinds of change (the diff's values) and their French labels.
CHANGES = {
    "entrée": "Entrées",
    "sortie": "Sorties",
    "hausse": "Hausses de niveau",
    "baisse": "Baisses de niveau",
}
EXIT_REASONS = {
    "procedure": "procédure collective en cours",
    "risque": "risque en baisse",
    "fermee": "entreprise fermée",
    "perimetre": "hors du périmètre de la liste",
}
PAGE = 50
_NOW = aliased(Score, name="now")


def _conditions(ctx: Ctx, li: List, f: ListFilters, change: str | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [ListChange.list_id == li.id, visible_companies(ctx.actor, ListChange.siren)]
    if change in CHANGES:
        conds.append(ListChange.change == change)
    if f.departement:
        conds.append(Company.departement.in_(f.departement))
    if f.secteur:
        conds.append(Company.naf_section.in_(f.secteur))
    if f.exclure_suivies:
        conds.append(
            ~exists().where(
                Follow.user_id == ctx.actor.user_id, Follow.siren == ListChange.siren, Follow.active.is_(True)
            )
        )
    if f.q:
        conds.append(name_or_siren(f.q, ListChange.siren))
    return conds


def _reason() -> Any:
    in_procedure = func.coalesce(_NOW.etat_proc_collective, "in_bonis") != "in_bonis"
    return case(
        (ListChange.change != "sortie", None),
        (and_(_NOW.siren.is_not(None), in_procedure), "procedure"),
        (_NOW.siren.is_not(None), "risque"),
        (Company.est_actif.is_(False), "fermee"),
        else_="perimetre",
    )


def list_changes(
    ctx: Ctx,
    granted: Granted,
    filters: ListFilters | None = None,
    change: str | None = None,
    page: int = 1,
    size: int = PAGE,
) -> dict[str, Any]:
    """The changes of a list against the previous one, visible to the actor, once
    ``ensure_allowed(VIEW_LIST_SCORES)`` granted it."""
    li = granted.list
    assert li is not None
    list_id = li.id
    f = filters or ListFilters()
    conds = _conditions(ctx, li, f, change)
    base = (
        select(
            ListChange,
            Company.raison_sociale,
            Company.departement,
            Company.libelle_activite_principale,
            _NOW.probability,
            _reason().label("reason"),
        )
        .outerjoin(Company, Company.siren == ListChange.siren)
        .outerjoin(_NOW, and_(_NOW.list_id == ListChange.list_id, _NOW.siren == ListChange.siren))
        .where(*conds)
    )
    counts = dict(
        ctx.db.execute(
            select(ListChange.change, func.count())
            .outerjoin(Company, Company.siren == ListChange.siren)
            .where(*_conditions(ctx, li, f, None))
            .group_by(ListChange.change)
        ).all()
    )
    order = case({k: i for i, k in enumerate(CHANGES)}, value=ListChange.change)
    rows = ctx.db.execute(
        base.order_by(order, Company.raison_sociale, ListChange.siren).limit(size).offset((page - 1) * size)
    ).all()
    items = [
        {
            "siren": ch.siren,
            "raison_sociale": name,
            "departement": dept,
            "activite": naf,
            "change": ch.change,
            "alert_previous": ch.alert_previous,
            "alert": ch.alert,
            "probability": p,
            "exit_reason": reason,
            "exit_reason_label": EXIT_REASONS.get(reason) if reason else None,
        }
        for ch, name, dept, naf, p, reason in rows
    ]
    total = sum(v for k, v in counts.items() if change not in CHANGES or k == change)
    ctx.audit(
        "list_viewed", list_id=list_id, detail={"view": "changes", "change": change, "rows": len(items)}
    )
    return {
        "list": {
            "id": li.id,
            "label": li.label,
            "batch": li.batch,
            "periode": li.periode.isoformat(),
            "previous_batch": li.previous_batch,
        },
        "counts": {k: int(counts.get(k, 0)) for k in CHANGES},
        "total": int(total),
        "page": page,
        "size": size,
        "items": items,
    }


def change_counts(ctx: Ctx, list_id: int) -> dict[str, int]:
    """The counts of each kind of change of a list, visible to the actor (the dashboard's figures)."""
    rows = ctx.db.execute(
        select(ListChange.change, func.count())
        .where(ListChange.list_id == list_id, visible_companies(ctx.actor, ListChange.siren))
        .group_by(ListChange.change)
    ).all()
    got = dict(rows)
    return {k: int(got.get(k, 0)) for k in CHANGES}


@router.get("/listes/{list_id}/evolutions")
def changes_page(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    changement: str | None = Query(None, max_length=16),
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    filters, errors = ListFilters.parse(ctx.request.query_params)
    kind = changement if changement in CHANGES else None
    if changement and kind is None:
        errors["changement"] = "Type de changement inconnu : entrée, sortie, hausse ou baisse."
    data = list_changes(ctx, granted, filters, kind, page)
    depts = sorted(
        {
            d
            for (d,) in ctx.db.execute(
                select(Company.departement).where(visible_companies(ctx.actor, Company.siren)).distinct()
            )
            if d
        }
    )
    return render(
        ctx,
        "list_changes.html",
        data=data,
        filters=filters,
        errors=errors,
        kind=kind,
        changes=CHANGES,
        alert_labels={**ALERT_LABELS, None: "—"},
        departements=[(d, d) for d in depts],
        secteurs=list(NAF_SECTIONS.items()),
        pages=max(1, -(-data["total"] // data["size"])),
        alerts=ALERTED,
    )
