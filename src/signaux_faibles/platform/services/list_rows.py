"""The one list-row service: a list's alerted companies visible to an actor, filtered, sorted and paged.

The list page, its exports (CSV, XLSX) and the API (``/api/lists/{id}/scores``) read their rows here, once the
guard (``web.guard.ensure_allowed``) granted the list. The rules: alerted rows (or, on request, the firms in
collective proceedings) of companies visible to the actor (``policy.visible_companies``); the URSSAF and DGEFP
columns with their own rights (``policy.allowed`` on the list).

Filters (query parameters, French names, as the real system's ``paramsListeScores``): ``departement`` (multi),
``secteur`` (NAF section letter, multi), ``effectif_min``/``effectif_max`` (établissement: the company's monthly
``effectif`` at the list's month or the latest before), ``effectif_ent_min``/``effectif_ent_max``
(``effectif_ent``), ``ca_min``/``ca_max`` (latest DIANE turnover, in k€ as DIANE gives it), ``procol`` (``etat_proc_collective``, multi;
none is ``in_bonis``), ``alerte`` (``F1``/``F2``, multi), ``premiere_alerte``, ``exclure_suivies``,
``siege_uniquement``, ``codefi``, ``sans_delai`` (no URSSAF payment plan at the list's month; needs the URSSAF
right, ``restrict``) (booleans), ``naf`` (division, group, class or sub-class, multi), ``etat`` (``actif`` or
``ferme``), ``creation_avant`` (date), ``q`` (every word of the name whatever the case and accents, or SIREN prefix);
an invalid value is left out and reported (``errors``);
sort ``tri`` (``rang``, ``probabilite``, ``raison_sociale``, ``departement``, ``effectif``) and ``ordre``
(``asc``/``desc``).

Two SQL statements (the page's SIRENs with the counts per alert level, then that page's rows), the per-company
values as correlated sub-queries on primary keys (no query per row).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from ...contract import ALERT_CODES, ALERT_HIGH, ALERT_LABELS, ALERTED
from ..models import CodefiAlert, CodefiImport, Company, CompanyMonth, DianeStatement, Follow, List, Score
from ..policy import Action, Actor, ListRef, allowed, visible_companies
from ..store.db import no_jit
from ..store.identity import fold_name
from .covid_sectors import COVID_CODES

__all__ = [
    "ETATS",
    "FILTER_LABELS",
    "NAF_SECTIONS",
    "PAGE_SIZE",
    "PROCOL_STATES",
    "SORTS",
    "ListFilters",
    "ListSort",
    "json_number",
    "list_header",
    "list_rows",
    "naf_prefix",
    "name_match",
    "name_or_siren",
    "name_rank",
    "restrict",
]

PAGE_SIZE = 20
#: NAF rév. 2 sections.
NAF_SECTIONS = {
    "A": "Agriculture, sylviculture et pêche",
    "B": "Industries extractives",
    "C": "Industrie manufacturière",
    "D": "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
    "E": "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution",
    "F": "Construction",
    "G": "Commerce ; réparation d'automobiles et de motocycles",
    "H": "Transports et entreposage",
    "I": "Hébergement et restauration",
    "J": "Information et communication",
    "K": "Activités financières et d'assurance",
    "L": "Activités immobilières",
    "M": "Activités spécialisées, scientifiques et techniques",
    "N": "Activités de services administratifs et de soutien",
    "O": "Administration publique",
    "P": "Enseignement",
    "Q": "Santé humaine et action sociale",
    "R": "Arts, spectacles et activités récréatives",
    "S": "Autres activités de services",
    "T": "Activités des ménages en tant qu'employeurs",
    "U": "Activités extra-territoriales",
}
#: ``etat_proc_collective`` values (the model's order); a missing value is ``in_bonis``.
PROCOL_STATES = {
    "in_bonis": "In bonis (pas de procédure)",
    "sauvegarde": "Sauvegarde",
    "plan_sauvegarde": "Plan de sauvegarde",
    "continuation": "Redressement (continuation)",
    "plan_redressement": "Plan de redressement",
    "liquidation": "Liquidation",
}
#: ``etat``: the company's administrative state (SIRENE).
ETATS = {"actif": "Active", "ferme": "Fermée (cessée)"}
#: A NAF code below the section: division ``56``, group ``56.1``, class ``56.10``, sub-class ``56.10A`` (dots optional).
_NAF = re.compile(r"^(\d{2})(\d{1,2})?([A-Z])?$")
#: Sort keys, their French label and default order.
SORTS = {
    "rang": ("Rang", "asc"),
    "probabilite": ("Probabilité", "desc"),
    "raison_sociale": ("Raison sociale", "asc"),
    "departement": ("Département", "asc"),
    "effectif": ("Effectif", "desc"),
}
_TRUE = frozenset({"1", "true", "on", "oui", "yes"})
_INT_MAX = 10**12

#: French labels of the filters (form, export sheet "Filtres").
FILTER_LABELS = {
    "departement": "Départements",
    "secteur": "Secteurs d'activité (section NAF)",
    "naf": "Code NAF (division, groupe, classe ou sous-classe)",
    "effectif_min": "Effectif de l'établissement, minimum",
    "effectif_max": "Effectif de l'établissement, maximum",
    "effectif_ent_min": "Effectif de l'entreprise, minimum",
    "effectif_ent_max": "Effectif de l'entreprise, maximum",
    "ca_min": "Chiffre d'affaires minimum (k€)",
    "ca_max": "Chiffre d'affaires maximum (k€)",
    "procol": "Procédure collective",
    "alerte": "Niveau d'alerte",
    "premiere_alerte": "Première alerte uniquement",
    "exclure_suivies": "Exclure les entreprises que je suis",
    "siege_uniquement": "Sièges uniquement",
    "creation_avant": "Entreprises créées avant le",
    "codefi": "Signalées par le CODEFI (dernière liste importée)",
    "sans_delai": "Sans délai de paiement URSSAF en cours",
    "etat": "État administratif",
    "hors_covid": "Hors secteurs COVID-19 (S1, S1 bis, S2)",
    "en_procedure": "En procédure collective (à la place des alertes)",
    "q": "Raison sociale ou SIREN",
}


def _ints(raw: str, name: str, errors: dict[str, str]) -> int | None:
    raw = raw.strip().replace(" ", "").replace("\u202f", "")
    if not raw:
        return None
    try:
        v = int(float(raw.replace(",", ".")))
    except ValueError:
        errors[name] = "Saisissez un nombre entier."
        return None
    if v < 0 or v > _INT_MAX:
        errors[name] = "Saisissez un nombre positif."
        return None
    return v


def naf_prefix(raw: str) -> str | None:
    """A NAF code below the section as the prefix of ``activite_principale`` (``01.11Z``): ``56`` → ``56``,
    ``561`` or ``56.1`` → ``56.1``, ``5610a`` → ``56.10A``; None when it is not one."""
    m = _NAF.match(raw.replace(".", "").replace(" ", "").upper())
    if m is None or (m.group(3) and len(m.group(2) or "") != 2):
        return None
    return m.group(1) + ("." + m.group(2) if m.group(2) else "") + (m.group(3) or "")


def _codes(
    values: list[str], check: Any, name: str, message: str, errors: dict[str, str]
) -> list[str]:
    """The valid codes of a multi-valued filter (``check``: the code, or None), sorted, without duplicates; the
    others are reported in ``errors`` (« message : x, y »)."""
    kept, bad = set(), []
    for v in values:
        code = check(v)
        if code is None:
            bad.append(v[:20])
        else:
            kept.add(code)
    if bad:
        errors[name] = f"{message} : {', '.join(bad[:5])}."
    return sorted(kept)


@dataclass(frozen=True)
class ListFilters:
    """The filters of a list, parsed from the query string (``ListFilters.parse``)."""

    departement: tuple[str, ...] = ()
    secteur: tuple[str, ...] = ()
    effectif_min: int | None = None
    effectif_max: int | None = None
    effectif_ent_min: int | None = None
    effectif_ent_max: int | None = None
    ca_min: int | None = None
    ca_max: int | None = None
    procol: tuple[str, ...] = ()
    alerte: tuple[str, ...] = ()
    premiere_alerte: bool = False
    exclure_suivies: bool = False
    siege_uniquement: bool = False
    creation_avant: dt.date | None = None
    codefi: bool = False
    en_procedure: bool = False
    naf: tuple[str, ...] = ()
    sans_delai: bool = False
    etat: str = ""
    hors_covid: bool = False
    q: str = ""

    @classmethod
    def parse(cls, params: Any) -> tuple[ListFilters, dict[str, str]]:
        """Filters from query parameters (a Starlette ``QueryParams`` or a mapping of lists); bad values are left
        out and reported in ``errors`` (field name -> French message)."""
        errors: dict[str, str] = {}

        def many(name: str) -> list[str]:
            if hasattr(params, "getlist"):
                values = params.getlist(name)
            else:
                v = params.get(name, [])
                values = [v] if isinstance(v, str) else list(v)
            return [p.strip() for v in values for p in str(v).split(",") if p.strip()]

        def one(name: str) -> str:
            values = many(name) if name != "q" else [params.get("q") or ""]
            return str(values[-1]) if values else ""

        depts = _codes(many("departement"), lambda d: d.upper() if len(d) <= 3 and d.isalnum() else None,
                       "departement", "Département inconnu", errors)  # fmt: skip
        secteurs = _codes(many("secteur"), lambda v: v.upper() if v.upper() in NAF_SECTIONS else None,
                          "secteur", "Section NAF inconnue", errors)  # fmt: skip
        procol = _codes(many("procol"), lambda v: v if v in PROCOL_STATES else None, "procol",
                        "État de procédure inconnu", errors)  # fmt: skip
        alerte = _codes(many("alerte"), lambda v: v.upper() if v.upper() in ALERT_CODES else None, "alerte",
                        "Niveau d'alerte inconnu (F1 ou F2)", errors)  # fmt: skip
        naf = _codes(many("naf"), naf_prefix, "naf", "Code NAF invalide (ex. 56, 56.1, 56.10 ou 56.10A)", errors)
        etat = one("etat").lower()
        if etat and etat not in ETATS:
            errors["etat"] = "Choisissez « actif » ou « ferme »."
            etat = ""
        nums = {
            n: _ints(one(n), n, errors)
            for n in (
                "effectif_min",
                "effectif_max",
                "effectif_ent_min",
                "effectif_ent_max",
                "ca_min",
                "ca_max",
            )
        }
        for lo, hi in (
            ("effectif_min", "effectif_max"),
            ("effectif_ent_min", "effectif_ent_max"),
            ("ca_min", "ca_max"),
        ):
            a, b = nums[lo], nums[hi]
            if a is not None and b is not None and a > b:
                errors[hi] = "Le maximum doit être supérieur ou égal au minimum."
                nums[hi] = None
        creation: dt.date | None = None
        if raw := one("creation_avant"):
            try:
                creation = dt.date.fromisoformat(raw)
            except ValueError:
                errors["creation_avant"] = "Saisissez une date au format AAAA-MM-JJ."
        q = one("q").strip()[:100]
        return (
            cls(
                departement=tuple(depts),
                secteur=tuple(secteurs),
                procol=tuple(procol),
                alerte=tuple(alerte),
                premiere_alerte=one("premiere_alerte").lower() in _TRUE,
                exclure_suivies=one("exclure_suivies").lower() in _TRUE,
                siege_uniquement=one("siege_uniquement").lower() in _TRUE,
                creation_avant=creation,
                codefi=one("codefi").lower() in _TRUE,
                en_procedure=one("en_procedure").lower() in _TRUE,
                naf=tuple(naf),
                sans_delai=one("sans_delai").lower() in _TRUE,
                etat=etat,
                hors_covid=one("hors_covid").lower() in _TRUE,
                q=q,
                **nums,
            ),
            errors,
        )

    def items(self) -> list[tuple[str, str]]:
        """The set filters as query-string pairs (for links)."""
        out: list[tuple[str, str]] = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                out += [(f.name, x) for x in v]
            elif isinstance(v, bool):
                if v:
                    out.append((f.name, "1"))
            elif v is not None and v != "":
                out.append((f.name, v.isoformat() if isinstance(v, dt.date) else str(v)))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The set filters, JSON-ready (audit)."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v in ((), None, False, ""):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v.isoformat() if isinstance(v, dt.date) else v
        return out

    def describe(self) -> list[tuple[str, str]]:
        """The set filters in French: ``[(label, value), ...]``."""
        out = []
        for k, v in self.as_dict().items():
            if k == "secteur":
                text = ", ".join(f"{s} – {NAF_SECTIONS[s]}" for s in v)
            elif k == "procol":
                text = ", ".join(PROCOL_STATES[p] for p in v)
            elif k == "alerte":
                text = ", ".join(ALERT_LABELS[ALERT_CODES[a]] for a in v)
            elif k == "etat":
                text = ETATS[v]
            elif isinstance(v, list):
                text = ", ".join(v)
            elif v is True:
                text = "Oui"
            elif k == "creation_avant":
                text = dt.date.fromisoformat(v).strftime("%d/%m/%Y")
            else:
                text = str(v)
            out.append((FILTER_LABELS[k], text))
        return out

    @property
    def active(self) -> bool:
        return bool(self.items())


@dataclass(frozen=True)
class ListSort:
    key: str = "rang"
    order: str = "asc"

    @classmethod
    def parse(cls, tri: str | None, ordre: str | None) -> ListSort:
        key = tri if tri in SORTS else "rang"
        order = ordre if ordre in ("asc", "desc") else SORTS[key][1]
        return cls(key, order)

    def items(self) -> list[tuple[str, str]]:
        return [] if self == ListSort() else [("tri", self.key), ("ordre", self.order)]

    def describe(self) -> str:
        return f"{SORTS[self.key][0]} ({'croissant' if self.order == 'asc' else 'décroissant'})"


# ------------------------------------------------------------------------------------------------------ query


def _latest(column: Any, periode: dt.date) -> Any:
    """The company's latest known ``column`` of ``company_months`` at ``periode`` (correlated on ``Score``)."""
    return (
        select(column)
        .where(CompanyMonth.siren == Score.siren, CompanyMonth.periode <= periode, column.is_not(None))
        .order_by(CompanyMonth.periode.desc())
        .limit(1)
        .scalar_subquery()
    )


