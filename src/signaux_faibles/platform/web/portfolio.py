"""The followed portfolio's pages and exports: « Portefeuille de mon organisation » (``/portefeuille``) and the
exports of both portfolios, « Mes entreprises » (``/mes-entreprises/export.xlsx|docx``, the page itself is
``pages.my_companies``) and the organisation's (``/portefeuille/export.xlsx|docx``) — the real system's
``export/xlsx/follow`` and ``export/docx/follow``.

The rows come from the one portfolio service (``services.portfolio.portfolio_rows``: rights, audit); every route
asks the guard for ``ACCOUNT`` (one's own follow-up, one's organisation's), the service records the page view
(``list_viewed``) or the export (``export``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from ..policy import Action
from ..services.list_rows import PROCOL_STATES
from ..services.portfolio import Scope, portfolio_rows
from .context import Ctx
from .deps import CtxDep
from .formats import PARIS, fr_date, fr_procol_action, fr_procol_stage
from .guard import ensure_allowed
from .rendering import render
from .xlsx import CONFIDENTIALITY, table_workbook

__all__ = ["SCOPE_TITLES", "portfolio_docx", "portfolio_page", "procedure_label", "router"]

router = APIRouter(include_in_schema=False)
#: Each scope's title, and its pages' path.
SCOPE_TITLES: dict[Scope, str] = {
    "mine": "Mes entreprises suivies",
    "organisation": "Portefeuille de mon organisation",
}
SCOPE_PATHS: dict[Scope, str] = {"mine": "/mes-entreprises", "organisation": "/portefeuille"}
WITHHELD_LEVEL = "Non communiqué"
WITHHELD_WORK = "Réservé aux agents du territoire de l'entreprise et à ceux qui la suivent"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def procedure_label(p: Mapping[str, Any] | None) -> str | None:
    """A row's collective proceeding in French: « Redressement judiciaire (ouverture), le 15/09/2026 », or
    the proceeding state of the latest list (« Plan de redressement »); None when the firm is in bonis."""
    if not p:
        return None
    if p.get("date") is None:
        return PROCOL_STATES.get(p["action"], str(p["action"]).replace("_", " "))
    stage = f" ({fr_procol_stage(p['stade'])})" if p.get("stade") else ""
    label = f"{fr_procol_action(p['action'])}{stage}, le {fr_date(p['date'])}"
    return label[:1].upper() + label[1:]


def _present(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the French words the page and the exports print."""
    return [r | {"procedure_label": procedure_label(r["procedure"])} for r in rows]


def portfolio_page(ctx: Ctx, scope: Scope) -> Response:
    """The page of a portfolio (once the guard allowed ``ACCOUNT``)."""
    rows = _present(portfolio_rows(ctx, scope))
    return render(ctx, "portfolio.html" if scope == "organisation" else "my_companies.html", rows=rows, scope=scope,
                  title=SCOPE_TITLES[scope], base=SCOPE_PATHS[scope], organisation=ctx.actor.organisation,
                  withheld_level=WITHHELD_LEVEL, withheld_work=WITHHELD_WORK)  # fmt: skip


@router.get("/portefeuille")
def organisation_page(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ACCOUNT)
    return portfolio_page(ctx, "organisation")


# ------------------------------------------------------------------------------------------------------ exports


def _paris_day(v: Any) -> dt.date | None:
    """A time (naive: UTC, as stored) as its day in Paris; a date as is."""
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).astimezone(PARIS).date()
    return v if isinstance(v, dt.date) else None


def _level(r: Mapping[str, Any]) -> str:
    return WITHHELD_LEVEL if r["level_withheld"] else str(r["level_label"])


def _comment(r: Mapping[str, Any], key: str) -> Any:
    if r["work_withheld"]:
        return WITHHELD_WORK if key == "text" else None
    c = r["last_comment"]
    return (_paris_day(c["date"]) if key == "date" else c[key]) if c else None


