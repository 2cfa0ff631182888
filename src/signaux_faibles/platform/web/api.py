"""The REST API (``/api/…``), under the same policy as the pages; OpenAPI at ``/api/openapi.json``.

Authentication: a personal token (``Authorization: Bearer sf_…``, see ``signaux-faibles users token``) or the
browser session (then state-changing calls need the ``X-CSRF-Token`` header).

Every collection is paged (``page``, ``size`` up to 500): an envelope ``{total, page, size, items}``, but for
``/api/lists`` and ``/api/search``, which answer a JSON array (as before) with the header ``X-Total-Count``. The
list's filters are the list page's (``services.list_rows.ListFilters``, same names), validated: a bad value is
a 422 naming the parameter, with the page's French message. The agents' work on a company (comments, case,
measures) and « mes entreprises » are in ``api_work``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..accounts import follow, unfollow
from ..policy import Action, CompanyRef, EstablishmentRef, ListRef
from ..services.list_rows import SORTS, ListFilters, ListSort, list_rows, restrict
from . import data
from .changes import list_changes as changes_of
from .context import Ctx
from .deps import CtxDep, ListId
from .guard import ensure_allowed
from .listing import list_export, list_export_xlsx
from .rendering import json

__all__ = ["ERRORS", "NO_NUL", "SIREN", "Error", "Page", "router"]


class Error(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Error, "description": "Malformed request (NUL character, unparsable body)"},
    401: {"model": Error, "description": "Authentication required (no or invalid token)"},
    403: {"model": Error, "description": "Not allowed by the access policy, or CSRF token missing"},
    404: {"model": Error, "description": "Unknown, or outside the régions where the platform is open"},
}
#: Free text must not carry NUL characters: PostgreSQL text (and JSONB, the audit trail) cannot store them.
NO_NUL = r"^[^\x00]*$"
SIREN = Path(
    ...,
    pattern=r"^\d{9}$",
    description="SIREN (9 chiffres)",
    openapi_examples={"siren": {"value": "111111111"}},
)
SIRET = Path(..., pattern=r"^\d{14}$", description="SIRET (14 chiffres)")
#: Paging: the page (from 1) and its size (at most 500).
PageNo = Annotated[int, Query(ge=1, le=100_000, description="Numéro de page (à partir de 1)")]
Size = Annotated[int, Query(ge=1, le=500, description="Taille de la page (500 au plus)")]

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a collection."""

    total: int = Field(description="Nombre d'éléments en tout")
    page: int
    size: int
    items: list[T]


def _paged(response: Response, total: int) -> Response:
    response.headers["X-Total-Count"] = str(total)
    return response


# ------------------------------------------------------------------------------------------------- models


class Me(BaseModel):
    email: str
    organisation: str | None
    territory: list[str]
    rights: list[str]
    role: str
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "email": "agent.a@urssaf.fr", "organisation": "URSSAF", "territory": ["21"],
        "rights": ["bdf", "dgefp", "score", "urssaf"], "role": "agent"}]})  # fmt: skip


class ListHeader(BaseModel):
    id: int
    label: str
    batch: str
    algo: str | None = None
    periode: str


class ListSummary(ListHeader):
    nb_f1: int | None = Field(description="Risque élevé (null sans le droit « score »)")
    nb_f2: int | None
    total: int | None
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "label": "Septembre 2026", "batch": "2609", "algo": "test", "periode": "2026-09-01",
        "nb_f1": 2, "nb_f2": 0, "total": 2}]})  # fmt: skip


class ListRow(BaseModel):
    """A row of a list; ``dette_urssaf``/``hausse_urssaf`` with the URSSAF right, ``ap_12m`` with the DGEFP one."""

    siren: str
    siret: str | None
    raison_sociale: str | None
    departement: str | None
    libelle_departement: str | None = None
    activite: str | None
    naf_section: str | None = None
    rank: float | None
    probability: float | None
    alert: str | None
    first_alert: bool | None
    etat_proc_collective: str | None
    procedure_en_cours: bool | None = None
    effectif: float | None = None
    effectif_ent: float | None = None
    ca: float | None = Field(None, description="Chiffre d'affaires (k€, DIANE)")
    followed: bool | None = None
    codefi: bool | None = None
    dette_urssaf: float | None = None
    hausse_urssaf: bool | None = None
    ap_12m: bool | None = None


