"""The platform database schema (SQLAlchemy 2 declarative, typed), gathered: the one import place for the models.

One ``Base`` (``store/base.py``) for every table; each family lives in its own module of ``store/``: ``identity``,
``series``, ``lists``, ``accounts``, ``work``, ``audit`` (each says what its tables hold). Any change needs a new
Alembic revision under ``platform/store/migrations/versions/`` (a test checks the models and the migrations agree).
"""

from __future__ import annotations

from .store.accounts import ApiToken, Follow, LoginAttempt, OpenRegion, Organisation, User, WebSession
from .store.audit import AUDIT_EVENTS, AuditEvent
from .store.base import Base
from .store.identity import Company, Establishment
from .store.lists import List, ListChange, Publication, Score
from .store.series import (
    DIANE_FIELDS,
    SERIES_FIELDS,
    BdfStatement,
    CcsfEvent,
    CompanyMonth,
    Delai,
    DianeStatement,
    EstablishmentMonth,
    GroupMember,
    PaymentRecord,
    ProcolEvent,
)

# one line per family
# isort: off
from .store.work import (
    CASE_STATES,
    MEASURE_STATUSES,
    MEASURES,
    Case,
    CaseMeasure,
    CaseParticipant,
    CodefiAlert,
    CodefiImport,
    Comment,
    SuggestionDecision,
)
# isort: on


__all__ = [
    "AUDIT_EVENTS",
    "CASE_STATES",
    "DIANE_FIELDS",
    "MEASURES",
    "MEASURE_STATUSES",
    "SERIES_FIELDS",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BdfStatement",
    "Case",
    "CaseMeasure",
    "CaseParticipant",
    "CcsfEvent",
    "CodefiAlert",
    "CodefiImport",
    "Comment",
    "Company",
    "CompanyMonth",
    "Delai",
    "DianeStatement",
    "Establishment",
    "EstablishmentMonth",
    "Follow",
    "GroupMember",
    "List",
    "ListChange",
    "LoginAttempt",
    "OpenRegion",
    "Organisation",
    "PaymentRecord",
    "ProcolEvent",
    "Publication",
    "Score",
    "SuggestionDecision",
    "User",
    "WebSession",
]
