"""Company page charts (inline SVG) and the Word "Dossier entreprise", from hand-built ``company_view`` dicts."""

from __future__ import annotations

import copy
import datetime as dt
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from markupsafe import Markup

from signaux_faibles.platform.web.charts import (
    GAP_LABEL,
    bar_chart,
    company_charts,
    fmt_month,
    fmt_number,
    fmt_points,
    line_chart,
    waterfall,
)
from signaux_faibles.platform.web.dossier import CONFIDENTIAL, LEVER_LABELS, alert_label, company_dossier_docx

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [f"{y}-{m:02d}-01" for y in (2024, 2025) for m in range(1, 13)]
MACRO = {
    "santé financière": 0.031,
    "dette URSSAF": 0.12,
    "activité partielle": 0.015,
    "retards de paiement": 0.0,
    "emploi": -0.008,
    "autres": 0.004,
}
BASE = 0.021


def public_view() -> dict[str, Any]:
    """What an agent without the confidential rights sees (no scores/urssaf/dgefp/bdf keys)."""
    return {
        "siren": "123456789",
        "identity": {
            "siren": "123456789",
            "raison_sociale": "MENUISERIE DU <LAC> & FILS",
            "categorie_juridique": "5710",
            "libelle_categorie_juridique": "SAS",
            "activite_principale": "16.23Z",
            "libelle_activite_principale": "Fabrication de charpentes et d'autres menuiseries",
            "naf_section": "C",
            "libelle_naf_section": "Industrie manufacturière",
            "siret_siege": "12345678900012",
            "departement": "74",
            "libelle_departement": "Haute-Savoie",
            "region": "84",
            "libelle_region": "Auvergne-Rhône-Alpes",
            "creation": "1998-03-12",
            "est_actif": True,
        },
        "establishments": [
            {
                "siret": "12345678900012",
                "siren": "123456789",
                "siege": True,
                "adresse": "3 rue du Lac 74000 ANNECY",
                "departement": "74",
                "libelle_departement": "Haute-Savoie",
                "est_actif": True,
            },
            {
                "siret": "12345678900020",
                "siren": "123456789",
                "siege": False,
                "adresse": "ZA des Prés 74300 CLUSES",
                "departement": "74",
                "libelle_departement": "Haute-Savoie",
                "est_actif": False,
            },
        ],
        "in_territory": True,
        "alerted": True,
        "followed": False,
        "permissions": {"scores": False, "urssaf": False, "dgefp": False, "bdf": False},
        "effectif": [
            {
                "periode": m,
                "effectif": None if i == 5 else 40 - i // 3,
                "effectif_ent": 52 - i // 3,
                "etat_proc_collective": "in_bonis",
            }
            for i, m in enumerate(MONTHS)
        ],
        "procol": [
            {
                "date_effet": "2025-11-04",
                "action_procol": "sauvegarde",
                "stade_procol": "ouverture",
                "libelle_procol": "Procédure de sauvegarde",
            }
        ],
        "diane": [
            {
                "exercice": 2021,
                "ca": 5230.0,
                "resultat_expl": 210.5,
                "excedent_brut_d_exploitation": 380.0,
                "benefice_ou_perte": 120.0,
                "liquidite_generale": 1.4,
                "endettement": 55.0,
            },
            {
                "exercice": 2022,
                "ca": 4980.0,
                "resultat_expl": -35.0,
                "excedent_brut_d_exploitation": 150.0,
                "benefice_ou_perte": -80.0,
                "liquidite_generale": 1.1,
                "endettement": 71.0,
            },
            {
                "exercice": 2023,
                "ca": None,
                "resultat_expl": -120.0,
                "excedent_brut_d_exploitation": None,
                "benefice_ou_perte": None,
                "liquidite_generale": None,
                "endettement": None,
            },
        ],
    }


