"""Ellisphere company groups, legacy (``Ellisphère-Tête de groupe-*.xlsx``) → ``stg_ellisphere``.

Raw format (real_system.md §1.5, OSF-legacy ``lib/ellisphere``): an ``.xlsx`` workbook with exactly one sheet;
row 1 is the header; columns are read *by position*: 0 ``GRP Code``, 1 ``GRP Personne PouM``, 2 ``GRP SIREN 9``,
3 ``GRP RefID``, 4 ``GRP Raison Sociale``, 5 ``GRP Adresse``, 9 ``Niveau de détention``, 10 ``% Financier``,
12 ``FIL Code``, 13 ``FIL Personne PouM``, 14 ``FIL SIREN 9``, 15 ``FIL RefID``, 16 ``FIL Raison Sociale``.

The key is the *filiale*'s SIREN (column 14): a row without a valid one is rejected. ``_line`` is the sheet row.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from signaux_faibles.sources._read import Check, FileError, RawRead, raw_from_rows, read_all_bytes
from signaux_faibles.sources._read.spec import NUMBER, WHOLE, Field, TextSource, luhn_of
from signaux_faibles.sources._sql import digits, txt

__all__ = ["ELLISPHERE", "POSITIONS"]

#: Raw column → position in the sheet.
POSITIONS: dict[str, int] = {
    "GRP Code": 0, "GRP Personne PouM": 1, "GRP SIREN 9": 2, "GRP RefID": 3, "GRP Raison Sociale": 4,
    "GRP Adresse": 5, "Niveau de détention": 9, "% Financier": 10, "FIL Code": 12, "FIL Personne PouM": 13,
    "FIL SIREN 9": 14, "FIL RefID": 15, "FIL Raison Sociale": 16,
}


def _text(value: object) -> str | None:
    """An Excel cell as text: whole floats without ``.0``, dates in ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _rows(path: Path) -> Iterator[tuple[int, list[str | None], object]]:
        import io

        import openpyxl

        data = read_all_bytes(path)
        if not data:
            raise FileError(f"{path.name}: empty file, expected an Ellisphere .xlsx workbook")
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            raise FileError(f"{path.name}: not a readable .xlsx workbook ({e}); expected an Ellisphere export") from e
        except Exception as e:  # openpyxl raises its own exception types for damaged workbooks
            raise FileError(f"{path.name}: not a readable .xlsx workbook ({e}); expected an Ellisphere export") from e
        if len(wb.worksheets) != 1:
            raise FileError(f"{path.name}: the workbook has {len(wb.worksheets)} sheets, expected exactly 1")
        header_seen = False
        for line, cells in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
            values = [_text(c) for c in cells]
            if not any(v for v in values):
                continue
            values += [None] * (17 - len(values))
            if not header_seen:
                header_seen = True
                siren_head = (values[14] or "").upper()
                if "SIREN" not in siren_head or "FIL" not in siren_head:
                    raise FileError(
                        f"{path.name}: column 15 is {values[14]!r}, expected 'FIL SIREN 9' (Ellisphere columns are "
                        "read by position)"
                    )
                continue
            yield line, [values[i] for i in POSITIONS.values()], tuple(values)
        if not header_seen:
            raise FileError(f"{path.name}: empty sheet, expected an Ellisphere export with a header row")


def _read(path: Path) -> RawRead:
    """The sheet's rows as raw records (``_line`` is the sheet row)."""
    try:
        records = list(_rows(path))
    except FileError as e:
        return RawRead(raw_from_rows(list(POSITIONS), []), 0, [], str(e))
    return RawRead(raw_from_rows(list(POSITIONS), records), len(records))


_SIREN = Field("siren", "FIL SIREN 9", description="SIREN of the filiale (the company the row is about)",
               identifier="siren")
_SIREN_GRP = txt("GRP SIREN 9")

ELLISPHERE = TextSource(
    "ellisphere", "stg_ellisphere", "stock", "siren", (re.compile(r"^Ellisph[èe]re-T[êe]te de groupe-.*\.xlsx$"),),
    reader=_read,
    fields=(
        _SIREN,
        Field("code_groupe", "GRP Code", description="Code of the group / shareholder"),
        Field("siren_groupe", "GRP SIREN 9", description="SIREN of the group head (NULL when foreign or absent)",
              sql=f"(CASE WHEN {digits(_SIREN_GRP, 9)} THEN {_SIREN_GRP} END)"),
        Field("refid_groupe", "GRP RefID", description="Reference of the group head"),
        Field("raison_sociale_groupe", "GRP Raison Sociale", description="Name of the group head"),
        Field("adresse_groupe", "GRP Adresse", description="Address of the group head"),
        Field("personne_pou_m_groupe", "GRP Personne PouM", description="Group head: natural (P) or legal (M)"),
        Field("niveau_detention", "Niveau de détention", "INTEGER", "Number of intermediaries between the head "
              "and the filiale", WHOLE),
        Field("part_financiere", "% Financier", "DOUBLE", "Share of the filiale's capital held, %", NUMBER),
        Field("code_filiere", "FIL Code", description="Code of the filiale"),
        Field("refid_filiere", "FIL RefID", description="Reference of the filiale"),
        Field("personne_pou_m_filiere", "FIL Personne PouM", description="Filiale: natural (P) or legal (M)"),
        Field("raison_sociale_filiale", "FIL Raison Sociale", description="Name of the filiale"),
        luhn_of(_SIREN),
    ),
    rules=(
        Check("GRP SIREN 9", f"{_SIREN_GRP} IS NOT NULL AND NOT {digits(_SIREN_GRP, 9)}",
              "GRP SIREN 9 is not 9 digits: left NULL", "field"),
    ),
)
