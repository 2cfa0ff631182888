"""The followed portfolio: the companies an agent follows ("Mes entreprises") or that the agents of their
organisation follow (« Portefeuille de mon organisation »), one row per company, with what a follow-up needs at a
glance. The real system's ``export/xlsx/follow`` and ``export/docx/follow`` read the same rows.

``portfolio_rows(ctx, scope)``, with ``ctx`` any object with ``db`` (a SQLAlchemy session), ``actor``
(``policy.Actor``) and ``audit(event, **kw)`` (the web ``Ctx``), and ``scope``:

- ``"mine"``: the actor's active follows, the latest first;
- ``"organisation"``: the active follows of every active agent of the actor's organisation, one row per company
  (by name), with the number of followers and each follower (same organisation: names are shown).

Each row (a dict, JSON-ready but for dates and times, which are ``date``/``datetime`` objects):

- ``siren``, ``raison_sociale``, ``departement``, ``libelle_departement``, ``in_territory``;
- ``category`` and ``since``: the follow (organisation scope: the earliest follow, ``categories`` all of them),
  ``followers`` (count) and ``followed_by`` (organisation scope: ``name``, ``email``, ``category``, ``since``);
- ``level``: the alert of the latest published list in which the company appears (``Alerte seuil F1``/``F2``,
  ``Pas d'alerte``; ``Pas d'alerte`` too when it is on no list), ``level_label`` (French), ``level_list`` (that
  list's label); and ``change`` (``entrée``, ``sortie``, ``hausse``, ``baisse``, ``None``) on the latest list
  against the previous one, ``change_label``. Both are derived from the score: the policy (``VIEW_SCORE`` on the
  company) decides; refused, they are ``None`` and ``level_withheld`` is True;
- ``procedure``: the latest collective-proceeding judgment (public data: ``action``, ``stade``, ``date``, and
  ``since``, the first judgment), else the proceeding state of the latest list (``etat_proc_collective``) when it
  is not *in bonis* (``action`` that state, no date), else ``None``;
- ``case_state`` (``CASE_STATES`` code) and ``case_label`` (French; ``None`` when no case);
- ``last_comment``: the latest comment on the company (``date``, ``organisation`` of its author, ``text`` cut to
  ``COMMENT_CHARS`` characters); ``None`` when none. The case and the comments are the agents' work: the policy
  decides (``WORK``, the action the company page asks for its case and comments); refused, both are ``None`` and
  ``work_withheld`` is True.

Only companies the policy lets the actor open (``VIEW_COMPANY``: a company of an open région) are listed. The call
records a ``list_viewed`` event (``view`` « portefeuille », ``scope`` « mes entreprises » or « organisation »,
``rows``) or, with ``export="xlsx"``/``"docx"``, an ``export`` event (``kind`` « portefeuille »), with the SIRENs
shown outside the actor's territory (``hors_territoire``); the caller commits (``ctx.finish()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...contract import ALERT_LABELS, ALERT_NONE
from ..models import Company, Follow, List, ListChange, Organisation, ProcolEvent, Score, User
from ..policy import Action, Actor, CompanyFacts, allowed
from ..store.work import CASE_STATES, Case, Comment
from .facts import company_facts

__all__ = ["CHANGE_LABELS", "COMMENT_CHARS", "SCOPES", "WORK", "PortfolioCtx", "Scope", "portfolio_rows"]

Scope = Literal["mine", "organisation"]
SCOPES: tuple[Scope, ...] = ("mine", "organisation")
#: The kinds of change of a list against the previous one (``list_changes.change``), in French.
CHANGE_LABELS = {"entrée": "Entrée dans la liste", "sortie": "Sortie de la liste", "hausse": "Hausse de niveau",
                 "baisse": "Baisse de niveau"}  # fmt: skip
#: Each scope as the audit trail names it.
AUDIT_SCOPES: dict[Scope, str] = {"mine": "mes entreprises", "organisation": "organisation"}
#: The length of a last comment's text in a row.
COMMENT_CHARS = 280
_OPENINGS = ("liquidation", "redressement", "sauvegarde")
#: The action that opens a company's case and comments to an agent (in the territory, or followed).
WORK = Action.VIEW_WORK


class PortfolioCtx(Protocol):
    """What the service needs of a request (``web.context.Ctx`` has it)."""

    db: Session
    actor: Actor

    def audit(self, event: str, **kw: Any) -> None: ...


def _follows(db: Session, actor: Actor, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """The active follows in ``scope``, by SIREN (each follow: user, name, email, category, since)."""
    q = (
        select(Follow.siren, Follow.user_id, User.name, User.email, Follow.category, Follow.since)
        .join(User, User.id == Follow.user_id)
        .where(Follow.active.is_(True))
        .order_by(Follow.since.desc(), Follow.siren)
    )
    if scope == "mine":
        q = q.where(Follow.user_id == actor.user_id)
    else:
        if not actor.organisation:
            return {}
        q = q.join(Organisation, Organisation.id == User.organisation_id).where(
            Organisation.name == actor.organisation, User.active.is_(True)
        )
    out: dict[str, list[dict[str, Any]]] = {}
    for siren, uid, name, email, category, since in db.execute(q).all():
        out.setdefault(siren, []).append(
            {"user_id": uid, "name": name or email, "email": email, "category": category, "since": since}
        )
    return out


def _levels(db: Session, sirens: list[str]) -> dict[str, tuple[str, str]]:
    """Each company's alert on the latest list in which it appears, with that list's label."""
    rows = db.execute(
        select(Score.siren, Score.alert, List.label)
        .join(List, List.id == Score.list_id)
        .where(Score.siren.in_(sirens))
        .order_by(Score.siren, List.periode.desc(), List.id.desc())
    ).all()
    out: dict[str, tuple[str, str]] = {}
    for siren, alert, label in rows:
        out.setdefault(siren, (alert, label))
    return out


def _changes(db: Session, sirens: list[str]) -> tuple[List | None, dict[str, str]]:
    """The latest list and each company's change on it against the previous list."""
    latest = db.scalar(select(List).order_by(List.periode.desc(), List.id.desc()).limit(1))
    if latest is None:
        return None, {}
    rows = db.execute(
        select(ListChange.siren, ListChange.change).where(
            ListChange.list_id == latest.id, ListChange.siren.in_(sirens)
        )
    ).all()
    return latest, dict(rows)


