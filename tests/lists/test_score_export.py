"""``signaux-faibles score`` and ``export`` on the trained twin: the list, flags, adjustments, diff, merge, formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from signaux_faibles.contract import ALERT_HIGH, ALERT_MODERATE, ALERT_NONE
from signaux_faibles.lists.export import FRENCH_COLUMNS, export_list
from signaux_faibles.lists.score import diff_lists, merge_lists, score
from signaux_faibles.model.artefact import FailureModel
from signaux_faibles.model.dataset import load_panel
from signaux_faibles.model.metrics import Thresholds, alert_levels

CONTRACT = {
    "siren": "object", "siret": "object", "periode": "object", "batch": "object", "algo": "object",
    "id_liste": "object", "probability": "float64", "alert": "object", "alert_pre_adjustment": "object",
    "adjustments": "object", "threshold_high": "float64", "threshold_moderate": "float64",
    "base_probability": "float64", "macro_expl": "object", "micro_expl": "object", "what_if": "object",
    "first_alert": "bool", "first_high_alert": "bool", "hausse_urssaf": "bool", "ap_12m": "bool",
    "etat_proc_collective": "object", "dette_urssaf": "float64", "rank": "int64",
    "procedure_en_cours": "bool", "etat_procol": "object", "date_procol": "object",
    "probability_3m": "float64", "probability_6m": "float64", "probability_12m": "float64",
    "probability_18m": "float64", "explication_procedure": "object",
}  # fmt: skip
LEVELS = {ALERT_HIGH, ALERT_MODERATE, ALERT_NONE}


@pytest.fixture(scope="module")
def scored(trained: tuple[Path, str, object], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the trained data directory with two lists: 2608 (July 2026, previous) and 2609 (latest month)."""
    data, batch, _ = trained
    work = tmp_path_factory.mktemp("lists") / "data"
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    model = work / "models" / batch / "model.joblib"
    score(work, "2608", "2026-07", model_path=model)
    score(work, batch)
    return work, batch


def summary_of(data: Path, batch: str) -> dict[str, object]:
    out: dict[str, object] = json.loads((data / "lists" / batch / "summary.json").read_text(encoding="utf-8"))
    return out


def _read(data: Path, batch: str) -> pd.DataFrame:
    return pd.read_parquet(data / "lists" / batch / "scores.parquet")


def test_list_follows_the_contract(scored: tuple[Path, str]) -> None:
    data, batch = scored
    df = _read(data, batch)
    for col, kind in CONTRACT.items():
        assert col in df.columns, col
        got = "object" if pd.api.types.is_string_dtype(df[col]) else str(df[col].dtype)
        assert got == kind or (kind == "object" and df[col].isna().all()), (col, got)
    assert df.siren.is_unique and df.siren.str.fullmatch(r"\d{9}").all()
    assert set(df.alert) <= LEVELS and set(df.alert_pre_adjustment) <= LEVELS
    assert df.probability.between(0, 1).all()
    # ranked by probability among the firms not yet judged, the firms in proceedings after them all
    free, judged = df[~df.procedure_en_cours], df[df.procedure_en_cours]
    assert (np.diff(free.probability.to_numpy()) <= 0).all() and (np.diff(judged.probability.to_numpy()) <= 0).all()
    assert (df["rank"] == np.arange(1, len(df) + 1)).all()
    assert len(judged) and free["rank"].max() < judged["rank"].min()
    assert (judged.alert == ALERT_NONE).all() and judged.date_procol.notna().all() and judged.etat_procol.notna().all()
    assert free.date_procol.isna().all() and free.etat_procol.isna().all()
    assert summary_of(data, batch)["procedures_en_cours"] == len(judged)
    # a firm in proceedings is explained by its proceeding, in French, not by a probability and themes
    assert judged.explication_procedure.str.startswith("Procédure collective en cours").all()
    assert judged.macro_expl.isna().all() and free.explication_procedure.isna().all()
    # the term structure: 3 ≤ 6 ≤ 12 ≤ 18 months, the 18-month point is the probability
    terms = df[["probability_3m", "probability_6m", "probability_12m", "probability_18m"]].to_numpy()
    assert (np.diff(terms, axis=1) >= -1e-12).all() and (terms >= 0).all()
    np.testing.assert_allclose(df.probability_18m, df.probability)
    assert summary_of(data, batch)["term_structure"] is True
    summary = json.loads((data / "lists" / batch / "summary.json").read_text())
    assert (
        summary["periode"] == "2026-08"
    )  # the batch's own month is incomplete (cotisations): the one before
    assert sum(summary["alerts"].values()) == len(df)
    # head office attached
    assert df.siret.dropna().str.fullmatch(r"\d{14}").all()
    assert (df.siret.dropna().str[:9] == df.siren[df.siret.notna()]).all()


