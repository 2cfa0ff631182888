"""French formats for the pages (Babel, locale ``fr_FR``; times in Europe/Paris), registered as Jinja filters.

``{{ n | fr_int }}`` → ``12 345``; ``{{ x | fr_decimal(2) }}`` → ``0,25``; ``{{ p | fr_percent }}`` → ``12,3 %``;
``{{ d | fr_date }}`` → ``05/12/2026``; ``{{ t | fr_datetime }}`` → ``05/12/2026 13:04`` (a naive time is UTC, as the
platform stores them); ``{{ d | fr_month }}`` → ``septembre 2026``; ``{{ x | fr_euros }}`` → ``4 897 €``;
``{{ k | fr_keuros }}`` → ``1 235 k€`` or ``18,5 M€`` (DIANE's amounts are in thousands of euros). ``None`` and
unparsable values give an empty string.

And the French words of the platform's codes: ``{{ code | fr_territory }}`` (``R27`` → ``Bourgogne-Franche-Comté``),
``fr_role`` (``agent`` → ``agent``, ``org-admin`` → ``administrateur de l'organisation``), ``fr_organisation``,
``fr_rights``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from ...contract import DATA_RIGHTS as RIGHTS
from ...geo import REGIONS
from .data import ACTIONS_FR, STAGES_FR

__all__ = [
    "FILTERS",
    "PARIS",
    "fr_audit_detail",
    "fr_date",
    "fr_datetime",
    "fr_decimal",
    "fr_euros",
    "fr_int",
    "fr_keuros",
    "fr_month",
    "fr_organisation",
    "fr_percent",
    "fr_points",
    "fr_procol_action",
    "fr_procol_stage",
    "fr_rights",
    "fr_role",
    "fr_territory",
]

LOCALE = "fr_FR"
PARIS = ZoneInfo("Europe/Paris")


def _number(v: Any, write: Callable[[float], Any]) -> str:
    """``write(float(v))`` as text; empty for nothing or for what is not a number."""
    if v is None or v == "":
        return ""
    try:
        return str(write(float(v)))
    except (TypeError, ValueError):
        return ""


def fr_int(v: Any) -> str:
    return _number(v, lambda f: format_decimal(round(f), format="#,##0", locale=LOCALE))


def fr_decimal(v: Any, digits: int = 1) -> str:
    return _number(v, lambda f: format_decimal(f, format="#,##0." + "0" * digits, locale=LOCALE))


def fr_percent(v: Any, digits: int = 1) -> str:
    """A share (0.123) as a French percentage (``12,3 %``)."""
    return _number(v, lambda f: format_percent(f, format="#,##0." + "0" * digits + " %", locale=LOCALE))


def _moment(v: Any) -> dt.datetime | dt.date | None:
    if isinstance(v, dt.datetime | dt.date):
        return v
    if isinstance(v, str) and v:
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            return None
    return None


def fr_datetime(v: Any) -> str:
    """A time in Europe/Paris, ``05/12/2026 13:04``."""
    m = _moment(v)
    if m is None:
        return ""
    if not isinstance(m, dt.datetime):
        return fr_date(m)
    if m.tzinfo is None:
        m = m.replace(tzinfo=dt.UTC)
    return str(format_datetime(m.astimezone(PARIS), "dd/MM/yyyy HH:mm", locale=LOCALE))


def fr_date(v: Any) -> str:
    m = _moment(v)
    if m is None:
        return ""
    if isinstance(m, dt.datetime):  # a time (naive: UTC, as stored): its day in Paris
        m = (m if m.tzinfo is not None else m.replace(tzinfo=dt.UTC)).astimezone(PARIS).date()
    return str(format_date(m, "dd/MM/yyyy", locale=LOCALE))


def fr_points(v: Any, digits: int = 1) -> str:
    """A change of probability (0.049) as signed French percentage points (``+4,9 pts``)."""
    if v is None or v == "":
        return ""
    try:
        x = float(v) * 100
    except (TypeError, ValueError):
        return ""
    pattern = "#,##0." + "0" * digits
    return str(format_decimal(x, format=f"+{pattern};-{pattern}", locale=LOCALE)) + " pts"


def fr_euros(v: Any) -> str:
    """An amount in euros, rounded to the euro: ``4 897 €``."""
    return _number(v, lambda f: format_decimal(round(f), format="#,##0", locale=LOCALE) + "\u00a0€")


def fr_keuros(v: Any) -> str:
    """An amount in thousands of euros (DIANE): ``1 235 k€`` below 10 M€, ``18,5 M€`` from there."""

    def write(k: float) -> str:
        if abs(k) >= 10_000:
            return str(format_decimal(k / 1000, format="#,##0.0", locale=LOCALE)) + "\u00a0M€"
        return str(format_decimal(round(k), format="#,##0", locale=LOCALE)) + "\u00a0k€"

    return _number(v, write)


def fr_month(v: Any) -> str:
    """A month, ``septembre 2026`` (a date, or ISO text ``2026-09`` / ``2026-09-01``)."""
    if isinstance(v, str) and len(v) == 7:
        v = v + "-01"
    m = _moment(v)
    if m is None:
        return ""
    return str(format_date(m if not isinstance(m, dt.datetime) else m.date(), "MMMM yyyy", locale=LOCALE))


#: The roles, in French.
ROLES_FR = {
    "agent": "agent",
    "org-admin": "administrateur de l'organisation",
    "admin": "administrateur national",
}
#: The organisations' codes, in full.
ORGANISATIONS_FR = {
    "URSSAF": "URSSAF",
    "DREETS/DDETS": "DREETS / DDETS (services déconcentrés du ministère du Travail)",
    "Banque de France": "Banque de France",
    "DGEFP": "DGEFP (Délégation générale à l'emploi et à la formation professionnelle)",
    "DGE": "DGE (Direction générale des entreprises)",
    "DGFiP/CODEFI": "DGFiP — CODEFI (comité départemental d'examen des problèmes de financement des entreprises)",
    "CRP": "Commissaires aux restructurations et à la prévention",
    "Équipe nationale": "Équipe nationale Signaux Faibles",
}
#: The data rights, as a page lists them.
RIGHTS_FR = {code: f"{name} ({opens})" for code, (name, opens) in RIGHTS.items()}


def fr_territory(v: Any) -> str:
    """A territory code in French: ``FR`` → ``France entière``, ``R27`` → ``Bourgogne-Franche-Comté``, ``21`` →
    ``département 21``; a list (or comma-separated text) joined with commas."""
    if v is None or v == "":
        return ""
    codes = [c.strip() for c in (v.split(",") if isinstance(v, str) else v) if str(c).strip()]
    out = []
    for c in codes:
        c = str(c).upper()
        if c == "FR":
            out.append("France entière")
        elif c.startswith("R") and c[1:] in REGIONS:
            out.append(f"région {REGIONS[c[1:]][0]}")
        else:
            out.append(f"département {c}")
    return ", ".join(out)


def fr_role(v: Any) -> str:
    return ROLES_FR.get(str(v or ""), str(v or ""))


def fr_organisation(v: Any) -> str:
    return ORGANISATIONS_FR.get(str(v or ""), str(v or ""))


def fr_rights(v: Any) -> str:
    """Data rights (a set, a list, or comma-separated text) in French, or ``aucun``."""
    rights = sorted(r.strip() for r in (v.split(",") if isinstance(v, str) else (v or ())) if r and r.strip())
    return ", ".join(RIGHTS_FR.get(r, r) for r in rights) or "aucun"


def fr_procol_action(v: Any) -> str:
    """A proceeding's action (``liquidation``) in full: ``liquidation judiciaire``."""
    return ACTIONS_FR.get(str(v or ""), str(v or "").replace("_", " "))


