"""The "Dossier entreprise": a Word document of a company's page, to share with the authorised partners.

``company_dossier_docx(view, work, generated_by)`` writes what the ``company_view`` dict holds (already filtered
by the access policy: a block the reader may not see is absent from the dict, so it is absent from the dossier;
nothing is ever added) and, when given, the follow-up (comments, accompaniment case). The charts are the page's
(``charts.chart_specs``) drawn as PNG with matplotlib's object API and the Agg canvas (no pyplot, no global
backend switch, nothing left open).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ...contract import ALERT_LABELS
from .charts import (
    BASE_LABEL,
    COLORS,
    GREEN,
    NBSP,
    RED,
    TOTAL_LABEL,
    ChartSpec,
    as_mapping,
    chart_specs,
    clean,
    fmt_month,
    fmt_number,
    fmt_percent,
    fmt_points,
    latest_score,
    parse_date,
    waterfall_rows,
)

__all__ = ["CONFIDENTIAL", "LEVER_LABELS", "alert_label", "company_dossier_docx"]

CONFIDENTIAL = "Document confidentiel — diffusion restreinte aux partenaires habilités"
#: what-if keys (the lever's theme, ``model.explain.LEVERS``) → the lever as agents read it.
LEVER_LABELS = {
    "dette URSSAF": "dette URSSAF réglée (délai de paiement, CCSF)",
    "activité partielle": "activité partielle terminée (reprise d'activité, FNE-Formation)",
    "retards de paiement": "retards de paiement fournisseurs résorbés (médiation du crédit)",
}
IDENTITY_FIELDS = (
    ("raison_sociale", "Raison sociale"),
    ("siren", "SIREN"),
    ("siret_siege", "SIRET du siège"),
    ("libelle_categorie_juridique", "Catégorie juridique"),
    ("libelle_activite_principale", "Activité principale"),
    ("libelle_naf_section", "Section NAF"),
    ("libelle_departement", "Département"),
    ("libelle_region", "Région"),
    ("creation", "Date de création"),
    ("est_actif", "Entreprise active"),
)
DIANE_COLUMNS = (
    ("ca", "Chiffre d'affaires (k€)"),
    ("resultat_expl", "Résultat d'exploitation (k€)"),
    ("excedent_brut_d_exploitation", "EBE (k€)"),
    ("benefice_ou_perte", "Bénéfice ou perte (k€)"),
    ("liquidite_generale", "Liquidité générale"),
    ("endettement", "Endettement (%)"),
    ("autonomie_financiere", "Autonomie financière (%)"),
    ("rentabilite_nette", "Rentabilité nette (%)"),
)
BDF_COLUMNS = (
    ("taux_marge", "Taux de marge (%)"),
    ("poids_frng", "Poids du FRNG (%)"),
    ("delai_fournisseur", "Délai fournisseurs (j)"),
    ("dette_fiscale", "Dette fiscale (%)"),
    ("financier_court_terme", "Financier court terme (%)"),
    ("frais_financier", "Frais financiers (%)"),
)


def alert_label(alert: Any) -> str:
    """``Alerte seuil F1`` → "Risque élevé", ``Alerte seuil F2`` → "Risque modéré", else "Pas d'alerte"."""
    return ALERT_LABELS.get(str(alert), "Pas d'alerte")


# ---------------------------------------------------------------------------------------------- formatting


def _date(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, str) and len(v) >= 10:
        try:
            return dt.date.fromisoformat(v[:10]).strftime("%d/%m/%Y") + (
                f" {v[11:16]}" if len(v) >= 16 and v[10] in "T " else ""
            )
        except ValueError:
            pass
    return "" if v is None else str(v)


def _num(v: Any, unit: str = "") -> str:
    if v is None or isinstance(v, bool):
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return fmt_number(f, unit) if f == f else ""


def _person(p: Any) -> str:
    if isinstance(p, Mapping):
        name = p.get("name") or p.get("email") or ""
        org = p.get("organisation")
        return f"{name} ({org})" if org else str(name)
    return "" if p is None else str(p)


def _now() -> dt.datetime:
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo("Europe/Paris"))
    except Exception:  # no tz database: local time
        return dt.datetime.now()


# ------------------------------------------------------------------------------------------------- charts


def chart_png(spec: ChartSpec, width_in: float = 6.5, dpi: int = 150) -> bytes:
    """One chart spec (same data as the page's SVG) as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    if spec.kind == "waterfall":
        rows = waterfall_rows(spec.base, spec.contributions, spec.total)
        fig = Figure(figsize=(width_in, 0.9 + 0.36 * len(rows)), dpi=dpi)
    else:
        fig = Figure(figsize=(width_in, 2.6), dpi=dpi)
    FigureCanvasAgg(fig)
    tick_unit = (
        spec.unit if len(spec.unit) <= 3 else ""
    )  # as on the page: "salariés" is in the title, not ticks
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    if spec.kind == "waterfall":
        colours = {"base": COLORS[0], "total": COLORS[0], "increase": RED, "decrease": GREEN}
        labels = [r[0] for r in rows]
        ys = list(range(len(rows)))[::-1]
        for y, (_, kind, start, end, value) in zip(ys, rows, strict=True):
            lo, hi = sorted((start, end))
            ax.barh(y, max(hi - lo, 1e-4), left=lo, color=colours[kind], height=0.6)
            shown = fmt_percent(value) if kind in ("base", "total") else fmt_points(value)
            ax.text(hi, y, " " + shown, va="center", fontsize=7, fontweight="bold")
        ax.set_yticks(ys, labels)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt_number(round(x * 100, 6), "%")))
        ax.set_xlim(
            min(0.0, *(r[2] for r in rows), *(r[3] for r in rows)), max(r[3] for r in rows) * 1.18 + 1e-3
        )
    elif spec.kind == "line":
        for i, (name, pts) in enumerate(spec.series):
            dated = sorted(
                ((d, v) for label, v in pts if (d := parse_date(label)) is not None), key=lambda p: p[0]
            )
            days = [float(date2num(d)) for d, _ in dated]
            values = [float("nan") if v is None else v for _, v in dated]
            ax.plot(
                days,
                values,
                color=COLORS[i % len(COLORS)],
                label=name,
                linewidth=1.6,
                marker="." if sum(v is not None for _, v in dated) < 3 else None,
            )
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _month_of_num(x)))
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda y, _: fmt_number(y, tick_unit, 0 if abs(y) >= 10 else None))
        )
        ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=len(spec.series))
    else:
        cats = sorted({c for _, pts in spec.series for c, v in pts if v is not None}, key=_cat_key)
        n = len(spec.series)
        w = 0.8 / n
        for i, (name, pts) in enumerate(spec.series):
            known = {c: v for c, v in pts if v is not None}
            ax.bar(
                [j - 0.4 + w * (i + 0.5) for j, c in enumerate(cats) if c in known],
                [known[c] for c in cats if c in known],
                width=w * 0.9,
                color=COLORS[i % len(COLORS)],
                label=name,
            )
        ax.set_xticks(range(len(cats)), cats)
        ax.axhline(0, color="#666666", linewidth=0.8)
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda y, _: fmt_number(y, tick_unit, 0 if abs(y) >= 10 else None))
        )
        ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=n)
    ax.set_title(spec.title, fontsize=9, loc="left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    fig.clear()
    return buf.getvalue()


def _month_of_num(x: float) -> str:
    from matplotlib.dates import num2date

    try:
        return fmt_month(num2date(x).date().isoformat())
    except (ValueError, OverflowError):
        return ""


def _cat_key(c: str) -> tuple[int, float | str]:
    try:
        return (0, float(c))
    except ValueError:
        return (1, c)


# -------------------------------------------------------------------------------------------------- docx


def _field(paragraph: Any, instr: str) -> None:
    """A Word field (``PAGE``) in a paragraph."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, h in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(clean(h))
        run.bold = True
    for r in rows:
        cells = table.add_row().cells
        for cell, v in zip(cells, r, strict=True):
            cell.text = clean("" if v is None else v)
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
    return table


def _para(doc: Any, text: str, style: str | None = None, italic: bool = False) -> Any:
    p = doc.add_paragraph(style=style)
    run = p.add_run(clean(text))
    run.italic = italic
    return p


def _picture(doc: Any, spec: ChartSpec | None) -> None:
    if spec is None or not spec.has_data():
        return
    doc.add_picture(io.BytesIO(chart_png(spec)), width=Cm(16))
    _para(doc, spec.title, "Caption" if "Caption" in [s.name for s in doc.styles] else None, italic=True)


def _identity(doc: Any, view: Mapping[str, Any]) -> None:
    ident = dict(view.get("identity") or {})
    rows = []
    for key, label in IDENTITY_FIELDS:
        v = ident.get(key)
        if v is None or v == "":
            continue
        if key == "libelle_activite_principale" and ident.get("activite_principale"):
            v = f"{v} ({ident['activite_principale']})"
        elif key == "libelle_departement" and ident.get("departement"):
            v = f"{v} ({ident['departement']})"
        elif key == "creation":
            v = _date(v)
        elif key == "est_actif":
            v = "oui" if v else "non"
        rows.append((label, v))
    if not ident.get("libelle_departement") and ident.get("departement"):
        rows.append(("Département", ident["departement"]))
    doc.add_heading("Identité", 1)
    _table(doc, ("Champ", "Valeur"), rows)


def _establishments(doc: Any, view: Mapping[str, Any]) -> None:
    etabs = [e for e in view.get("establishments") or [] if isinstance(e, Mapping)]
    doc.add_heading("Établissements", 1)
    if not etabs:
        _para(doc, "Aucun établissement connu.")
        return
    _table(
        doc,
        ("SIRET", "Siège", "Adresse", "Département", "Actif"),
        [
            (
                e.get("siret"),
                "oui" if e.get("siege") else "",
                e.get("adresse") or "",
                e.get("libelle_departement") or e.get("departement") or "",
                "oui" if e.get("est_actif") else "non",
            )
            for e in etabs
        ],
    )


def _score(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    doc.add_heading("Score de risque", 1)
    score = latest_score(view)
    if score is None:
        _para(doc, "Cette entreprise n'a pas de score publié.")
        return
    p = score.get("probability")
    lines = [
        ("Liste", score.get("liste") or ""),
        ("Période", fmt_month(str(score.get("periode") or ""))),
        ("Niveau d'alerte", alert_label(score.get("alert"))),
        ("Probabilité de défaillance à 18 mois", fmt_percent(float(p)) if isinstance(p, int | float) else ""),
    ]
    base = score.get("base_probability")
    if isinstance(base, int | float):
        lines.append((f"Probabilité de l'{BASE_LABEL.lower()}", fmt_percent(float(base))))
    _table(doc, ("Élément", "Valeur"), lines)
    macro = as_mapping(score.get("macro_expl"))
    if macro:
        doc.add_heading("Explication par thème", 2)
        _para(
            doc,
            "Contribution de chaque thème à la probabilité, en points de pourcentage, depuis la probabilité "
            f"de l'{BASE_LABEL.lower()} jusqu'à la « {TOTAL_LABEL.lower()} ».",
        )
        _table(
            doc,
            ("Thème", "Contribution"),
            [(k, fmt_points(float(v))) for k, v in macro.items() if isinstance(v, int | float) and v != 0],
        )
        _picture(doc, specs.get("waterfall"))
    what_if = as_mapping(score.get("what_if"))
    if what_if and isinstance(p, int | float):
        doc.add_heading("Leviers (simulation)", 2)
        _para(doc, "Probabilité recalculée si une difficulté était levée, toutes choses égales par ailleurs.")
        _table(
            doc,
            ("Levier", "Probabilité après", "Variation"),
            [
                (LEVER_LABELS.get(str(k), str(k)), fmt_percent(float(v)), fmt_points(float(v) - float(p)))
                for k, v in what_if.items()
                if isinstance(v, int | float)
            ],
        )
    if len(view.get("scores") or []) > 1:
        doc.add_heading("Historique des scores", 2)
        _table(
            doc,
            ("Liste", "Alerte", "Probabilité"),
            [
                (
                    s.get("liste") or "",
                    alert_label(s.get("alert")),
                    fmt_percent(float(s["probability"]))
                    if isinstance(s.get("probability"), int | float)
                    else "",
                )
                for s in view["scores"]
                if isinstance(s, Mapping)
            ],
        )


def _last(rows: Any, key: str) -> Mapping[str, Any] | None:
    known = [r for r in rows or [] if isinstance(r, Mapping) and r.get(key) is not None]
    return known[-1] if known else None


def _effectif(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    doc.add_heading("Effectif", 1)
    last = _last(view.get("effectif"), "effectif")
    if last is None:
        _para(doc, "Pas d'effectif connu.")
    else:
        _para(
            doc, f"Dernier effectif connu : {_num(last['effectif'])} salariés ({fmt_month(last['periode'])})."
        )
    _picture(doc, specs.get("effectif"))


def _urssaf(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    doc.add_heading("Cotisations et dette URSSAF", 1)
    rows = [r for r in view.get("urssaf") or [] if isinstance(r, Mapping)]
    known = [r for r in rows if any(r.get(k) is not None for k in ("cotisation", "dette"))]
    if not known:
        _para(doc, "Pas de données URSSAF.")
        return
    _picture(doc, specs.get("urssaf"))
    _table(
        doc,
        (
            "Mois",
            "Cotisations",
            "Dette part ouvrière",
            "Dette part patronale",
            "Échéancier",
            "Jours restants",
        ),
        [
            (
                fmt_month(r.get("periode") or ""),
                _num(r.get("cotisation"), "€"),
                _num(r.get("dette_part_ouvriere"), "€"),
                _num(r.get("dette_part_patronale"), "€"),
                _num(r.get("delai_montant_echeancier"), "€"),
                _num(r.get("delai_nb_jours_restants")),
            )
            for r in known[-12:]
        ],
    )


def _dgefp(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    doc.add_heading("Activité partielle", 1)
    rows = [r for r in view.get("dgefp") or [] if isinstance(r, Mapping)]
    months = [r for r in rows if (r.get("apart_heures_autorisees") or 0) > 0]
    if not months:
        _para(doc, "Pas d'activité partielle connue.")
        return
    _para(doc, f"{len(months)} mois avec des heures d'activité partielle autorisées.")
    _picture(doc, specs.get("dgefp"))


def _finance(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    doc.add_heading("Comptes annuels", 1)
    diane = [d for d in view.get("diane") or [] if isinstance(d, Mapping)]
    if not diane:
        _para(doc, "Pas de comptes publiés.")
    else:
        cols = [(k, label) for k, label in DIANE_COLUMNS if any(d.get(k) is not None for d in diane)]
        _table(
            doc,
            ("Exercice", *(label for _, label in cols)),
            [(d.get("exercice"), *(_num(d.get(k)) for k, _ in cols)) for d in diane],
        )
        _picture(doc, specs.get("finance"))
    if "bdf" in view:
        doc.add_heading("Ratios Banque de France", 2)
        bdf = [b for b in view.get("bdf") or [] if isinstance(b, Mapping)]
        if not bdf:
            _para(doc, "Pas de ratios Banque de France.")
            return
        _table(
            doc,
            ("Arrêté du bilan", *(label for _, label in BDF_COLUMNS)),
            [(_date(b.get("arrete_bilan")), *(_num(b.get(k)) for k, _ in BDF_COLUMNS)) for b in bdf],
        )
        _picture(doc, specs.get("bdf"))


def _procol(doc: Any, view: Mapping[str, Any]) -> None:
    doc.add_heading("Procédures collectives", 1)
    events = [p for p in view.get("procol") or [] if isinstance(p, Mapping)]
    if not events:
        _para(doc, "Aucune procédure collective connue.")
        return
    for e in events:
        from .formats import fr_procol_action, fr_procol_stage

        words = (fr_procol_action(e.get("action_procol")).capitalize(), fr_procol_stage(e.get("stade_procol")))
        label = ", ".join(w for w in words if w)
        extra = f" ({e['libelle_procol']})" if e.get("libelle_procol") else ""
        _para(doc, f"{_date(e.get('date_effet'))} : {label}{extra}", "List Bullet")


# ------------------------------------------------------------------------- the partners' blocks (issue 23)


def _group(doc: Any, view: Mapping[str, Any]) -> None:
    """« Groupe » (Ellisphere): each group, its head and the other members."""
    doc.add_heading("Groupe", 1)
    groups = [g for g in view.get("groupes") or [] if isinstance(g, Mapping)]
    if not groups:
        _para(doc, "Aucune donnée Ellisphere pour cette entreprise : pas de groupe connu.")
        return
    for g in groups:
        head = g.get("tete") if isinstance(g.get("tete"), Mapping) else None
        text = f"Groupe {g.get('raison_sociale_groupe') or g.get('code_groupe')}"
        if g.get("est_tete"):
            text += " ; tête de groupe : cette entreprise"
        elif head:
            text += f" ; tête de groupe : {head.get('raison_sociale') or ''} (SIREN {head.get('siren')})".replace(
                ":  (", ": ("
            )
        if not g.get("est_tete") and g.get("part_financiere") is not None:
            text += f" ; part détenue dans cette entreprise : {_num(g.get('part_financiere'), '%')}"
        _para(doc, text + ".")
        members = [o for o in g.get("membres") or [] if isinstance(o, Mapping)]
        if members:
            _table(
                doc,
                ("Entreprise", "SIREN", "Niveau de détention", "Part détenue"),
                [
                    (
                        (o.get("raison_sociale") or "") + (" (tête de groupe)" if o.get("tete") else ""),
                        o.get("siren"),
                        "" if o.get("niveau_detention") is None else str(o.get("niveau_detention")),
                        _num(o.get("part_financiere"), "%"),
                    )
                    for o in members
                ],
            )
            total = g.get("membres_total")
            if isinstance(total, int) and total > len(members):
                _para(doc, f"… et {total - len(members)} autres entreprises du groupe ({total} en tout).", italic=True)


def _ccsf(doc: Any, view: Mapping[str, Any]) -> None:
    """The CCSF plans (URSSAF)."""
    doc.add_heading("Plans d'apurement CCSF", 2)
    events = [e for e in view.get("ccsf") or [] if isinstance(e, Mapping)]
    if not events:
        _para(doc, "Aucune donnée CCSF pour cette entreprise : pas de plan d'apurement connu.")
        return
    _table(
        doc,
        ("Date", "Étape", "Nature", "Établissement"),
        [
            (_date(e.get("date_traitement")), (e.get("stade_fr") or "").capitalize(),
             e.get("action_fr") or "", e.get("siret"))
            for e in events
        ],
    )  # fmt: skip


def _payments(doc: Any, view: Mapping[str, Any], specs: Mapping[str, ChartSpec]) -> None:
    """« Paiements » (Altares): the last 12 paydex and FPI values, newest first, and the charts."""
    doc.add_heading("Paiements", 1)
    rows = [r for r in view.get("paiements") or [] if isinstance(r, Mapping)]
    if not rows:
        _para(doc, "Aucune donnée Altares pour cette entreprise : ni paydex ni indice FPI.")
        return
    _para(doc, "Paydex : retard moyen des paiements aux fournisseurs, en jours ; indices FPI : risque, sur 100, "
               "d'un paiement avec plus de 30 ou de 90 jours de retard (Altares).")  # fmt: skip
    _table(
        doc,
        ("Date de valeur", "Paydex (jours de retard)", "FPI 30 jours", "FPI 90 jours"),
        [
            (_date(r.get("date_valeur")), _num(r.get("paydex_jours")), _num(r.get("fpi_30")), _num(r.get("fpi_90")))
            for r in reversed(rows[-12:])
        ],
    )
    _picture(doc, specs.get("paydex"))
    _picture(doc, specs.get("fpi"))


def _flatten(comments: Any, depth: int = 0) -> list[tuple[int, Mapping[str, Any]]]:
    out: list[tuple[int, Mapping[str, Any]]] = []
    for c in comments or []:
        if isinstance(c, Mapping):
            out.append((depth, c))
            out += _flatten(c.get("replies"), depth + 1)
    return out


def _work(doc: Any, work: Mapping[str, Any]) -> None:
    case = work.get("case")
    if isinstance(case, Mapping):
        doc.add_heading("Accompagnement", 1)
        lines = [("État", case.get("state_label") or case.get("state") or "")]
        if case.get("referent"):
            lines.append(("Référent", _person(case["referent"])))
        parts = [_person(p) for p in case.get("participants") or []]
        if parts:
            lines.append(("Participants", ", ".join(parts)))
        if case.get("opened_at"):
            lines.append(("Ouvert le", _date(case["opened_at"])))
        if case.get("summary"):
            lines.append(("Synthèse", case["summary"]))
        _table(doc, ("Élément", "Valeur"), lines)
        difficulties = [str(d) for d in case.get("difficulties") or [] if d]
        if difficulties:
            doc.add_heading("Difficultés identifiées", 2)
            for d in difficulties:
                _para(doc, d, "List Bullet")
        measures = [m for m in case.get("measures") or [] if isinstance(m, Mapping)]
        if measures:
            doc.add_heading("Mesures d'accompagnement", 2)
            _table(
                doc,
                ("Mesure", "Statut", "Résultat"),
                [
                    (
                        m.get("label") or m.get("measure") or "",
                        m.get("status_label") or m.get("status") or "",
                        m.get("outcome") or "",
                    )
                    for m in measures
                ],
            )
    comments = _flatten(work.get("comments"))
    if comments:
        doc.add_heading("Commentaires", 1)
        for depth, c in comments:
            p = doc.add_paragraph()
            if depth:
                p.paragraph_format.left_indent = Cm(min(depth, 4) * 0.8)
            head = p.add_run(clean(f"{_person(c.get('author')) or 'Anonyme'} — {_date(c.get('created_at'))}"))
            head.bold = True
            p.add_run("\n" + clean(c.get("body") or ""))


def company_dossier_docx(
    view: Mapping[str, Any],
    work: Mapping[str, Any] | None = None,
    generated_by: str = "",
    *,
    generated_at: dt.datetime | None = None,
) -> bytes:
    """The "Dossier entreprise" (.docx bytes) of a ``company_view`` dict: identity, establishments, and only the
    blocks present in the view (group, score with themes and levers, URSSAF with the CCSF plans, activité
    partielle, Banque de France, payments: paydex and FPI), the
    page's charts as pictures, the collective proceedings, and ``work`` (``comments``, ``case``) when given."""
    ident = dict(view.get("identity") or {})
    siren = str(view.get("siren") or ident.get("siren") or "")
    name = str(ident.get("raison_sociale") or f"Entreprise {siren}")
    when = generated_at or _now()
    specs = chart_specs(view)

    doc = Document()
    props = doc.core_properties
    props.title = clean(f"Dossier entreprise — {name} ({siren})")
    props.author = clean(generated_by or "Signaux Faibles")
    props.subject = CONFIDENTIAL
    props.language = "fr-FR"
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = CONFIDENTIAL
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in header.runs:
        run.font.size = Pt(8)
        run.font.color.rgb = RGBColor(0xC9, 0x19, 0x1E)
    footer = section.footer.paragraphs[0]
    footer.text = f"{CONFIDENTIAL} — Signaux Faibles — page{NBSP}"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE")
    for run in footer.runs:
        run.font.size = Pt(8)

    doc.add_heading(clean(f"Dossier entreprise — {name}"), 0)
    siren_txt = " ".join((siren[:3], siren[3:6], siren[6:])) if len(siren) == 9 else siren
    _para(doc, f"SIREN {siren_txt}")
    by = f" par {generated_by}" if generated_by else ""
    _para(
        doc,
        f"Généré le {when.strftime('%d/%m/%Y à %H:%M')}{by} depuis la plateforme Signaux Faibles.",
        italic=True,
    )
    warn = _para(doc, CONFIDENTIAL)
    for run in warn.runs:
        run.bold = True
        run.font.color.rgb = RGBColor(0xC9, 0x19, 0x1E)
    if view.get("in_territory") is False:
        _para(doc, "Entreprise hors du territoire du rédacteur, consultée car suivie.", italic=True)

    _identity(doc, view)
    _establishments(doc, view)
    if "groupes" in view:
        _group(doc, view)
    if "scores" in view:
        _score(doc, view, specs)
    _effectif(doc, view, specs)
    if "urssaf" in view:
        _urssaf(doc, view, specs)
    if "ccsf" in view:
        _ccsf(doc, view)
    if "dgefp" in view:
        _dgefp(doc, view, specs)
    _finance(doc, view, specs)
    if "paiements" in view:
        _payments(doc, view, specs)
    _procol(doc, view)
    if work:
        _work(doc, work)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
