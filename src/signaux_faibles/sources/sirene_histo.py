"""INSEE SIRENE établissements history (``StockEtablissementHistorique_utf8.csv``) → ``stg_sirene_histo``.

Raw format (real_system.md §1.4): ``,``-separated UTF-8 CSV, one row per period of an establishment
(``dateDebut``..``dateFin``), with its administrative state and whether that state changed.

Rules, as the real parser (OSF ``lib/parsing/sirene_histo``):

- SIRET must be 14 digits (a bad Luhn key is only flagged);
- an unreadable ``dateDebut`` or ``dateFin`` rejects the row; one of them may be empty;
- both dates empty: the row is *filtered* (an establishment closed long before any period of interest);
- ``etatAdministratifEtablissement`` must be ``A`` or ``F`` and ``changementEtatAdministratifEtablissement`` a
  boolean, else the row is rejected.

The activity nomenclature plays no part here (this table carries no activity). Not filtered by the perimeter.
"""

from __future__ import annotations

from signaux_faibles.sources._read import Check
from signaux_faibles.sources._read.spec import ISO_DATE, Field, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import go_bool, txt

__all__ = ["SIRENE_HISTO"]

_SIRET = Field("siret", "siret", description="SIRET (14 digits)", identifier="siret")
_ETAT = txt("etatAdministratifEtablissement")
_DEBUT, _FIN = txt("dateDebut"), txt("dateFin")
_CHANGEMENT = go_bool(txt("changementEtatAdministratifEtablissement"))

SIRENE_HISTO = TextSource(
    "sirene_histo", "stg_sirene_histo", "stock", None, (gz(r"^StockEtablissementHistorique_utf8\.csv"),),
    expected="INSEE StockEtablissementHistorique CSV",
    header=("siret", "dateFin", "dateDebut", "etatAdministratifEtablissement",
            "changementEtatAdministratifEtablissement"),
    fields=(
        _SIRET,
        Field("date_debut", "dateDebut", "DATE", "First day of the period", ISO_DATE,
              invalid="{raw} is not a valid YYYY-MM-DD date"),
        Field("date_fin", "dateFin", "DATE", "Last day of the period (NULL: still current)", ISO_DATE,
              invalid="{raw} is not a valid YYYY-MM-DD date"),
        Field("est_actif", "etatAdministratifEtablissement", "BOOLEAN", "State A (active) during the period",
              sql=f"({_ETAT} = 'A')"),
        Field("changement_statut_actif", "changementEtatAdministratifEtablissement", "BOOLEAN",
              "The administrative state changed at the start of the period", sql=_CHANGEMENT),
        luhn_of(_SIRET),
    ),
    rules=(
        Check("dateDebut", f"{_DEBUT} IS NULL AND {_FIN} IS NULL", "filtered: both dateDebut and dateFin are missing"),
        Check("etatAdministratifEtablissement", f"{_ETAT} IS NULL OR {_ETAT} NOT IN ('A', 'F')",
              "etatAdministratifEtablissement must be A or F"),
        Check("changementEtatAdministratifEtablissement", f"{_CHANGEMENT} IS NULL",
              "changementEtatAdministratifEtablissement is not a boolean"),
    ),
)