#: ``company_months`` at the list's month, joined when a filter or the sort needs the effectifs.
_MONTH = aliased(CompanyMonth, name="list_month")


def _effectif(column: str, periode: dt.date) -> Any:
    """The list month's value, else (evaluated only then) the latest known before it."""
    return func.coalesce(getattr(_MONTH, column), _latest(getattr(CompanyMonth, column), periode))


def _ca() -> Any:
    return (
        select(DianeStatement.ca)
        .where(DianeStatement.siren == Score.siren, DianeStatement.ca.is_not(None))
        .order_by(DianeStatement.exercice.desc())
        .limit(1)
        .scalar_subquery()
    )


def _delai(periode: dt.date) -> ColumnElement[bool]:
    """A URSSAF payment plan (délai) runs at the list's month (``hasntDelai`` of the real system, negated)."""
    return exists().where(
        CompanyMonth.siren == Score.siren,
        CompanyMonth.periode == periode,
        or_(CompanyMonth.delai_montant_echeancier > 0, CompanyMonth.delai_nb_jours_restants > 0),
    )


def restrict(f: ListFilters, actor: Actor, list_id: int) -> tuple[ListFilters, dict[str, str]]:
    """The filters the actor may use on a list: « sans délai URSSAF » reads URSSAF data, it needs that right (else
    it is left out, with a message)."""
    if f.sans_delai and not allowed(actor, Action.VIEW_URSSAF, ListRef(list_id)):
        return replace(f, sans_delai=False), {"sans_delai": "Ce filtre demande le droit URSSAF."}
    return f, {}


