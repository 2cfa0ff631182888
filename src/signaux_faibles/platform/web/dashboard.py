"""The dashboard of a user's territory (``/tableau-de-bord``): alerts of the latest list, follows, cases, outcomes.

Everything is counted within ``visible_companies``. What derives from the scores (alerts by département and level,
new alerts, the outcomes of alerted companies) needs the ``score`` right — without it the page shows the follows
and the cases only. Showing score-derived counts records a ``list_viewed`` event (``detail.view = "dashboard"``).

**Outcomes** (``outcomes``; issue 23) — an observation, not a measure of the effect of accompaniment:

- *cohort*: the visible companies first alerted (F1 or F2) on a list of month ``P`` (the earliest list month
  with an alert, any algorithm) that had **no opening judgment** (``stade_procol`` in ``OPENING_STAGES``: the
  opening of a sauvegarde, a redressement or a liquidation; not a plan, a conversion or a closure) dated on or
  before the end of ``P``. The firms already judged at their first alert are counted apart (``excluded_judged``)
  and left out;
- *outcome*: the first opening judgment dated in months ``P + 1`` … ``P + 18`` (``date_effet`` in
  ``[first day of P + 1, first day of P + 19)``);
- *complete cohorts only*: a month ``P`` counts when its window is over at today (Europe/Paris) **and** covered by
  the data of the latest published list (the first day of ``P + 19`` on or before both): the proceedings are
  published with the lists, so a window past the latest list would miss judgments;
- *followed*: an agent (any organisation) followed the company before that judgment (or before the window's end
  when there was none), with a follow not ended before the first day of ``P``;
- shares come with a 95 % Wilson interval, overall, **by list month** and **by région of the head office**
  (``companies.region``); a group under ``MIN_GROUP`` companies shows no share ("effectif trop faible").

Followed companies are chosen by agents, so the comparison is not causal.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import and_, case, exists, func, or_, select

from ...contract import ALERT_HIGH, ALERTED
from ...geo import REGIONS
from ..accounts import now
from ..models import CASE_STATES, Case, Company, Follow, List, ProcolEvent, Score
from ..policy import Action, visible_companies
from ..store.db import no_jit
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed, may
from .rendering import render

__all__ = [
    "MIN_GROUP",
    "OPENING_STAGES",
    "OUTCOME_MONTHS",
    "cohort_months",
    "dashboard_data",
    "outcomes",
    "router",
]

router = APIRouter(include_in_schema=False)
#: The observation window after a first alert (the model's horizon).
OUTCOME_MONTHS = 18
#: Under this many companies, a group's share is not shown.
MIN_GROUP = 20
#: ``procol_events.stade_procol`` of an opening judgment (``clean_procol``: the label's rest once the action
#: — liquidation, redressement, sauvegarde — is taken out). ``plan_continuation``, ``inclusion_autre_procedure``
#: (a conversion, followed by the ``ouverture`` of the new action), ``fin_procedure``, ``abandon_procedure`` and
#: ``solde_procedure`` are not the opening of a proceeding.
OPENING_STAGES = ("ouverture",)
PARIS = ZoneInfo("Europe/Paris")


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


def _group(n: int, judgments: int) -> dict[str, Any]:
    shown = n >= MIN_GROUP
    return {
        "companies": n,
        "judgments": judgments,
        "share": judgments / n if n and shown else None,
        "interval": wilson(judgments, n) if shown else None,
        "enough": shown,
    }


def cohort_months(ctx: Ctx, today: dt.date) -> tuple[list[dt.date], dt.date | None]:
    """The list months (``lists.periode``) whose 18-month window is complete — over at ``today`` and covered by
    the latest list's data — and the latest list's month (None without a list)."""
    periodes = sorted(set(ctx.db.scalars(select(List.periode).distinct()).all()))
    if not periodes:
        return [], None
    latest = periodes[-1].replace(day=1)
    horizon = min(today, latest)
    return [p for p in periodes if add_months(p.replace(day=1), OUTCOME_MONTHS + 1) <= horizon], latest


def _cohort_rows(ctx: Ctx, months: list[dt.date]) -> list[Any]:
    """One row per (first-alert month, head office région, judged at the alert, followed, judgment within the
    window) with its count of visible companies."""
    first = (
        select(Score.siren.label("siren"), func.min(List.periode).label("p"))
        .join(List, List.id == Score.list_id)
        .where(Score.alert.in_(ALERTED), visible_companies(ctx.actor, Score.siren))
        .group_by(Score.siren)
        .subquery()
    )
    start = case({p: add_months(p.replace(day=1), 1) for p in months}, value=first.c.p)
    end = case({p: add_months(p.replace(day=1), OUTCOME_MONTHS + 1) for p in months}, value=first.c.p)
    opening = and_(ProcolEvent.siren == first.c.siren, ProcolEvent.stade_procol.in_(OPENING_STAGES))
    judged = exists().where(opening, ProcolEvent.date_effet < start)
    # correlated explicitly: it is also used two levels down (in the follows' EXISTS), where automatic
    # correlation would not reach ``first`` and would join it again
    judgment = (
        select(func.min(ProcolEvent.date_effet))
        .where(opening, ProcolEvent.date_effet >= start, ProcolEvent.date_effet < end)
        .correlate(first)
        .scalar_subquery()
    )
    followed = exists().where(
        Follow.siren == first.c.siren,
        Follow.since < func.coalesce(judgment, end),
        or_(Follow.until.is_(None), Follow.until >= first.c.p),
    )
    flags = (
        select(
            first.c.p.label("p"),
            Company.region.label("region"),
            Company.libelle_region.label("libelle"),
            case((judged, 1), else_=0).label("judged"),
            case((followed, 1), else_=0).label("followed"),
            case((judgment.is_not(None), 1), else_=0).label("judgment"),
        )
        .select_from(first)
        .outerjoin(Company, Company.siren == first.c.siren)
        .where(first.c.p.in_(months))
        .subquery()
    )
    keys = (flags.c.p, flags.c.region, flags.c.judged, flags.c.followed, flags.c.judgment)
    return list(ctx.db.execute(select(*keys, func.max(flags.c.libelle), func.count()).group_by(*keys)).all())


def _tally(rows: Iterable[tuple[Any, bool, bool, int]]) -> dict[Any, dict[str, Any]]:
    """``(key, followed, judgment, n)`` rows → per key: followed, not followed and all companies, with shares."""
    acc: dict[Any, list[int]] = {}
    for key, foll, judg, n in rows:
        a = acc.setdefault(key, [0, 0, 0, 0])  # followed n, k; not followed n, k
        i = 0 if foll else 2
        a[i] += n
        a[i + 1] += n if judg else 0
    return {
        key: {
            "followed": _group(a[0], a[1]),
            "not_followed": _group(a[2], a[3]),
            "all": _group(a[0] + a[2], a[1] + a[3]),
        }
        for key, a in acc.items()
    }


def outcomes(ctx: Ctx, today: dt.date | None = None) -> dict[str, Any]:
    """The first opening judgment within 18 months of a first alert, for the firms alerted while not yet judged:
    followed vs not followed, overall, by list month and by head office région (visible companies; needs the
    score right: the caller checks it). ``today`` defaults to today in Europe/Paris."""
    today = today or now().astimezone(PARIS).date()
    months, latest = cohort_months(ctx, today)
    out: dict[str, Any] = {
        "months": OUTCOME_MONTHS,
        "min_group": MIN_GROUP,
        "today": today,
        "latest": latest,
        "periodes": months,
        "total": 0,
        "excluded_judged": 0,
        "followed": _group(0, 0),
        "not_followed": _group(0, 0),
        "all": _group(0, 0),
        "by_list": [],
        "by_region": [],
    }
    if not months:
        return out
    rows = _cohort_rows(ctx, months)
    kept = [r for r in rows if not r[2]]
    out["excluded_judged"] = sum(r[6] for r in rows if r[2])
    out["total"] = sum(r[6] for r in kept)
    out.update(_tally((None, r[3], r[4], r[6]) for r in kept).get(None, {}))
    by_list = _tally((_month(r[0]), r[3], r[4], r[6]) for r in kept)
    out["by_list"] = [{"periode": p, **g} for p, g in sorted(by_list.items())]
    names = {r[1] or "": r[5] for r in kept if r[5]}
    by_region = _tally((r[1] or "", r[3], r[4], r[6]) for r in kept)
    out["by_region"] = [
        {"region": code, "libelle": names.get(code) or _region_name(code), **g}
        for code, g in sorted(by_region.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]
    return out


def _region_name(code: str) -> str:
    """A région's name from its INSEE code (``geo.REGIONS``); « Région inconnue » for a head office without one
    (abroad, or unknown to SIRENE)."""
    if not code:
        return "Région inconnue"
    return str(REGIONS[code][0]) if code in REGIONS else f"région {code}"


def _month(v: Any) -> dt.date:
    """A month from the database (a date, or ISO text on SQLite)."""
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def _latest_alerts(ctx: Ctx, list_id: int) -> dict[str, Any]:
    """The alerted visible companies of the latest list by département and level, and the totals (new alerts,
    followed ones)."""
    rows = ctx.db.execute(
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
        .where(Score.list_id == list_id, Score.alert.in_(ALERTED), visible_companies(ctx.actor, Score.siren))
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
    by_departement = sorted(
        ({**d, "total": d["f1"] + d["f2"]} for d in depts.values()),
        key=lambda d: (-d["total"], d["departement"]),
    )
    total = {**totals, "total": totals["f1"] + totals["f2"], "new": totals["new_f1"] + totals["new_f2"]}
    return {"by_departement": by_departement, "totals": total}


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
            select(Case.state, func.count())
            .where(visible_companies(ctx.actor, Case.siren))
            .group_by(Case.state)
        ).all()
    )
    out["cases"] = [(state, label, by_state.get(state, 0)) for state, label in CASE_STATES.items()]
    out["cases_total"] = sum(by_state.values())
    if not score or latest is None:
        return out
    out["list"] = {"id": latest.id, "label": latest.label, "algo": latest.algo, "periode": latest.periode}
    out.update(_latest_alerts(ctx, latest.id))
    from .changes import change_counts

    out["changes"] = change_counts(ctx, latest.id)
    out["outcomes"] = outcomes(ctx)
    ctx.audit("list_viewed", list_id=latest.id, detail={"view": "dashboard", "total": out["totals"]["total"]})
    return out


@router.get("/tableau-de-bord")
def dashboard_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.VIEW_LIST)
    return render(ctx, "dashboard.html", d=dashboard_data(ctx), case_states=CASE_STATES)
