"""The words shared across stages: alert levels, their labels, and the themes of the explanations.

This module imports nothing of the package: every stage (model, lists, platform) may read it, and it is the one place
where these words are defined. The alert values are the real system's own (they travel in every export and in the
platform's database); the labels are what an agent reads.
"""

from __future__ import annotations

__all__ = [
    "ALERTED",
    "ALERT_CODES",
    "ALERT_HIGH",
    "ALERT_LABELS",
    "ALERT_LEVELS",
    "ALERT_MODERATE",
    "ALERT_NONE",
    "ALERT_WORDS",
    "DATA_RIGHTS",
    "DIANE_FIELDS",
    "DIANE_UNITS",
    "THEMES",
]

ALERT_HIGH = "Alerte seuil F1"
ALERT_MODERATE = "Alerte seuil F2"
ALERT_NONE = "Pas d'alerte"
#: The real system's three values, most severe first; no other value is ever written.
ALERT_LEVELS = (ALERT_HIGH, ALERT_MODERATE, ALERT_NONE)
#: The two levels that are alerts.
ALERTED = (ALERT_HIGH, ALERT_MODERATE)
#: Short codes of the alerted levels (filters, URLs).
ALERT_CODES = {"F1": ALERT_HIGH, "F2": ALERT_MODERATE}
#: What an agent reads, as a heading or a badge.
ALERT_LABELS = {ALERT_HIGH: "Risque élevé", ALERT_MODERATE: "Risque modéré", ALERT_NONE: "Pas d'alerte"}
#: The same inside a sentence.
ALERT_WORDS = {level: label.lower() for level, label in ALERT_LABELS.items()}

#: Themes of the features; the explanations sum contributions by them (the panel's registry adds "cible" and "clé",
#: which are not features).
THEMES = (
    "santé financière",
    "dette URSSAF",
    "activité partielle",
    "retards de paiement",
    "emploi",
    "autres",
)

_KEUR = "kEUR"
_RATIO = "% or ratio (as delivered)"
#: The units of the DIANE fields, as the DIANE export delivers them (amounts in kEUR, ratios as delivered).
DIANE_UNITS = {
    "ca": _KEUR,
    "valeur_ajoutee": _KEUR,
    "excedent_brut_d_exploitation": _KEUR,
    "resultat_expl": _KEUR,
    "benefice_ou_perte": _KEUR,
    "capacite_autofinancement": _RATIO,
    "charge_personnel": _KEUR,
    "charges_financieres": _KEUR,
    "dette_fiscale_et_sociale": _KEUR,
    "concours_bancaire_courant": _KEUR,
    "liquidite_generale": _RATIO,
    "liquidite_reduite": _RATIO,
    "endettement": _RATIO,
    "autonomie_financiere": _RATIO,
    "capacite_remboursement": _RATIO,
    "rentabilite_economique": _RATIO,
    "rentabilite_nette": _RATIO,
    "taux_d_investissement_productif": _RATIO,
    "credit_client": "days",
    "credit_fournisseur": "days",
    "effectif_consolide": "persons",
}
#: The DIANE fields of a statement that travel past the clean relation (``clean_diane``): the panel keeps each as a
#: feature ``diane_<field>`` (``charge_personnel`` only inside a ratio) and the platform publishes them per exercise.
DIANE_FIELDS = tuple(DIANE_UNITS)

#: The data rights an account may hold: code → (whose data, what the right opens), in French.
DATA_RIGHTS = {
    "score": ("score", "alertes et probabilités"),
    "urssaf": ("URSSAF", "cotisations et dettes"),
    "dgefp": ("DGEFP", "activité partielle"),
    "bdf": ("Banque de France", "ratios"),
}