def full_view() -> dict[str, Any]:
    """The same company seen with every right (score, URSSAF, DGEFP, BdF)."""
    v = public_view()
    v["permissions"] = {"scores": True, "urssaf": True, "dgefp": True, "bdf": True}
    p = BASE + sum(MACRO.values())
    v["scores"] = [
        {"list_id": 7, "liste": "Janvier 2026", "batch": "2601", "periode": "2026-01-01", "probability": p,
         "alert": "Alerte seuil F1", "base_probability": BASE, "macro_expl": dict(MACRO),
         "micro_expl": {"montant_part_patronale": 0.09, "ratio_dette": 0.03},
         "what_if": {"dette URSSAF": p - 0.11, "activité partielle": p - 0.012, "retards de paiement": p},
         "rank": 12, "dette_urssaf": 48250.0, "hausse_urssaf": True, "ap_12m": True},
        {"list_id": 6, "liste": "Décembre 2025", "batch": "2512", "periode": "2025-12-01", "probability": 0.09,
         "alert": "Alerte seuil F2", "base_probability": None, "macro_expl": None, "what_if": None},
    ]  # fmt: skip
    v["urssaf"] = [
        {"periode": m, "cotisation": None if i == 10 else 18000.0 + 100 * i,
         "dette_part_ouvriere": 1000.0 * i, "dette_part_patronale": 1500.0 * i, "dette": 2500.0 * i,
         "delai_montant_echeancier": 12000.0 if i > 18 else None, "delai_nb_jours_restants": 90 if i > 18 else None}
        for i, m in enumerate(MONTHS)
    ]  # fmt: skip
    v["dgefp"] = [
        {"periode": m, "apart_heures_autorisees": 1200.0 if 12 <= i < 18 else None,
         "apart_heures_consommees": 800.0 - 50 * (i - 12) if 12 <= i < 18 else None}
        for i, m in enumerate(MONTHS)
    ]  # fmt: skip
    v["bdf"] = [
        {"arrete_bilan": "2022-12-31", "annee": 2022, "taux_marge": 18.2, "poids_frng": 12.0,
         "delai_fournisseur": 64.0, "dette_fiscale": 3.1, "financier_court_terme": 7.5, "frais_financier": 2.2},
        {"arrete_bilan": "2023-12-31", "annee": 2023, "taux_marge": 9.6, "poids_frng": 4.0,
         "delai_fournisseur": 82.0, "dette_fiscale": 5.4, "financier_court_terme": 11.0, "frais_financier": 3.9},
    ]  # fmt: skip
    return v


WORK = {
    "comments": [
        {"author": {"name": "Alice Martin", "email": "alice@dreets.gouv.fr", "organisation": "DREETS ARA"},
         "created_at": dt.datetime(2026, 1, 12, 9, 30), "body": "Rencontre avec le dirigeant : carnet de commandes en baisse.",
         "replies": [{"author": "Bruno Petit", "created_at": "2026-01-13T10:00:00", "body": "Dossier CCSF en cours\x07.",
                      "replies": []}]},
    ],
    "case": {
        "state_label": "En cours", "referent": {"name": "Alice Martin", "organisation": "DREETS ARA"},
        "participants": [{"name": "Alice Martin"}, {"name": "Bruno Petit", "organisation": "URSSAF"}],
        "difficulties": ["Trésorerie tendue", "Perte d'un client majeur"],
        "measures": [{"label": "Délai de paiement URSSAF", "status_label": "Accordée", "outcome": "Échéancier 12 mois"},
                     {"label": "Médiation du crédit", "status_label": "Proposée", "outcome": None}],
    },
}  # fmt: skip


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def check_accessible(root: ET.Element) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None and title.text and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


# ------------------------------------------------------------------------------------------------------ charts


def test_formats() -> None:
    assert fmt_number(12345, "€") == "12\u202f345\u00a0€"
    assert fmt_number(-1234567.4) == "\u22121\u202f234\u202f567"
    assert fmt_number(1.25, "%") == "1,2\u00a0%" or fmt_number(1.25, "%") == "1,3\u00a0%"
    assert fmt_month("2026-01-01") == "01/2026"
    assert fmt_points(0.123) == "+12,3\u00a0pts" and fmt_points(-0.05) == "\u22125,0\u00a0pts"


def test_line_chart_series_gaps_and_labels() -> None:
    series = [
        ("Cotisations", [("2025-01-01", 12345.0), ("2025-02-01", None), ("2025-03-01", 13000.0), ("2025-04-01", 14000.0)]),
        ("Dette", [("2025-01-01", 0.0), ("2025-02-01", 500.0), ("2025-03-01", 1500.0), ("2025-04-01", None)]),
    ]  # fmt: skip
    svg = line_chart(series, "Cotisations & <dette>", "€", chart_id="test")
    root = parse(svg)
    check_accessible(root)
    assert root.get("data-chart") == "test"
    assert root.find(f"{SVG}title").text == "Cotisations & <dette>"  # type: ignore[union-attr]
    paths = root.findall(f".//{SVG}path")
    assert [p.get("data-series") for p in paths] == ["Cotisations", "Dette"]
    assert paths[0].get("d", "").count("M") == 2  # the None month breaks the line
    assert paths[1].get("d", "").count("M") == 1
    assert root.findall(f".//{SVG}circle")  # the lone January point is a dot
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "01/2025" in texts and "04/2025" in texts
    assert any(t.endswith("\u00a0€") and "\u202f" in t for t in texts)  # 10 000 € style tick
    assert "0\u00a0€" in texts  # the axis starts at 0
    assert "Cotisations" in texts and "Dette" in texts  # legend
    desc = root.find(f"{SVG}desc").text or ""  # type: ignore[union-attr]
    assert "de 01/2025 à 04/2025" in desc and "14\u202f000\u00a0€" in desc


