"""Altares payment behaviour: paydex and the FPI alert scores, in the three deliveries the real system knows.

Each gives the same staging columns (``siren, date_valeur, etat_organisation, code_paydex, nbr_jrs_retard,
nbr_fournisseurs, encours_etudies, fpi_30, fpi_90``, plus what the file alone carries); the panel unions them
(``clean_paydex``, ``clean_fpi``). Layouts: OSF ``tools/altares/formats.md`` and ``pkg/altares/convert*.go``.

- ``altares_stock`` (``SF_DATA_<yyyymmdd>.txt|csv`` → ``stg_altares_stock``, stock): the raw Altares **stock**
  file, ``;``-separated, 11 columns ``SIREN;ETAT_ORGANISATION;CODE_PAYDEX;PAYDEX;NBR_JRS_RETARD;NBR_FOURNISSEURS;
  ENCOURS_ETUDIES;NBR_EXPERIENCES_PAIEMENT;NOTE100_ALERTEUR_PLUS_30;NOTE100_ALERTEUR_PLUS_90_JOURS;DATE_VALEUR``,
  ``DATE_VALEUR`` as ``dd/mm/yyyy`` (``yyyy-mm-dd`` accepted too: the real tool's test faker writes it). UTF-8
  (the real converter reads it undecoded, where it decodes the increment from ISO-8859-15).
- ``altares_increment`` (``S_<12 digits>-<n>_<12 digits>.csv`` → ``stg_altares_increment``, flux): the
  **monthly increment**, ISO-8859-15, ``;``-separated, 31 columns (each line ends with a ``;``), then a trailer
  line ``Fin du fichier : total <n> ligne(s)``. The trailer is not a record; a file without it, or whose count
  disagrees with the records read, is refused whole (a truncated delivery). Date ``yyyy-mm-dd`` (date of effect
  of the movement).
- ``altares_datapi`` (``*paydex*.zip`` / ``*altares*.zip`` → ``stg_altares_datapi``, stock): the datapi import
  format, a zip holding one ``,``-separated UTF-8 CSV ``siren,état_organisation,code_paydex,nbr_jrs_retard,
  nbr_fournisseurs,encours_étudiés,note_100_alerteur_plus_30,note_100_alerteur_plus_90_jours,date_valeur``
  (ISO dates): the stock and the increments already converted and concatenated.

``fpi_30`` / ``fpi_90`` (Altares "note 100 alerteur": out of 100, the risk of a payment over 30 / 90 days late)
are kept as delivered, NULL when empty; an unreadable value is set to NULL (field-level rejection). The paydex
(``nbr_jrs_retard``, days late) likewise. A row needs a SIREN and a readable date.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path

from signaux_faibles.sources._read import FileError, RawRead, read_text
from signaux_faibles.sources._read.spec import ISO_DATE, NUMBER, WHOLE, Field, Parser, TextSource, gz, luhn_of
from signaux_faibles.sources._read.text import raw_table
from signaux_faibles.sources._sql import fr_date, iso_date

__all__ = [
    "ALTARES_DATAPI",
    "ALTARES_INCREMENT",
    "ALTARES_STOCK",
    "INCREMENT_HEADER",
    "STOCK_HEADER",
    "TRAILER",
]

#: ``dd/mm/yyyy``, or ``yyyy-mm-dd``.
_FR_OR_ISO = Parser(lambda v: f"coalesce({fr_date(v)}, {iso_date(v)})", "dd/mm/yyyy")

STOCK_HEADER = (
    "SIREN", "ETAT_ORGANISATION", "CODE_PAYDEX", "PAYDEX", "NBR_JRS_RETARD", "NBR_FOURNISSEURS", "ENCOURS_ETUDIES",
    "NBR_EXPERIENCES_PAIEMENT", "NOTE100_ALERTEUR_PLUS_30", "NOTE100_ALERTEUR_PLUS_90_JOURS", "DATE_VALEUR",
)  # fmt: skip

INCREMENT_HEADER = (
    "Référence Client", "Siren", "Siret", "Raison sociale 1", "Raison sociale 2", "Enseigne", "Sigle",
    "Complément d'adresse", "Adresse", "Distribution spéciale", "Code postal et bureau distributeur", "Pays",
    "Code postal", "Ville", "Qualité Etablissement", "Code type d'établissement", "Libellé type d'établissement",
    "Etat d'activité établissement", "Etat d'activité entreprise", "Etat de procédure collective", "Diffusible",
    "Paydex", "Retard moyen de paiements (j)", "Nombre de fournisseurs analysés",
    "Montant total des encours étudiés (€)", "Montant total des encours échus non réglés (€)", "FPI 30+", "FPI 90+",
    "Code du mouvement", "Libellé du mouvement", "Date d'effet du mouvement",
)  # fmt: skip

DATAPI_HEADER = (
    "siren", "état_organisation", "code_paydex", "nbr_jrs_retard", "nbr_fournisseurs", "encours_étudiés",
    "note_100_alerteur_plus_30", "note_100_alerteur_plus_90_jours", "date_valeur",
)  # fmt: skip

#: The increment's last line.
TRAILER = re.compile(r"^\s*Fin du fichier : total (\d+) ligne\(s\)")


def _fields(raw: tuple[str, ...], date: Parser, date_label: str) -> tuple[Field, ...]:
    """The common columns, read from the raw headers ``raw`` (siren, état, code paydex, days late, suppliers,
    amount studied, FPI 30, FPI 90, date)."""
    siren = Field("siren", raw[0], description="SIREN (9 digits)", identifier="siren")
    return (
        siren,
        Field("date_valeur", raw[8], "DATE", "Date of the values", date, required=True, label=date_label),
        Field(
            "etat_organisation",
            raw[1],
            description="State of the company as Altares knows it (Actif, Fermé…)",
        ),
        Field("code_paydex", raw[2], description="Paydex code as delivered (e.g. 078)"),
        Field(
            "nbr_jrs_retard",
            raw[3],
            "INTEGER",
            "Paydex: average payment delay beyond terms, days",
            WHOLE,
            on_error="field",
            label="whole number of days",
        ),
        Field("nbr_fournisseurs", raw[4], "INTEGER", "Number of suppliers analysed", WHOLE, on_error="field"),
        Field(
            "encours_etudies",
            raw[5],
            "DOUBLE",
            "Total amount of the payments studied, €",
            NUMBER,
            on_error="field",
            optional=True,
        ),
        Field(
            "fpi_30",
            raw[6],
            "DOUBLE",
            "FPI 30+: risk (out of 100) of a payment over 30 days late",
            NUMBER,
            on_error="field",
        ),
        Field(
            "fpi_90",
            raw[7],
            "DOUBLE",
            "FPI 90+: risk (out of 100) of a payment over 90 days late",
            NUMBER,
            on_error="field",
        ),
        luhn_of(siren),
    )


ALTARES_STOCK = TextSource(
    "altares_stock", "stg_altares_stock", "stock", "siren", (gz(r"^SF_DATA_[0-9]{8}\.(txt|csv)"),),
    delimiter=";",
    expected="Altares stock file (SIREN;ETAT_ORGANISATION;…;DATE_VALEUR)",
    header=STOCK_HEADER,
    fields=_fields(
        ("SIREN", "ETAT_ORGANISATION", "CODE_PAYDEX", "NBR_JRS_RETARD", "NBR_FOURNISSEURS", "ENCOURS_ETUDIES",
         "NOTE100_ALERTEUR_PLUS_30", "NOTE100_ALERTEUR_PLUS_90_JOURS", "DATE_VALEUR"),
        _FR_OR_ISO, "dd/mm/yyyy",
    ),
)  # fmt: skip

_INCREMENT_RAW = (
    "Siren", "Etat d'activité entreprise", "Paydex", "Retard moyen de paiements (j)",
    "Nombre de fournisseurs analysés", "Montant total des encours étudiés (€)", "FPI 30+", "FPI 90+",
    "Date d'effet du mouvement",
)  # fmt: skip


def _read_increment(path: Path) -> RawRead:
    """The text reader, then the trailer: dropped from the records, its count checked."""
    src = ALTARES_INCREMENT
    required, optional = src.raw_headers()
    raw = read_text(path, delimiter=";", required=required, optional=optional, encoding="iso-8859-15",
                    expected=src.expected)  # fmt: skip
    if raw.fatal is not None:
        return raw
    trailers = [r for r in raw.rejections if r[2] is not None and TRAILER.match(r[2])]
    last = max([int(r[0]) for r in raw.rejections] + raw.table.column("_line").to_pylist(), default=0)
    fatal = None
    if not trailers or int(trailers[-1][0]) != last:
        fatal = (
            f"{path.name}: no end-of-file line 'Fin du fichier : total <n> ligne(s)' (truncated delivery?)"
        )
    else:
        m = TRAILER.match(str(trailers[-1][2]))
        assert m is not None
        if int(m.group(1)) != raw.read - 1:
            fatal = (f"{path.name}: the end-of-file line announces {m.group(1)} line(s), the file holds "
                     f"{raw.read - 1} (truncated delivery?)")  # fmt: skip
    if fatal is not None:
        return RawRead(raw_table(list(raw.table.column_names[:-2]), []), 0, [], fatal)
    return RawRead(raw.table, raw.read - 1, [r for r in raw.rejections if r is not trailers[-1]])


ALTARES_INCREMENT = TextSource(
    "altares_increment", "stg_altares_increment", "flux", "siren",
    (gz(r"^S_[0-9]{12}-[0-9]+_[0-9]{12}\.csv"),),
    delimiter=";",
    encoding="iso-8859-15",
    expected="Altares monthly increment (ISO-8859-15, 31 columns, Siren;…;Date d'effet du mouvement)",
    header=INCREMENT_HEADER,
    reader=_read_increment,
    fields=(
        *_fields(_INCREMENT_RAW, ISO_DATE, "YYYY-MM-DD"),
        Field("siret", "Siret", description="SIRET of the establishment of the line", optional=True),
        Field("etat_procedure_collective", "Etat de procédure collective",
              description="State of collective proceedings as Altares knows it", optional=True),
        Field("code_mouvement", "Code du mouvement", description="Code of the movement", optional=True),
        Field("libelle_mouvement", "Libellé du mouvement", description="Label of the movement", optional=True),
    ),
)  # fmt: skip


def _read_datapi(path: Path) -> RawRead:
    """The one CSV of the zip, read by the text reader."""
    src = ALTARES_DATAPI
    required, optional = src.raw_headers()
    empty = raw_table([*required, *optional], [])
    try:
        with zipfile.ZipFile(path) as z:
            members = [i for i in z.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise FileError(f"{path.name}: the zip holds {len(members)} files, expected exactly one CSV")
            data = z.read(members[0])
    except (zipfile.BadZipFile, OSError) as e:
        return RawRead(empty, 0, [], f"{path.name}: not a readable zip ({e}); expected {src.expected}")
    except FileError as e:
        return RawRead(empty, 0, [], str(e))
    with tempfile.TemporaryDirectory() as tmp:
        inner = Path(tmp) / path.name
        inner.write_bytes(data)
        return read_text(inner, delimiter=",", required=required, optional=optional, expected=src.expected)


ALTARES_DATAPI = TextSource(
    "altares_datapi", "stg_altares_datapi", "stock", "siren",
    (re.compile(r"(?i)^.*(paydex|altares).*\.zip$"),),
    expected="datapi Altares import (a zip of one CSV: siren,état_organisation,…,date_valeur)",
    header=DATAPI_HEADER,
    reader=_read_datapi,
    fields=_fields(
        ("siren", "état_organisation", "code_paydex", "nbr_jrs_retard", "nbr_fournisseurs", "encours_étudiés",
         "note_100_alerteur_plus_30", "note_100_alerteur_plus_90_jours", "date_valeur"),
        ISO_DATE, "YYYY-MM-DD",
    ),
)  # fmt: skip
