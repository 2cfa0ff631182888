"""The REST API of the agents' work on a company: comments, the follow-up case and its measures, the suggested
measures, the referral to the CODEFI, and « mes entreprises » (the caller's followed companies).

Each route asks the guard what the page asks (``VIEW_WORK`` to read, ``COMMENT``, ``CASE`` to write; ``VIEW_SCORE``
too for a suggestion, which derives from the score) and calls the same services (``services.work``,
``services.portfolio``): the same rules, the same refusals (400, 403, 404, 409), nothing written when refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Body, HTTPException, Path
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..accounts import AccountError
from ..models import Case, CaseMeasure, Comment
from ..policy import Action, CompanyRef
from ..services.work import (
    add_comment,
    add_measure,
    add_participant,
    comments_of,
    decide_suggestion,
    edit_comment,
    open_case,
    refer_to_codefi,
    update_case,
    update_measure,
    work_summary,
)
from ..store.work import CASE_STATES, MEASURE_STATUSES, MEASURES
from .api import ERRORS, NO_NUL, SIREN, Error, Page, PageNo, Size
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed, may
from .rendering import json

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["travail"], responses=ERRORS)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Error, "description": "Un accompagnement est déjà en cours"}
}
if TYPE_CHECKING:
    MeasureCode: TypeAlias = str
    MeasureStatus: TypeAlias = str
    CaseState: TypeAlias = str
else:  # the codes of the catalogues, as enumerations of the schema
    MeasureCode = Literal[tuple(MEASURES)]
    MeasureStatus = Literal[tuple(MEASURE_STATUSES)]
    CaseState = Literal[tuple(CASE_STATES)]
Text = Annotated[str, Field(min_length=1, max_length=5000, pattern=NO_NUL)]
Short = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
#: A date and time in ISO 8601 (with its offset when the database keeps it).
Stamp = Annotated[str, Field(description="Date et heure (ISO 8601)")]


# ------------------------------------------------------------------------------------------------- models


class Person(BaseModel):
    id: int
    email: str
    name: str
    organisation: str | None


class CommentOut(BaseModel):
    id: int
    siren: str | None = Field(
        None, description="L'entreprise (dans la réponse d'un ajout ou d'une modification)"
    )
    parent_id: int | None
    author: Person | None
    body: str
    created_at: Stamp
    edited_at: Stamp | None
    replies: list[CommentOut] = Field(description="Les réponses, imbriquées")


class Comments(Page[CommentOut]):
    siren: str
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "siren": "111111111", "total": 1, "page": 1, "size": 50, "items": [{
            "id": 1, "parent_id": None, "body": "Rendez-vous pris avec le dirigeant.",
            "author": {"id": 1, "email": "agent.a@urssaf.fr", "name": "Agent A", "organisation": "URSSAF"},
            "created_at": "2026-10-02T09:30:00Z", "edited_at": None, "replies": []}]}]})  # fmt: skip


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"body": "Rendez-vous pris avec le dirigeant.", "parent_id": None}]})  # fmt: skip
    body: Text
    parent_id: int | None = Field(None, ge=1, le=2**31 - 1, description="Le commentaire auquel on répond")


class CommentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"body": "Texte corrigé."}]})
    body: Text


class MeasureOut(BaseModel):
    id: int
    measure: str
    label: str
    status: str
    status_label: str
    outcome: str | None
    offered_by: Person | None
    offered_at: Stamp


class CaseOut(BaseModel):
    id: int
    state: str
    state_label: str
    referent: Person | None
    participants: list[Person]
    difficulties: list[str]
    summary: str | None
    opened_at: Stamp
    closed_at: Stamp | None
    codefi_referred_at: Stamp | None
    measures: list[MeasureOut]


class CaseView(BaseModel):
    """A company's case (its open one, else its latest; null when none) and the decisions on suggestions."""

    siren: str
    case: CaseOut | None
    decisions: dict[str, str] = Field(description="La dernière décision (confirmed, discarded) par mesure")
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "siren": "111111111", "decisions": {"delai_urssaf": "confirmed"}, "case": {
            "id": 1, "state": "in_progress", "state_label": "En cours", "referent": None, "participants": [],
            "difficulties": ["trésorerie"], "summary": "Tension de trésorerie", "opened_at": "2026-10-02T09:30:00Z",
            "closed_at": None, "codefi_referred_at": None, "measures": [{
                "id": 1, "measure": "delai_urssaf", "label": "Délai de paiement URSSAF", "status": "proposed",
                "status_label": "Proposée", "outcome": None, "offered_by": None,
                "offered_at": "2026-10-02T09:31:00Z"}]}}]})  # fmt: skip


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"difficulties": ["trésorerie", "dette sociale"], "summary": "Tension de trésorerie"}]})  # fmt: skip
    difficulties: list[Short] = Field(default_factory=list, max_length=20)
    summary: str | None = Field(None, max_length=5000, pattern=NO_NUL)


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"state": "under_surveillance", "participant": "agent.b@urssaf.fr"}]})  # fmt: skip
    state: CaseState | None = None
    summary: str | None = Field(None, max_length=5000, pattern=NO_NUL)
    difficulties: list[Short] | None = Field(None, max_length=20)
    participant: str | None = Field(None, max_length=254, pattern=NO_NUL, description="E-mail d'un collègue")


class MeasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"measure": "delai_urssaf", "status": "proposed", "outcome": None}]})  # fmt: skip
    measure: MeasureCode
    status: MeasureStatus = "proposed"
    outcome: str | None = Field(None, max_length=5000, pattern=NO_NUL)


class MeasureUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "obtained", "outcome": "Délai de 12 mois accordé"}]})  # fmt: skip
    status: MeasureStatus
    outcome: str | None = Field(None, max_length=5000, pattern=NO_NUL)


class SuggestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"measure": "delai_urssaf", "decision": "confirmed", "signal": "dette URSSAF", "delta": -0.05}]})  # fmt: skip
    measure: MeasureCode
    decision: Literal["confirmed", "discarded"]
    signal: str | None = Field(None, max_length=500, pattern=NO_NUL)
    delta: float | None = Field(None, ge=-1e6, le=1e6)


class PortfolioRow(BaseModel):
    """A followed company (``services.portfolio``): the follow, the level and change (with the score), the
    proceeding, the case, the last comment."""

    siren: str
    raison_sociale: str | None
    departement: str | None = None
    in_territory: bool
    category: str | None = None
    level: str | None = None
    level_withheld: bool | None = None
    change: str | None = None
    case_state: str | None = None


class Portfolio(Page[PortfolioRow]):
    model_config = ConfigDict(json_schema_extra={"examples": [{"total": 1, "page": 1, "size": 50, "items": [{
        "siren": "444444444", "raison_sociale": "SOCIETE EXEMPLE", "departement": "75", "in_territory": False,
        "category": "Veille", "since": "2026-09-15T10:00:00Z", "level": "Pas d'alerte", "level_withheld": False,
        "change": None, "case_state": None, "last_comment": None}]}]})  # fmt: skip


# -------------------------------------------------------------------------------------------------- helpers


def _answer(ctx: Ctx, payload: Any, status: int = 200) -> JSONResponse:
    return json(ctx, jsonable_encoder(payload), status)


@contextlib.contextmanager
def _refused_as(ctx: Ctx, status: int = 400) -> Iterator[None]:
    """What the work services refuse (``AccountError``): its French message, with ``status``; nothing kept."""
    try:
        yield
    except AccountError as e:
        ctx.db.rollback()
        raise HTTPException(status, detail=str(e)) from None


def _case_view(ctx: Ctx, siren: str, status: int = 200) -> JSONResponse:
    summary = work_summary(ctx.db, siren)
    return _answer(ctx, {"siren": siren, "case": summary["case"], "decisions": summary["decisions"]}, status)


