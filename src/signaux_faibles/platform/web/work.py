"""Work on a company: comments, follow-up case and measures, suggested support, CODEFI list, dossier export.

Each route asks the policy on the company first (``COMMENT``, ``CASE``, ``VIEW_COMPANY``; ``IMPORT_CODEFI`` for
the import) and answers an htmx fragment when the request comes from htmx (``HX-Request``), else redirects back to
the company page.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ..accounts import AccountError, company_facts
from ..models import MEASURES, Case, CaseMeasure, CodefiImport, Comment
from ..policy import Action, CompanyRef
from ..services.work import (
    add_comment,
    add_measure,
    add_participant,
    comments_of,
    decide_suggestion,
    edit_comment,
    import_codefi,
    open_case,
    refer_to_codefi,
    update_case,
    update_measure,
)
from . import data
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed, may
from .rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _id() -> Any:
    """A new path parameter each time: FastAPI binds a ``Path`` object to the first parameter name it serves."""
    return Path(..., ge=1, le=2**31 - 1)

MAX_UPLOAD = 5 * 1024 * 1024


@contextlib.contextmanager
def _refused_as(status: int = 400) -> Iterator[None]:
    """A request the work services refuse (``AccountError``): its message, with ``status``."""
    try:
        yield
    except AccountError as e:
        raise HTTPException(status, detail=str(e)) from None


def _back(ctx: Ctx, siren: str, anchor: str) -> Response:
    ctx.finish()
    return RedirectResponse(f"/entreprises/{siren}#{anchor}", status_code=303)


def _htmx(ctx: Ctx) -> bool:
    return ctx.request.headers.get("hx-request") == "true"


def _comments_fragment(ctx: Ctx, siren: str, status: int = 200, error: str | None = None) -> Response:
    can_comment = may(ctx, Action.COMMENT, company_facts(ctx.db, ctx.actor, siren))
    return render(ctx, "_comments.html", status, siren=siren, comments=comments_of(ctx.db, siren),
                  can_comment=can_comment, error=error)  # fmt: skip


@router.get("/entreprises/{siren}/commentaires")
def comments(ctx: CtxDep, siren: str = Path(..., pattern=r"^\d{9}$")) -> Response:
    ensure_allowed(ctx, Action.VIEW_WORK, CompanyRef(siren))
    return _comments_fragment(ctx, siren)


@router.post("/entreprises/{siren}/commentaires")
def post_comment(
    ctx: CtxDep,
    siren: str = Path(..., pattern=r"^\d{9}$"),
    body: str = Form(""),
    parent_id: int | None = Form(None),
) -> Response:
    ensure_allowed(ctx, Action.COMMENT, CompanyRef(siren))
    assert ctx.user is not None
    try:
        add_comment(ctx.db, ctx.user, siren, body, parent_id)
    except AccountError as e:
        ctx.db.rollback()
        if _htmx(ctx):
            return _comments_fragment(ctx, siren, 400, str(e))
        raise HTTPException(400, detail=str(e)) from None
    ctx.finish()
    return _comments_fragment(ctx, siren) if _htmx(ctx) else _back(ctx, siren, "commentaires")


@router.post("/commentaires/{comment_id}")
def post_edit_comment(ctx: CtxDep, comment_id: int = _id(), body: str = Form("")) -> Response:
    ctx.require_user()
    comment = ctx.db.get(Comment, comment_id)
    if comment is None:
        raise ctx.deny("unknown comment", 404)
    ensure_allowed(ctx, Action.COMMENT, CompanyRef(comment.siren))
    assert ctx.user is not None
    try:
        edit_comment(ctx.db, ctx.user, comment, body)
    except PermissionError:
        raise ctx.deny("only the author may edit a comment", 403, siren=comment.siren) from None
    except AccountError as e:
        raise HTTPException(400, detail=str(e)) from None
    ctx.finish()
    return _comments_fragment(ctx, comment.siren) if _htmx(ctx) else _back(ctx, comment.siren, "commentaires")


def _difficulties(text: str) -> list[str]:
    return [d.strip() for d in text.replace("\n", ",").split(",") if d.strip()][:20]


@router.post("/entreprises/{siren}/accompagnement")
def post_open_case(
    ctx: CtxDep,
    siren: str = Path(..., pattern=r"^\d{9}$"),
    difficulties: str = Form(""),
    summary: str = Form(""),
) -> Response:
    ensure_allowed(ctx, Action.CASE, CompanyRef(siren))
    assert ctx.user is not None
    with _refused_as(409):
        open_case(ctx.db, ctx.user, siren, _difficulties(difficulties), summary.strip() or None)
    return _back(ctx, siren, "accompagnement")


def _case(ctx: Ctx, case_id: int) -> Case:
    ctx.require_user()
    case = ctx.db.get(Case, case_id)
    if case is None:
        raise ctx.deny("unknown case", 404)
    ensure_allowed(ctx, Action.CASE, CompanyRef(case.siren))
    return case


@router.post("/accompagnements/{case_id}")
def post_update_case(
    ctx: CtxDep,
    case_id: int = _id(),
    state: str = Form(""),
    summary: str | None = Form(None),
    difficulties: str | None = Form(None),
    participant: str = Form(""),
) -> Response:
    case = _case(ctx, case_id)
    with _refused_as():
        update_case(ctx.db, case, state=state or None, summary=summary,
                    difficulties=_difficulties(difficulties) if difficulties is not None else None)  # fmt: skip
        if participant.strip():
            add_participant(ctx.db, case, participant)
    return _back(ctx, case.siren, "accompagnement")


@router.post("/accompagnements/{case_id}/mesures")
def post_measure(
    ctx: CtxDep,
    case_id: int = _id(),
    measure: str = Form(...),
    status: str = Form("proposed"),
    outcome: str = Form(""),
) -> Response:
    case = _case(ctx, case_id)
    assert ctx.user is not None
    with _refused_as():
        add_measure(ctx.db, ctx.user, case, measure, status, outcome)
    return _back(ctx, case.siren, "accompagnement")


@router.post("/mesures/{measure_id}")
def post_update_measure(
    ctx: CtxDep,
    measure_id: int = _id(),
    status: str = Form(...),
    outcome: str = Form(""),
) -> Response:
    ctx.require_user()
    m = ctx.db.get(CaseMeasure, measure_id)
    if m is None:
        raise ctx.deny("unknown measure", 404)
    case = _case(ctx, m.case_id)
    with _refused_as():
        update_measure(ctx.db, m, status, outcome)
    return _back(ctx, case.siren, "accompagnement")


@router.post("/accompagnements/{case_id}/codefi")
def post_refer_codefi(ctx: CtxDep, case_id: int = _id()) -> Response:
    case = _case(ctx, case_id)
    assert ctx.user is not None
    refer_to_codefi(ctx.db, ctx.user, case)
    return _back(ctx, case.siren, "accompagnement")


@router.post("/entreprises/{siren}/suggestions")
def post_suggestion(
    ctx: CtxDep,
    siren: str = Path(..., pattern=r"^\d{9}$"),
    measure: str = Form(...),
    decision: str = Form(...),
    signal: str = Form(""),
    delta: float | None = Form(None),
) -> Response:
    facts = ensure_allowed(ctx, Action.CASE, CompanyRef(siren)).facts
    if not may(ctx, Action.VIEW_SCORE, facts):  # suggestions derive from the score
        raise ctx.deny("needs the score on this company", 403, siren=siren)
    assert ctx.user is not None
    if measure not in MEASURES:
        raise HTTPException(400, detail="Mesure inconnue.")
    with _refused_as():
        decide_suggestion(ctx.db, ctx.user, siren, measure, decision, signal[:500] or None, delta)
    return _back(ctx, siren, "suggestions")


@router.get("/entreprises/{siren}/dossier.docx")
def dossier(ctx: CtxDep, siren: str = Path(..., pattern=r"^\d{9}$")) -> Response:
    from ..services.work import work_summary
    from .dossier import company_dossier_docx

    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, CompanyRef(siren))
    view = data.company_view(ctx, granted)  # the policy's view: only what this actor may see
    work: dict[str, Any] = {}
    if may(ctx, Action.VIEW_WORK, granted.facts):  # the agents' work: in the territory or followed
        summary = work_summary(ctx.db, siren)
        if summary["case"]:
            work["case"] = summary["case"]
        work["comments"] = [
            {"author": (c["author"] or {}).get("name", ""), "created_at": c["created_at"], "body": c["body"]}
            for c in comments_of(ctx.db, siren)
        ]
    assert ctx.user is not None
    content = company_dossier_docx(view, work, generated_by=ctx.user.name or ctx.user.email)
    ctx.audit("export", siren=siren, detail={"format": "docx", "kind": "dossier entreprise"})
    ctx.finish()
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="dossier-{siren}.docx"'},
    )


# ------------------------------------------------------------------------------------------------------ CODEFI


@router.get("/admin/codefi")
def codefi_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.IMPORT_CODEFI)
    imports = ctx.db.scalars(select(CodefiImport).order_by(CodefiImport.id.desc()).limit(20)).all()
    return render(ctx, "admin_codefi.html", imports=imports)


@router.post("/admin/codefi")
async def codefi_import(ctx: CtxDep, file: Annotated[UploadFile, File()]) -> Response:
    ensure_allowed(ctx, Action.IMPORT_CODEFI)
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise HTTPException(413, detail="Fichier trop volumineux (5 Mo au plus).")
    name = (file.filename or "codefi.csv")[:200]
    try:
        result = import_codefi(ctx.db, name, content, ctx.user.email if ctx.user else None)
    except AccountError as e:
        ctx.db.rollback()
        raise HTTPException(400, detail=str(e)) from None
    ctx.audit("admin_change", detail={"action": "CODEFI list imported", "file": name, "rows": result.rows,
                                      "rejected": len(result.rejected)})  # fmt: skip
    imports = ctx.db.scalars(select(CodefiImport).order_by(CodefiImport.id.desc()).limit(20)).all()
    return render(ctx, "admin_codefi.html", imports=imports, result=result, file_name=name)
