"""The list pages: the published lists, one list with its filters, sort and paging, and its exports.

Filters (query parameters, French names, as the real system's ``paramsListeScores``): ``departement`` (multi),
``secteur`` (NAF section letter, multi), ``effectif_min``/``effectif_max`` (établissement: the company's monthly
``effectif`` at the list's month or the latest before), ``effectif_ent_min``/``effectif_ent_max``
(``effectif_ent``), ``ca_min``/``ca_max`` (latest DIANE turnover), ``procol`` (``etat_proc_collective``, multi;
none is ``in_bonis``), ``alerte`` (``F1``/``F2``, multi), ``premiere_alerte``, ``exclure_suivies``,
``siege_uniquement``, ``codefi`` (booleans), ``creation_avant`` (date), ``q`` (name contains, or SIREN prefix);
sort ``tri`` (``rang``, ``probabilite``, ``raison_sociale``, ``departement``, ``effectif``) and ``ordre``
(``asc``/``desc``); 20 rows a page.

``filtered_rows`` follows the rules of ``data.list_rows`` (the ``score`` right, alerted rows of visible companies
only, URSSAF and DGEFP columns with their own rights) in two SQL statements (counts per alert level, one page),
the per-company values as correlated sub-queries on primary keys (no query per row).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import ColumnElement, and_, case, exists, false, func, select
from sqlalchemy.orm import aliased

from ...cells import neutralise
from ..accounts import ALERTS
from ..db import no_jit
from ..models import CodefiAlert, CodefiImport, Company, CompanyMonth, DianeStatement, Follow, List, Score
from ..policy import Action, allowed, visible_companies
from . import data
from .cache import data_version
from .context import Ctx
from .deps import CtxDep
from .rendering import render

__all__ = [
    "ALERT_CODES",
    "NAF_SECTIONS",
    "PAGE_SIZE",
    "PROCOL_STATES",
    "SORTS",
    "ListFilters",
    "ListSort",
    "filtered_rows",
    "router",
]

router = APIRouter(include_in_schema=False)
EXPORT_MAX = 100_000
PAGE_SIZE = 20
ALERT_CODES = {"F1": ALERTS[0], "F2": ALERTS[1]}
ALERT_LABELS = {ALERTS[0]: "Risque élevé", ALERTS[1]: "Risque modéré"}
#: NAF rév. 2 sections.
NAF_SECTIONS = {
    "A": "Agriculture, sylviculture et pêche",
    "B": "Industries extractives",
    "C": "Industrie manufacturière",
    "D": "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
    "E": "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution",
    "F": "Construction",
    "G": "Commerce ; réparation d'automobiles et de motocycles",
    "H": "Transports et entreposage",
    "I": "Hébergement et restauration",
    "J": "Information et communication",
    "K": "Activités financières et d'assurance",
    "L": "Activités immobilières",
    "M": "Activités spécialisées, scientifiques et techniques",
    "N": "Activités de services administratifs et de soutien",
    "O": "Administration publique",
    "P": "Enseignement",
    "Q": "Santé humaine et action sociale",
    "R": "Arts, spectacles et activités récréatives",
    "S": "Autres activités de services",
    "T": "Activités des ménages en tant qu'employeurs",
    "U": "Activités extra-territoriales",
}
#: ``etat_proc_collective`` values (the model's order); a missing value is ``in_bonis``.
PROCOL_STATES = {
    "in_bonis": "In bonis (pas de procédure)",
    "sauvegarde": "Sauvegarde",
    "plan_sauvegarde": "Plan de sauvegarde",
    "continuation": "Redressement (continuation)",
    "plan_redressement": "Plan de redressement",
    "liquidation": "Liquidation",
}
#: Sort keys, their French label and default order.
SORTS = {
    "rang": ("Rang", "asc"),
    "probabilite": ("Probabilité", "desc"),
    "raison_sociale": ("Raison sociale", "asc"),
    "departement": ("Département", "asc"),
    "effectif": ("Effectif", "desc"),
}
_TRUE = frozenset({"1", "true", "on", "oui", "yes"})
_INT_MAX = 10**12

#: French labels of the filters (form, export sheet "Filtres").
FILTER_LABELS = {
    "departement": "Départements",
    "secteur": "Secteurs d'activité (section NAF)",
    "effectif_min": "Effectif de l'établissement, minimum",
    "effectif_max": "Effectif de l'établissement, maximum",
    "effectif_ent_min": "Effectif de l'entreprise, minimum",
    "effectif_ent_max": "Effectif de l'entreprise, maximum",
    "ca_min": "Chiffre d'affaires minimum (€)",
    "ca_max": "Chiffre d'affaires maximum (€)",
    "procol": "Procédure collective",
    "alerte": "Niveau d'alerte",
    "premiere_alerte": "Première alerte uniquement",
    "exclure_suivies": "Exclure les entreprises que je suis",
    "siege_uniquement": "Sièges uniquement",
    "creation_avant": "Entreprises créées avant le",
    "codefi": "Signalées par le CODEFI (dernière liste importée)",
    "en_procedure": "En procédure collective (à la place des alertes)",
    "q": "Raison sociale ou SIREN",
}


def _ints(raw: str, name: str, errors: dict[str, str]) -> int | None:
    raw = raw.strip().replace(" ", "").replace("\u202f", "")
    if not raw:
        return None
    try:
        v = int(float(raw.replace(",", ".")))
    except ValueError:
        errors[name] = "Saisissez un nombre entier."
        return None
    if v < 0 or v > _INT_MAX:
        errors[name] = "Saisissez un nombre positif."
        return None
    return v


@dataclass(frozen=True)
class ListFilters:
    """The filters of a list, parsed from the query string (``ListFilters.parse``)."""

    departement: tuple[str, ...] = ()
    secteur: tuple[str, ...] = ()
    effectif_min: int | None = None
    effectif_max: int | None = None
    effectif_ent_min: int | None = None
    effectif_ent_max: int | None = None
    ca_min: int | None = None
    ca_max: int | None = None
    procol: tuple[str, ...] = ()
    alerte: tuple[str, ...] = ()
    premiere_alerte: bool = False
    exclure_suivies: bool = False
    siege_uniquement: bool = False
    creation_avant: dt.date | None = None
    codefi: bool = False
    en_procedure: bool = False
    q: str = ""

    @classmethod
    def parse(cls, params: Any) -> tuple[ListFilters, dict[str, str]]:
        """Filters from query parameters (a Starlette ``QueryParams`` or a mapping of lists); bad values are left
        out and reported in ``errors`` (field name -> French message)."""
        errors: dict[str, str] = {}

        def many(name: str) -> list[str]:
            if hasattr(params, "getlist"):
                values = params.getlist(name)
            else:
                v = params.get(name, [])
                values = [v] if isinstance(v, str) else list(v)
            return [p.strip() for v in values for p in str(v).split(",") if p.strip()]

        def one(name: str) -> str:
            values = many(name) if name != "q" else [params.get("q") or ""]
            return str(values[-1]) if values else ""

        depts = sorted({d.upper() for d in many("departement") if len(d) <= 3 and d.isalnum()})
        secteurs = sorted({s.upper() for s in many("secteur") if s.upper() in NAF_SECTIONS})
        procol = sorted({p for p in many("procol") if p in PROCOL_STATES})
        alerte = sorted({a.upper() for a in many("alerte") if a.upper() in ALERT_CODES})
        nums = {
            n: _ints(one(n), n, errors)
            for n in (
                "effectif_min",
                "effectif_max",
                "effectif_ent_min",
                "effectif_ent_max",
                "ca_min",
                "ca_max",
            )
        }
        for lo, hi in (
            ("effectif_min", "effectif_max"),
            ("effectif_ent_min", "effectif_ent_max"),
            ("ca_min", "ca_max"),
        ):
            a, b = nums[lo], nums[hi]
            if a is not None and b is not None and a > b:
                errors[hi] = "Le maximum doit être supérieur ou égal au minimum."
                nums[hi] = None
        creation: dt.date | None = None
        if raw := one("creation_avant"):
            try:
                creation = dt.date.fromisoformat(raw)
            except ValueError:
                errors["creation_avant"] = "Saisissez une date au format AAAA-MM-JJ."
        q = one("q").strip()[:100]
        return (
            cls(
                departement=tuple(depts),
                secteur=tuple(secteurs),
                procol=tuple(procol),
                alerte=tuple(alerte),
                premiere_alerte=one("premiere_alerte").lower() in _TRUE,
                exclure_suivies=one("exclure_suivies").lower() in _TRUE,
                siege_uniquement=one("siege_uniquement").lower() in _TRUE,
                creation_avant=creation,
                codefi=one("codefi").lower() in _TRUE,
                en_procedure=one("en_procedure").lower() in _TRUE,
                q=q,
                **nums,
            ),
            errors,
        )

    def items(self) -> list[tuple[str, str]]:
        """The set filters as query-string pairs (for links)."""
        out: list[tuple[str, str]] = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                out += [(f.name, x) for x in v]
            elif isinstance(v, bool):
                if v:
                    out.append((f.name, "1"))
            elif v is not None and v != "":
                out.append((f.name, v.isoformat() if isinstance(v, dt.date) else str(v)))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The set filters, JSON-ready (audit)."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v in ((), None, False, ""):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v.isoformat() if isinstance(v, dt.date) else v
        return out

    def describe(self) -> list[tuple[str, str]]:
        """The set filters in French: ``[(label, value), ...]``."""
        out = []
        for k, v in self.as_dict().items():
            if k == "secteur":
                text = ", ".join(f"{s} – {NAF_SECTIONS[s]}" for s in v)
            elif k == "procol":
                text = ", ".join(PROCOL_STATES[p] for p in v)
            elif k == "alerte":
                text = ", ".join(ALERT_LABELS[ALERT_CODES[a]] for a in v)
            elif isinstance(v, list):
                text = ", ".join(v)
            elif v is True:
                text = "Oui"
            elif k == "creation_avant":
                text = dt.date.fromisoformat(v).strftime("%d/%m/%Y")
            else:
                text = str(v)
            out.append((FILTER_LABELS[k], text))
        return out

    @property
    def active(self) -> bool:
        return bool(self.items())


@dataclass(frozen=True)
class ListSort:
    key: str = "rang"
    order: str = "asc"

    @classmethod
    def parse(cls, tri: str | None, ordre: str | None) -> ListSort:
        key = tri if tri in SORTS else "rang"
        order = ordre if ordre in ("asc", "desc") else SORTS[key][1]
        return cls(key, order)

    def items(self) -> list[tuple[str, str]]:
        return [] if self == ListSort() else [("tri", self.key), ("ordre", self.order)]

    def describe(self) -> str:
        return f"{SORTS[self.key][0]} ({'croissant' if self.order == 'asc' else 'décroissant'})"


# ------------------------------------------------------------------------------------------------------ query


def _latest(column: Any, periode: dt.date) -> Any:
    """The company's latest known ``column`` of ``company_months`` at ``periode`` (correlated on ``Score``)."""
    return (
        select(column)
        .where(CompanyMonth.siren == Score.siren, CompanyMonth.periode <= periode, column.is_not(None))
        .order_by(CompanyMonth.periode.desc())
        .limit(1)
        .scalar_subquery()
    )


