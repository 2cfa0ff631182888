"""``signaux-faibles train`` on a small twin: leakage-free splits, thresholds, explanations, artefact, report.

The no-look-ahead property of the features themselves (perturbing data after month m leaves every value at
months ≤ m unchanged) is tested on the panel: ``tests/panel/test_panel_no_look_ahead.py``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from signaux_faibles.contract import THEMES
from signaux_faibles.model.artefact import FailureModel
from signaux_faibles.model.dataset import (
    HORIZON,
    base_feature,
    hazard_rows,
    hazard_targets,
    load_panel,
    make_splits,
    refit_splits,
)
from signaux_faibles.model.explain import LEVERS, macro, micro, micro_themes, waterfall, what_if
from signaux_faibles.model.metrics import THRESHOLD_GRID, Thresholds, fbeta_curve
from signaux_faibles.model.report import PLOTS


@pytest.fixture(scope="module")
def panel(twin_panel: tuple[Path, str]) -> pd.DataFrame:
    return load_panel(twin_panel[0])


def test_splits_are_disjoint_in_siren_and_later_in_time(panel: pd.DataFrame) -> None:
    s = make_splits(panel)
    parts = {name: panel.loc[getattr(s, name)] for name in ("fit", "valid", "calib", "test")}
    sirens = {name: set(p.siren) for name, p in parts.items()}
    for a in sirens:
        for b in sirens:
            if a < b:
                assert not sirens[a] & sirens[b], f"{a} and {b} share companies"
    last_training_month = max(parts[n].periode.max() for n in ("fit", "valid", "calib"))
    assert last_training_month <= parts["test"].periode.min() - HORIZON
    # every test label is known: the test months end 18 months before the panel's end
    assert parts["test"].periode.max() <= panel.periode.max() - HORIZON
    # calibration and validation are later than the fitting months
    assert parts["calib"].periode.min() > parts["fit"].periode.max()
    assert parts["valid"].periode.min() > parts["fit"].periode.max()


def test_list_model_is_refitted_on_the_latest_labelled_months(panel: pd.DataFrame) -> None:
    """The list model's parts: the latest months whose outcome is known, SIREN-disjoint like the evaluation's."""
    s, r = make_splits(panel), refit_splits(panel)
    parts = {name: panel.loc[getattr(r, name)] for name in ("fit", "valid", "calib")}
    assert not r.test.any()
    for a, b in (("fit", "valid"), ("fit", "calib"), ("valid", "calib")):
        assert not set(parts[a].siren) & set(parts[b].siren), f"{a} and {b} share companies"
    # the 12 latest months whose label is known at the panel's end, for every part
    for p in parts.values():
        assert p.periode.max() == panel.periode.max() - HORIZON == s.last_labelled
        assert (p.periode.max() - p.periode.min()).n + 1 == 12  # SplitConfig.refit_months
    # fresher than the evaluation's fitting months, and on more companies (the fitting and test groups)
    assert parts["fit"].periode.min() > panel.loc[s.fit].periode.max()
    assert set(panel.loc[s.test].siren) & set(parts["fit"].siren)


def test_too_short_panel_is_a_clear_error(panel: pd.DataFrame) -> None:
    short = panel[panel.periode >= panel.periode.max() - 30]
    with pytest.raises(ValueError, match="too short"):
        make_splits(short)


def test_thresholds_are_the_f_best_on_validation(
    trained: tuple[Path, str, object], panel: pd.DataFrame
) -> None:
    data, batch, _out = trained
    model = FailureModel.load(data / "models" / batch / "model.joblib")
    s = refit_splits(panel)  # the saved model is the list model: its own held-out months and companies
    valid = s.valid & ~panel.signal_fort.to_numpy()  # early detection: rows not yet in proceedings
    y = panel.failure.to_numpy()[valid]
    p = model.predict_proba(panel.loc[valid])
    assert model.thresholds == Thresholds.fit(y, p)
    if model.thresholds.fallback is not None:  # degenerate F-best thresholds: the documented volume rule
        from signaux_faibles.model.metrics import FALLBACK_HIGH_SHARE, FALLBACK_MODERATE_SHARE

        assert model.thresholds.high == pytest.approx(float(np.quantile(p, 1 - FALLBACK_HIGH_SHARE)))
        assert model.thresholds.moderate == pytest.approx(float(np.quantile(p, 1 - FALLBACK_MODERATE_SHARE)))
        return
    for beta, chosen in ((0.5, model.thresholds.high), (2.0, model.thresholds.moderate)):
        curve = fbeta_curve(y, p, beta)
        best = curve.fbeta.max()
        at_chosen = curve.loc[np.isclose(curve.threshold, chosen), "fbeta"].iloc[0]
        assert at_chosen == pytest.approx(best)
        # brute force: no threshold of the grid does better
        for t in THRESHOLD_GRID[::50]:
            pred = p >= t
            tp = (pred & (y == 1)).sum()
            prec = tp / pred.sum() if pred.sum() else 0.0
            rec = tp / y.sum()
            f = (1 + beta**2) * prec * rec / (beta**2 * prec + rec) if prec + rec else 0.0
            assert f <= best + 1e-12
    assert model.thresholds.moderate <= model.thresholds.high


@pytest.mark.parametrize("kind", ["model", "model_logistic"])
def test_contributions_sum_to_the_model_output(
    trained: tuple[Path, str, object], panel: pd.DataFrame, kind: str
) -> None:
    data, batch, _ = trained
    model = FailureModel.load(data / "models" / batch / f"{kind}.joblib")
    rows = panel.sample(300, random_state=0)
    contrib = model.contributions(rows)
    np.testing.assert_allclose(contrib.sum(axis=1), model.margin(rows), atol=1e-6)
    # micro: lagged variants summed into their base feature; macro: per theme; both keep the total
    mic, mac = micro(model, contrib), macro(model, contrib)
    assert "effectif_past_12" not in mic.columns and "effectif" in mic.columns
    assert list(mac.columns) == list(THEMES)
    np.testing.assert_allclose(mic.sum(axis=1), contrib.drop(columns="bias").sum(axis=1), atol=1e-9)
    np.testing.assert_allclose(mac.sum(axis=1), contrib.drop(columns="bias").sum(axis=1), atol=1e-9)
    # the waterfall adds up to the displayed probability, and each theme's micro values to the theme
    wf_macro, wf_micro = waterfall(model, contrib, rows.signal_fort.to_numpy())
    np.testing.assert_allclose(
        wf_macro["base"] + wf_macro[list(THEMES)].sum(axis=1), model.predict_proba(rows), atol=1e-9
    )
    theme_of = micro_themes(model)
    for theme in THEMES:
        cols = [c for c in wf_micro.columns if theme_of[c] == theme]
        np.testing.assert_allclose(wf_micro[cols].sum(axis=1), wf_macro[theme], atol=1e-9)


def test_signaux_forts_have_probability_one_and_are_explained_by_the_proceedings(
    trained: tuple[Path, str, object], panel: pd.DataFrame
) -> None:
    data, batch, _ = trained
    model = FailureModel.load(data / "models" / batch / "model.joblib")
    sf = panel[panel.signal_fort].head(20)
    assert len(sf)
    np.testing.assert_array_equal(model.predict_proba(sf), 1.0)
    assert (model.alerts(sf) == "Alerte seuil F1").all()
    mac, mic = waterfall(model, model.contributions(sf), sf.signal_fort.to_numpy())
    np.testing.assert_allclose(mac["base"] + mac[list(THEMES)].sum(axis=1), 1.0)
    np.testing.assert_allclose(mic["etat_proc_collective"], 1.0 - mac["base"])
    assert (mic.drop(columns="etat_proc_collective") == 0).all().all()
    # the models learn early detection: no signal fort among the rows they were fitted on
    logistic = FailureModel.load(data / "models" / batch / "model_logistic.joblib")
    s = refit_splits(panel)
    early = s.fit & ~panel.signal_fort.to_numpy()
    # the hazard model is checked below; the average is made of the fitted members (its own selection metrics
    # carry no fitted rows of its own)
    refitted = [m for m in (model, logistic) if m.kind not in ("hazard", "average")]
    assert refitted
    for m in refitted:
        assert m.training["fitted_rows"] == int(early.sum()) < int(s.fit.sum())
        assert m.training["signaux_forts_excluded_from_fit"] == int((s.fit & ~early).sum()) > 0
    if model.kind == "hazard":  # person-months of firms not yet judged, with at least one month observed after
        last = pd.Period(f"20{batch[:2]}-{batch[2:]}", "M")  # the batch month
        rows = hazard_rows(panel, None, last) & (hazard_targets(panel, last)[1] > 0)
        assert not panel.signal_fort.to_numpy()[rows].any()
        assert model.training["fitted_rows"] == int(rows.sum()) > 0


def test_base_feature_strips_lags_and_windows() -> None:
    assert base_feature("effectif_ent_past_24") == "effectif_ent"
    assert base_feature("ratio_dette_moy12m") == "ratio_dette"
    assert base_feature("paydex_diff_12m") == "paydex"
    assert base_feature("cotisation") == "cotisation"


def test_what_if_on_a_company_without_debt_changes_nothing(
    trained: tuple[Path, str, object], panel: pd.DataFrame
) -> None:
    _, _, out = trained
    # the evaluated LightGBM reads every theme (the list models may leave the debt out: their levers then read 0)
    model = out.evaluated["lightgbm"]  # type: ignore[attr-defined]
    debt = panel.montant_part_ouvriere.fillna(0) + panel.montant_part_patronale.fillna(0)
    no_debt = panel[(debt == 0) & (panel.ratio_dette.fillna(0) == 0)].head(200)
    with_debt = panel[debt > 0].head(200)
    assert len(no_debt) and len(with_debt)
    lever = next(lv for lv in LEVERS if lv.theme == "dette URSSAF")
    res = what_if(model, no_debt)
    np.testing.assert_array_equal(res["dette URSSAF"], res["probability"])
    # settling an existing debt removes it from the row, and moves the probability for some companies
    settled = lever.apply(with_debt)
    assert (settled.montant_part_ouvriere.fillna(0) + settled.montant_part_patronale.fillna(0) == 0).all()
    moved = what_if(model, with_debt)
    assert (moved["dette URSSAF"] != moved["probability"]).any()
    assert {lv.theme for lv in LEVERS} <= set(moved.columns)


def test_artefact_holds_everything_and_reloads(
    trained: tuple[Path, str, object], panel: pd.DataFrame
) -> None:
    data, batch, out = trained
    path = data / "models" / batch / "model.joblib"
    model = FailureModel.load(path)
    rows = panel.head(50)
    np.testing.assert_allclose(model.predict_proba(rows), out.model.predict_proba(rows))  # type: ignore[attr-defined]
    assert model.kind == out.metrics["selection"]["selected"] and model.features and "siren" not in model.features  # type: ignore[attr-defined]
    sel = out.metrics["selection"]  # type: ignore[attr-defined]
    # the default list model, or one that beat it in most draws of the validation's companies; never one the
    # logistic baseline beats
    assert model.kind == sel["default"] or sel["wins_over_default"][model.kind] >= sel["level"]
    assert sel["beats_baseline"]
    assert "failure" not in model.features and "signal_fort" not in model.features
    assert model.training["evaluation"]["test"]["from"] and model.training["fit"]["to"]
    # the list model is fitted after the evaluation's months; the evaluation's figures stay in the metrics
    assert model.training["fit"]["from"] > model.training["evaluation"]["fit"]["to"]
    assert model.metrics["list_model"]["thresholds"] == model.thresholds.to_dict()
    assert re.fullmatch(r"[0-9a-f]{16}", model.fingerprint)
    assert model.code_version.startswith("0.")
    assert {"thresholds", "calibration", "backtest", "list_model", "selection"} <= set(model.metrics)
    if model.kind in ("lightgbm", "logistic"):
        assert {"test", "importance"} <= set(model.metrics)
    assert model.calibrator.method in ("isotonic", "platt")
    levels = set(model.alerts(panel))
    assert levels <= {"Alerte seuil F1", "Alerte seuil F2", "Pas d'alerte"}


def test_metrics_with_and_without_signaux_forts_and_oracle(trained: tuple[Path, str, object]) -> None:
    _, _, out = trained
    for kind in ("lightgbm", "logistic"):
        test = out.metrics[kind]["test"]  # type: ignore[attr-defined]
        for name in ("with_signaux_forts", "without_signaux_forts"):
            m = test[name]
            assert 0.5 < m["auc_roc"] <= 1.0
            assert m["prevalence"] < m["auc_pr"] <= 1.0  # better than chance
            assert 0 < m["oracle_auc_pr"] <= 1.0 and m["oracle_ratio_auc_pr"] > 0
            assert 0 < m["oracle_now_auc_pr"] <= 1.0 and m["oracle_now_ratio_auc_pr"] > 0
            assert 0 < m["oracle_monthly_auc_pr"] <= 1.0
            assert m["oracle_monthly_ratio_auc_pr"] == m["monthly_auc_pr"] / m["oracle_monthly_auc_pr"]
            assert {"precision", "recall", "f0.5", "alerts"} <= set(m["risque_eleve"])
            assert {"precision", "recall", "f2", "alerts"} <= set(m["risque_modere"])
            assert [r["top_share"] for r in m["top_k"]] == [0.01, 0.02, 0.05, 0.10]
        assert test["with_signaux_forts"]["rows"] > test["without_signaux_forts"]["rows"]
        assert set(test["segments"]) == {"region", "naf_section", "taille"}
    assert len(out.metrics["backtest"]) == 3  # type: ignore[attr-defined]


def test_list_models_are_selected_on_early_detection(trained: tuple[Path, str, object]) -> None:
    """Four list models (LightGBM, logistic, hazard, their average) are candidates, ranked by early-detection
    AUC-PR on the validation; the average is published unless another beats it in most draws of the validation's
    companies, and never a model the logistic baseline beats there (``test_selection_rule.py``: the rule itself)."""
    _, _, out = trained
    sel = out.metrics["selection"]  # type: ignore[attr-defined]
    assert set(sel["scores"]) == {"lightgbm", "logistic", "hazard", "average"}
    assert sel["default"] == "average" and set(sel["wins_over_default"]) == {"lightgbm", "logistic", "hazard"}
    assert sel["selected"] == "average" or sel["wins_over_default"][sel["selected"]] >= sel["level"]
    assert sel["beats_baseline"] and out.model.kind == sel["selected"]  # type: ignore[attr-defined]
    assert set(out.list_models) == set(sel["scores"])  # type: ignore[attr-defined]
    for model in out.list_models.values():  # type: ignore[attr-defined]
        assert model.term_model is out.list_models["hazard"].estimator  # type: ignore[attr-defined]
    themes = out.metrics["themes"]  # type: ignore[attr-defined]
    assert themes["themes"] and themes["steps"] and 0 < themes["columns"] <= themes["all_columns"]


def test_the_average_holds_the_payment_member(trained: tuple[Path, str, object], panel: pd.DataFrame) -> None:
    """The average list model is the mean log-odds of the three list models and of the "payment" member: a logistic
    regression on ``PAYMENT_COLUMNS`` only, fitted on the logistic list model's rows. Its contributions sit on
    those columns alone, and the average's rows still sum to its margin (the explanations' waterfall)."""
    from signaux_faibles.model.artefact import ColumnSubset, MarginAverage
    from signaux_faibles.model.train import PAYMENT_COLUMNS

    data, batch, out = trained
    avg = out.list_models["average"]  # type: ignore[attr-defined]
    assert isinstance(avg.estimator, MarginAverage)
    assert avg.estimator.names == ["lightgbm", "logistic", "hazard", "payment"]
    assert out.metrics["average"]["params"]["members"] == avg.estimator.names  # type: ignore[attr-defined]
    pm = out.metrics["payment_member"]  # type: ignore[attr-defined]
    assert pm["columns"] == list(PAYMENT_COLUMNS) and 0 < pm["valid_auc_pr"] <= 1
    payment = avg.estimator.members[3]
    assert isinstance(payment, ColumnSubset)
    names = [str(c) for c in avg.encoder.feature_names_in_]
    assert [names[i] for i in payment.columns] == list(PAYMENT_COLUMNS)
    X = avg.encoder.transform(panel.head(300))
    contrib = payment.contributions(X)
    others = [i for i in range(len(names)) if i not in payment.columns]
    assert (contrib[:, others] == 0).all() and (contrib[:, payment.columns] != 0).any()
    np.testing.assert_allclose(avg.estimator.contributions(X).sum(axis=1), avg.estimator.margin(X), atol=1e-6)
    np.testing.assert_allclose(
        avg.estimator.margin(X), np.mean([np.asarray(m.margin(X)) for m in avg.estimator.members], axis=0)
    )
    card = (data / "models" / batch / "report.html").read_text(encoding="utf-8")
    assert 'id="average-members"' in card and "lightgbm, logistic, hazard, payment" in card


def test_without_judgment_in_its_months_the_hazard_model_is_skipped(panel: pd.DataFrame) -> None:
    """A small panel whose latest months hold no first judgment still trains: LightGBM and logistic are the
    candidates, the log says why, and the term structure has its 18-month point only."""
    from signaux_faibles.model.train import TrainConfig, train

    df = panel.copy()
    last = df.periode.max()
    df.loc[df.periode >= last - 40, "time_til_failure"] = np.nan  # no judgment known after these months
    cfg = TrainConfig(lightgbm_grid=({"n_estimators": 100, "num_leaves": 7, "min_child_samples": 50},),
                      logistic_grid=({"C": 0.01},), n_seeds=1)  # fmt: skip
    logs: list[str] = []
    out = train(df, last, cfg, None, logs.append)
    assert out.metrics["hazard_skipped"]
    assert set(out.metrics["selection"]["scores"]) == {"lightgbm", "logistic"}
    assert out.model.term_model is None and any("average list models skipped" in s for s in logs)
    ts = out.model.term_structure(df.tail(5))
    assert ts["probability_3m"].isna().all() and ts["probability_18m"].notna().all()


def test_censored_rows_enter_the_hazard_fit_but_no_label_dependent_metric(
    trained: tuple[Path, str, object], panel: pd.DataFrame
) -> None:
    """The hazard list model learns from months whose 18-month outcome is not known yet (censored rows), up to the
    month before the batch's last month; every figure that reads a label (validation, calibration, thresholds,
    test, selection) is computed on months whose outcome is known."""
    _, _, out = trained
    last_labelled = panel.periode.max() - HORIZON
    hazard = out.list_models["hazard"]  # type: ignore[attr-defined]
    assert pd.Period(hazard.training["fit"]["to"], "M") == panel.periode.max() - 2 > last_labelled
    for part in ("valid", "calib"):
        for model in out.list_models.values():  # type: ignore[attr-defined]
            assert pd.Period(model.training[part]["to"], "M") <= last_labelled
    assert pd.Period(out.metrics["splits"]["test"]["to"], "M") <= last_labelled  # type: ignore[attr-defined]
    intervals = out.metrics["hazard"]["list_model"]["intervals"]  # type: ignore[attr-defined]
    assert [i["months"] for i in intervals] == ["0-3", "3-6", "6-12", "12-18"]
    rows = [i["rows"] for i in intervals]
    assert rows == sorted(rows, reverse=True)  # the recent rows reach the short intervals only


def test_report_renders_with_its_plots(trained: tuple[Path, str, object]) -> None:
    data, batch, _ = trained
    html = (data / "models" / batch / "report.html").read_text(encoding="utf-8")
    for name in PLOTS:
        m = re.search(rf'id="plot-{name}" src="data:image/png;base64,([^"]+)"', html)
        assert m, f"plot {name} missing"
        assert base64.b64decode(m.group(1)).startswith(b"\x89PNG")
    for words in ("Fiche modèle", "Modèle des listes", "sans signaux forts", "Backtest", "oracle", "risque élevé",
                  "Structure par terme", "Choix du modèle des listes", 'id="selection"', 'id="term-structure"'):
        assert words in html
    # early detection first: before the samples, the test tables and the figures with the signaux forts
    first = html.index("Détection précoce")
    assert first < html.index("Données et échantillons") < html.index("avec signaux forts")
    assert html.index('id="early-detection"') < html.index('id="selection"') < html.index('id="test-early"')


def test_train_command(twin_panel: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from signaux_faibles.cli import app

    monkeypatch.setenv("SF_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["train", "--batch", "2609"])
    assert result.exit_code == 2
    assert "no panel" in result.output
    result = CliRunner().invoke(app, ["train", "--batch", "26-09"])
    assert result.exit_code == 2 and "AAMM" in result.output