ROW_EXAMPLE: dict[str, Any] = {"siren": "111111111", "siret": "11111111100011", "raison_sociale": "SOCIETE EXEMPLE",
               "departement": "21", "libelle_departement": "Côte-d'Or", "activite": "Hôtels", "naf_section": "I",
               "rank": 1, "probability": 0.5, "alert": "Alerte seuil F1", "first_alert": True,
               "etat_proc_collective": None, "procedure_en_cours": False, "effectif": 10, "effectif_ent": 12,
               "ca": 1250, "followed": False, "codefi": False, "dette_urssaf": 1234.0, "hausse_urssaf": True,
               "ap_12m": False}  # fmt: skip


class Scores(Page[ListRow]):
    list: ListHeader
    nb_f1: int = Field(description="Dont risque élevé")
    nb_f2: int = Field(description="Dont risque modéré")
    pages: int | None = None
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "list": {"id": 1, "label": "Septembre 2026", "batch": "2609", "algo": "test", "periode": "2026-09-01"},
        "total": 1, "nb_f1": 1, "nb_f2": 0, "page": 1, "pages": 1, "size": 50, "items": [ROW_EXAMPLE]}]})  # fmt: skip


class ChangeRow(BaseModel):
    siren: str
    raison_sociale: str | None
    departement: str | None
    activite: str | None
    change: str = Field(description="entrée, sortie, hausse ou baisse")
    alert_previous: str | None
    alert: str | None
    probability: float | None
    exit_reason: str | None
    exit_reason_label: str | None


class Changes(Page[ChangeRow]):
    list: dict[str, Any]
    counts: dict[str, int]
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "list": {"id": 2, "label": "Octobre 2026", "batch": "2610", "periode": "2026-10-01",
                 "previous_batch": "2609"},
        "counts": {"entrée": 1, "sortie": 0, "hausse": 0, "baisse": 0}, "total": 1, "page": 1, "size": 50,
        "items": [{"siren": "111111111", "raison_sociale": "SOCIETE EXEMPLE", "departement": "21",
                   "activite": "Hôtels", "change": "entrée", "alert_previous": None, "alert": "Alerte seuil F1",
                   "probability": 0.5, "exit_reason": None, "exit_reason_label": None}]}]})  # fmt: skip


class CompanyView(BaseModel):
    """A company: identity, public series and group (``groupes``); ``scores``, ``urssaf``, ``dgefp``, ``bdf``,
    ``paiements`` (Altares paydex and FPI) and ``ccsf`` as the policy allows."""

    siren: str
    identity: dict[str, Any]
    establishments: list[dict[str, Any]]
    in_territory: bool
    alerted: bool | None
    followed: bool
    permissions: dict[str, bool]
    scores: list[dict[str, Any]] | None = None
    urssaf: list[dict[str, Any]] | None = None
    dgefp: list[dict[str, Any]] | None = None
    bdf: list[dict[str, Any]] | None = None
    paiements: list[dict[str, Any]] | None = None
    ccsf: list[dict[str, Any]] | None = None
    groupes: list[dict[str, Any]] | None = None
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "siren": "111111111", "identity": {"siren": "111111111", "raison_sociale": "SOCIETE EXEMPLE"},
        "establishments": [{"siret": "11111111100011", "departement": "21"}], "in_territory": True,
        "alerted": True, "followed": False,
        "permissions": {"scores": True, "urssaf": True, "dgefp": True, "bdf": True}}]})  # fmt: skip


class EstablishmentView(BaseModel):
    """An establishment, its company's identity, and its series as the policy allows each block."""

    establishment: dict[str, Any]
    company: dict[str, Any]
    in_territory: bool
    followed: bool
    permissions: dict[str, bool] = {}
    effectif: list[dict[str, Any]] | None = None
    urssaf: list[dict[str, Any]] | None = None
    delais: list[dict[str, Any]] | None = None
    dgefp: list[dict[str, Any]] | None = None
    other_establishments: list[dict[str, Any]] = []
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "establishment": {"siret": "11111111100011", "siren": "111111111", "siege": True, "departement": "21"},
        "company": {"siren": "111111111", "raison_sociale": "SOCIETE EXEMPLE"}, "in_territory": True,
        "followed": False, "other_establishments": []}]})  # fmt: skip


