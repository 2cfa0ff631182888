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
    "DIANE_FIELDS",
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

#: The DIANE fields of a statement that travel past the clean relation (``clean_diane``): the panel keeps each as a
#: feature ``diane_<field>`` (``charge_personnel`` only inside a ratio) and the platform publishes them per exercise.
DIANE_FIELDS = (
    "ca",
    "valeur_ajoutee",
    "excedent_brut_d_exploitation",
    "resultat_expl",
    "benefice_ou_perte",
    "capacite_autofinancement",
    "charge_personnel",
    "charges_financieres",
    "dette_fiscale_et_sociale",
    "concours_bancaire_courant",
    "liquidite_generale",
    "liquidite_reduite",
    "endettement",
    "autonomie_financiere",
    "capacite_remboursement",
    "rentabilite_economique",
    "rentabilite_nette",
    "taux_d_investissement_productif",
    "credit_client",
    "credit_fournisseur",
    "effectif_consolide",
)