def test_empty_and_negative() -> None:
    for empty in ([], [("Cotisations", [])], [("Cotisations", [("2025-01-01", None)])]):
        out = line_chart(empty, "Cotisations", chart_id="urssaf")
        assert "<svg" not in out and "Pas de données" in out and 'data-chart="urssaf"' in out
        assert "Pas de données" in bar_chart(empty, "CA")
    root = parse(line_chart([("Résultat", [("2025-01-01", -300.0), ("2025-02-01", 200.0)])], "Résultat"))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("\u2212") for t in texts)  # the axis goes below 0
    ids = {parse(line_chart([("a", [("2025-01-01", 1.0)])], "x")).get("aria-labelledby") for _ in range(3)}
    assert len(ids) == 3  # no chart_id: fresh ids


def test_bar_chart() -> None:
    root = parse(
        bar_chart(
            [("CA", [("2023", 5000.0), ("2021", 5230.0), ("2022", None)]), ("Résultat", [("2021", -35.0)])],
            "Comptes",
            "k€",
            chart_id="finance",
        )
    )
    check_accessible(root)
    groups = root.findall(f".//{SVG}g[@data-series]")
    assert [g.get("data-series") for g in groups] == ["CA", "Résultat"]
    assert [float(r.get("data-value", "")) for r in groups[0].findall(f"{SVG}rect")] == [5230.0, 5000.0]
    assert len(groups[1].findall(f"{SVG}rect")) == 1
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.index("2021") < texts.index("2023")  # categories sorted, the one without data left out
    assert "2022" not in texts


def test_waterfall_sums_to_total() -> None:
    total = BASE + sum(MACRO.values())
    root = parse(waterfall(BASE, MACRO, total, "Décomposition", chart_id="waterfall"))
    check_accessible(root)
    rects = root.findall(f".//{SVG}rect[@data-kind]")
    kinds = [r.get("data-kind") for r in rects]
    assert kinds[0] == "base" and kinds[-1] == "total"
    assert len(rects) == 2 + sum(1 for v in MACRO.values() if v != 0)  # zero themes are not drawn
    values = [float(r.get("data-value", "")) for r in rects]
    assert values[0] + sum(values[1:-1]) == pytest.approx(values[-1]) == pytest.approx(total)
    colours = {r.get("data-kind"): r.get("fill") for r in rects}
    assert (
        colours["increase"] == "#c9191e" and colours["decrease"] == "#18753c" and colours["base"] == "#000091"
    )
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "+12,0\u00a0pts" in texts and "\u22120,8\u00a0pts" in texts and "dette URSSAF" in texts
    # inconsistent input: a gap row keeps the waterfall ending on the displayed probability
    root = parse(waterfall(0.02, {"dette URSSAF": 0.1}, 0.15, "x"))
    rects = root.findall(f".//{SVG}rect[@data-kind]")
    values = [float(r.get("data-value", "")) for r in rects]
    assert values[0] + sum(values[1:-1]) == pytest.approx(values[-1]) == pytest.approx(0.15)
    assert GAP_LABEL in [t.text for t in root.iter(f"{SVG}text")]


def test_company_charts_follow_the_view() -> None:
    full = company_charts(full_view())
    assert list(full) == ["waterfall", "historique", "effectif", "urssaf", "dgefp", "finance", "bdf"]
    series = {"effectif": 2, "urssaf": 2, "dgefp": 2, "historique": 3}
    for key, svg in full.items():
        root = parse(svg)
        check_accessible(root)
        assert root.get("data-chart") == key
        if key in series:
            assert len(root.findall(f".//{SVG}path[@data-series]")) == series[key]
    assert len(parse(full["finance"]).findall(f".//{SVG}g[@data-series]")) == 2
    assert len(parse(full["bdf"]).findall(f".//{SVG}g[@data-series]")) == 1
    rects = parse(full["waterfall"]).findall(f".//{SVG}rect[@data-kind]")
    assert float(rects[-1].get("data-value", "")) == pytest.approx(full_view()["scores"][0]["probability"])
    # macro_expl as JSON text (the list's Parquet) is read too
    v = full_view()
    v["scores"][0]["macro_expl"] = '{"dette URSSAF": 0.12, "emploi": -0.01}'
    v["scores"][0]["probability"] = BASE + 0.11
    assert len(parse(company_charts(v)["waterfall"]).findall(f".//{SVG}rect[@data-kind]")) == 4
    # without the rights: no confidential chart at all
    public = company_charts(public_view())
    assert list(public) == ["effectif", "finance"]
    # a score without explanation: no waterfall; a block without values: a paragraph
    v = full_view()
    v["scores"] = v["scores"][1:]
    v["urssaf"] = []
    charts = company_charts(v)
    assert "waterfall" not in charts and "Pas de données" in charts["urssaf"]