class SearchHit(BaseModel):
    siren: str
    raison_sociale: str | None
    departement: str | None
    libelle_departement: str | None
    commune: str | None
    activite: str | None
    alert: str | None
    procedure: str | None
    visible: bool
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "siren": "111111111", "raison_sociale": "SOCIETE EXEMPLE", "departement": "21",
        "libelle_departement": "Côte-d'Or", "commune": "DIJON", "activite": "Hôtels", "alert": "Alerte seuil F1",
        "procedure": None, "visible": True}]})  # fmt: skip


class FollowIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={"examples": [
        {"category": "Veille", "comment": "Suivi à la demande du CODEFI"}]})  # fmt: skip
    category: str = Field(
        ..., min_length=1, max_length=64, pattern=NO_NUL, description="Catégorie du suivi (obligatoire)"
    )
    comment: str | None = Field(None, max_length=2000, pattern=NO_NUL)


class Followed(BaseModel):
    siren: str
    followed: bool
    changed: bool | None = Field(None, description="Arrêt du suivi : l'entreprise était-elle suivie")
    model_config = ConfigDict(json_schema_extra={"examples": [{"siren": "111111111", "followed": True}]})


# ------------------------------------------------------------------------------------------- list filters

Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,3}$")]
Section = Annotated[str, StringConstraints(pattern=r"^[A-Ua-u]$")]
Naf = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9. A-Za-z]{1,7}$")]
Amount = Annotated[int | None, Query(ge=0, le=10**12)]
Flag = Annotated[bool, Query()]
Procol = Literal[
    "in_bonis", "sauvegarde", "plan_sauvegarde", "continuation", "plan_redressement", "liquidation"
]
#: No value given (an immutable default for a list parameter).
NO_CODES: list[Any] = []


def list_filters(
    departement: Annotated[list[Code], Query(max_length=120, description="Départements (codes)")] = NO_CODES,
    secteur: Annotated[list[Section], Query(max_length=21, description="Sections NAF (lettres)")] = NO_CODES,
    naf: Annotated[
        list[Naf], Query(max_length=50, description="Codes NAF : 56, 56.1, 56.10 ou 56.10A")
    ] = NO_CODES,
    effectif_min: Amount = None,
    effectif_max: Amount = None,
    effectif_ent_min: Amount = None,
    effectif_ent_max: Amount = None,
    ca_min: Annotated[
        int | None, Query(ge=0, le=10**12, description="Chiffre d'affaires minimum (k€)")
    ] = None,
    ca_max: Annotated[
        int | None, Query(ge=0, le=10**12, description="Chiffre d'affaires maximum (k€)")
    ] = None,
    procol: Annotated[list[Procol], Query(max_length=6, description="Procédure collective")] = NO_CODES,
    alerte: Annotated[
        list[Literal["F1", "F2"]], Query(max_length=2, description="Niveau d'alerte")
    ] = NO_CODES,
    premiere_alerte: Flag = False,
    exclure_suivies: Flag = False,
    siege_uniquement: Flag = False,
    codefi: Flag = False,
    en_procedure: Flag = False,
    sans_delai: Annotated[bool, Query(description="Sans délai URSSAF en cours (droit URSSAF)")] = False,
    hors_covid: Flag = False,
    creation_avant: Annotated[
        dt.date | None, Query(description="Entreprises créées avant (AAAA-MM-JJ)")
    ] = None,
    etat: Annotated[Literal["actif", "ferme"] | None, Query(description="État administratif")] = None,
    q: Annotated[str, Query(max_length=100, pattern=NO_NUL, description="Raison sociale ou SIREN")] = "",
) -> ListFilters:
    """The list page's filters (``ListFilters``), as query parameters; what the page would drop is a 422 here."""
    raw: dict[str, Any] = {
        "departement": departement, "secteur": secteur, "naf": naf, "procol": procol, "alerte": alerte,
        "etat": etat or "", "q": q, "creation_avant": creation_avant.isoformat() if creation_avant else "",
        **{k: "1" for k, v in (("premiere_alerte", premiere_alerte), ("exclure_suivies", exclure_suivies),
                                ("siege_uniquement", siege_uniquement), ("codefi", codefi),
                                ("en_procedure", en_procedure), ("sans_delai", sans_delai),
                                ("hors_covid", hors_covid)) if v},
        **{k: "" if v is None else str(v) for k, v in (
            ("effectif_min", effectif_min), ("effectif_max", effectif_max), ("effectif_ent_min", effectif_ent_min),
            ("effectif_ent_max", effectif_ent_max), ("ca_min", ca_min), ("ca_max", ca_max))},
    }  # fmt: skip
    filters, errors = ListFilters.parse(raw)
    _refuse(errors)
    return filters


