"""The platform's spreadsheet exports: one table sheet (bold French headers, frozen, number formats) and one sheet
of parameters (what was exported, when, by whom, how confidential). Used by the list export and the portfolio's."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CONFIDENTIALITY", "table_workbook"]

CONFIDENTIALITY = (
    "Confidentialité",
    "Données confidentielles : diffusion limitée aux agents habilités, dans le cadre de leur mission.",
)


def table_workbook(
    sheet: str,
    header: Sequence[str],
    rows: Iterable[Sequence[tuple[Any, str | None]]],
    meta_sheet: str,
    meta: Sequence[tuple[str, Any]],
) -> bytes:
    """A write-only workbook: ``rows`` of (value, number format or None) under ``header`` in ``sheet``, then
    ``meta`` (parameter, value) in ``meta_sheet``. Text cells are always text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(ws: Any, value: Any, fmt: str | None = None, font: Font | None = None) -> Any:
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the text starts with
        if fmt and value is not None:
            c.number_format = fmt
        if font is not None:
            c.font = font
        return c

    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"
    ws.append([cell(ws, h, font=bold) for h in header])
    for row in rows:
        ws.append([cell(ws, v, fmt) for v, fmt in row])
    info = wb.create_sheet(meta_sheet)
    info.append([cell(info, "Paramètre", font=bold), cell(info, "Valeur", font=bold)])
    for k, v in meta:
        info.append([cell(info, k), cell(info, v)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
