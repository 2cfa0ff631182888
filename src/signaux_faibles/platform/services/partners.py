"""The partners' blocks of the company page (issue 23): « Paiements » (Altares paydex and FPI 30/90), the CCSF
plans of the URSSAF block, and « Groupe » (Ellisphere: the group, its head, its other members).

The caller decides each block with the web guard (``web.guard.may``) and hands the answer in as ``may``, a function
of the block's action (the rule itself is the policy's, never encoded here):

- ``paiements`` with ``VIEW_BDF``: payment behaviour is financial data bought for the partners, grouped with the
  Banque de France data as datapi's ``permBDF`` groups the financial blocks. (datapi itself loads its
  ``entreprise_paydex`` rows with no permission filter; this platform keeps them with the financial right.)
- ``ccsf`` with ``VIEW_URSSAF``: the CCSF plans are URSSAF data.
- ``groupes`` with ``VIEW_COMPANY``: like the identity, as datapi shows ``groupe`` to every agent who sees the
  company.

A block that is not allowed is absent from the answer (not empty): the page and the API tell "hidden" from
"no data" (an empty list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import CcsfEvent, Company, GroupMember, PaymentRecord
from ..policy import Action
from .list_rows import json_number

__all__ = [
    "BLOCKS",
    "CCSF_ACTIONS_FR",
    "CCSF_STAGES_FR",
    "GROUP_MEMBERS_SHOWN",
    "PAYMENT_HISTORY",
    "partner_blocks",
]

#: The partners' blocks, the action that guards each and its word in the audit trail (None: not confidential).
BLOCKS: dict[str, tuple[Action, str | None]] = {
    "paiements": (Action.VIEW_BDF, "paiements"),
    "ccsf": (Action.VIEW_URSSAF, "ccsf"),
    "groupes": (Action.VIEW_COMPANY, None),
}
#: Other members of a group listed in the view (head first, then by holding level): a large group is cut there
#: (``membres_total`` says how many there are).
GROUP_MEMBERS_SHOWN = 50
#: Payment records kept in the view (the newest; the page's table shows the last 12, its chart all of them).
PAYMENT_HISTORY = 36
#: The CCSF stages (``Code_externe_stade``: DEBUT, REFUS, APPROB, FIN, REJ) and actions, in French (the action
#: as written, the stage in lower case: the page capitalises it).
CCSF_STAGES_FR = {"DEBUT": "demande déposée", "APPROB": "plan accordé", "REFUS": "plan refusé",
                  "REJ": "demande rejetée", "FIN": "plan terminé"}  # fmt: skip
CCSF_ACTIONS_FR = {"CCSF": "Plan d'apurement CCSF"}


def _value(v: Any) -> Any:
    """A date as ISO text, NaN as None (JSON)."""
    return json_number(v.isoformat() if isinstance(v, dt.date) else v)


def _payments(db: Session, siren: str) -> list[dict[str, Any]]:
    """The newest ``PAYMENT_HISTORY`` payment records, oldest first."""
    p = PaymentRecord
    rows = db.scalars(select(p).where(p.siren == siren).order_by(p.date_valeur.desc()).limit(PAYMENT_HISTORY))
    out = [
        {f: _value(getattr(r, f)) for f in ("date_valeur", "paydex_jours", "fpi_30", "fpi_90")} for r in rows
    ]
    return out[::-1]


def _word(words: dict[str, str], code: str | None) -> str | None:
    code = (code or "").strip()
    return words.get(code.upper(), code.lower()) or None


def _ccsf(db: Session, siren: str) -> list[dict[str, Any]]:
    """The company's CCSF events, newest first, with their stage and action in French."""
    c = CcsfEvent
    rows = db.scalars(
        select(c).where(c.siren == siren).order_by(c.date_traitement.desc().nulls_last(), c.siret, c.id)
    )
    return [
        {"siret": r.siret, "numero_compte": r.numero_compte, "date_traitement": _value(r.date_traitement),
         "stade": r.stade, "stade_fr": _word(CCSF_STAGES_FR, r.stade), "action": r.action,
         "action_fr": _word(CCSF_ACTIONS_FR, r.action)}
        for r in rows
    ]  # fmt: skip


def _groups(db: Session, siren: str) -> list[dict[str, Any]]:
    """Each group the company belongs to: its name, its head, the company's holding, the other members (head
    first, then by holding level and SIREN), each with its published name (``published``: it has a page)."""
    g = GroupMember
    own = list(db.scalars(select(g).where(g.siren == siren).order_by(g.code_groupe)))
    if not own:
        return []
    codes = [m.code_groupe for m in own]
    members = list(db.scalars(select(g).where(g.code_groupe.in_(codes))))
    sirens = {m.siren for m in members} | {m.siren_tete for m in members if m.siren_tete}
    names = dict(
        db.execute(select(Company.siren, Company.raison_sociale).where(Company.siren.in_(sirens))).all()
    )

    def who(s: str | None) -> dict[str, Any] | None:
        return None if not s else {"siren": s, "raison_sociale": names.get(s), "published": s in names}

    out = []
    for m in own:
        others = [o for o in members if o.code_groupe == m.code_groupe and o.siren != siren]
        others.sort(key=lambda o: (o.siren != m.siren_tete, o.niveau_detention is None, o.niveau_detention or 0,
                                   o.siren))  # fmt: skip
        out.append({
            "code_groupe": m.code_groupe, "raison_sociale_groupe": m.raison_sociale_groupe,
            "tete": who(m.siren_tete), "est_tete": m.siren_tete == siren,
            "niveau_detention": m.niveau_detention, "part_financiere": json_number(m.part_financiere),
            "membres": [{**(who(o.siren) or {}), "tete": o.siren == m.siren_tete,
                         "niveau_detention": o.niveau_detention, "part_financiere": json_number(o.part_financiere)}
                        for o in others[:GROUP_MEMBERS_SHOWN]],
            "membres_total": len(others),
        })  # fmt: skip
    return out


def partner_blocks(
    db: Session, siren: str, may: Callable[[Action], bool]
) -> tuple[dict[str, Any], list[str]]:
    """The partners' blocks of ``siren`` that ``may`` allows (``BLOCKS``), and the audit words of the confidential
    ones shown (for the page's ``confidential_shown`` event)."""
    readers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "paiements": lambda: _payments(db, siren),
        "ccsf": lambda: _ccsf(db, siren),
        "groupes": lambda: _groups(db, siren),
    }
    out: dict[str, Any] = {}
    shown = []
    for name, (action, word) in BLOCKS.items():
        if may(action):
            out[name] = readers[name]()
            if word:
                shown.append(word)
    return out, shown