def _list_states(db: Session, sirens: list[str]) -> dict[str, str]:
    """The proceeding state (``etat_proc_collective``) of each company on the latest list in which it appears."""
    rows = db.execute(
        select(Score.siren, Score.etat_proc_collective)
        .join(List, List.id == Score.list_id)
        .where(Score.siren.in_(sirens))
        .order_by(Score.siren, List.periode.desc(), List.id.desc())
    ).all()
    out: dict[str, str] = {}
    for siren, state in rows:
        out.setdefault(siren, state or "in_bonis")
    return out


def _procedures(db: Session, sirens: list[str]) -> dict[str, dict[str, Any]]:
    """The collective proceeding of each company: its latest judgment, else its state on the latest list."""
    p = ProcolEvent
    out: dict[str, dict[str, Any]] = {}
    for siren, date, action, stade in db.execute(
        select(p.siren, p.date_effet, p.action_procol, p.stade_procol)
        .where(p.siren.in_(sirens), p.action_procol.in_(_OPENINGS))
        .order_by(p.siren, p.date_effet)
    ).all():
        first = out.get(siren, {}).get("since", date)
        out[siren] = {"action": action, "stade": stade, "date": date, "since": first}
    for siren, state in _list_states(db, [s for s in sirens if s not in out]).items():
        if state != "in_bonis":
            out[siren] = {"action": state, "stade": None, "date": None, "since": None}
    return out


def _cases(db: Session, sirens: list[str]) -> dict[str, str]:
    """Each company's case state: its open case (not completed), else its latest one (``work.case_of``)."""
    rows = db.execute(
        select(Case.siren, Case.state)
        .where(Case.siren.in_(sirens))
        .order_by(Case.siren, (Case.state == "completed").asc(), Case.opened_at.desc())
    ).all()
    out: dict[str, str] = {}
    for siren, state in rows:
        out.setdefault(siren, state)
    return out


