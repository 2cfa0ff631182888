"""INSEE SIRENE unités légales (``sireneUL.csv``, i.e. ``StockUniteLegale_utf8``) → ``stg_sirene_ul``.

Raw format (real_system.md §1.4): ``,``-separated UTF-8 CSV with the INSEE stock header; the column
``activitePrincipaleNAF25UniteLegale`` (2026) is optional.

Rules, as the real parser (OSF ``lib/parsing/sirene_ul``) and its expected outputs show:

- SIREN must be 9 digits (row-level rejection otherwise; a bad Luhn key is only flagged);
- a row whose activity nomenclature is given and is not ``NAFRev2`` is *filtered* (row-level rejection whose
  reason starts with ``filtered:``);
- ``activite_principale`` (the APE) must match ``^\\d{2}\\.\\d{2}[A-Z]$``; otherwise it is NULL with a
  field-level rejection; same for the NAF 2025 code;
- an unreadable creation date is NULL with a field-level rejection (the real parser silently drops it);
- ``est_actif`` is ``etatAdministratifUniteLegale == "A"``; ``raison_sociale`` is ``denominationUniteLegale``.

Not filtered by the perimeter (``key`` is None).
"""

from __future__ import annotations

from signaux_faibles.sources._read.spec import ISO_DATE, Field, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import txt
from signaux_faibles.sources.sirene import ape_check, ape_field, digits_check, nomenclature_filter

__all__ = ["SIRENE_UL"]

_SIREN = Field("siren", "siren", description="SIREN (9 digits)")
_ORDINALS = ("First first name (natural persons)", "Second first name", "Third first name", "Fourth first name")

SIRENE_UL = TextSource(
    "sirene_ul", "stg_sirene_ul", "stock", None, (gz(r"^sireneUL\.csv"), gz(r"^StockUniteLegale_utf8\.csv")),
    expected="INSEE StockUniteLegale CSV",
    header=(
        "siren", "dateCreationUniteLegale", "prenom1UniteLegale", "prenom2UniteLegale", "prenom3UniteLegale",
        "prenom4UniteLegale", "etatAdministratifUniteLegale", "nomUniteLegale", "nomUsageUniteLegale",
        "denominationUniteLegale", "categorieJuridiqueUniteLegale", "activitePrincipaleUniteLegale",
        "nomenclatureActivitePrincipaleUniteLegale",
    ),
    fields=(
        _SIREN,
        Field("raison_sociale", "denominationUniteLegale", description="Company name (legal persons)"),
        *(Field(f"prenom{k}_unite_legale", f"prenom{k}UniteLegale", description=d)
          for k, d in enumerate(_ORDINALS, start=1)),
        Field("nom_unite_legale", "nomUniteLegale", description="Last name (natural persons)"),
        Field("nom_usage_unite_legale", "nomUsageUniteLegale", description="Usage name"),
        Field("categorie_juridique", "categorieJuridiqueUniteLegale", description="Legal form (4-digit code)"),
        ape_field("activite_principale", "activitePrincipaleUniteLegale", "APE, NAF rev2 (NN.NNX); NULL when the "
                  "code does not have that shape"),
        Field("creation", "dateCreationUniteLegale", "DATE", "Creation date", ISO_DATE, on_error="field",
              invalid="{raw} is not a valid YYYY-MM-DD date"),
        Field("est_actif", "etatAdministratifUniteLegale", "BOOLEAN", "Administrative state is A (active)",
              sql=f"coalesce({txt('etatAdministratifUniteLegale')} = 'A', false)"),
        ape_field("activite_principale_naf25", "activitePrincipaleNAF25UniteLegale", "Activity in NAF 2025 "
                  "(optional column, NULL when absent)", optional=True),
        Field("nic_siege", "nicSiegeUniteLegale", description="NIC of the head office", optional=True),
        luhn_of(_SIREN),
    ),
    rules=(
        digits_check("siren", 9, "SIREN"),
        nomenclature_filter("nomenclatureActivitePrincipaleUniteLegale"),
        ape_check("activitePrincipaleUniteLegale", "activity code is not a NAF rev2 code NN.NNX: left NULL"),
        ape_check("activitePrincipaleNAF25UniteLegale", "NAF 2025 activity code is not NN.NNX: left NULL"),
    ),
)
