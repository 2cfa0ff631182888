"""The REST API (``/api/…``), under the same policy as the pages; OpenAPI at ``/api/openapi.json``.

Authentication: a personal token (``Authorization: Bearer sf_…``, see ``signaux-faibles users token``) or the
browser session (then state-changing calls need the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import follow, unfollow
from ..policy import Action, CompanyRef, EstablishmentRef, ListRef
from . import data
from .deps import CtxDep
from .guard import ensure_allowed
from .rendering import json

__all__ = ["router"]


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
SIREN = Path(..., pattern=r"^\d{9}$", description="SIREN (9 digits)")
#: No code given (an immutable default for a list parameter).
NO_CODES: list[str] = []
SIRET = Path(..., pattern=r"^\d{14}$", description="SIRET (14 digits)")

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


class Me(BaseModel):
    email: str
    organisation: str | None
    territory: list[str]
    rights: list[str]
    role: str


class FollowIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    category: str = Field(
        ..., min_length=1, max_length=64, pattern=NO_NUL, description="Catégorie du suivi (obligatoire)"
    )
    comment: str | None = Field(None, max_length=2000, pattern=NO_NUL)


@router.get("/me", response_model=Me, summary="The caller's account")
def me(ctx: CtxDep) -> Any:
    user = ensure_allowed(ctx, Action.ACCOUNT).user
    a = ctx.actor
    return json(ctx, {"email": user.email, "organisation": a.organisation, "territory": a.territory.codes(),
                      "rights": sorted(a.rights), "role": a.role})  # fmt: skip


@router.get(
    "/lists", summary="Published lists (alert counts within the caller's territory, with the score right)"
)
def lists(ctx: CtxDep) -> Any:
    ensure_allowed(ctx, Action.VIEW_LIST)
    return json(ctx, data.lists_overview(ctx))


@router.get("/lists/{list_id}/scores", summary="Alerted companies of a list visible to the caller")
def list_scores(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    page: int = Query(1, ge=1, le=100_000),
    size: int = Query(50, ge=1, le=500),
) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    return json(ctx, data.list_rows(ctx, granted, page, size))


@router.get(
    "/lists/{list_id}/changes",
    summary="Changes since the previous list (entries, exits and why, rises, falls), visible to the caller",
)
def list_changes(
    ctx: CtxDep,
    list_id: int = Path(..., ge=1, le=2**31 - 1),
    change: str | None = Query(None, pattern=r"^(entrée|sortie|hausse|baisse)$", description="Kind of change"),
    departement: Annotated[list[str], Query(max_length=20, description="Départements (codes)")] = NO_CODES,
    page: int = Query(1, ge=1, le=100_000),
    size: int = Query(50, ge=1, le=500),
) -> Any:
    from ..services.list_rows import ListFilters
    from .changes import list_changes as changes_of

    granted = ensure_allowed(ctx, Action.VIEW_LIST_SCORES, ListRef(list_id))
    filters, _ = ListFilters.parse({"departement": departement})
    return json(ctx, changes_of(ctx, granted, filters, change, page, size))


@router.get("/companies/{siren}", summary="A company: identity, series, and the confidential blocks allowed")
def company(ctx: CtxDep, siren: str = SIREN) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, CompanyRef(siren))
    return json(ctx, data.company_view(ctx, granted))


@router.get("/establishments/{siret}", summary="An establishment and its company's identity")
def establishment(ctx: CtxDep, siret: str = SIRET) -> Any:
    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, EstablishmentRef(siret))
    return json(ctx, data.establishment_view(ctx, granted))


@router.get(
    "/search",
    summary="Companies visible to the caller by name (whatever the case and the accents), SIREN or SIRET",
    description=f"The first {data.SEARCH_LIMIT} matches, best first (the whole name, its beginning, a word's "
    "beginning, elsewhere), each with its head office's town (`commune`), département, alert level on the latest "
    "list (`alert`, with the score right, for alerted companies) and collective proceeding (`procedure`). The "
    "header `X-Total-Count` gives how many companies matched in all.",
)
def search(
    ctx: CtxDep,
    q: str = Query(..., min_length=2, max_length=100, pattern=NO_NUL),
    national: bool = Query(
        False,
        description="Search the whole platform (the real system's `ignorezone`): the companies outside the "
        "caller's view come with their identity only (`visible`: false; no alert level, no proceeding).",
    ),
) -> Any:
    ensure_allowed(ctx, Action.SEARCH)
    results = data.search(ctx, q, national=national)
    response = json(ctx, list(results))
    response.headers["X-Total-Count"] = str(results.total)
    return response


@router.put(
    "/companies/{siren}/follow",
    summary="Follow a company (in the territory, or already followed)",
    responses={400: {"model": Error, "description": "Malformed request body (not JSON)"}},
)
def follow_company(
    ctx: CtxDep,
    body: Annotated[FollowIn, Body()],
    siren: str = SIREN,
) -> Any:
    user = ensure_allowed(ctx, Action.FOLLOW, CompanyRef(siren)).user
    follow(ctx.db, user, siren, body.category, body.comment)
    return json(ctx, {"siren": siren, "followed": True})


@router.delete("/companies/{siren}/follow", summary="Stop following a company")
def unfollow_company(ctx: CtxDep, siren: str = SIREN) -> Any:
    user = ensure_allowed(ctx, Action.ACCOUNT).user  # one's own follow, whatever the company
    done = unfollow(ctx.db, user, siren)
    return json(ctx, {"siren": siren, "followed": False, "changed": done})
