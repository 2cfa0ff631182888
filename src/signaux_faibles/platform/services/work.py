"""What agents record about a company: comments, accompaniment cases, support measures, suggestion decisions,
and the DGFiP/CODEFI alert list. Database functions over a SQLAlchemy session; the caller owns the transaction
and asks the access policy first (``web/work.py``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Follow, Organisation, User
from ..policy import Actor
from ..store.work import (
    CASE_STATES,
    MEASURE_STATUSES,
    MEASURES,
    Case,
    CaseMeasure,
    CaseParticipant,
    CodefiAlert,
    CodefiImport,  # fmt: skip
    Comment,
    SuggestionDecision,
)
from .common import AccountError, now

__all__ = [
    "CodefiResult",
    "add_comment",
    "add_measure",
    "add_participant",
    "case_of",
    "codefi_flag",
    "comments_of",
    "decide_suggestion",
    "edit_comment",
    "followers_of",
    "import_codefi",
    "open_case",
    "refer_to_codefi",
    "update_case",
    "update_measure",
    "work_summary",
]

MAX_COMMENT = 5000
_SIREN = re.compile(r"^\d{9}$")


def _people(db: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = db.execute(
        select(User.id, User.email, User.name, Organisation.name)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.id.in_(sorted(ids)))
    ).all()
    return {i: {"id": i, "email": e, "name": n or e, "organisation": o} for i, e, n, o in rows}


# ---------------------------------------------------------------------------------------------------- comments


def comments_of(db: Session, siren: str) -> list[dict[str, Any]]:
    """The comments on a company as a thread: roots oldest first, each with its ``replies`` (nested)."""
    rows = db.scalars(
        select(Comment).where(Comment.siren == siren).order_by(Comment.created_at, Comment.id)
    ).all()
    people = _people(db, {c.user_id for c in rows})
    nodes: dict[int, dict[str, Any]] = {
        c.id: {"id": c.id, "parent_id": c.parent_id, "author": people.get(c.user_id), "user_id": c.user_id,
               "body": c.body, "created_at": c.created_at, "edited_at": c.edited_at, "replies": []}
        for c in rows
    }  # fmt: skip
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
        (parent["replies"] if parent else roots).append(node)
    return roots


def add_comment(db: Session, user: User, siren: str, body: str, parent_id: int | None = None) -> Comment:
    body = body.strip()
    if not body:
        raise AccountError("Le commentaire est vide.")
    if len(body) > MAX_COMMENT:
        raise AccountError(f"Le commentaire dépasse {MAX_COMMENT} caractères.")
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is None or parent.siren != siren:
            raise AccountError("Le commentaire auquel vous répondez n'existe pas sur cette entreprise.")
    c = Comment(siren=siren, user_id=user.id, parent_id=parent_id, body=body, created_at=now())
    db.add(c)
    db.flush()
    return c


def edit_comment(db: Session, user: User, comment: Comment, body: str) -> None:
    """Only the author edits a comment."""
    if comment.user_id != user.id:
        raise PermissionError("only the author may edit a comment")
    body = body.strip()
    if not body or len(body) > MAX_COMMENT:
        raise AccountError(f"Le commentaire doit faire entre 1 et {MAX_COMMENT} caractères.")
    comment.body = body
    comment.edited_at = now()


def followers_of(db: Session, siren: str, viewer: Actor) -> list[dict[str, Any]]:
    """Who follows the company (the real system's "viewers"), the earliest first: each follower's
    ``organisation``, ``category`` and ``since``; their ``name`` and ``email`` only when ``viewer`` is of the same
    organisation or takes part in the company's accompaniment case (``case_of``), else ``None`` (``known``
    False): an agent of another partner learns that the company is followed and by whom, not who to write to."""
    rows = db.execute(
        select(Follow.user_id, Follow.category, Follow.since)
        .where(Follow.siren == siren, Follow.active.is_(True))
        .order_by(Follow.since, Follow.user_id)
    ).all()
    people = _people(db, {r[0] for r in rows})
    case = case_of(db, siren)
    participant = (
        case is not None
        and viewer.user_id is not None
        and (db.get(CaseParticipant, (case.id, viewer.user_id)) is not None)
    )
    out = []
    for u, category, since in rows:
        if u not in people:
            continue
        p = people[u]
        known = viewer.authenticated and (participant or (
            viewer.organisation is not None and p["organisation"] == viewer.organisation
        ))  # fmt: skip
        out.append({"organisation": p["organisation"], "category": category, "since": since, "known": known,
                    "name": p["name"] if known else None, "email": p["email"] if known else None})  # fmt: skip
    return out


# ------------------------------------------------------------------------------------------------------- cases


def case_of(db: Session, siren: str) -> Case | None:
    """The company's open case (not completed), else its latest one."""
    return db.scalar(
        select(Case)
        .where(Case.siren == siren)
        .order_by((Case.state == "completed").asc(), Case.opened_at.desc())
    )