def _followed(user_id: int | None) -> ColumnElement[bool]:
    return exists().where(Follow.user_id == user_id, Follow.siren == Score.siren, Follow.active.is_(True))


def _codefi(import_id: int | None) -> ColumnElement[bool]:
    if import_id is None:
        return false()
    return exists().where(CodefiAlert.import_id == import_id, CodefiAlert.siren == Score.siren)


def _conditions(
    actor: Actor, li: List, f: ListFilters, codefi_import: int | None
) -> tuple[list[ColumnElement[bool]], bool]:
    """The WHERE conditions of the filtered list, and whether they need the list month's ``company_months``."""
    conds: list[ColumnElement[bool]] = [
        Score.list_id == li.id,
        # the firms in collective proceedings are shown apart, on request, never mixed with the alerts
        Score.procedure_en_cours.is_(True) if f.en_procedure else Score.alert.in_(ALERTED),
        visible_companies(actor, Score.siren),
    ]
    month = False
    if f.alerte:
        conds.append(Score.alert.in_([ALERT_CODES[a] for a in f.alerte]))
    if f.departement:
        conds.append(Company.departement.in_(f.departement))
    if f.secteur:
        conds.append(Company.naf_section.in_(f.secteur))
    if f.procol:
        conds.append(func.coalesce(Score.etat_proc_collective, "in_bonis").in_(f.procol))
    if f.premiere_alerte:
        conds.append(Score.first_alert.is_(True))
    if f.exclure_suivies:
        conds.append(~_followed(actor.user_id))
    if f.siege_uniquement:
        conds.append(Score.siret == Company.siret_siege)
    if f.creation_avant is not None:
        conds.append(Company.creation < f.creation_avant)
    if f.codefi:
        conds.append(_codefi(codefi_import))
    if f.naf:
        conds.append(or_(*(Company.activite_principale.startswith(code) for code in f.naf)))
    if f.etat:
        conds.append(Company.est_actif.is_(f.etat == "actif"))
    if f.hors_covid:  # a company without a known activity is not in a COVID-19 sector
        conds.append(or_(Company.activite_principale.is_(None), Company.activite_principale.not_in(COVID_CODES)))
    if f.sans_delai and allowed(actor, Action.VIEW_URSSAF, ListRef(li.id)):
        conds.append(~_delai(li.periode))
    for col, lo, hi in (
        ("effectif", f.effectif_min, f.effectif_max),
        ("effectif_ent", f.effectif_ent_min, f.effectif_ent_max),
    ):
        if lo is not None or hi is not None:
            month = True
            v = _effectif(col, li.periode)
            conds += [v >= lo] if lo is not None else []
            conds += [v <= hi] if hi is not None else []
    if f.ca_min is not None or f.ca_max is not None:
        ca = _ca()
        conds += [ca >= f.ca_min] if f.ca_min is not None else []
        conds += [ca <= f.ca_max] if f.ca_max is not None else []
    if f.q:
        conds.append(name_or_siren(f.q, Score.siren))
    return conds, month