def test_levels_are_the_model_thresholds_without_adjustments(scored: tuple[Path, str]) -> None:
    data, batch = scored
    df = _read(data, batch)
    model = FailureModel.load(data / "models" / batch / "model.joblib")
    assert (df.alert == df.alert_pre_adjustment).all()
    assert (df.adjustments == "[]").all()
    summary = summary_of(data, batch)
    thresholds = model.thresholds
    if (summary["thresholds"] or {}).get("fallback") and not model.thresholds.fallback:  # type: ignore[union-attr]
        thresholds = Thresholds(summary["thresholds"]["high"], summary["thresholds"]["moderate"])  # type: ignore[index]
    expected = np.where(df.procedure_en_cours, ALERT_NONE, alert_levels(df.probability, thresholds))
    np.testing.assert_array_equal(df.alert.to_numpy(), expected)
    assert (df.threshold_high == thresholds.high).all()
    # explanations (as the real system: for alerted companies): the waterfall adds up to the probability,
    # each theme's micro values add up to the theme
    alerted = df.alert_pre_adjustment != ALERT_NONE
    assert alerted.any()
    macro = df.macro_expl[alerted].map(json.loads)
    total = df.base_probability[alerted] + macro.map(lambda d: sum(d.values()))
    np.testing.assert_allclose(total, df.probability[alerted], atol=1e-4)
    themes = json.loads((data / "lists" / batch / "summary.json").read_text())["themes"]
    for m_json, mi_json in zip(df.macro_expl[alerted], df.micro_expl[alerted], strict=True):
        mac, mic = json.loads(m_json), json.loads(mi_json)
        for theme, value in mac.items():
            assert sum(v for k, v in mic.items() if themes[k] == theme) == pytest.approx(value, abs=1e-4)
    assert df.macro_expl[~alerted].isna().all() and df.micro_expl[~alerted].isna().all()
    assert df.what_if[alerted].notna().all() and df.what_if[~alerted].isna().all()
    wi = json.loads(df.what_if[alerted].iloc[0])
    assert {"dette URSSAF", "activité partielle", "retards de paiement"} == set(wi)


def test_flags(scored: tuple[Path, str]) -> None:
    data, batch = scored
    df = _read(data, batch).set_index("siren")
    prev = _read(data, "2608").set_index("siren")
    panel = load_panel(data)
    m = pd.Period("2026-08", "M")
    dette = (
        (panel.montant_part_ouvriere.fillna(0) + panel.montant_part_patronale.fillna(0))
        .groupby([panel.siren, panel.periode])
        .sum()
    )
    checked = 0
    for siren in df.index[:200]:
        d = [dette.get((siren, m - k), np.nan) for k in range(3)]
        expected = bool((d[0] > d[1]) or (d[1] > d[2]))
        assert df.loc[siren, "hausse_urssaf"] == expected, siren
        assert df.loc[siren, "dette_urssaf"] == pytest.approx(d[0], nan_ok=True)
        ap = panel[(panel.siren == siren) & (panel.periode > m - 12) & (panel.periode <= m)]
        assert df.loc[siren, "ap_12m"] == bool(
            (ap.apart_heures_autorisees.fillna(0) > 0).any()
            or (ap.apart_heures_consommees.fillna(0) > 0).any()
        )
        checked += 1
    assert checked == 200
    # first alert: alerted now and not in the previous list
    was = set(prev.index[prev.alert != ALERT_NONE])
    alerted = df.alert != ALERT_NONE
    assert (df.first_alert == (alerted & ~df.index.isin(was))).all()
    assert df.first_alert.sum() < alerted.sum()  # some were already alerted in July


def test_diff_against_the_previous_list(scored: tuple[Path, str]) -> None:
    data, batch = scored
    diff = pd.read_parquet(data / "lists" / batch / "diff.parquet")
    assert (
        set(diff.change) <= {"entrée", "sortie", "hausse", "baisse"} and (diff.previous_batch == "2608").all()
    )
    cur, prev = _read(data, batch).set_index("siren"), _read(data, "2608").set_index("siren")
    for r in diff.itertuples():
        before = prev.alert.get(r.siren, ALERT_NONE)
        now = cur.alert.get(r.siren, ALERT_NONE)
        assert before != now