# ----------------------------------------------------------------------------------------------------- dossier


def read_docx(data: bytes) -> tuple[Any, list[str], str]:
    doc = Document(io.BytesIO(data))
    headings = [
        p.text
        for p in doc.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    ]
    body = "\n".join(p.text for p in doc.paragraphs)
    body += "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    return doc, headings, body


def test_dossier_full_view_with_work() -> None:
    when = dt.datetime(2026, 2, 3, 14, 5)
    data = company_dossier_docx(full_view(), WORK, "Alice Martin (DREETS ARA)", generated_at=when)
    doc, headings, body = read_docx(data)
    assert headings[0] == "Dossier entreprise — MENUISERIE DU <LAC> & FILS"
    for h in ("Identité", "Établissements", "Score de risque", "Explication par thème", "Leviers (simulation)",
              "Effectif", "Cotisations et dette URSSAF", "Activité partielle", "Comptes annuels",
              "Ratios Banque de France", "Procédures collectives", "Accompagnement", "Mesures d'accompagnement",
              "Commentaires"):  # fmt: skip
        assert h in headings, h
    assert "SIREN 123 456 789" in body
    assert "Généré le 03/02/2026 à 14:05 par Alice Martin (DREETS ARA)" in body
    section = doc.sections[0]
    assert CONFIDENTIAL in section.header.paragraphs[0].text
    assert CONFIDENTIAL in section.footer.paragraphs[0].text
    assert "Risque élevé" in body and "Risque modéré" in body  # latest and history
    assert LEVER_LABELS["dette URSSAF"] in body and "\u221211,0\u00a0pts" in body
    assert "+12,0\u00a0pts" in body  # theme contribution
    assert "12345678900020" in body and "ZA des Prés 74300 CLUSES" in body
    assert "sauvegarde" in body and "Trésorerie tendue" in body and "Échéancier 12 mois" in body
    assert "Dossier CCSF en cours." in body  # control character dropped
    assert len(doc.tables) >= 8
    # waterfall, effectif, urssaf, dgefp, finance, bdf
    assert len(doc.inline_shapes) == 6
    assert doc.core_properties.author == "Alice Martin (DREETS ARA)"


def test_dossier_without_confidential_blocks_leaks_nothing() -> None:
    data = company_dossier_docx(public_view(), generated_by="Agent")
    doc, headings, body = read_docx(data)
    assert "Identité" in headings and "Effectif" in headings and "Comptes annuels" in headings
    for h in headings:
        assert not any(
            w in h for w in ("Score", "URSSAF", "Leviers", "Explication", "Activité partielle", "Banque")
        )
    for word in (
        "Risque",
        "Probabilité",
        "URSSAF",
        "Alerte",
        "Accompagnement",
        "Commentaires",
        "Taux de marge",
    ):
        assert word not in body, word
    assert CONFIDENTIAL in doc.sections[0].header.paragraphs[0].text
    assert len(doc.inline_shapes) == 2  # effectif and finance only
    xml = "".join(
        p.blob.decode("utf-8", "ignore") for p in doc.part.package.parts if p.partname.endswith(".xml")
    )
    for secret in ("48250", "dette URSSAF", "Alerte seuil"):
        assert secret not in xml


def test_dossier_scores_without_explanations() -> None:
    v = copy.deepcopy(full_view())
    v["scores"] = [v["scores"][1] | {"alert": "Pas d'alerte"}]
    del v["urssaf"], v["dgefp"], v["bdf"]
    doc, headings, body = read_docx(company_dossier_docx(v))
    assert "Score de risque" in headings and "Explication par thème" not in headings
    assert "Leviers (simulation)" not in headings and "Pas d'alerte" in body
    assert len(doc.inline_shapes) == 2
    assert alert_label(None) == "Pas d'alerte"
    v["scores"] = []
    _, headings, body = read_docx(company_dossier_docx(v))
    assert "Score de risque" in headings and "pas de score publié" in body


def test_lever_labels_match_the_model() -> None:
    # read, not imported (the model stack is slow to import): each what-if key and its label are model levers
    source = (Path(__file__).parents[2] / "src/signaux_faibles/model/explain.py").read_text(encoding="utf-8")
    for theme, label in LEVER_LABELS.items():
        assert f'"{label}",\n        "{theme}"' in source or f'Lever("{label}", "{theme}"' in source, theme