def name_match(q: str) -> ColumnElement[bool]:
    """The company's name holds every word of ``q``, whatever the case and the accents ("societe lefevre" finds
    "SOCIÉTÉ LEFÈVRE"): the folded words (``fold_name``) in the folded name, ``%`` and ``_`` as text. One path for
    ``/recherche``, ``/api/search`` and the list's filter ``q``."""
    words = (fold_name(q) or "").split()
    if not words:
        return false()
    column = Company.raison_sociale_folded
    return and_(*(column.contains(w, autoescape=True) for w in words))


def name_rank(q: str) -> ColumnElement[int]:
    """How well the name matches ``q``, best first: 0 the whole name, 1 its beginning, 2 the beginning of a word,
    3 elsewhere (the words of ``q`` found apart)."""
    folded = fold_name(q) or ""
    column = Company.raison_sociale_folded
    return case(
        (column == folded, 0),
        (column.startswith(folded, autoescape=True), 1),
        (column.contains(" " + folded, autoescape=True), 2),
        else_=3,
    )


def name_or_siren(q: str, siren: Any) -> ColumnElement[bool]:
    """The filter « Raison sociale ou SIREN »: a SIREN prefix when ``q`` is digits, else the name holds every word
    of ``q`` whatever the case and the accents (``name_match``)."""
    digits = q.replace(" ", "")
    if digits.isdigit():
        condition: ColumnElement[bool] = siren.startswith(digits[:9])
        return condition
    return name_match(q)