#: ``company_months`` at the list's month, joined when a filter or the sort needs the effectifs.
_MONTH = aliased(CompanyMonth, name="list_month")


def _effectif(column: str, periode: dt.date) -> Any:
    """The list month's value, else (evaluated only then) the latest known before it."""
    return func.coalesce(getattr(_MONTH, column), _latest(getattr(CompanyMonth, column), periode))


def _ca() -> Any:
    return (
        select(DianeStatement.ca)
        .where(DianeStatement.siren == Score.siren, DianeStatement.ca.is_not(None))
        .order_by(DianeStatement.exercice.desc())
        .limit(1)
        .scalar_subquery()
    )


def _followed(user_id: int | None) -> ColumnElement[bool]:
    return exists().where(Follow.user_id == user_id, Follow.siren == Score.siren, Follow.active.is_(True))


def _codefi(import_id: int | None) -> ColumnElement[bool]:
    if import_id is None:
        return false()
    return exists().where(CodefiAlert.import_id == import_id, CodefiAlert.siren == Score.siren)


def _conditions(
    ctx: Ctx, li: List, f: ListFilters, codefi_import: int | None
) -> tuple[list[ColumnElement[bool]], bool]:
    """The WHERE conditions of the filtered list, and whether they need the list month's ``company_months``."""
    conds: list[ColumnElement[bool]] = [
        Score.list_id == li.id,
        # the firms in collective proceedings are shown apart, on request, never mixed with the alerts
        Score.procedure_en_cours.is_(True) if f.en_procedure else Score.alert.in_(ALERTS),
        visible_companies(ctx.actor, Score.siren),
    ]
    month = False
    if f.alerte:
        conds.append(Score.alert.in_([ALERT_CODES[a] for a in f.alerte]))
    if f.departement:
        conds.append(Company.departement.in_(f.departement))
    if f.secteur:
        conds.append(Company.naf_section.in_(f.secteur))
    if f.procol:
        conds.append(func.coalesce(Score.etat_proc_collective, "in_bonis").in_(f.procol))
    if f.premiere_alerte:
        conds.append(Score.first_alert.is_(True))
    if f.exclure_suivies:
        conds.append(~_followed(ctx.actor.user_id))
    if f.siege_uniquement:
        conds.append(Score.siret == Company.siret_siege)
    if f.creation_avant is not None:
        conds.append(Company.creation < f.creation_avant)
    if f.codefi:
        conds.append(_codefi(codefi_import))
    for col, lo, hi in (
        ("effectif", f.effectif_min, f.effectif_max),
        ("effectif_ent", f.effectif_ent_min, f.effectif_ent_max),
    ):
        if lo is not None or hi is not None:
            month = True
            v = _effectif(col, li.periode)
            conds += [v >= lo] if lo is not None else []
            conds += [v <= hi] if hi is not None else []
    if f.ca_min is not None or f.ca_max is not None:
        ca = _ca()
        conds += [ca >= f.ca_min] if f.ca_min is not None else []
        conds += [ca <= f.ca_max] if f.ca_max is not None else []
    if f.q:
        q = f.q.replace(" ", "")
        if q.isdigit():
            conds.append(Score.siren.startswith(q[:9]))
        else:
            conds.append(func.lower(Company.raison_sociale).contains(f.q.lower(), autoescape=True))
    return conds, month