def test_diff_and_merge_rules() -> None:
    prev = pd.DataFrame(
        {"siren": ["a", "b", "c", "d"], "alert": [ALERT_NONE, ALERT_HIGH, ALERT_MODERATE, ALERT_HIGH]}
    )
    cur = pd.DataFrame(
        {"siren": ["a", "b", "c", "e"], "alert": [ALERT_MODERATE, ALERT_MODERATE, ALERT_HIGH, ALERT_HIGH]}
    )
    d = diff_lists(prev, cur, "2601").set_index("siren").change.to_dict()
    assert d == {"a": "entrée", "b": "baisse", "c": "hausse", "d": "sortie", "e": "entrée"}
    one = pd.DataFrame({"siren": ["a", "b"], "probability": [0.1, 0.2], "algo": ["avec_paydex"] * 2})
    two = pd.DataFrame({"siren": ["b", "c"], "probability": [0.5, 0.3], "algo": ["sans_paydex"] * 2})
    merged = merge_lists([one, two]).set_index("siren")
    assert merged.loc["b", "algo"] == "sans_paydex" and merged.loc["a", "algo"] == "avec_paydex"
    assert merged["rank"].to_dict() == {"b": 1, "c": 2, "a": 3}


def test_adjustments_are_traced_and_reported(scored: tuple[Path, str], tmp_path: Path) -> None:
    data, batch = scored
    work = tmp_path / "data"
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    res = score(work, batch, adjustments=["urssaf_2021", "tailoring_2022"])
    df = res.scores
    moved = df.alert != df.alert_pre_adjustment
    assert moved.any()
    assert df.adjustments[moved].map(lambda s: len(json.loads(s)) > 0).all()
    # every company alerted after the adjustments is explained, even when the model alone did not alert it
    assert df.macro_expl[df.alert != ALERT_NONE].notna().all()
    rules = {r.split(":")[0] for s in df.adjustments[moved] for r in json.loads(s)}
    assert rules <= {"urssaf_2021", "tailoring_2022"}
    s = res.summary["adjustments"]
    assert sum(v["raised"] + v["lowered"] for v in s.values()) >= moved.sum()
    # the pure model is untouched: same probabilities and pre-adjustment levels as without adjustments
    pure = _read(data, batch).set_index("siren")
    adj = df.set_index("siren")
    assert (adj.alert_pre_adjustment == pure.alert.reindex(adj.index)).all()
    with pytest.raises(ValueError, match="unknown adjustment"):
        score(work, batch, adjustments=["nope"])


def test_sf_json_matches_the_real_interchange_sample(
    scored: tuple[Path, str], shared_dir: Path, tmp_path: Path
) -> None:
    data, batch = scored
    sample = json.loads((shared_dir / "reference" / "datapi" / "sampleAvec5Predictions.json").read_text())
    out = tmp_path / "list.json"
    n = export_list(data, batch, "sf-json", out)
    ours = json.loads(out.read_text(encoding="utf-8"))
    assert len(ours) == n
    plain = [r for r in sample if "macroRadar" not in r]
    rich = [r for r in sample if "macroRadar" in r]
    ours_plain = [r for r in ours if r["alert"] == ALERT_NONE and r["alertPreRedressements"] == ALERT_NONE]
    ours_rich = [r for r in ours if "macroRadar" in r]
    assert ours_plain and ours_rich

    def same_shape(ref: object, got: object, where: str) -> None:
        if isinstance(ref, dict):
            assert isinstance(got, dict), where
            for k, v in ref.items():
                assert k in got, f"{where}.{k} missing"
                same_shape(v, got[k], f"{where}.{k}")
        elif isinstance(ref, list):
            assert isinstance(got, list), where
            for item in got:
                same_shape(ref[0], item, f"{where}[]") if ref else None
        elif isinstance(ref, float):
            assert isinstance(got, float | int) and not isinstance(got, bool), where
        else:
            assert type(got) is type(ref), (where, type(ref), type(got))

    for ref in plain:
        for got in ours_plain[:50]:
            same_shape(ref, got, "record")
            assert set(got) == set(ref)  # the same fields exactly for companies without alert
    for ref in rich:
        for got in ours_rich[:50]:
            same_shape(ref, got, "record")
            assert set(got["macroRadar"]) == set(ref["macroRadar"])
    for got in ours:
        assert got["alert"] in LEVELS and got["periode"].endswith("T00:00:00Z") and len(got["siren"]) == 9


