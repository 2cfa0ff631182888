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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult, fatal_result
from signaux_faibles.sources._read import (
    Check,
    FileError,
    RawRead,
    finish,
    optional_value,
    raw_from_rows,
    read_all_bytes,
    siren_checks,
)
from signaux_faibles.sources._sql import digits, integer, luhn, num, txt

__all__ = ["ELLISPHERE", "POSITIONS", "EllisphereSource"]

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


@dataclass(frozen=True)
class EllisphereSource:
    """Ellisphere: the group (head and holding share) each company belongs to."""

    name: str = "ellisphere"
    table: str = "stg_ellisphere"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siren"
    patterns: tuple[re.Pattern[str], ...] = (re.compile(r"^Ellisph[èe]re-T[êe]te de groupe-.*\.xlsx$"),)
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", "FIL SIREN 9", "SIREN of the filiale (the company the row is about)"),
        Column("code_groupe", "VARCHAR", "GRP Code", "Code of the group / shareholder"),
        Column("siren_groupe", "VARCHAR", "GRP SIREN 9", "SIREN of the group head (NULL when foreign or absent)"),
        Column("refid_groupe", "VARCHAR", "GRP RefID", "Reference of the group head"),
        Column("raison_sociale_groupe", "VARCHAR", "GRP Raison Sociale", "Name of the group head"),
        Column("adresse_groupe", "VARCHAR", "GRP Adresse", "Address of the group head"),
        Column("personne_pou_m_groupe", "VARCHAR", "GRP Personne PouM", "Group head: natural (P) or legal (M)"),
        Column("niveau_detention", "INTEGER", "Niveau de détention", "Number of intermediaries between the head "
               "and the filiale"),
        Column("part_financiere", "DOUBLE", "% Financier", "Share of the filiale's capital held, %"),
        Column("code_filiere", "VARCHAR", "FIL Code", "Code of the filiale"),
        Column("refid_filiere", "VARCHAR", "FIL RefID", "Reference of the filiale"),
        Column("personne_pou_m_filiere", "VARCHAR", "FIL Personne PouM", "Filiale: natural (P) or legal (M)"),
        Column("raison_sociale_filiale", "VARCHAR", "FIL Raison Sociale", "Name of the filiale"),
        Column("siren_luhn_ok", "BOOLEAN", None, "The SIREN passes the Luhn check (false: flagged, not rejected)"),
    )

    def _rows(self, path: Path) -> Iterator[tuple[int, list[str | None], object]]:
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

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one Ellisphere workbook."""
        try:
            records = list(self._rows(path))
        except FileError as e:
            return fatal_result(self.columns, str(e))
        raw = RawRead(raw_from_rows(list(POSITIONS), records), len(records))
        siren, siren_grp = txt("FIL SIREN 9"), txt("GRP SIREN 9")
        values = {
            "siren": siren,
            "code_groupe": txt("GRP Code"),
            "siren_groupe": f"(CASE WHEN {digits(siren_grp, 9)} THEN {siren_grp} END)",
            "refid_groupe": txt("GRP RefID"),
            "raison_sociale_groupe": txt("GRP Raison Sociale"),
            "adresse_groupe": txt("GRP Adresse"),
            "personne_pou_m_groupe": txt("GRP Personne PouM"),
            "niveau_detention": integer(txt("Niveau de détention")),
            "part_financiere": num(txt("% Financier")),
            "code_filiere": txt("FIL Code"),
            "refid_filiere": txt("FIL RefID"),
            "personne_pou_m_filiere": txt("FIL Personne PouM"),
            "raison_sociale_filiale": txt("FIL Raison Sociale"),
            "siren_luhn_ok": luhn(siren),
        }
        checks = [
            *siren_checks("FIL SIREN 9", siren),
            Check("GRP SIREN 9", f"{siren_grp} IS NOT NULL AND NOT {digits(siren_grp, 9)}",
                  "GRP SIREN 9 is not 9 digits: left NULL", "field"),
            optional_value("Niveau de détention", integer(txt("Niveau de détention")), "Niveau de détention (whole number)"),
            optional_value("% Financier", num(txt("% Financier")), "% Financier (number)"),
        ]
        return finish(con, self.columns, raw, values, checks)


ELLISPHERE = EllisphereSource()