def json_number(v: Any) -> Any:
    """NaN -> None (JSON)."""
    return None if isinstance(v, float) and v != v else v


def list_header(li: List) -> dict[str, Any]:
    """A list as the answers name it."""
    return {"id": li.id, "label": li.label, "batch": li.batch, "algo": li.algo, "periode": li.periode.isoformat()}


def _sort_key(s: ListSort, li: List) -> Any:
    key: Any = {
        "rang": Score.rank,
        "probabilite": Score.probability,
        "raison_sociale": Company.raison_sociale,
        "departement": Company.departement,
        "effectif": _effectif("effectif", li.periode),
    }[s.key]
    return (key.asc() if s.order == "asc" else key.desc()).nulls_last()


def _details(db: Session, actor: Actor, li: List, sirens: list[str], codefi_import: int | None) -> dict[str, Any]:
    """The page's rows with their per-company values (sub-queries on primary keys, for those rows only)."""
    if not sirens:
        return {}
    rows = db.execute(
        select(
            Score.siren,
            Score.siret,
            Score.rank,
            Score.probability,
            Score.alert,
            Score.first_alert,
            Score.etat_proc_collective,
            Score.procedure_en_cours,
            Score.etat_procol,
            Score.date_procol,
            Score.dette_urssaf,
            Score.hausse_urssaf,
            Score.ap_12m,
            Company.raison_sociale,
            Company.departement,
            Company.libelle_departement,
            Company.libelle_activite_principale,
            Company.naf_section,
            _latest(CompanyMonth.effectif, li.periode).label("effectif"),
            _latest(CompanyMonth.effectif_ent, li.periode).label("effectif_ent"),
            _ca().label("ca"),
            _followed(actor.user_id).label("followed"),
            _codefi(codefi_import).label("codefi"),
        )
        .select_from(Score)
        .outerjoin(Company, Company.siren == Score.siren)
        .where(Score.list_id == li.id, Score.siren.in_(sirens))
    ).all()
    return {r.siren: r for r in rows}