def fr_procol_stage(v: Any) -> str:
    """A proceeding's stage (``plan_continuation``) in French: ``plan de continuation``."""
    return STAGES_FR.get(str(v or ""), str(v or "").replace("_", " "))


#: The keys of an audit event's detail, in French.
AUDIT_KEYS_FR = {
    "reason": "motif", "action": "action", "territory": "territoire", "count": "tentatives", "since": "depuis",
    "method": "méthode", "email": "compte", "roles": "rôles", "file": "fichier", "rows": "lignes", "total": "total",
    "blocks": "blocs", "format": "format", "kind": "nature", "what": "objet", "batch": "lot", "source": "source",
    "filters": "filtres", "page": "page", "q": "recherche", "results": "résultats", "scope": "portée",
    "sessions": "sessions", "view": "vue", "change": "changement", "siren": "SIREN", "siret": "SIRET",
    "list_id": "liste", "rejected": "rejetées",
}  # fmt: skip
#: The values of an audit event's detail (actions, scopes, views), in French.
AUDIT_VALUES_FR = {
    "view_company": "consulter une entreprise", "view_score": "voir le score", "view_urssaf": "voir les données URSSAF",
    "view_dgefp": "voir l'activité partielle", "view_bdf": "voir les ratios Banque de France",
    "search": "rechercher", "view_list": "voir les listes", "view_list_scores": "voir les scores d'une liste",
    "export_list": "exporter une liste", "account": "son compte", "follow": "suivre", "comment": "commenter",
    "case": "accompagnement", "view_work": "voir les commentaires et l'accompagnement",
    "view_accounts": "voir les comptes publiés", "view_codefi": "voir le signalement CODEFI", "import_codefi": "importer la liste CODEFI",
    "manage_users": "gérer les agents", "admin": "administration",
    "CODEFI list imported": "liste CODEFI importée", "account created by SSO": "compte créé par connexion unique",
    "account disabled": "compte désactivé", "account updated by SSO": "compte mis à jour par connexion unique",
    "habilitation confirmed": "habilitation confirmée", "unknown SSO roles ignored": "rôles SSO inconnus ignorés",
    "everywhere": "toutes les sessions", "session": "cette session", "changes": "évolutions",
    "dashboard": "tableau de bord", "sso": "connexion unique", "password": "mot de passe", "quarantine": "quarantaine",
    "dossier entreprise": "dossier d'entreprise", "urssaf": "URSSAF", "dgefp": "activité partielle", "bdf": "Banque de France", "ccsf": "CCSF", "paiements": "paiements (Altares)",
    "score": "score",
}  # fmt: skip