def _refuse(errors: dict[str, str]) -> None:
    """A 422 naming each bad parameter with the page's French message."""
    if errors:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", k), "msg": v, "input": None} for k, v in errors.items()]
        )


FiltersDep = Annotated[ListFilters, Depends(list_filters)]
Tri = Annotated[Literal["rang", "probabilite", "raison_sociale", "departement", "effectif"] | None,
                Query(description="Tri : " + ", ".join(SORTS))]  # fmt: skip
Ordre = Annotated[Literal["asc", "desc"] | None, Query(description="Ordre du tri")]


def _allowed_filters(ctx: Ctx, filters: ListFilters, list_id: int) -> ListFilters:
    filters, refused = restrict(filters, ctx.actor, list_id)
    _refuse(refused)
    return filters


# ------------------------------------------------------------------------------------------------- routes


@router.get("/me", response_model=Me, summary="Mon compte : organisation, territoire, droits, rôle")
def me(ctx: CtxDep) -> Any:
    user = ensure_allowed(ctx, Action.ACCOUNT).user
    a = ctx.actor
    return json(ctx, {"email": user.email, "organisation": a.organisation, "territory": a.territory.codes(),
                      "rights": sorted(a.rights), "role": a.role})  # fmt: skip


@router.get(
    "/lists",
    response_model=list[ListSummary],
    summary="Listes publiées (alertes de mon territoire, avec le droit « score »)",
    description="The published lists, newest first, a JSON array; the header `X-Total-Count` gives how many.",
)
def lists(ctx: CtxDep, page: PageNo = 1, size: Size = 50) -> Any:
    ensure_allowed(ctx, Action.VIEW_LIST)
    every = data.lists_overview(ctx)
    return _paged(json(ctx, every[(page - 1) * size : page * size]), len(every))


@router.get(
    "/lists/{list_id}/scores",
    response_model=Scores,
    summary="Entreprises en alerte d'une liste, visibles de l'appelant, filtrées, triées et paginées",
    description="The filters of the list page (same names). `sans_delai` needs the URSSAF right (else 422).",
)
def list_scores(
    ctx: CtxDep, list_id: ListId, filters: FiltersDep, tri: Tri = None, ordre: Ordre = None,
    page: PageNo = 1, size: Size = 50,
) -> Any:  # fmt: skip
    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    assert granted.list is not None
    filters = _allowed_filters(ctx, filters, list_id)
    sort = ListSort.parse(tri, ordre)
    rows = list_rows(ctx.db, ctx.actor, granted.list, filters, sort, page, size, last_page=False)
    ctx.audit("list_viewed", list_id=list_id,
              detail={"page": page, "rows": len(rows["items"]), "total": rows["total"],
                      "filters": filters.as_dict(), "sort": [sort.key, sort.order]})  # fmt: skip
    return json(ctx, {**rows, "page": page})


@router.get(
    "/lists/{list_id}/changes",
    response_model=Changes,
    summary="Évolutions depuis la liste précédente (entrées, sorties et motif, hausses, baisses)",
    description="Filtered as the list (départements, sectors, name or SIREN, followed companies left out).",
)
def list_changes(
    ctx: CtxDep,
    list_id: ListId,
    change: str | None = Query(
        None, pattern=r"^(entrée|sortie|hausse|baisse)$", description="Kind of change"
    ),
    departement: Annotated[list[Code], Query(max_length=120, description="Départements (codes)")] = NO_CODES,
    secteur: Annotated[list[Section], Query(max_length=21, description="Sections NAF (lettres)")] = NO_CODES,
    exclure_suivies: Flag = False,
    q: Annotated[str, Query(max_length=100, pattern=NO_NUL, description="Raison sociale ou SIREN")] = "",
    page: PageNo = 1,
    size: Size = 50,
) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    filters, errors = ListFilters.parse({"departement": departement, "secteur": secteur, "q": q,
                                         "exclure_suivies": "1" if exclure_suivies else ""})  # fmt: skip
    _refuse(errors)
    return json(ctx, changes_of(ctx, granted, filters, change, page, size))


EXPORT = {
    "csv": ("text/csv", "La liste filtrée en CSV (`;`, UTF-8 avec BOM, en-têtes et valeurs en français)"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "La liste filtrée en XLSX (feuilles « Liste » et « Filtres »)",
    ),
}