def _item(r: Row[Any], urssaf: bool, dgefp: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "siren": r.siren,
        "siret": r.siret,
        "raison_sociale": r.raison_sociale,
        "departement": r.departement,
        "libelle_departement": r.libelle_departement,
        "activite": r.libelle_activite_principale,
        "naf_section": r.naf_section,
        "rank": r.rank,
        "probability": r.probability,
        "alert": r.alert,
        "first_alert": r.first_alert,
        "etat_proc_collective": r.etat_proc_collective,
        "procedure_en_cours": bool(r.procedure_en_cours),
        "etat_procol": r.etat_procol,
        "date_procol": r.date_procol.isoformat() if r.date_procol else None,
        "effectif": r.effectif,
        "effectif_ent": r.effectif_ent,
        "ca": json_number(r.ca),
        "followed": bool(r.followed),
        "codefi": bool(r.codefi),
    }
    # every row is alerted and visible (in the territory, or followed): the data rights decide the rest
    if urssaf:
        item["dette_urssaf"] = json_number(r.dette_urssaf)
        item["hausse_urssaf"] = r.hausse_urssaf
    if dgefp:
        item["ap_12m"] = r.ap_12m
    return item


def list_rows(
    db: Session,
    actor: Actor,
    li: List,
    filters: ListFilters | None = None,
    sort: ListSort | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    *,
    last_page: bool = True,
) -> dict[str, Any]:
    """The alerted companies of ``li`` visible to ``actor``, filtered, sorted and paged, with identity, effectifs,
    CA, followed and CODEFI flags; past the end, the last page (``last_page``) or none.

    Call it once the guard granted the list (``VIEW_LIST_SCORES`` or ``EXPORT_LIST``). Records no audit event: the
    routes record what they show (``list_viewed``, ``export``).
    """
    f = filters or ListFilters()
    s = sort or ListSort()
    no_jit(db)
    codefi_import = db.scalar(select(func.max(CodefiImport.id)))
    conds, month = _conditions(actor, li, f, codefi_import)
    month = month or s.key == "effectif"
    order = _sort_key(s, li)

    def ids(offset: int) -> list[Any]:
        q = select(
            Score.siren,
            func.count().over().label("total"),
            func.sum(case((Score.alert == ALERT_HIGH, 1), else_=0)).over().label("nb_f1"),
        ).select_from(Score)
        q = q.outerjoin(Company, Company.siren == Score.siren)
        if month:
            q = q.outerjoin(_MONTH, and_(_MONTH.siren == Score.siren, _MONTH.periode == li.periode))
        return list(db.execute(q.where(*conds).order_by(order, Score.rank).limit(size).offset(offset)).all())

    page = max(1, page)
    head = ids((page - 1) * size)
    if not head and page > 1 and last_page:  # past the end: the last page
        head = ids(0)
        total = head[0].total if head else 0
        page = max(1, math.ceil(total / size))
        head = ids((page - 1) * size) if page > 1 else head
    total = head[0].total if head else 0
    if not head and page > 1:  # past the end without a last page: the totals of the first one
        first = ids(0)
        total, nb_f1 = (first[0].total, int(first[0].nb_f1 or 0)) if first else (0, 0)
    else:
        nb_f1 = int(head[0].nb_f1 or 0) if head else 0
    sirens = [r.siren for r in head]
    details = _details(db, actor, li, sirens, codefi_import)
    urssaf = bool(allowed(actor, Action.VIEW_URSSAF, ListRef(li.id)))
    dgefp = bool(allowed(actor, Action.VIEW_DGEFP, ListRef(li.id)))
    return {
        "list": list_header(li),
        "total": total,
        "nb_f1": nb_f1,
        "nb_f2": total - nb_f1,
        "page": page,
        "pages": max(1, math.ceil(total / size)),
        "size": size,
        "items": [_item(details[siren], urssaf, dgefp) for siren in sirens],
    }