def open_case(
    db: Session, user: User, siren: str, difficulties: list[str] | None = None, summary: str | None = None
) -> Case:
    """Open an accompaniment case (at most one open per company); the opener is referent and participant."""
    current = case_of(db, siren)
    if current is not None and current.state != "completed":
        raise AccountError("Un accompagnement est déjà en cours pour cette entreprise.")
    t = now()
    case = Case(siren=siren, state="in_progress", referent_id=user.id, opened_by=user.id, opened_at=t, updated_at=t,
                difficulties=[d.strip() for d in difficulties or [] if d.strip()], summary=summary or None)  # fmt: skip
    db.add(case)
    db.flush()
    db.add(CaseParticipant(case_id=case.id, user_id=user.id, added_at=t))
    db.flush()
    return case


def update_case(
    db: Session,
    case: Case,
    *,
    state: str | None = None,
    summary: str | None = None,
    difficulties: list[str] | None = None,
) -> None:
    if state is not None:
        if state not in CASE_STATES:
            raise AccountError(f"État inconnu : {state}.")
        case.state = state
        case.closed_at = now() if state == "completed" else None
    if summary is not None:
        case.summary = summary.strip() or None
    if difficulties is not None:
        case.difficulties = [d.strip() for d in difficulties if d.strip()]
    case.updated_at = now()


def add_participant(db: Session, case: Case, email: str) -> User | None:
    """Add a colleague (of any partner) to the case by e-mail; ``None`` when no active account has it. The caller
    answers alike in both cases: whether an address has an account is not told (no account enumeration)."""
    user = db.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None:
        return None
    if db.get(CaseParticipant, (case.id, user.id)) is None:
        db.add(CaseParticipant(case_id=case.id, user_id=user.id, added_at=now()))
        case.updated_at = now()
    return user


def add_measure(
    db: Session, user: User, case: Case, measure: str, status: str = "proposed", outcome: str | None = None
) -> CaseMeasure:
    if measure not in MEASURES:
        raise AccountError(f"Mesure inconnue : {measure}.")
    if status not in MEASURE_STATUSES:
        raise AccountError(f"Statut inconnu : {status}.")
    t = now()
    m = CaseMeasure(case_id=case.id, measure=measure, status=status, outcome=(outcome or "").strip() or None,
                    offered_by=user.id, offered_at=t, updated_at=t)  # fmt: skip
    db.add(m)
    case.updated_at = t
    db.flush()
    return m


def update_measure(db: Session, m: CaseMeasure, status: str, outcome: str | None) -> None:
    if status not in MEASURE_STATUSES:
        raise AccountError(f"Statut inconnu : {status}.")
    m.status = status
    m.outcome = (outcome or "").strip() or None
    m.updated_at = now()


def refer_to_codefi(db: Session, user: User, case: Case) -> None:
    """Refer the case to the CODEFI (recorded once, with a "codefi" measure)."""
    if case.codefi_referred_at is None:
        case.codefi_referred_at = now()
        case.codefi_referred_by = user.id
        add_measure(db, user, case, "codefi", "in_progress", "Dossier transmis au CODEFI")


def decide_suggestion(
    db: Session, user: User, siren: str, measure: str, decision: str, signal: str | None, delta: float | None
) -> SuggestionDecision:
    """Record that a suggested measure was confirmed (added to the open case, opened if needed) or discarded."""
    if measure not in MEASURES:
        raise AccountError(f"Mesure inconnue : {measure}.")
    if decision not in ("confirmed", "discarded"):
        raise AccountError("Décision attendue : confirmer ou écarter.")
    case = case_of(db, siren)
    if decision == "confirmed":
        if case is None or case.state == "completed":
            case = open_case(db, user, siren)
        add_measure(
            db, user, case, measure, "proposed", f"Suggestion confirmée ({signal})" if signal else None
        )
    row = SuggestionDecision(siren=siren, case_id=case.id if case else None, measure=measure, decision=decision,
                             signal=signal, delta=delta, decided_by=user.id, decided_at=now())  # fmt: skip
    db.add(row)
    db.flush()
    return row