def _audit_value(key: str, v: Any) -> str:
    if isinstance(v, bool):
        return "oui" if v else "non"
    if isinstance(v, int | float):
        return fr_int(v) if float(v).is_integer() else fr_decimal(v, 2)
    if isinstance(v, list | tuple):
        return ", ".join(_audit_value(key, x) for x in v) or "—"
    if isinstance(v, dict):
        return (
            "; ".join(
                f"{AUDIT_KEYS_FR.get(k, k)} {_audit_value(k, x)}"
                for k, x in v.items()
                if x not in (None, "", [])
            )
            or "—"
        )
    text = str(v)
    if key == "reason":
        from .guard import in_french

        return in_french(text)
    if key == "since":
        return fr_datetime(text) or text
    if key == "territory":
        return fr_territory([text]) if text else ""
    return AUDIT_VALUES_FR.get(text, text)


def fr_audit_detail(detail: Any) -> str:
    """An audit event's detail (JSON) in French words: ``motif : …, action : consulter une entreprise``."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    parts = [
        f"{AUDIT_KEYS_FR.get(k, k)} : {_audit_value(k, v)}"
        for k, v in detail.items()
        if v not in (None, "", [])
    ]
    return " · ".join(parts)


FILTERS = {
    "fr_int": fr_int,
    "fr_points": fr_points,
    "fr_decimal": fr_decimal,
    "fr_percent": fr_percent,
    "fr_date": fr_date,
    "fr_datetime": fr_datetime,
    "fr_euros": fr_euros,
    "fr_keuros": fr_keuros,
    "fr_month": fr_month,
    "fr_territory": fr_territory,
    "fr_role": fr_role,
    "fr_organisation": fr_organisation,
    "fr_rights": fr_rights,
    "fr_procol_action": fr_procol_action,
    "fr_procol_stage": fr_procol_stage,
    "fr_audit_detail": fr_audit_detail,
}