def _case(ctx: Ctx, case_id: int) -> Case:
    """A case, once the guard allowed ``CASE`` on its company (404 for an unknown one, recorded)."""
    ctx.require_user()
    case = ctx.db.get(Case, case_id)
    if case is None:
        raise ctx.deny("unknown case", 404, detail={"case_id": case_id})
    ensure_allowed(ctx, Action.CASE, CompanyRef(case.siren))
    return case


def _comment(ctx: Ctx, comment_id: int) -> Comment:
    ctx.require_user()
    comment = ctx.db.get(Comment, comment_id)
    if comment is None:
        raise ctx.deny("unknown comment", 404, detail={"comment_id": comment_id})
    ensure_allowed(ctx, Action.COMMENT, CompanyRef(comment.siren))
    return comment


def _node(ctx: Ctx, siren: str, comment_id: int) -> dict[str, Any]:
    """A comment as the thread shows it (with its replies)."""
    stack = comments_of(ctx.db, siren)
    while stack:
        node = stack.pop()
        if node["id"] == comment_id:
            return node
        stack += node["replies"]
    raise HTTPException(404, detail="unknown comment")  # pragma: no cover - just written


# --------------------------------------------------------------------------------------------------- comments


@router.get("/companies/{siren}/comments", response_model=Comments,
            summary="Commentaires sur une entreprise (fils de discussion, les plus anciens d'abord)")  # fmt: skip
def comments(ctx: CtxDep, siren: str = SIREN, page: PageNo = 1, size: Size = 50) -> Any:
    """The company's threads, paged by root comment (each with its nested replies)."""
    ensure_allowed(ctx, Action.VIEW_WORK, CompanyRef(siren))
    roots = comments_of(ctx.db, siren)
    items = roots[(page - 1) * size : page * size]
    return _answer(ctx, {"siren": siren, "total": len(roots), "page": page, "size": size, "items": items})


@router.post("/companies/{siren}/comments", response_model=CommentOut, status_code=201,
             summary="Commenter une entreprise, ou répondre à un commentaire (`parent_id`)")  # fmt: skip
def post_comment(ctx: CtxDep, body: Annotated[CommentIn, Body()], siren: str = SIREN) -> Any:
    user = ensure_allowed(ctx, Action.COMMENT, CompanyRef(siren)).user
    with _refused_as(ctx):
        c = add_comment(ctx.db, user, siren, body.body, body.parent_id)
    return _answer(ctx, {**_node(ctx, siren, c.id), "siren": siren}, 201)


@router.patch("/comments/{comment_id}", response_model=CommentOut,
              summary="Modifier son commentaire (seul l'auteur le peut)")  # fmt: skip
def patch_comment(ctx: CtxDep, comment_id: Id, body: Annotated[CommentEdit, Body()]) -> Any:
    comment = _comment(ctx, comment_id)
    assert ctx.user is not None
    try:
        with _refused_as(ctx):
            edit_comment(ctx.db, ctx.user, comment, body.body)
    except PermissionError:
        raise ctx.deny("only the author may edit a comment", 403, siren=comment.siren) from None
    return _answer(ctx, {**_node(ctx, comment.siren, comment.id), "siren": comment.siren})


# ------------------------------------------------------------------------------------------------------ cases


@router.get("/companies/{siren}/case", response_model=CaseView,
            summary="L'accompagnement d'une entreprise (en cours, sinon le dernier), ses mesures")  # fmt: skip
def company_case(ctx: CtxDep, siren: str = SIREN) -> Any:
    ensure_allowed(ctx, Action.VIEW_WORK, CompanyRef(siren))
    return _case_view(ctx, siren)


@router.post("/companies/{siren}/case", response_model=CaseView, status_code=201, responses=CONFLICT,
             summary="Ouvrir un accompagnement (un seul en cours par entreprise)")  # fmt: skip