def _export_doc(fmt: str) -> dict[str, Any]:
    media, text = EXPORT[fmt]
    return {
        "response_class": Response,
        "summary": text,
        "description": "The list page's export (same columns, rights and audit), filtered as `/scores`.",
        "responses": {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}},
                            "description": text}},
    }  # fmt: skip


@router.get("/lists/{list_id}/export.csv", **_export_doc("csv"))
def export_csv(
    ctx: CtxDep, list_id: ListId, filters: FiltersDep, tri: Tri = None, ordre: Ordre = None
) -> Response:
    _export_filters(ctx, filters, list_id)
    return list_export(ctx, list_id, tri, ordre)


@router.get("/lists/{list_id}/export.xlsx", **_export_doc("xlsx"))
def export_xlsx(
    ctx: CtxDep, list_id: ListId, filters: FiltersDep, tri: Tri = None, ordre: Ordre = None
) -> Response:
    _export_filters(ctx, filters, list_id)
    return list_export_xlsx(ctx, list_id, tri, ordre)


def _export_filters(ctx: Ctx, filters: ListFilters, list_id: int) -> None:
    """The export's filters, checked before the page's export code reads them again (the guard first)."""
    ensure_allowed(ctx, Action.EXPORT_LIST, ListRef(list_id))
    _allowed_filters(ctx, filters, list_id)


@router.get("/companies/{siren}", response_model=CompanyView,
            summary="Une entreprise : identité, séries, et les blocs confidentiels permis")  # fmt: skip
def company(ctx: CtxDep, siren: str = SIREN) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, CompanyRef(siren))
    return json(ctx, data.company_view(ctx, granted))


@router.get("/establishments/{siret}", response_model=EstablishmentView,
            summary="Un établissement : identité, séries (effectif, URSSAF, délais, activité partielle) permises, "
                    "autres établissements")  # fmt: skip
def establishment(ctx: CtxDep, siret: str = SIRET) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, EstablishmentRef(siret))
    return json(ctx, data.establishment_view(ctx, granted))


@router.get(
    "/search",
    response_model=list[SearchHit],
    summary="Entreprises par raison sociale (casse et accents indifférents), SIREN ou SIRET",
    description=f"Matches best first (the whole name, its beginning, a word's beginning, elsewhere), paged "
    f"(`size` {data.SEARCH_LIMIT} by default), each with its head office's town (`commune`), département, alert "
    "level on the latest list (`alert`, with the score right, for alerted companies) and collective proceeding "
    "(`procedure`). A JSON array; the header `X-Total-Count` gives how many companies matched in all.",
)
def search(
    ctx: CtxDep,
    q: str = Query(..., min_length=2, max_length=100, pattern=NO_NUL),
    national: bool = Query(
        False,
        description="Search the whole platform (the real system's `ignorezone`): the companies outside the "
        "caller's view come with their identity only (`visible`: false; no alert level, no proceeding).",
    ),
    page: Annotated[int, Query(ge=1, le=100, description="Numéro de page (à partir de 1)")] = 1,
    size: Size = data.SEARCH_LIMIT,
) -> Any:
    ensure_allowed(ctx, Action.SEARCH)
    results = data.search(ctx, q, limit=page * size, national=national)
    return _paged(json(ctx, list(results)[(page - 1) * size :]), results.total)


@router.put(
    "/companies/{siren}/follow",
    response_model=Followed,
    summary="Suivre une entreprise",
    responses={400: {"model": Error, "description": "Malformed request body (not JSON)"}},
)
def follow_company(ctx: CtxDep, body: Annotated[FollowIn, Body()], siren: str = SIREN) -> Any:
    user = ensure_allowed(ctx, Action.FOLLOW, CompanyRef(siren)).user
    follow(ctx.db, user, siren, body.category, body.comment)
    return json(ctx, {"siren": siren, "followed": True})


@router.delete("/companies/{siren}/follow", response_model=Followed, summary="Ne plus suivre une entreprise")
def unfollow_company(ctx: CtxDep, siren: str = SIREN) -> Any:
    user = ensure_allowed(ctx, Action.ACCOUNT).user  # one's own follow, whatever the company
    done = unfollow(ctx.db, user, siren)
    return json(ctx, {"siren": siren, "followed": False, "changed": done})
