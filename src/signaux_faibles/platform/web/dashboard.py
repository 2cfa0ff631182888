"""The dashboard of a user's territory (``/tableau-de-bord``): alerts of the latest list, follows, cases, outcomes.

Everything is counted within ``visible_companies``. What derives from the scores (alerts by département and level,
new alerts, the outcomes of alerted companies) needs the ``score`` right — without it the page shows the follows
and the cases only. Showing score-derived counts records a ``list_viewed`` event (``detail.view = "dashboard"``).

**Outcomes** — a first indicator of the effect of accompaniment, not a measure of it: for each visible company
alerted (F1 or F2) on a list at least ``OUTCOME_MONTHS`` old, at its first alert (month ``P``), did a collective
proceeding open (``procol_events.date_effet`` in ``[P, P + 18 months]``), among the companies followed by an agent
(a follow started before that proceeding, or before ``P + 18 months`` when none, and not ended before ``P``) and the
others? Followed companies are chosen by agents, so the comparison is not causal; shares come with a 95 % Wilson
interval and are withheld under ``MIN_GROUP`` companies.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import case, exists, func, or_, select

from ...contract import ALERT_HIGH, ALERTED
from ..accounts import now
from ..models import CASE_STATES, Case, Company, Follow, List, ProcolEvent, Score
from ..policy import Action, visible_companies
from ..store.db import no_jit
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed, may
from .rendering import render

__all__ = ["MIN_GROUP", "OUTCOME_MONTHS", "dashboard_data", "outcomes", "router"]

router = APIRouter(include_in_schema=False)
#: The observation window after a first alert (the model's horizon).
OUTCOME_MONTHS = 18
#: Under this many companies, a group's share is not shown.
MIN_GROUP = 20


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus ``months`` months (the day clipped to the month's length)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    days = [
        31,
        29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return dt.date(y, m, min(d.day, days[m - 1]))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a share ``k / n``."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def _group(n: int, procol: int) -> dict[str, Any]:
    shown = n >= MIN_GROUP
    return {
        "companies": n,
        "procol": procol,
        "share": procol / n if n and shown else None,
        "interval": wilson(procol, n) if shown else None,
        "enough": shown,
    }


def outcomes(ctx: Ctx, today: dt.date | None = None) -> dict[str, Any]:
    """Procol within 18 months of a first alert, followed vs not followed companies (visible, needs the score
    right: the caller checks it)."""
    today = today or now().date()
    cutoff = add_months(today, -OUTCOME_MONTHS)
    periodes = sorted(set(ctx.db.scalars(select(List.periode).where(List.periode <= cutoff)).all()))
    empty = {
        "months": OUTCOME_MONTHS,
        "cutoff": cutoff.isoformat(),
        "followed": _group(0, 0),
        "not_followed": _group(0, 0),
        "total": 0,
        "min_group": MIN_GROUP,
    }
    if not periodes:
        return empty
    first = (
        select(Score.siren.label("siren"), func.min(List.periode).label("p"))
        .join(List, List.id == Score.list_id)
        .where(Score.alert.in_(ALERTED), visible_companies(ctx.actor, Score.siren))
        .group_by(Score.siren)
        .subquery()
    )
    end = case({p: add_months(p, OUTCOME_MONTHS) for p in periodes}, value=first.c.p)
    first_procol = (
        select(func.min(ProcolEvent.date_effet))
        .where(
            ProcolEvent.siren == first.c.siren,
            ProcolEvent.date_effet >= first.c.p,
            ProcolEvent.date_effet <= end,
        )
        .scalar_subquery()
    )
    followed = exists().where(
        Follow.siren == first.c.siren,
        Follow.since <= func.coalesce(first_procol, end),
        or_(Follow.until.is_(None), Follow.until >= first.c.p),
    )
    flags = (
        select(
            case((followed, 1), else_=0).label("suivie"),
            case((first_procol.is_not(None), 1), else_=0).label("procol"),
        )
        .where(first.c.p <= cutoff)
        .subquery()
    )
    counts = {
        (s, p): n
        for s, p, n in ctx.db.execute(
            select(flags.c.suivie, flags.c.procol, func.count()).group_by(flags.c.suivie, flags.c.procol)
        ).all()
    }

    def group(s: int) -> dict[str, Any]:
        return _group(counts.get((s, 0), 0) + counts.get((s, 1), 0), counts.get((s, 1), 0))

    out = dict(empty)
    out.update(followed=group(1), not_followed=group(0), total=sum(counts.values()))
    return out


def dashboard_data(ctx: Ctx) -> dict[str, Any]:
    """The dashboard's counts for ``ctx.actor`` (score-derived ones only with the score right)."""
    db, actor = ctx.db, ctx.actor
    score = may(ctx, Action.VIEW_LIST_SCORES)
    no_jit(ctx.db)
    latest = db.scalars(select(List).order_by(List.periode.desc(), List.id.desc()).limit(1)).first()
    out: dict[str, Any] = {"score": score, "list": None}
    # follows: mine, and everybody's, on the companies I may see
    out["my_follows"] = (
        db.scalar(
            select(func.count())
            .select_from(Follow)
            .where(
                Follow.user_id == actor.user_id,
                Follow.active.is_(True),
                visible_companies(ctx.actor, Follow.siren),
            )
        )
        or 0
    )
    out["all_follows"] = (
        db.scalar(
            select(func.count(func.distinct(Follow.siren))).where(
                Follow.active.is_(True), visible_companies(ctx.actor, Follow.siren)
            )
        )
        or 0
    )
    by_state = dict(
        db.execute(
            select(Case.state, func.count()).where(visible_companies(ctx.actor, Case.siren)).group_by(Case.state)
        ).all()
    )
    out["cases"] = [(state, label, by_state.get(state, 0)) for state, label in CASE_STATES.items()]
    out["cases_total"] = sum(by_state.values())
    if not score or latest is None:
        return out
    out["list"] = {"id": latest.id, "label": latest.label, "algo": latest.algo, "periode": latest.periode}
    rows = db.execute(
        select(
            Company.departement,
            func.max(Company.libelle_departement),
            Score.alert,
            func.count(),
            func.sum(case((Score.first_alert.is_(True), 1), else_=0)),
            func.sum(
                case((exists().where(Follow.siren == Score.siren, Follow.active.is_(True)), 1), else_=0)
            ),
        )
        .select_from(Score)
        .outerjoin(Company, Company.siren == Score.siren)
        .where(Score.list_id == latest.id, Score.alert.in_(ALERTED), visible_companies(ctx.actor, Score.siren))
        .group_by(Company.departement, Score.alert)
    ).all()
    depts: dict[str, dict[str, Any]] = {}
    totals = {"f1": 0, "f2": 0, "new_f1": 0, "new_f2": 0, "followed": 0}
    for dept, label, alert, n, new, foll in rows:
        level = "f1" if alert == ALERT_HIGH else "f2"
        d = depts.setdefault(
            dept or "", {"departement": dept or "—", "libelle": label or "", "f1": 0, "f2": 0}
        )
        d[level] += n
        totals[level] += n
        totals["new_" + level] += int(new or 0)
        totals["followed"] += int(foll or 0)
    out["by_departement"] = sorted(
        ({**d, "total": d["f1"] + d["f2"]} for d in depts.values()),
        key=lambda d: (-d["total"], d["departement"]),
    )
    out["totals"] = {
        **totals,
        "total": totals["f1"] + totals["f2"],
        "new": totals["new_f1"] + totals["new_f2"],
    }
    from .changes import change_counts

    out["changes"] = change_counts(ctx, latest.id)
    out["outcomes"] = outcomes(ctx)
    ctx.audit("list_viewed", list_id=latest.id, detail={"view": "dashboard", "total": out["totals"]["total"]})
    return out


@router.get("/tableau-de-bord")
def dashboard_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.VIEW_LIST)
    return render(ctx, "dashboard.html", d=dashboard_data(ctx), case_states=CASE_STATES)