def post_case(ctx: CtxDep, body: Annotated[CaseIn, Body()], siren: str = SIREN) -> Any:
    user = ensure_allowed(ctx, Action.CASE, CompanyRef(siren)).user
    with _refused_as(ctx, 409):
        open_case(ctx.db, user, siren, body.difficulties, (body.summary or "").strip() or None)
    return _case_view(ctx, siren, 201)


@router.patch("/cases/{case_id}", response_model=CaseView,
              summary="Mettre à jour un accompagnement : état, résumé, difficultés, participant")  # fmt: skip
def patch_case(ctx: CtxDep, case_id: Id, body: Annotated[CaseUpdate, Body()]) -> Any:
    case = _case(ctx, case_id)
    with _refused_as(ctx):
        update_case(ctx.db, case, state=body.state, summary=body.summary, difficulties=body.difficulties)
        if body.participant and body.participant.strip():
            add_participant(ctx.db, case, body.participant)  # alike whether the address has an account
    return _case_view(ctx, case.siren)


@router.post("/cases/{case_id}/measures", response_model=CaseView, status_code=201,
             summary="Ajouter une mesure de soutien à un accompagnement")  # fmt: skip
def post_measure(ctx: CtxDep, case_id: Id, body: Annotated[MeasureIn, Body()]) -> Any:
    case = _case(ctx, case_id)
    assert ctx.user is not None
    with _refused_as(ctx):
        add_measure(ctx.db, ctx.user, case, body.measure, body.status, body.outcome)
    return _case_view(ctx, case.siren, 201)


@router.patch("/measures/{measure_id}", response_model=CaseView,
              summary="Mettre à jour une mesure : statut, résultat")  # fmt: skip
def patch_measure(ctx: CtxDep, measure_id: Id, body: Annotated[MeasureUpdate, Body()]) -> Any:
    ctx.require_user()
    m = ctx.db.get(CaseMeasure, measure_id)
    if m is None:
        raise ctx.deny("unknown measure", 404, detail={"measure_id": measure_id})
    case = _case(ctx, m.case_id)
    with _refused_as(ctx):
        update_measure(ctx.db, m, body.status, body.outcome)
    return _case_view(ctx, case.siren)


@router.post("/cases/{case_id}/codefi", response_model=CaseView,
             summary="Transmettre l'accompagnement au CODEFI (une fois, avec une mesure « codefi »)")  # fmt: skip
def post_codefi(ctx: CtxDep, case_id: Id) -> Any:
    case = _case(ctx, case_id)
    assert ctx.user is not None
    refer_to_codefi(ctx.db, ctx.user, case)
    return _case_view(ctx, case.siren)


@router.post("/companies/{siren}/suggestions", response_model=CaseView,
             summary="Confirmer (ajoutée à l'accompagnement) ou écarter une mesure suggérée")  # fmt: skip
def post_suggestion(ctx: CtxDep, body: Annotated[SuggestionIn, Body()], siren: str = SIREN) -> Any:
    granted = ensure_allowed(ctx, Action.CASE, CompanyRef(siren))
    if not may(ctx, Action.VIEW_SCORE, granted.facts):  # suggestions derive from the score
        raise ctx.deny("needs the score on this company", 403, siren=siren)
    with _refused_as(ctx):
        decide_suggestion(ctx.db, granted.user, siren, body.measure, body.decision, body.signal, body.delta)
    return _case_view(ctx, siren)


# ---------------------------------------------------------------------------------------------- my companies


@router.get("/me/companies", response_model=Portfolio,
            summary="Mes entreprises : celles que je suis, la plus récemment suivie d'abord")  # fmt: skip
def my_companies(ctx: CtxDep, page: PageNo = 1, size: Size = 50) -> Any:
    """The caller's followed companies (``services.portfolio``, scope ``mine``), paged."""
    from ..services.portfolio import portfolio_rows

    ensure_allowed(ctx, Action.ACCOUNT)
    rows = portfolio_rows(ctx, "mine")
    items = rows[(page - 1) * size : page * size]
    return _answer(ctx, {"total": len(rows), "page": page, "size": size, "items": items})