def work_summary(db: Session, siren: str) -> dict[str, Any]:
    """The case (with participants and measures) and the suggestion decisions of a company, for the page."""
    case = case_of(db, siren)
    decisions = db.scalars(
        select(SuggestionDecision)
        .where(SuggestionDecision.siren == siren)
        .order_by(SuggestionDecision.decided_at.desc())
    ).all()
    out: dict[str, Any] = {
        "case": None,
        "decisions": {d.measure: d.decision for d in reversed(decisions)},  # latest decision per measure
    }
    if case is None:
        return out
    parts = db.scalars(select(CaseParticipant.user_id).where(CaseParticipant.case_id == case.id)).all()
    measures = db.scalars(
        select(CaseMeasure).where(CaseMeasure.case_id == case.id).order_by(CaseMeasure.offered_at)
    ).all()
    people = _people(db, {case.referent_id, *parts, *(m.offered_by for m in measures)})
    out["case"] = {
        "id": case.id,
        "state": case.state,
        "state_label": CASE_STATES[case.state],
        "referent": people.get(case.referent_id),
        "participants": [people[p] for p in parts if p in people],
        "difficulties": list(case.difficulties or []),
        "summary": case.summary,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "codefi_referred_at": case.codefi_referred_at,
        "measures": [
            {
                "id": m.id,
                "measure": m.measure,
                "label": MEASURES[m.measure],
                "status": m.status,
                "status_label": MEASURE_STATUSES[m.status],
                "outcome": m.outcome,
                "offered_by": people.get(m.offered_by),
                "offered_at": m.offered_at,
            }
            for m in measures
        ],
    }
    return out


# ------------------------------------------------------------------------------------------------------ CODEFI


@dataclass(frozen=True)
class CodefiResult:
    import_id: int
    rows: int
    rejected: list[tuple[int, str, str]]  # (line, raw value, reason)


def import_codefi(db: Session, file_name: str, content: bytes, imported_by: str | None) -> CodefiResult:
    """Import a CODEFI alert list: a CSV (``;`` or ``,``) with a ``siren`` column (and an optional ``motif``).

    Bad lines are reported with their line number and reason, never silently dropped; the import becomes the
    current list.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    sample = text[:2000]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    if "siren" not in fields:
        raise AccountError(
            f"{file_name}: colonne « siren » absente (colonnes lues : {', '.join(fields) or 'aucune'})."
        )
    imp = CodefiImport(file_name=file_name, imported_at=now(), imported_by=imported_by, rows=0, rejected=0)
    db.add(imp)
    db.flush()
    seen: set[str] = set()
    rejected: list[tuple[int, str, str]] = []
    for line, row in enumerate(reader, start=2):
        raw = (row.get(fields["siren"]) or "").strip()
        siren = raw.replace(" ", "")
        if not _SIREN.match(siren):
            rejected.append((line, raw, "SIREN attendu : 9 chiffres"))
            continue
        if siren in seen:
            rejected.append((line, raw, "SIREN en double"))
            continue
        seen.add(siren)
        motif = (row.get(fields["motif"]) or "").strip() if "motif" in fields else ""
        db.add(CodefiAlert(import_id=imp.id, siren=siren, motif=motif or None))
    imp.rows, imp.rejected = len(seen), len(rejected)
    db.flush()
    return CodefiResult(imp.id, len(seen), rejected)


def latest_codefi_import(db: Session) -> int | None:
    return db.scalar(select(func.max(CodefiImport.id)))


def codefi_flag(db: Session, siren: str) -> dict[str, Any] | None:
    """The company's entry in the latest CODEFI list, or None."""
    latest = latest_codefi_import(db)
    if latest is None:
        return None
    alert = db.get(CodefiAlert, (latest, siren))
    if alert is None:
        return None
    imp = db.get(CodefiImport, latest)
    return {"motif": alert.motif, "imported_at": imp.imported_at if imp else None}
