"""The list pages: the published lists, one list with its filters, sort and paging (20 rows a page), its exports.

The rows come from the one list-row service (``services.list_rows``: filters, sort, rules), as the API's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from ...cells import neutralise
from ...contract import ALERT_CODES, ALERT_LABELS
from ..policy import Action, ListRef
from ..services.list_rows import (
    ETATS,
    FILTER_LABELS,
    NAF_SECTIONS,
    PAGE_SIZE,
    PROCOL_STATES,
    SORTS,
    ListFilters,
    ListSort,
    list_rows,
    restrict,
)
from . import data
from .cache import data_version
from .context import Ctx
from .deps import CtxDep, ListId, SortParam
from .formats import PARIS, fr_decimal
from .guard import Granted, ensure_allowed, may
from .rendering import render
from .xlsx import CONFIDENTIALITY, table_workbook

__all__ = [
    "EXPORT_MAX",
    "router",
]

router = APIRouter(include_in_schema=False)
EXPORT_MAX = 100_000


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
    ensure_allowed(ctx, Action.VIEW_LIST)
    return render(
        ctx,
        "lists.html",
        lists=ctx.request.app.state.view_cache.get_or_compute(
            ("lists", data_version(ctx)), lambda: data.lists_overview(ctx)
        ),
        can_score=may(ctx, Action.VIEW_LIST_SCORES),
    )


def _query(*parts: list[tuple[str, str]]) -> str:
    pairs = [p for part in parts for p in part]
    return urlencode(pairs)


@router.get("/listes/{list_id}")
def list_page(
    ctx: CtxDep,
    list_id: ListId,
    page: int = Query(1, ge=1, le=100_000),
    tri: SortParam = None,
    ordre: SortParam = None,
) -> Response:
    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    filters, errors = ListFilters.parse(ctx.request.query_params)
    filters, refused = restrict(filters, ctx.actor, list_id)
    errors |= refused
    sort = ListSort.parse(tri, ordre)
    key = ("list", data_version(ctx), list_id, repr(filters), repr(sort), page)
    li = granted.list
    assert li is not None
    rows = ctx.request.app.state.view_cache.get_or_compute(
        key, lambda: list_rows(ctx.db, ctx.actor, li, filters, sort, page, PAGE_SIZE)
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
            etats=ETATS,
            can_urssaf=may(ctx, Action.VIEW_URSSAF, ListRef(list_id)),
            can_export=may(ctx, Action.EXPORT_LIST),
        )
    response.headers["Vary"] = "HX-Request"
    return response


def _export(
    ctx: Ctx, list_id: int, tri: str | None, ordre: str | None, fmt: str
) -> tuple[Granted, ListFilters, ListSort, dict[str, Any]]:
    """An export's rows (the filtered list, up to ``EXPORT_MAX``), once allowed; recorded as an ``export``."""
    granted = ensure_allowed(ctx, Action.EXPORT_LIST, ListRef(list_id))
    assert granted.list is not None
    filters = restrict(ListFilters.parse(ctx.request.query_params)[0], ctx.actor, list_id)[0]
    sort = ListSort.parse(tri, ordre)
    rows = list_rows(ctx.db, ctx.actor, granted.list, filters, sort, 1, EXPORT_MAX)
    ctx.audit("export", list_id=list_id,
              detail={"format": fmt, "filters": filters.as_dict(), "rows": len(rows["items"])})  # fmt: skip
    ctx.finish()
    return granted, filters, sort, rows


def _yes(v: Any) -> str | None:
    return None if v is None else ("Oui" if v else "Non")


