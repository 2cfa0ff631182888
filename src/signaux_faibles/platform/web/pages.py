"""The platform's pages (server-rendered, French): lists, company page, search, my companies, account, admin.

Every page asks the same functions as the API (``web.data``) and so the same policy; the admin pages ask
``policy.allowed`` for ``ADMIN`` / ``MANAGE_USERS``.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, HTTPException, Path, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from .. import audit as audit_trail
from ..accounts import AccountError, follow, now, set_user, unfollow
from ..models import AUDIT_EVENTS, Organisation, User, WebSession
from ..policy import Action, CompanyRef, EstablishmentRef, OrganisationRef
from ..security import review_due
from . import data
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed, may
from .rendering import render

__all__ = ["FOLLOW_CATEGORIES", "router"]

router = APIRouter(include_in_schema=False)
FOLLOW_CATEGORIES = ("Veille", "Accompagnement en cours", "Signalement d'un partenaire", "Autre")


@router.get("/")
def home(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.VIEW_LIST)
    return RedirectResponse("/listes", status_code=303)


@router.get("/sante")
def health(ctx: CtxDep) -> Response:
    """Liveness for operators and load balancers: no data, no authentication."""
    return Response("ok", media_type="text/plain")


@router.get("/entreprises/{siren}")
def company_page(ctx: CtxDep, siren: str = Path(..., pattern=r"^\d{9}$")) -> Response:
    from ..models import CASE_STATES, MEASURE_STATUSES, MEASURES
    from ..services.support import suggest
    from ..services.work import codefi_flag, comments_of, followers_of, work_summary

    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, CompanyRef(siren))
    view = data.company_view(ctx, granted)
    facts = granted.facts
    can_case = may(ctx, Action.CASE, facts)
    can_see_work = may(ctx, Action.VIEW_WORK, facts)
    codefi = codefi_flag(ctx.db, siren) if may(ctx, Action.VIEW_CODEFI, facts) else None
    suggestions = []
    if view.get("scores"):
        latest = view["scores"][0]
        flags = {"dette_urssaf": latest.get("dette_urssaf"), "hausse_urssaf": latest.get("hausse_urssaf"),
                 "ap_12m": latest.get("ap_12m"), "codefi": codefi is not None}  # fmt: skip
        if "urssaf" not in view:  # flags follow the data rights
            flags["dette_urssaf"] = flags["hausse_urssaf"] = None
        if "dgefp" not in view:
            flags["ap_12m"] = None
        suggestions = [s.as_dict() for s in suggest(latest, flags)]
    try:
        from .charts import company_charts

        charts = company_charts(view)
    except ImportError:  # pragma: no cover - charts module not installed
        charts = {}
    return render(
        ctx,
        "company.html",
        c=view,
        siren=siren,
        categories=FOLLOW_CATEGORIES,
        charts=charts,
        comments=comments_of(ctx.db, siren) if can_see_work else [],
        followers=followers_of(ctx.db, siren, ctx.actor),
        work=work_summary(ctx.db, siren) if can_see_work else {"case": None, "decisions": {}},
        can_see_work=can_see_work,
        suggestions=suggestions,
        codefi=codefi,
        can_comment=may(ctx, Action.COMMENT, facts),
        can_case=can_case,
        measures=MEASURES,
        measure_statuses=MEASURE_STATUSES,
        case_states=CASE_STATES,
    )


@router.get("/etablissements/{siret}")
def establishment_page(ctx: CtxDep, siret: str = Path(..., pattern=r"^\d{14}$")) -> Response:
    from .establishment_charts import MAP_CREDIT, departement_map, establishment_charts, osm_links

    granted = ensure_allowed(ctx, Action.VIEW_COMPANY, EstablishmentRef(siret))
    view = data.establishment_view(ctx, granted)
    etab = view["establishment"]
    return render(
        ctx,
        "establishment.html",
        e=view,
        charts=establishment_charts(view),
        carte=departement_map(etab["departement"], etab["latitude"], etab["longitude"]),
        carte_credit=MAP_CREDIT,
        osm=osm_links(etab["adresse"], etab["latitude"], etab["longitude"]),
    )


@router.post("/entreprises/{siren}/suivre")
def follow_page(
    ctx: CtxDep,
    siren: str = Path(..., pattern=r"^\d{9}$"),
    category: str = Form(...),
    comment: str = Form(""),
) -> Response:
    user = ensure_allowed(ctx, Action.FOLLOW, CompanyRef(siren)).user
    if category not in FOLLOW_CATEGORIES:
        raise HTTPException(400, detail="Catégorie de suivi inconnue.")
    follow(ctx.db, user, siren, category, comment or None)
    ctx.finish()
    return RedirectResponse(f"/entreprises/{siren}", status_code=303)


@router.post("/entreprises/{siren}/ne-plus-suivre")
def unfollow_page(ctx: CtxDep, siren: str = Path(..., pattern=r"^\d{9}$")) -> Response:
    user = ensure_allowed(ctx, Action.ACCOUNT).user  # one's own follow, whatever the company
    unfollow(ctx.db, user, siren)
    ctx.finish()
    return RedirectResponse("/mes-entreprises", status_code=303)


@router.get("/recherche")
def search_page(ctx: CtxDep, q: str = Query("", max_length=100), nationale: str = Query("")) -> Response:
    ensure_allowed(ctx, Action.SEARCH)
    national = nationale.lower() in ("1", "on", "oui", "true")
    results = data.search(ctx, q, national=national) if q.strip() else []
    return render(ctx, "search.html", q=q, results=results, nationale=national)


@router.get("/mes-entreprises")
def my_companies(ctx: CtxDep) -> Response:
    """The companies the agent follows, with their level, change, proceeding, case and last comment
    (``web.portfolio``)."""
    from .portfolio import portfolio_page

    ensure_allowed(ctx, Action.ACCOUNT)
    return portfolio_page(ctx, "mine")


@router.get("/compte")
def account_page(ctx: CtxDep) -> Response:
    user = ensure_allowed(ctx, Action.ACCOUNT).user
    sessions = ctx.db.scalars(
        select(WebSession).where(
            WebSession.user_id == user.id, WebSession.revoked_at.is_(None), WebSession.stage == "ok"
        )
    ).all()
    return render(ctx, "account.html", actor=ctx.actor, sessions=sessions)


# ---------------------------------------------------------------------------------------------------- admin


@router.get("/admin/audit")
def audit_page(
    ctx: CtxDep,
    user: str = Query("", max_length=254),
    siren: str = Query("", max_length=9),
    event: str = Query("", max_length=32),
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: int = Query(1, ge=1, le=100_000),
) -> Response:
    ensure_allowed(ctx, Action.ADMIN)
    f = audit_trail.AuditFilter(
        user or None, siren or None, event if event in AUDIT_EVENTS else None, since, until
    )
    total, rows = audit_trail.events(ctx.db, f, limit=100, offset=(page - 1) * 100)
    return render(ctx, "admin_audit.html", f=f, total=total, rows=rows, page=page, pages=max(1, -(-total // 100)),
                  events=AUDIT_EVENTS, labels=audit_trail.LABELS)  # fmt: skip


@router.get("/admin/statistiques")
def stats_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ADMIN)
    return render(ctx, "admin_stats.html", stats=audit_trail.monthly_stats(ctx.db), labels=audit_trail.LABELS)


def _managed(ctx: Ctx) -> list[tuple[User, str]]:
    q = (
        select(User, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .order_by(User.email)
    )
    if ctx.actor.role != "admin":
        q = q.where(Organisation.name == ctx.actor.organisation)
    return [(u, o) for u, o in ctx.db.execute(q).all()]


@router.get("/admin/utilisateurs")
def users_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.MANAGE_USERS, OrganisationRef(ctx.actor.organisation))
    t = now()
    from ..accounts import aware

    rows = [(u, o, review_due(aware(u.reviewed_at), t)) for u, o in _managed(ctx)]
    return render(ctx, "admin_users.html", rows=rows)


def _managed_user(ctx: Ctx, user_id: int) -> User:
    target = ctx.db.get(User, user_id)
    if target is None:
        raise ctx.deny("unknown account", 404)
    org = ctx.db.get(Organisation, target.organisation_id)
    ensure_allowed(ctx, Action.MANAGE_USERS, OrganisationRef(org.name if org else None))
    return target


@router.post("/admin/utilisateurs/{user_id}/confirmer")
def confirm_user(ctx: CtxDep, user_id: int = Path(..., ge=1, le=2**31 - 1)) -> Response:
    target = _managed_user(ctx, user_id)
    assert ctx.user is not None
    if target.id == ctx.user.id:  # a review is another person's word: nobody confirms their own habilitation
        raise ctx.deny("Vous ne pouvez pas confirmer votre propre habilitation.", 403)
    target.reviewed_at, target.reviewed_by = now(), ctx.user.id
    ctx.audit("admin_change", detail={"action": "habilitation confirmed", "email": target.email})
    ctx.finish()
    return RedirectResponse("/admin/utilisateurs", status_code=303)


@router.post("/admin/utilisateurs/{user_id}/desactiver")
def disable_user(ctx: CtxDep, user_id: int = Path(..., ge=1, le=2**31 - 1)) -> Response:
    target = _managed_user(ctx, user_id)
    try:
        set_user(ctx.db, target, active=False)
    except AccountError as e:  # pragma: no cover - disabling has no validation
        raise HTTPException(400, detail=str(e)) from None
    ctx.audit("admin_change", detail={"action": "account disabled", "email": target.email})
    ctx.finish()
    return RedirectResponse("/admin/utilisateurs", status_code=303)