def _list_or_deny(ctx: Ctx, list_id: int) -> List:
    li = ctx.db.get(List, list_id)
    if li is None:
        raise ctx.deny("unknown list", 404, list_id=list_id)
    if not allowed(ctx.actor, Action.EXPORT_LIST):
        raise ctx.deny("needs the score right", 403, list_id=list_id)
    return li


def filtered_rows(
    ctx: Ctx,
    list_id: int,
    filters: ListFilters | None = None,
    sort: ListSort | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """The alerted companies of a list visible to the actor, filtered, sorted and paged (``data.list_rows``'
    shape and rules, plus identity, effectifs, CA, followed and CODEFI flags); needs the ``score`` right.

    Two statements: the page's SIRENs with the counts (window functions: the policy's sub-queries run once), then
    the page's rows with their per-company values (sub-queries on primary keys, for those rows only). Records no
    audit event: the routes record what they show (``list_viewed``, ``export``).
    """
    li = _list_or_deny(ctx, list_id)
    f = filters or ListFilters()
    s = sort or ListSort()
    no_jit(ctx.db)
    codefi_import = ctx.db.scalar(select(func.max(CodefiImport.id)))
    conds, month = _conditions(ctx, li, f, codefi_import)
    key: Any = {
        "rang": Score.rank,
        "probabilite": Score.probability,
        "raison_sociale": Company.raison_sociale,
        "departement": Company.departement,
        "effectif": _effectif("effectif", li.periode),
    }[s.key]
    month = month or s.key == "effectif"
    order = (key.asc() if s.order == "asc" else key.desc()).nulls_last()

    def ids(offset: int) -> list[Any]:
        q = select(
            Score.siren,
            func.count().over().label("total"),
            func.sum(case((Score.alert == ALERTS[0], 1), else_=0)).over().label("nb_f1"),
        ).select_from(Score)
        q = q.outerjoin(Company, Company.siren == Score.siren)
        if month:
            q = q.outerjoin(_MONTH, and_(_MONTH.siren == Score.siren, _MONTH.periode == li.periode))
        return list(
            ctx.db.execute(q.where(*conds).order_by(order, Score.rank).limit(size).offset(offset)).all()
        )

    page = max(1, page)
    head = ids((page - 1) * size)
    if not head and page > 1:  # past the end: the last page
        head = ids(0)
        total = head[0].total if head else 0
        page = max(1, math.ceil(total / size))
        head = ids((page - 1) * size) if page > 1 else head
    total = head[0].total if head else 0
    nb_f1 = int(head[0].nb_f1 or 0) if head else 0
    pages = max(1, math.ceil(total / size))
    sirens = [r.siren for r in head]
    details = {}
    if sirens:
        followed = _followed(ctx.actor.user_id).label("followed")
        codefi = _codefi(codefi_import).label("codefi")
        for r in ctx.db.execute(
            select(
                Score.siren,
                Score.siret,
                Score.rank,
                Score.probability,
                Score.alert,
                Score.first_alert,
                Score.etat_proc_collective,
                Score.procedure_en_cours,
                Score.etat_procol,
                Score.date_procol,
                Score.dette_urssaf,
                Score.hausse_urssaf,
                Score.ap_12m,
                Company.raison_sociale,
                Company.departement,
                Company.libelle_departement,
                Company.libelle_activite_principale,
                Company.naf_section,
                _latest(CompanyMonth.effectif, li.periode).label("effectif"),
                _latest(CompanyMonth.effectif_ent, li.periode).label("effectif_ent"),
                _ca().label("ca"),
                followed,
                codefi,
            )
            .select_from(Score)
            .outerjoin(Company, Company.siren == Score.siren)
            .where(Score.list_id == li.id, Score.siren.in_(sirens))
        ).all():
            details[r.siren] = r
    urssaf = "urssaf" in ctx.actor.rights
    dgefp = "dgefp" in ctx.actor.rights
    items = []
    for siren in sirens:
        r = details[siren]
        item: dict[str, Any] = {
            "siren": r.siren,
            "siret": r.siret,
            "raison_sociale": r.raison_sociale,
            "departement": r.departement,
            "libelle_departement": r.libelle_departement,
            "activite": r.libelle_activite_principale,
            "naf_section": r.naf_section,
            "rank": r.rank,
            "probability": r.probability,
            "alert": r.alert,
            "first_alert": r.first_alert,
            "etat_proc_collective": r.etat_proc_collective,
            "procedure_en_cours": bool(r.procedure_en_cours),
            "etat_procol": r.etat_procol,
            "date_procol": r.date_procol.isoformat() if r.date_procol else None,
            "effectif": r.effectif,
            "effectif_ent": r.effectif_ent,
            "ca": data._num(r.ca),
            "followed": bool(r.followed),
            "codefi": bool(r.codefi),
        }
        # every row is alerted and visible (in the territory, or followed): the data rights decide the rest
        if urssaf:
            item["dette_urssaf"] = data._num(r.dette_urssaf)
            item["hausse_urssaf"] = r.hausse_urssaf
        if dgefp:
            item["ap_12m"] = r.ap_12m
        items.append(item)
    return {
        "list": {
            "id": li.id,
            "label": li.label,
            "batch": li.batch,
            "algo": li.algo,
            "periode": li.periode.isoformat(),
        },
        "total": total,
        "nb_f1": nb_f1,
        "nb_f2": total - nb_f1,
        "page": page,
        "pages": pages,
        "size": size,
        "items": items,
    }


def _departements(ctx: Ctx, shown: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The département options: those of the actor's territory (``Territory.covers``, no query), and those of the
    rows shown (a followed company outside the territory, a company with an establishment in it)."""
    from ... import geo

    names: dict[str, str | None] = {
        d: None for d, r in geo.DEPARTEMENT_REGION.items() if ctx.actor.territory.covers(d, r)
    }
    for item in shown:
        if item["departement"]:
            names[item["departement"]] = names.get(item["departement"]) or item.get("libelle_departement")
    return [(d, f"{d} – {names[d]}" if names[d] else d) for d in sorted(names)]


# ----------------------------------------------------------------------------------------------------- routes


@router.get("/listes")
def lists_page(ctx: CtxDep) -> Response:
    ctx.require_user()
    return render(
        ctx,
        "lists.html",
        lists=ctx.request.app.state.view_cache.get_or_compute(
            ("lists", data_version(ctx)), lambda: data.lists_overview(ctx)
        ),
        can_score=bool(allowed(ctx.actor, Action.EXPORT_LIST)),
    )


def _query(*parts: list[tuple[str, str]]) -> str:
    pairs = [p for part in parts for p in part]
    return urlencode(pairs)


@router.get("/listes/{list_id}")
def list_page(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    page: int = Query(1, ge=1, le=100_000),
    tri: str | None = Query(None, max_length=32),
    ordre: str | None = Query(None, max_length=32),
) -> Response:
    ctx.require_user()
    filters, errors = ListFilters.parse(ctx.request.query_params)
    sort = ListSort.parse(tri, ordre)
    key = ("list", data_version(ctx), list_id, repr(filters), repr(sort), page)
    rows = ctx.request.app.state.view_cache.get_or_compute(
        key, lambda: filtered_rows(ctx, list_id, filters, sort, page, PAGE_SIZE)
    )
    ctx.audit(
        "list_viewed",
        list_id=list_id,
        detail={"page": rows["page"], "rows": len(rows["items"]), "total": rows["total"],
                "filters": filters.as_dict(), "sort": [sort.key, sort.order]},
    )  # fmt: skip
    base = f"/listes/{list_id}"

    def sort_url(key: str) -> str:
        order = SORTS[key][1]
        if sort.key == key:
            order = "desc" if sort.order == "asc" else "asc"
        return f"{base}?{_query(filters.items(), [('tri', key), ('ordre', order)])}"

    qs = _query(filters.items(), sort.items())
    context: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "sort": sort,
        "sorts": SORTS,
        "sort_url": sort_url,
        "page_url": f"{base}?{qs + '&' if qs else ''}page={{page}}",
        "export_query": qs,
        "alert_labels": ALERT_LABELS,
        "procol_states": PROCOL_STATES,
        "errors": errors,
        "filter_labels": FILTER_LABELS,
    }
    htmx = ctx.request.headers.get("hx-request") == "true"
    restore = ctx.request.headers.get("hx-history-restore-request") == "true"
    if htmx and not restore:
        response = render(ctx, "_list_results.html", **context)
    else:
        response = render(
            ctx,
            "list.html",
            **context,
            departements=_departements(ctx, rows["items"]),
            secteurs=list(NAF_SECTIONS.items()),
            alert_codes=ALERT_CODES,
            can_export=True,  # filtered_rows checked the score right
        )
    response.headers["Vary"] = "HX-Request"
    return response


CSV_FIELDS = ["rank", "siren", "siret", "raison_sociale", "departement", "activite", "probability", "alert",
              "first_alert"]  # fmt: skip


@router.get("/listes/{list_id}/export.csv")
def list_export(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    tri: str | None = Query(None, max_length=32),
    ordre: str | None = Query(None, max_length=32),
) -> Response:
    ctx.require_user()
    filters, _ = ListFilters.parse(ctx.request.query_params)
    sort = ListSort.parse(tri, ordre)
    rows = filtered_rows(ctx, list_id, filters, sort, 1, EXPORT_MAX)
    ctx.audit("export", list_id=list_id,
              detail={"format": "csv", "filters": filters.as_dict(), "rows": len(rows["items"])})  # fmt: skip
    ctx.finish()
    out = io.StringIO()
    extra = [
        k for k in ("dette_urssaf", "hausse_urssaf", "ap_12m") if rows["items"] and k in rows["items"][0]
    ]
    w = csv.DictWriter(out, CSV_FIELDS + extra, extrasaction="ignore", delimiter=";")
    w.writeheader()
    w.writerows({k: neutralise(v) for k, v in item.items()} for item in rows["items"])
    name = f"signaux-faibles-{rows['list']['batch']}.csv"
    return StreamingResponse(
        iter([out.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _yes(v: Any) -> str | None:
    return None if v is None else ("Oui" if v else "Non")


#: The XLSX columns: (French header, value of an item, number format).
XLSX_COLUMNS: list[tuple[str, Callable[[Mapping[str, Any]], Any], str | None]] = [
    ("Rang", lambda r: r["rank"], None),
    ("SIREN", lambda r: r["siren"], None),
    ("SIRET", lambda r: r["siret"], None),
    ("Raison sociale", lambda r: r["raison_sociale"], None),
    ("Département", lambda r: r["departement"], None),
    ("Activité", lambda r: r["activite"], None),
    ("Section NAF", lambda r: r["naf_section"], None),
    ("Niveau d'alerte", lambda r: ALERT_LABELS.get(r["alert"], r["alert"]), None),
    ("Probabilité de défaillance", lambda r: r["probability"], "0.0%"),
    ("Première alerte", lambda r: _yes(r["first_alert"]), None),
    ("Procédure collective", lambda r: PROCOL_STATES.get(r["etat_proc_collective"] or "in_bonis"), None),
    ("Effectif de l'établissement", lambda r: r["effectif"], "0"),
    ("Effectif de l'entreprise", lambda r: r["effectif_ent"], "0"),
    ("Chiffre d'affaires (€)", lambda r: r["ca"], "#,##0"),
    ("Suivie par moi", lambda r: _yes(r["followed"]), None),
    ("Signalée par le CODEFI", lambda r: _yes(r["codefi"]), None),
]
XLSX_URSSAF = [
    ("Dette URSSAF (€)", lambda r: r["dette_urssaf"], "#,##0"),
    ("Hausse de la dette URSSAF", lambda r: _yes(r["hausse_urssaf"]), None),
]
XLSX_DGEFP = [("Activité partielle (12 mois)", lambda r: _yes(r["ap_12m"]), None)]


@router.get("/listes/{list_id}/export.xlsx")
def list_export_xlsx(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    tri: str | None = Query(None, max_length=32),
    ordre: str | None = Query(None, max_length=32),
) -> Response:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    user = ctx.require_user()
    filters, _ = ListFilters.parse(ctx.request.query_params)
    sort = ListSort.parse(tri, ordre)
    rows = filtered_rows(ctx, list_id, filters, sort, 1, EXPORT_MAX)
    items = rows["items"]
    ctx.audit("export", list_id=list_id,
              detail={"format": "xlsx", "filters": filters.as_dict(), "rows": len(items)})  # fmt: skip
    ctx.finish()
    columns = list(XLSX_COLUMNS)
    if "urssaf" in ctx.actor.rights:
        columns += XLSX_URSSAF
    if "dgefp" in ctx.actor.rights:
        columns += XLSX_DGEFP

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Liste")
    bold = Font(bold=True)

    def cell(value: Any, fmt: str | None = None, font: Font | None = None) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the text starts with
        if fmt and value is not None:
            c.number_format = fmt
        if font is not None:
            c.font = font
        return c

    ws.freeze_panes = "A2"
    ws.append([cell(h, font=bold) for h, _, _ in columns])
    for r in items:
        ws.append([cell(get(r), fmt) for _, get, fmt in columns])
    meta = wb.create_sheet("Filtres")
    li = rows["list"]
    exported = dt.datetime.now(dt.UTC).astimezone().strftime("%d/%m/%Y %H:%M")
    summary: list[tuple[str, Any]] = [
        ("Liste", li["label"]),
        ("Algorithme", li["algo"]),
        ("Période", dt.date.fromisoformat(li["periode"]).strftime("%m/%Y")),
        ("Exportée le", exported),
        ("Exportée par", user.email),
        ("Entreprises", len(items)),
        ("Dont risque élevé", rows["nb_f1"]),
        ("Dont risque modéré", rows["nb_f2"]),
        ("Tri", sort.describe()),
        *(filters.describe() or [("Filtres", "Aucun filtre")]),
        ("Confidentialité", "Données confidentielles : diffusion limitée aux agents habilités, dans le cadre de leur mission."),
    ]  # fmt: skip
    meta.append([cell("Paramètre", font=bold), cell("Valeur", font=bold)])
    for k, v in summary:
        meta.append([cell(k), cell(v)])
    out = io.BytesIO()
    wb.save(out)
    name = f"signaux-faibles-{li['batch']}.xlsx"
    return Response(
        out.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
