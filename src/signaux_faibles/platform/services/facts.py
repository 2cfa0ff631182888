"""What the access policy needs to know about a company for one actor (``policy.CompanyFacts``)."""

from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from ...contract import ALERTED
from ..models import Establishment, Score
from ..policy import Actor, CompanyFacts, open_establishments
from .follows import is_followed
from .regions import open_regions


def company_facts(db: Session, actor: Actor, siren: str) -> CompanyFacts | None:
    """What the policy needs about ``siren`` for ``actor``; None when the platform does not know the company."""
    etabs = db.execute(
        select(Establishment.departement, Establishment.region).where(Establishment.siren == siren)
    ).all()
    if not etabs:
        return None
    counted = open_establishments(((d, r) for d, r in etabs), open_regions(db))
    alerted = bool(db.scalar(select(exists().where(and_(Score.siren == siren, Score.alert.in_(ALERTED))))))
    return CompanyFacts(
        siren=siren,
        establishments=counted,
        alerted=alerted,
        followed=is_followed(db, actor.user_id, siren),
        open=bool(counted),
    )
