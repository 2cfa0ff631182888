"""What the establishment page shows of one SIRET: its monthly series (effectif, URSSAF cotisations and debt,
activité partielle), its URSSAF délais and the company's other establishments.

The caller decides each block with the web guard (``web.guard.may``) and hands the answer in as ``may``, a
function of the block's action: an establishment is seen through its company, so the company's rule applies
(effectif with ``VIEW_COMPANY``, cotisations, debt and délais with ``VIEW_URSSAF``, activité partielle with
``VIEW_DGEFP``). A block that is not allowed is absent from the answer (not empty): the page and the API tell
"hidden" from "no data".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Delai, Establishment, EstablishmentMonth
from ..policy import Action
from .list_rows import json_number

__all__ = ["BLOCKS", "DELAI_ACTIONS_FR", "DELAI_STAGES_FR", "establishment_blocks", "other_establishments"]

#: The establishment page's blocks, the action that guards each and its word in the audit trail (None: not
#: confidential, every agent who may open the page sees it).
BLOCKS: dict[str, tuple[Action, str | None]] = {
    "effectif": (Action.VIEW_COMPANY, None),
    "urssaf": (Action.VIEW_URSSAF, "urssaf"),
    "delais": (Action.VIEW_URSSAF, "delais"),
    "dgefp": (Action.VIEW_DGEFP, "dgefp"),
}
#: The URSSAF délai stages (``Code_externe_stade``), in French.
DELAI_STAGES_FR = {
    "DEBUT": "demandé",
    "APPROB": "accordé",
    "REFUS": "refusé",
    "REJ": "rejeté",
    "FIN": "terminé",
}
#: The URSSAF délai actions (``Code_externe_action``) known in French; another code is shown as it is.
DELAI_ACTIONS_FR = {"DELAI": "délai"}


def _value(v: Any) -> Any:
    """A date as ISO text, NaN as None (JSON)."""
    return json_number(v.isoformat() if isinstance(v, dt.date) else v)


def _months(db: Session, siret: str) -> list[EstablishmentMonth]:
    m = EstablishmentMonth
    return list(db.scalars(select(m).where(m.siret == siret).order_by(m.periode)))


def _effectif(rows: list[EstablishmentMonth]) -> list[dict[str, Any]]:
    return [{"periode": _value(r.periode), "effectif": r.effectif} for r in rows]


def _urssaf(rows: list[EstablishmentMonth]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        ouvriere, patronale = json_number(r.part_ouvriere), json_number(r.part_patronale)
        out.append({
            "periode": _value(r.periode),
            "cotisation": json_number(r.cotisation),
            "dette_part_ouvriere": ouvriere,
            "dette_part_patronale": patronale,
            "dette": None if ouvriere is None and patronale is None else (ouvriere or 0) + (patronale or 0),
        })  # fmt: skip
    return out


def _dgefp(rows: list[EstablishmentMonth]) -> list[dict[str, Any]]:
    return [
        {"periode": _value(r.periode), "etp_autorise": json_number(r.etp_autorise),
         "etp_consomme": json_number(r.etp_consomme)}
        for r in rows
    ]  # fmt: skip


DELAI_FIELDS = ("numero_compte", "numero_contentieux", "date_creation", "date_echeance", "duree_delai",
                "montant_echeancier", "stade", "action")  # fmt: skip


def _delais(db: Session, siret: str) -> list[dict[str, Any]]:
    """The establishment's délais, newest first, each with its stage in French (``stade_fr``)."""
    d = Delai
    rows = db.scalars(
        select(d).where(d.siret == siret).order_by(d.date_creation.desc().nulls_last(), d.id.desc())
    )
    out = []
    for r in rows:
        row = {f: _value(getattr(r, f)) for f in DELAI_FIELDS}
        stade = (r.stade or "").strip()
        row["stade_fr"] = DELAI_STAGES_FR.get(stade.upper(), stade.lower()) or None
        action = (r.action or "").strip()
        row["action_fr"] = DELAI_ACTIONS_FR.get(action.upper(), action) or None
        out.append(row)
    return out


def establishment_blocks(
    db: Session, siret: str, may: Callable[[Action], bool]
) -> tuple[dict[str, Any], list[str]]:
    """The blocks of ``siret`` that ``may`` allows (``BLOCKS``), and the audit words of the confidential ones shown
    (for a ``confidential_shown`` event). Also ``permissions``: each block's answer."""
    perms = {name: may(action) for name, (action, _) in BLOCKS.items()}
    months = _months(db, siret) if perms["effectif"] or perms["urssaf"] or perms["dgefp"] else []
    readers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "effectif": lambda: _effectif(months),
        "urssaf": lambda: _urssaf(months),
        "delais": lambda: _delais(db, siret),
        "dgefp": lambda: _dgefp(months),
    }
    out: dict[str, Any] = {"permissions": perms}
    shown = []
    for name, (_, word) in BLOCKS.items():
        if perms[name]:
            out[name] = readers[name]()
            if word:
                shown.append(word)
    return out, shown


def other_establishments(db: Session, siren: str, siret: str) -> list[dict[str, Any]]:
    """The company's other establishments (identity: SIRET, head office, address, département, state), head office
    first, then by SIRET."""
    e = Establishment
    rows = db.scalars(
        select(e).where(e.siren == siren, e.siret != siret).order_by(e.siege.desc().nulls_last(), e.siret)
    )
    return [
        {"siret": r.siret, "siege": bool(r.siege), "adresse": r.adresse, "departement": r.departement,
         "libelle_departement": r.libelle_departement, "est_actif": r.est_actif}
        for r in rows
    ]  # fmt: skip