def test_csv_and_xlsx_have_french_labels(scored: tuple[Path, str], tmp_path: Path) -> None:
    data, batch = scored
    export_list(data, batch, "csv", tmp_path / "l.csv")
    export_list(data, batch, "xlsx", tmp_path / "l.xlsx")
    csv = pd.read_csv(tmp_path / "l.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert list(csv.columns) == list(FRENCH_COLUMNS.values())
    assert set(csv["Niveau d'alerte"]) <= {"risque élevé", "risque modéré", "pas d'alerte"}
    # French values (issue 22): percentages with a decimal comma, the debt to the euro, oui/non
    assert csv["Probabilité de défaillance à 18 mois"].str.fullmatch(r"\d{1,3},\d %").all()
    debt = csv["Dette URSSAF (EUR)"].dropna()
    assert debt.str.fullmatch(r"-?\d+").all()
    assert set(csv["Première alerte"]) <= {"oui", "non"}
    assert not {"rank", "probability", "alert", "first_alert"} & {c.lower() for c in csv.columns}
    wb = openpyxl.load_workbook(tmp_path / "l.xlsx", read_only=True)
    header = next(wb.active.iter_rows(max_row=1, values_only=True))  # type: ignore[union-attr]
    assert list(header) == list(FRENCH_COLUMNS.values())
    rows = list(wb.active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert len(rows) == len(csv)  # written streamed (write-only): counted, not read from the sheet's dimension
    col = {name: i for i, name in enumerate(header)}
    assert [r[col["SIREN"]] for r in rows] == csv["SIREN"].tolist()
    assert [r[col["Rang"]] for r in rows] == list(range(1, len(csv) + 1))
    p18 = [r[col["Probabilité de défaillance à 18 mois"]] for r in rows]
    assert all(isinstance(v, int | float) and 0 <= v <= 1 for v in p18)  # numbers, not text
    assert any(v is None for r in rows for v in r)  # a missing value is an empty cell, not "nan"
    assert not any(isinstance(v, str) and v.lower() in ("nan", "none", "<na>") for r in rows for v in r)


def test_commands(scored: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from signaux_faibles.cli import app

    data, batch = scored
    monkeypatch.setenv("SF_DATA_DIR", str(data))
    res = CliRunner().invoke(
        app, ["export", "--batch", batch, "--format", "csv", "--out", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(
        app, ["export", "--batch", "2001", "--format", "csv", "--out", str(tmp_path / "y.csv")]
    )
    assert res.exit_code == 2 and "no list" in res.output
    monkeypatch.setenv("SF_DATA_DIR", str(tmp_path / "empty"))
    res = CliRunner().invoke(app, ["score", "--batch", batch])
    assert res.exit_code == 2 and "no model" in res.output


def test_csv_and_xlsx_neutralise_formula_text(scored: tuple[Path, str], tmp_path: Path) -> None:
    """A company name starting like a formula is exported as text, behind a single quote (issue 18, defect 7)."""
    from openpyxl import load_workbook

    data, batch = scored
    copy = tmp_path / "data"
    shutil.copytree(data / "lists", copy / "lists")
    path = copy / "lists" / batch / "scores.parquet"
    scores = pd.read_parquet(path)
    formulas = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]
    scores["raison_sociale"] = [*formulas, *scores["raison_sociale"].iloc[len(formulas) :]]
    scores.to_parquet(path, index=False)
    export_list(copy, batch, "csv", tmp_path / "l.csv")
    csv = pd.read_csv(tmp_path / "l.csv", sep=";", encoding="utf-8-sig", dtype=str)
    names = set(csv["Raison sociale"])
    assert {"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"} <= names
    export_list(copy, batch, "xlsx", tmp_path / "l.xlsx")
    ws = load_workbook(tmp_path / "l.xlsx").active
    assert ws is not None
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]


def test_a_judgment_inside_the_list_month_removes_the_alert(scored: tuple[Path, str], tmp_path: Path) -> None:
    """Issue 19: a firm whose first judgment falls inside the list month (or later, held by the batch) gets no
    alert; it carries its proceeding's state and date, and ranks after every firm not yet judged."""
    data, batch = scored
    work = tmp_path / "data"
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    df = _read(data, batch)
    target = df[df.alert == ALERT_HIGH].iloc[0].siren  # alerted, not judged
    month = pd.Period(str(df.periode.iloc[0])[:7], "M")
    judgment = (month.to_timestamp() + pd.Timedelta(days=14)).date()  # the 15th of the list month
    panel_dir = work / "panel" / "company_month"
    for f in panel_dir.glob("*.parquet"):
        p = pd.read_parquet(f)
        p.loc[p.siren == target, "date_premier_jugement"] = judgment
        p.to_parquet(f, index=False)
    procol = pd.read_parquet(work / "clean" / "clean_procol")
    extra = pd.DataFrame({"siren": [target], "date_effet": [judgment], "action_procol": ["liquidation"],
                          "stade_procol": ["ouverture"], "libelle_procol": ["Liquidation judiciaire"]})  # fmt: skip
    pd.concat([procol, extra.astype(procol.dtypes.to_dict())]).to_parquet(work / "clean" / "clean_procol" / "part-00000.parquet")
    for f in (work / "clean" / "clean_procol").glob("*.parquet"):
        if f.name != "part-00000.parquet":
            f.unlink()
    score(work, batch, model_path=work / "models" / batch / "model.joblib")
    row = _read(work, batch).set_index("siren").loc[target]
    assert row.alert == ALERT_NONE and row.alert_pre_adjustment == ALERT_NONE and bool(row.procedure_en_cours)
    assert row.etat_procol == "liquidation" and row.date_procol == judgment and not row.first_alert
    assert row["rank"] > _read(work, batch).query("not procedure_en_cours")["rank"].max()
    assert row.explication_procedure.startswith("Procédure collective en cours (liquidation judiciaire, premier "
                                                f"jugement le {judgment:%d/%m/%Y})")  # fmt: skip
    assert pd.isna(row.macro_expl) and pd.isna(row.micro_expl)


def test_a_judgment_after_the_list_month_held_by_the_batch_removes_the_alert(
    scored: tuple[Path, str], tmp_path: Path
) -> None:
    """A judgment dated after the list month but held by the batch's procol (clean_procol), and not yet in the
    panel (built earlier), removes the alert too."""
    data, batch = scored
    work = tmp_path / "data"
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    df = _read(data, batch)
    target = df[(df.alert != ALERT_NONE) & ~df.procedure_en_cours].iloc[0].siren
    month = pd.Period(str(df.periode.iloc[0])[:7], "M")
    judgment = ((month + 1).to_timestamp() + pd.Timedelta(days=4)).date()  # the 5th of the month after the list's
    procol = pd.read_parquet(work / "clean" / "clean_procol")
    extra = pd.DataFrame({"siren": [target], "date_effet": [judgment], "action_procol": ["redressement"],
                          "stade_procol": ["ouverture"], "libelle_procol": ["Redressement judiciaire"]})  # fmt: skip
    for f in (work / "clean" / "clean_procol").glob("*.parquet"):
        f.unlink()
    pd.concat([procol, extra.astype(procol.dtypes.to_dict())]).to_parquet(work / "clean" / "clean_procol" / "part-00000.parquet")
    res = score(work, batch, model_path=work / "models" / batch / "model.joblib")
    row = res.scores.set_index("siren").loc[target]
    assert row.alert == ALERT_NONE and bool(row.procedure_en_cours) and row.date_procol == judgment
    assert row.etat_procol == "plan_redressement" and "redressement judiciaire" in row.explication_procedure
    assert res.summary["alerts"][ALERT_HIGH] + res.summary["alerts"][ALERT_MODERATE] == int(
        (res.scores.alert != ALERT_NONE).sum()
    )
    assert not (res.scores.procedure_en_cours & (res.scores.alert != ALERT_NONE)).any()


def test_degenerate_thresholds_on_the_list_fall_back_to_the_volume_rule(
    scored: tuple[Path, str], tmp_path: Path
) -> None:
    """Thresholds that would alert over a third of the firms not yet judged are refused on the list: the volume
    rule (2 % risque élevé, 4 % risque modéré) replaces them, and summary.json says why."""
    import dataclasses

    from signaux_faibles.model.metrics import FALLBACK_HIGH_SHARE, FALLBACK_MODERATE_SHARE

    data, batch = scored
    work = tmp_path / "data"
    for part in ("panel", "clean", "models"):
        shutil.copytree(data / part, work / part)
    path = work / "models" / batch / "model.joblib"
    model = FailureModel.load(path)
    listed = _read(data, batch)
    high = float(np.quantile(listed.probability[~listed.procedure_en_cours], 0.97))
    model.thresholds = dataclasses.replace(model.thresholds, high=high, moderate=0.0, fallback=None)
    model.save(path)
    res = score(work, batch, model_path=path)
    assert "over a third" in res.summary["thresholds"]["fallback"]
    free = res.scores[~res.scores.procedure_en_cours]
    assert abs((free.alert == ALERT_HIGH).mean() - FALLBACK_HIGH_SHARE) < 0.01
    assert abs((free.alert != ALERT_NONE).mean() - FALLBACK_MODERATE_SHARE) < 0.015
    assert set(res.scores.alert) <= LEVELS