def _last_comments(db: Session, sirens: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The latest comment on each company: date, author's organisation, text cut to ``COMMENT_CHARS``."""
    wanted = sorted(set(sirens))
    if not wanted:
        return {}
    rows = db.execute(
        select(Comment.siren, Comment.created_at, Comment.body, Organisation.name)
        .join(User, User.id == Comment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Comment.siren.in_(wanted))
        .order_by(Comment.siren, Comment.created_at.desc(), Comment.id.desc())
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for siren, at, body, org in rows:
        if siren not in out:
            text = " ".join(body.split())
            cut = text if len(text) <= COMMENT_CHARS else text[: COMMENT_CHARS - 1].rstrip() + "…"
            out[siren] = {"date": at, "organisation": org, "text": cut}
    return out


def _row(
    facts: CompanyFacts, company: Company | None, follows: list[dict[str, Any]], scope: Scope
) -> dict[str, Any]:
    first = min(follows, key=lambda f: f["since"])
    return {
        "siren": facts.siren,
        "raison_sociale": company.raison_sociale if company else None,
        "departement": company.departement if company else None,
        "libelle_departement": company.libelle_departement if company else None,
        "category": first["category"],
        "categories": sorted({f["category"] for f in follows}),
        "since": first["since"],
        "followers": len(follows),
        "followed_by": [{k: f[k] for k in ("name", "email", "category", "since")} for f in follows]
        if scope == "organisation" else [],
    }  # fmt: skip


def portfolio_rows(ctx: PortfolioCtx, scope: Scope, *, export: str | None = None) -> list[dict[str, Any]]:
    """The portfolio rows of ``scope`` (``"mine"`` or ``"organisation"``) for ``ctx.actor``; see the module."""
    if scope not in SCOPES:
        raise ValueError(f"unknown portfolio scope {scope!r}: expected one of {SCOPES}")
    db, actor = ctx.db, ctx.actor
    follows = _follows(db, actor, scope) if actor.authenticated else {}
    rows: list[dict[str, Any]] = []
    score_ok: set[str] = set()
    work_ok: set[str] = set()
    outside: list[str] = []
    for siren, fs in follows.items():
        facts = company_facts(db, actor, siren)
        decision = allowed(actor, Action.VIEW_COMPANY, facts) if facts is not None else None
        if facts is None or not decision:
            continue
        rows.append(
            _row(facts, db.get(Company, siren), fs, scope) | {"in_territory": not decision.out_of_territory}
        )
        if decision.out_of_territory:
            outside.append(siren)
        if allowed(actor, Action.VIEW_SCORE, facts):
            score_ok.add(siren)
        if allowed(actor, WORK, facts):
            work_ok.add(siren)
    _complete(db, rows, score_ok)
    _work(db, rows, work_ok)
    if scope == "organisation":
        rows.sort(key=lambda r: ((r["raison_sociale"] or "").casefold(), r["siren"]))
    # the audit trail is read in French (``formats.fr_audit_detail``)
    detail: dict[str, Any] = {"scope": AUDIT_SCOPES[scope], "rows": len(rows)}
    if outside:
        detail["hors_territoire"] = outside[:100]
    if export:
        ctx.audit("export", detail={"format": export, "kind": "portefeuille"} | detail)
    else:
        ctx.audit("list_viewed", detail={"view": "portefeuille"} | detail)
    return rows


def _complete(db: Session, rows: list[dict[str, Any]], score_ok: set[str]) -> None:
    """Add to each row its level and change (when the score may be seen), proceeding, case and last comment."""
    sirens = [r["siren"] for r in rows]
    if not sirens:
        return
    levels = _levels(db, sorted(score_ok)) if score_ok else {}
    latest, changes = _changes(db, sorted(score_ok)) if score_ok else (None, {})
    procedures = _procedures(db, sirens)
    for r in rows:
        s = r["siren"]
        if s in score_ok:
            alert, label = levels.get(s, (ALERT_NONE, None))
            change = changes.get(s)
            r |= {"level": alert, "level_label": ALERT_LABELS.get(alert, alert), "level_list": label,
                  "level_withheld": False, "change": change, "change_label": CHANGE_LABELS.get(change or ""),
                  "change_list": latest.label if latest is not None else None}  # fmt: skip
        else:
            r |= {"level": None, "level_label": None, "level_list": None, "level_withheld": True,
                  "change": None, "change_label": None, "change_list": None}  # fmt: skip
        r["procedure"] = procedures.get(s)


def _work(db: Session, rows: list[dict[str, Any]], work_ok: set[str]) -> None:
    """Add to each row its case state and last comment, when the actor may see the company's work."""
    sirens = sorted(work_ok)
    cases = _cases(db, sirens) if sirens else {}
    comments = _last_comments(db, sirens)
    for r in rows:
        s = r["siren"]
        state = cases.get(s)
        r |= {
            "case_state": state,
            "case_label": CASE_STATES.get(state) if state else None,
            "last_comment": comments.get(s),
            "work_withheld": s not in work_ok,
        }