#: A column of the XLSX export: French header, value of a row, kind (``text``, ``int``, ``date``).
Column = tuple[str, Callable[[Mapping[str, Any]], Any], str]
COLUMNS: list[Column] = [
    ("SIREN", lambda r: r["siren"], "text"),
    ("Raison sociale", lambda r: r["raison_sociale"], "text"),
    ("Département", lambda r: r["departement"], "text"),
    ("Catégorie de suivi", lambda r: ", ".join(r["categories"]), "text"),
    ("Suivie depuis le", lambda r: _paris_day(r["since"]), "date"),
    ("Niveau d'alerte (dernière liste)", _level, "text"),
    ("Liste", lambda r: r["level_list"], "text"),
    (
        "Évolution depuis la liste précédente",
        lambda r: None if r["level_withheld"] else r["change_label"] or "Sans changement",
        "text",
    ),
    ("Procédure collective", lambda r: r["procedure_label"], "text"),
    ("Accompagnement", lambda r: None if r["work_withheld"] else r["case_label"] or "Aucun", "text"),
    ("Dernier commentaire : date", lambda r: _comment(r, "date"), "date"),
    ("Dernier commentaire : organisation", lambda r: _comment(r, "organisation"), "text"),
    ("Dernier commentaire", lambda r: _comment(r, "text"), "text"),
]
ORGANISATION_COLUMNS: list[Column] = [
    ("Agents qui la suivent", lambda r: r["followers"], "int"),
    ("Suivie par", lambda r: ", ".join(f"{f['name']} ({f['category']})" for f in r["followed_by"]), "text"),
]
FORMATS = {"int": "0", "date": "DD/MM/YYYY"}


def _columns(scope: Scope) -> list[Column]:
    return COLUMNS[:5] + ORGANISATION_COLUMNS + COLUMNS[5:] if scope == "organisation" else COLUMNS


def _file_name(scope: Scope, ext: str) -> str:
    day = dt.datetime.now(PARIS).strftime("%Y%m%d")
    return f"{'mes-entreprises' if scope == 'mine' else 'portefeuille-organisation'}-{day}.{ext}"


def _xlsx(ctx: Ctx, scope: Scope, rows: list[dict[str, Any]]) -> bytes:
    """The portfolio as a workbook: a sheet of rows (French headers, dates as dates) and a sheet « Informations »."""
    columns = _columns(scope)
    assert ctx.user is not None
    summary: list[tuple[str, Any]] = [
        ("Portefeuille", SCOPE_TITLES[scope] + (f" ({ctx.actor.organisation})" if scope == "organisation" else "")),
        ("Exporté le", dt.datetime.now(PARIS).strftime("%d/%m/%Y %H:%M")),
        ("Exporté par", ctx.user.email),
        ("Entreprises", len(rows)),
        ("Niveau d'alerte", "Celui de la dernière liste publiée où figure l'entreprise ; « Non communiqué » quand "
                            "votre habilitation ne permet pas de voir le score de cette entreprise."),
        CONFIDENTIALITY,
    ]  # fmt: skip
    return table_workbook(
        "Portefeuille",
        [h for h, _, _ in columns],
        ([(get(r), FORMATS.get(kind)) for _, get, kind in columns] for r in rows),
        "Informations",
        summary,
    )


def _export(ctx: Ctx, scope: Scope, fmt: str) -> Response:
    """A portfolio's export (once the guard allowed ``ACCOUNT``), recorded by the service as an ``export``."""
    rows = _present(portfolio_rows(ctx, scope, export=fmt))
    ctx.finish()
    if fmt == "xlsx":
        content, media = _xlsx(ctx, scope, rows), XLSX
    else:
        assert ctx.user is not None
        title = SCOPE_TITLES[scope] + (f" — {ctx.actor.organisation}" if scope == "organisation" else "")
        content, media = portfolio_docx(title, rows, ctx.user.name or ctx.user.email), DOCX
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{_file_name(scope, fmt)}"'},
    )


