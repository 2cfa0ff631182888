"""``signaux-faibles export``: a published list as the real system's JSON interchange format, CSV or XLSX.

``sf-json`` follows ``../shared/reference/datapi/sampleAvec5Predictions.json`` (what SFDL writes and datapi
imports): one object per SIREN with ``siren, probability, alertPreRedressements, alert, idListe, batch, algo,
periode`` and, for alerted companies, ``macroRadar`` (theme → contribution), ``explSelection.selectConcerning``
([theme, variable] pairs pushing the risk up), plus the fields datapi's import also reads: ``macroExpl``,
``microExpl`` and ``redressements``. CSV (``;``-separated, UTF-8 with BOM for spreadsheet software) and XLSX carry
the same columns with French labels, booleans as oui/non and the URSSAF debt rounded to the euro; the CSV writes
decimal commas and the probabilities as percentages (``45,1 %``), as the platform's CSV export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from signaux_faibles.cells import neutralise
from signaux_faibles.contract import ALERT_NONE, ALERT_WORDS
from signaux_faibles.layout import DataDir

__all__ = ["FORMATS", "FRENCH_COLUMNS", "PROBABILITIES", "THEME_KEYS", "export_list", "to_sf_json"]

FORMATS = ("sf-json", "csv", "xlsx")
#: Themes → the real system's keys (``macroRadar``, ``explSelection``).
THEME_KEYS = {
    "santé financière": "sante_financiere",
    "dette URSSAF": "dette_urssaf",
    "activité partielle": "activite_partielle",
    "retards de paiement": "retards_paiement",
    "emploi": "emploi",
    "autres": "misc",
}
RADAR = ("sante_financiere", "activite_partielle", "dette_urssaf", "retards_paiement")
FRENCH_COLUMNS = {
    "rank": "Rang",
    "siren": "SIREN",
    "siret": "SIRET du siège",
    "raison_sociale": "Raison sociale",
    "departement": "Département",
    "region": "Région",
    "naf_section": "Section NAF",
    "periode": "Période",
    "probability": "Probabilité de défaillance à 18 mois",
    "probability_3m": "Probabilité à 3 mois",
    "probability_6m": "Probabilité à 6 mois",
    "probability_12m": "Probabilité à 12 mois",
    "niveau": "Niveau d'alerte",
    "niveau_avant": "Niveau avant redressements",
    "redressements": "Redressements",
    "first_alert": "Première alerte",
    "first_high_alert": "Premier risque élevé",
    "hausse_urssaf": "Hausse de la dette URSSAF",
    "dette_urssaf": "Dette URSSAF (EUR)",
    "ap_12m": "Activité partielle sur 12 mois",
    "etat_proc_collective": "Procédure collective",
    "procedure_en_cours": "Procédure collective en cours",
    "etat_procol": "État de la procédure",
    "date_procol": "Date du premier jugement",
    "facteurs": "Principaux facteurs de risque",
}


def _concerning(micro: object, themes: dict[str, str], n: int = 3) -> list[list[str]]:
    if not isinstance(micro, str) or not micro:
        return []
    values = json.loads(micro)
    top = sorted(((v, k) for k, v in values.items() if v > 0), reverse=True)[:n]
    return [[THEME_KEYS.get(themes.get(k, "autres"), "misc"), k] for _, k in top]


def to_sf_json(scores: pd.DataFrame, themes: dict[str, str]) -> list[dict[str, Any]]:
    """The interchange records of a list (see the module docstring)."""
    out = []
    for r in scores.to_dict(orient="records"):
        rec: dict[str, Any] = {
            "siren": str(r["siren"]),
            "probability": float(r["probability"]),
            "alertPreRedressements": str(r["alert_pre_adjustment"]),
            "alert": str(r["alert"]),
            "idListe": str(r["id_liste"]),
            "batch": str(r["batch"]),
            "algo": str(r["algo"]),
            "periode": pd.Timestamp(r["periode"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if r["alert"] != ALERT_NONE or r["alert_pre_adjustment"] != ALERT_NONE:
            macro = {THEME_KEYS[k]: float(v) for k, v in json.loads(r["macro_expl"]).items()}
            rec["macroRadar"] = {k: macro.get(k, 0.0) for k in RADAR}
            rec["explSelection"] = {"selectConcerning": _concerning(r["micro_expl"], themes)}
            rec["macroExpl"] = macro
            rec["microExpl"] = json.loads(r["micro_expl"]) if isinstance(r["micro_expl"], str) else {}
            rec["redressements"] = json.loads(r["adjustments"])
        out.append(rec)
    return out


#: The probability columns (shares, 0 to 1).
PROBABILITIES = ("probability", "probability_3m", "probability_6m", "probability_12m")


def _percent(v: object) -> str:
    """A share as French text, ``0.4512`` → ``45,1 %`` (empty when missing)."""
    if not isinstance(v, int | float) or v != v:
        return ""
    return f"{v * 100:.1f}".replace(".", ",") + " %"


def _french(scores: pd.DataFrame, themes: dict[str, str], *, text: bool = False) -> pd.DataFrame:
    """The list with French column labels and values (``text``: the probabilities as ``45,1 %``, for CSV)."""
    df = scores.copy()
    if "dette_urssaf" in df:
        df["dette_urssaf"] = df.dette_urssaf.round().astype("Int64")  # to the euro
    if text:
        for c in PROBABILITIES:
            if c in df:
                df[c] = df[c].map(_percent)
    df["niveau"] = df.alert.map(ALERT_WORDS)
    df["niveau_avant"] = df.alert_pre_adjustment.map(ALERT_WORDS)
    df["redressements"] = [", ".join(json.loads(a)) for a in df.adjustments]
    df["facteurs"] = [", ".join(k for _, k in _concerning(m, themes)) for m in df.micro_expl]
    if "explication_procedure" in df:  # a firm in proceedings: the proceeding, not risk factors
        df["facteurs"] = df.explication_procedure.where(df.explication_procedure.notna(), df.facteurs)
    df["periode"] = pd.to_datetime(df.periode).dt.strftime("%Y-%m")
    for c in ("first_alert", "first_high_alert", "hausse_urssaf", "ap_12m", "procedure_en_cours"):
        if c in df:
            df[c] = df[c].map({True: "oui", False: "non"})
    cols = [c for c in FRENCH_COLUMNS if c in df.columns]
    df = df[cols].rename(columns=FRENCH_COLUMNS)
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = df[c].map(neutralise)  # no formula injection through a name or a label
    return df


def _xlsx(df: pd.DataFrame, sheet: str, out: Path, rows: int = 20_000) -> None:
    """``df`` as one sheet, streamed (openpyxl's write-only mode, ``rows`` rows converted at a time): a national
    list of 400 000 companies is never a grid of cell objects in memory. Missing values are empty cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"  # the header stays in view, as pandas' export had it bold
    bold = Font(bold=True)
    header = []
    for name in df.columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for start in range(0, len(df), rows):
        part = df.iloc[start : start + rows].astype(object)
        for row in part.where(part.notna(), None).itertuples(index=False, name=None):
            ws.append(row)
    wb.save(out)


def export_list(data_dir: Path, batch: str, fmt: Literal["sf-json", "csv", "xlsx"], out: Path) -> int:
    """Write the list of ``batch`` to ``out`` in ``fmt``; return the number of companies written."""
    folder = DataDir(data_dir).list(batch)
    path = folder / "scores.parquet"
    if not path.is_file():
        raise FileNotFoundError(
            f"no list for batch {batch} at {path}: run `signaux-faibles score --batch {batch}` first"
        )
    scores = pd.read_parquet(path).sort_values("rank")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    themes: dict[str, str] = summary.get("themes", {})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "sf-json":
        out.write_text(json.dumps(to_sf_json(scores, themes), ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "csv":
        _french(scores, themes, text=True).to_csv(out, sep=";", decimal=",", index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        _xlsx(_french(scores, themes), f"Liste {batch}", out)
    else:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return len(scores)