#: A column of both exports: French header, value of an item, kind (``text``, ``int``, ``percent``, ``keur``,
#: ``eur``, ``bool``). Amounts: the turnover (DIANE) in thousands of euros, the URSSAF debt in euros, both labelled.
ExportColumn = tuple[str, Callable[[Mapping[str, Any]], Any], str]
EXPORT_COLUMNS: list[ExportColumn] = [
    ("Rang", lambda r: r["rank"], "int"),
    ("SIREN", lambda r: r["siren"], "text"),
    ("SIRET", lambda r: r["siret"], "text"),
    ("Raison sociale", lambda r: r["raison_sociale"], "text"),
    ("Département", lambda r: r["departement"], "text"),
    ("Activité", lambda r: r["activite"], "text"),
    ("Section NAF", lambda r: r["naf_section"], "text"),
    ("Niveau d'alerte", lambda r: ALERT_LABELS.get(r["alert"], r["alert"]), "text"),
    ("Probabilité de défaillance", lambda r: r["probability"], "percent"),
    ("Première alerte", lambda r: r["first_alert"], "bool"),
    ("Procédure collective", lambda r: PROCOL_STATES.get(r["etat_proc_collective"] or "in_bonis"), "text"),
    ("Effectif de l'établissement", lambda r: r["effectif"], "int"),
    ("Effectif de l'entreprise", lambda r: r["effectif_ent"], "int"),
    ("Chiffre d'affaires (k€)", lambda r: r["ca"], "keur"),
    ("Suivie par moi", lambda r: r["followed"], "bool"),
    ("Signalée par le CODEFI", lambda r: r["codefi"], "bool"),
]
EXPORT_URSSAF: list[ExportColumn] = [
    ("Dette URSSAF (€)", lambda r: r.get("dette_urssaf"), "eur"),
    ("Hausse de la dette URSSAF", lambda r: r.get("hausse_urssaf"), "bool"),
]
EXPORT_DGEFP: list[ExportColumn] = [("Activité partielle (12 mois)", lambda r: r.get("ap_12m"), "bool")]
#: The XLSX number format of each kind.
XLSX_FORMATS = {"int": "0", "percent": "0.0%", "keur": "#,##0", "eur": "#,##0"}


def _columns(ctx: Ctx, list_id: int) -> list[ExportColumn]:
    """The export's columns: the URSSAF and DGEFP ones with their rights."""
    columns = list(EXPORT_COLUMNS)
    if may(ctx, Action.VIEW_URSSAF, ListRef(list_id)):
        columns += EXPORT_URSSAF
    if may(ctx, Action.VIEW_DGEFP, ListRef(list_id)):
        columns += EXPORT_DGEFP
    return columns


def csv_cell(value: Any, kind: str) -> str:
    """A CSV cell in French: decimal comma, percentages ``45,1 %``, amounts and effectifs rounded (no thousands
    separator, so that a spreadsheet reads them as numbers), booleans Oui/Non, text neutralised (no formula)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if kind == "bool":
        return _yes(value) or ""
    if kind == "percent":
        return fr_decimal(value * 100, 1).replace("\u202f", "").replace("\xa0", "") + " %"
    if kind in ("int", "keur", "eur"):
        return str(round(value))
    return str(neutralise(value))


@router.get("/listes/{list_id}/export.csv")
def list_export(
    ctx: CtxDep,
    list_id: ListId,
    tri: SortParam = None,
    ordre: SortParam = None,
) -> Response:
    """The filtered list in CSV, as the XLSX: French headers and values, ``;``-separated, UTF-8 with BOM."""
    rows = _export(ctx, list_id, tri, ordre, "csv")[3]
    columns = _columns(ctx, list_id)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet software reads the accents
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([h for h, _, _ in columns])
    w.writerows([csv_cell(get(item), kind) for _, get, kind in columns] for item in rows["items"])
    name = f"signaux-faibles-{rows['list']['batch']}.csv"
    return StreamingResponse(
        iter([out.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/listes/{list_id}/export.xlsx")
def list_export_xlsx(
    ctx: CtxDep,
    list_id: ListId,
    tri: SortParam = None,
    ordre: SortParam = None,
) -> Response:
    granted, filters, sort, rows = _export(ctx, list_id, tri, ordre, "xlsx")
    columns = _columns(ctx, list_id)
    items = rows["items"]
    li = rows["list"]
    summary: list[tuple[str, Any]] = [
        ("Liste", li["label"]),
        ("Algorithme", li["algo"]),
        ("Période", dt.date.fromisoformat(li["periode"]).strftime("%m/%Y")),
        ("Exportée le", dt.datetime.now(PARIS).strftime("%d/%m/%Y %H:%M")),
        ("Exportée par", granted.user.email),
        ("Entreprises", len(items)),
        ("Dont risque élevé", rows["nb_f1"]),
        ("Dont risque modéré", rows["nb_f2"]),
        ("Tri", sort.describe()),
        *(filters.describe() or [("Filtres", "Aucun filtre")]),
        CONFIDENTIALITY,
    ]  # fmt: skip
    content = table_workbook(
        "Liste",
        [h for h, _, _ in columns],
        ([(_yes(get(r)) if kind == "bool" else get(r), XLSX_FORMATS.get(kind)) for _, get, kind in columns]
         for r in items),
        "Filtres",
        summary,
    )  # fmt: skip
    name = f"signaux-faibles-{li['batch']}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