def _facts(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A company's facts in the DOCX, as (label, value) lines."""
    since = f"{', '.join(r['categories'])}, depuis le {fr_date(r['since'])}"
    lines = [("Département", r["departement"] or ""), ("Suivi", since)]
    if r["followed_by"]:
        lines.append(("Suivie par", ", ".join(f"{f['name']} ({f['category']})" for f in r["followed_by"])))
    level = _level(r) + (f" (liste {r['level_list']})" if r["level_list"] and not r["level_withheld"] else "")
    lines += [
        ("Niveau d'alerte", level),
        (
            "Évolution depuis la liste précédente",
            WITHHELD_LEVEL if r["level_withheld"] else r["change_label"] or "Sans changement",
        ),
        ("Procédure collective", r["procedure_label"] or "Aucune"),
        ("Accompagnement", WITHHELD_WORK if r["work_withheld"] else r["case_label"] or "Aucun"),
    ]
    return lines


def _last_comment_text(r: Mapping[str, Any]) -> str:
    if r["work_withheld"]:
        return WITHHELD_WORK + "."
    c = r["last_comment"]
    if not c:
        return "Aucun commentaire."
    return f"Le {fr_date(c['date'])}, {c['organisation']} : « {c['text']} »"


def portfolio_docx(title: str, rows: list[dict[str, Any]], generated_by: str) -> bytes:
    """One Word document of a portfolio: a title, the date (Europe/Paris), one section per company with the row's
    facts and its last comment (``rows`` from ``portfolio_rows``, with ``procedure_label``)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    from .charts import clean
    from .dossier import CONFIDENTIAL

    doc = Document()
    doc.core_properties.title = clean(title)
    doc.core_properties.author = clean(generated_by or "Signaux Faibles")
    doc.core_properties.subject = CONFIDENTIAL
    doc.core_properties.language = "fr-FR"
    header = doc.sections[0].header.paragraphs[0]
    header.text = CONFIDENTIAL
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading(clean(title), 0)
    when = dt.datetime.now(PARIS).strftime("%d/%m/%Y à %H:%M")
    n = len(rows)
    doc.add_paragraph(clean(f"Généré le {when} (heure de Paris) par {generated_by} depuis la plateforme Signaux "
                            f"Faibles — {n} entreprise{'s' if n > 1 else ''}."))  # fmt: skip
    warn = doc.add_paragraph().add_run(CONFIDENTIAL)
    warn.bold, warn.font.color.rgb = True, RGBColor(0xC9, 0x19, 0x1E)
    if not rows:
        doc.add_paragraph("Aucune entreprise suivie.")
    for r in rows:
        siren = r["siren"]
        doc.add_heading(
            clean(f"{r['raison_sociale'] or 'Entreprise'} — SIREN {siren[:3]} {siren[3:6]} {siren[6:]}"), 1
        )
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in _facts(r):
            cells = table.add_row().cells
            cells[0].text, cells[1].text = clean(label), clean(value)
            for c in cells:
                for run in c.paragraphs[0].runs:
                    run.font.size = Pt(9)
            cells[0].paragraphs[0].runs[0].bold = True
        doc.add_paragraph().add_run("Dernier commentaire").bold = True
        doc.add_paragraph(clean(_last_comment_text(r)))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@router.get("/mes-entreprises/export.xlsx")
def my_companies_xlsx(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ACCOUNT)
    return _export(ctx, "mine", "xlsx")


@router.get("/mes-entreprises/export.docx")
def my_companies_docx(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ACCOUNT)
    return _export(ctx, "mine", "docx")


@router.get("/portefeuille/export.xlsx")
def organisation_xlsx(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ACCOUNT)
    return _export(ctx, "organisation", "xlsx")


@router.get("/portefeuille/export.docx")
def organisation_docx(ctx: CtxDep) -> Response:
    ensure_allowed(ctx, Action.ACCOUNT)
    return _export(ctx, "organisation", "docx")
