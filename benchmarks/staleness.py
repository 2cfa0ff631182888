"""Staleness: the list models at the list month across regimes, and how freshness moves the test rows' ranking.

    uv run python benchmarks/staleness.py --regimes 21:2026-09,22:2026-09,21:2021-02,21:2022-09
        [--companies 20000] [--months 72] [--work /tmp/sf-bench-model] [--no-payment]
    uv run python benchmarks/staleness.py --reach 21:2026-09,… [--months 72] [--work …]   (twins trained by --regimes)
    uv run python benchmarks/staleness.py [--companies 20000] [--months 60] [--seed 2] [--work /tmp/sf-bench-model]
        [--params '{"n_estimators": 300, "num_leaves": 15, "min_child_samples": 50, "learning_rate": 0.03}']

**``--regimes``** (issue 19): for each twin ``seed:end`` (its last delivered month; the twin's crisis is the
calendar's, 2020-03 → 2021-07, when the window holds it, else a third of the way through), ``run_train`` on the
panel of its last batch, then at the list month (the month ``score`` lists), on the firms not yet judged (no first
judgment dated up to the end of the month): AUC-PR / the oracle's of the former list model (the LightGBM
configuration chosen on the evaluation, every feature, refitted on the 12 latest labelled months) and of each new
list model (LightGBM, logistic, hazard, average, on the selected themes), which one the validation published, and
the regime of the list month (normal, crisis, aftermath: the 21 months after the crisis, phase-out of the State
support and catch-up of failures).

Without ``--regimes``: the test rows' table below.

Same twin, panel and test rows as ``benchmarks/model.py`` (built once and cached in ``--work``; the model
benchmark's training run is reused for the chosen LightGBM configuration, or run here when missing; ``--params``
sets another one). The configuration is refitted on the **fitting group** of companies (never a test company) over several windows of
months, and each fit ranks the test rows without signaux forts (AUC-PR, the twin oracle's AUC-PR on the same rows,
their ratio, and the ratio within each test month):

- the evaluated model's fitting months (``make_splits``: they end ``valid_months`` + 18 months before the test);
- the same group through the validation months (the latest months the protocol could fit on: 18 months before
  the test, the outcome of every fitted row known at the test's first month);
- 12-month windows ending 18, 12, 6 and 1 month(s) before the test's first month, then the test months themselves
  (other companies). From "12 months before" on, the fitted rows' outcomes are **not** known at the test's first month:
  no model scoring that month could have been fitted on them. These rows measure what freshness is worth, not a
  model one could deploy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sf-bench-model"))
    parser.add_argument("--params", type=json.loads, default=None,
                        help="LightGBM configuration as JSON (default: the one the training run chose)")  # fmt: skip
    parser.add_argument("--regimes", default=None, help="twins seed:end,seed:end,… (list-month comparison)")
    parser.add_argument("--noise", default=None, help="twins seed:end,… already trained by --regimes: noise and ceiling")
    parser.add_argument("--reach", default=None, help="twins seed:end,… already trained by --regimes: simple scores")
    parser.add_argument("--no-payment", action="store_true",
                        help="--regimes without the average's payment member (TrainConfig.payment_member=False)")  # fmt: skip
    args = parser.parse_args()
    twin_months = args.months if args.months != 60 else 72  # the per-regime twins are 72 months by default
    if args.noise:
        noise(args.noise, args.companies, twin_months, args.work)
        return
    if args.reach:
        reach(args.reach, args.companies, twin_months, args.work)
        return
    if args.regimes:
        regimes(args.regimes, args.companies, twin_months, args.work, payment=not args.no_payment)
        return

    import pandas as pd
    from sklearn.metrics import average_precision_score

    sys.path.insert(0, str(Path(__file__).parent))
    from model import build  # benchmarks/model.py
    from signaux_faibles.layout import DataDir, batch_month
    from signaux_faibles.model.dataset import HORIZON, PanelEncoder, _groups, load_panel, make_splits
    from signaux_faibles.model.metrics import monthly_auc_pr
    from signaux_faibles.model.train import TrainConfig, _lightgbm, _oracle, run_train

    data, batch = build(args.work, args.companies, args.months, args.seed)
    metrics_path = DataDir(data).model(batch) / "metrics.json"
    if not metrics_path.is_file():
        run_train(data, batch, log=lambda s: None)
    chosen = json.loads(metrics_path.read_text(encoding="utf-8"))["lightgbm"]["params"]
    params = chosen if args.params is None else args.params
    cfg = TrainConfig()

    last = batch_month(batch)
    df = load_panel(data)
    df = df[df.periode <= last].reset_index(drop=True)
    s = make_splits(df, cfg.splits, last)
    X = PanelEncoder().fit(df.loc[s.fit]).transform(df)
    y = df.failure.to_numpy().astype(int)
    early = ~df.signal_fort.to_numpy().astype(bool)
    oracle = _oracle(df, pd.read_parquet(data / "twin" / "ground_truth.parquet"))
    assert oracle is not None
    test = s.test & early
    months = df.periode.to_numpy()
    oracle_test = oracle["oracle"][test]
    oracle_ap = average_precision_score(y[test], oracle_test)
    oracle_monthly = monthly_auc_pr(y[test], oracle_test, months[test])
    test_g, valid_g, calib_g = _groups(df, cfg.splits)
    fit_group = ~(test_g | valid_g | calib_g) & early
    p = df.periode
    start, end = s.test_start, s.last_labelled

    windows: list[tuple[str, pd.Period, pd.Period]] = [
        ("evaluated model's fitting months", p.min(), s.valid_start - 1),
        ("fitting group through validation", p.min(), s.dev_end),
    ]
    for before in (HORIZON, 12, 6, 1):
        windows.append((f"12 months ending {before} before the test", start - before - 11, start - before))
    windows.append(("the test months (other companies)", start, end))

    print(f"\ntwin {args.companies:,} companies x {args.months} months (seed {args.seed}), batch {batch}")
    print(f"LightGBM configuration {params}; test {start} → {end}, {int(test.sum()):,} rows without signaux forts, "
          f"prevalence {y[test].mean():.3f}; oracle AUC-PR {oracle_ap:.3f} (within each month {oracle_monthly:.3f})")  # fmt: skip
    print("| fitting window | months | rows | outcomes known at the test's first month | AUC-PR | model / oracle "
          "| within each month | seconds |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for label, lo, hi in windows:
        mask = fit_group & ((p >= lo) & (p <= hi)).to_numpy()
        t0 = time.perf_counter()
        est = _lightgbm(params, cfg.n_seeds).fit(X[mask], y[mask])
        score = est.margin(X[test])
        ap = average_precision_score(y[test], score)
        mon = monthly_auc_pr(y[test], score, months[test])
        known = "yes" if hi <= start - HORIZON else "**no**"
        print(f"| {label} | {max(lo, p.min())} → {hi} | {int(mask.sum()):,} | {known} | {ap:.3f} | "
              f"{ap / oracle_ap:.2f} | {mon / oracle_monthly:.2f} | {time.perf_counter() - t0:.0f} |", flush=True)  # fmt: skip


def _regime(end: str, months: int, month: object) -> str:
    import pandas as pd

    from signaux_faibles.twin.world import Calendar

    last = pd.Period(end, "M")
    cal = Calendar(start=last - (months - 1), end=last)
    i = cal.index(month)  # type: ignore[arg-type]
    if cal.crisis_start <= i < cal.crisis_end:
        return f"crisis (month {i - cal.crisis_start + 1} of {cal.crisis_end - cal.crisis_start})"
    if cal.crisis_end <= i < cal.crisis_end + 21:
        return f"aftermath ({i - cal.crisis_end + 1} months after the crisis)"
    return "normal"


def _not_yet_judged(rows: Any) -> Any:
    """The panel ``rows`` of firms not yet judged at their month (no first judgment dated up to its end)."""
    import pandas as pd

    first = pd.to_datetime(rows["date_premier_jugement"])
    return rows[~first.le(rows.periode.dt.to_timestamp(how="end")).fillna(False).to_numpy(dtype=bool)]


def _with_truth(rows: Any, data: Path) -> Any:
    """``rows`` with the twin's ground truth of their company and month (``failure_18m``, ``p_failure_18m``,
    ``p_failure_18m_now``), indexed from 0."""
    import pandas as pd

    gt = pd.read_parquet(data / "twin" / "ground_truth.parquet")
    gt = gt[["siren", "periode", "failure_18m", "p_failure_18m", "p_failure_18m_now"]].assign(
        siren=lambda g: g.siren.astype(str), periode=lambda g: pd.to_datetime(g.periode.astype(str)).dt.to_period("M")
    )  # fmt: skip
    out = rows.reset_index(drop=True).merge(gt, on=["siren", "periode"], how="inner")
    return out.dropna(subset=["failure_18m"]).reset_index(drop=True)


def regimes(spec: str, companies: int, months: int, work: Path, payment: bool = True) -> None:
    """The list-month table of the module docstring, one row per twin (``payment``: the average's payment member,
    ``TrainConfig.payment_member``)."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).parent))
    from model import build  # benchmarks/model.py
    from signaux_faibles.layout import batch_month
    from signaux_faibles.model.dataset import refit_splits
    from signaux_faibles.model.metrics import list_vs_oracle
    from signaux_faibles.model.train import TrainConfig, _lightgbm, run_train

    rows = []
    for item in spec.split(","):
        seed, end = item.split(":")
        data, batch = build(work, companies, months, int(seed), end)
        t0 = time.perf_counter()
        out = run_train(data, batch, cfg=TrainConfig(payment_member=payment), log=lambda s: None)
        seconds = time.perf_counter() - t0
        lm = out.metrics.get("list_month")
        if lm is None:
            print(f"{item}: no list-month figure (too few known failures)")
            continue
        # the former list model: the evaluated LightGBM configuration, every feature, the 12 latest labelled months
        from signaux_faibles.model.dataset import load_panel

        last = batch_month(batch)
        df = load_panel(data)
        df = df[df.periode <= last].reset_index(drop=True)
        cfg = TrainConfig()
        rs = refit_splits(df, cfg.splits, last)
        early = ~df.signal_fort.to_numpy().astype(bool)
        enc = out.evaluated["lightgbm"].encoder
        X = enc.transform(df)
        y = df.failure.to_numpy().astype(int)
        former = _lightgbm(out.evaluated["lightgbm"].params, cfg.n_seeds).fit(X[rs.fit & early], y[rs.fit & early])
        month = pd.Period(lm["periode"], "M")
        free = _not_yet_judged(df[df.periode == month].drop_duplicates("siren"))
        gt = pd.read_parquet(data / "twin" / "ground_truth.parquet")
        vs = list_vs_oracle(free[["siren", "periode"]].assign(probability=former.margin(enc.transform(free))), gt)
        assert vs is not None
        k = lm["kinds"]
        rows.append((item, _regime(end, months, month), lm, vs["ratio"], k, out.metrics["selection"]["selected"],
                     out.metrics.get("themes", {}).get("themes"), seconds, out.metrics["selection"]))  # fmt: skip
        print(f"{item}: done in {seconds:.0f} s", flush=True)
    print("\n| twin (seed:end) | list month | regime | firms not yet judged | failures | oracle AUC-PR | former list "
          "model | lightgbm | logistic | hazard | average | published | themes |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for item, regime, lm, former_ratio, k, selected, themes, *_rest in rows:
        print(f"| {item} | {lm['periode']} | {regime} | {lm['rows']:,} | {lm['failures']} | {lm['oracle_auc_pr']:.3f} "
              f"| {former_ratio:.2f} | " + " | ".join(f"{k[c]['ratio']:.2f}" if c in k else "–"
                                                   for c in ("lightgbm", "logistic", "hazard", "average"))
              + f" | {selected} ({k[selected]['ratio']:.2f}) | {', '.join(themes or [])} |")  # fmt: skip
    if rows:
        pub = np.array([r[4][r[5]]["ratio"] for r in rows])
        print(f"published list model / oracle: mean {pub.mean():.3f}, sd {pub.std(ddof=1) if len(pub) > 1 else 0:.3f}")
    kinds = ("lightgbm", "logistic", "hazard", "average")
    print("\n| twin (seed:end) | validation AUC-PR (lightgbm / logistic / hazard / average) | share of the draws each "
          "beats the default | published |\n|---|---|---|---|")  # fmt: skip
    for item, _r, _lm, _f, k, selected, _t, _s, sel in rows:
        print(f"| {item} | " + " / ".join(f"{sel['scores'].get(c, float('nan')):.3f}" for c in kinds) + " | "
              + ", ".join(f"{c} {v:.0%}" for c, v in sel.get("wins_over_default", {}).items())
              + f" | {selected} ({k[selected]['ratio']:.2f}) |")  # fmt: skip
    noise(spec, companies, months, work)


def noise(spec: str, companies: int, months: int, work: Path) -> None:
    """The table of :func:`noise_and_ceiling`, one row per twin ``seed:end`` (trained by ``--regimes``)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from model import build  # benchmarks/model.py

    print("\n| twin (seed:end) | published / oracle | 90 % interval (firms resampled) | oracle knowing month m only "
          "| fresh labels, other companies (not deployable) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for item in spec.split(","):
        seed, end = item.split(":")
        data, batch = build(work, companies, months, int(seed), end)
        print(noise_and_ceiling(item, data, batch), flush=True)


def noise_and_ceiling(item: str, data: Path, batch: str, draws: int = 1000) -> str:
    """How far the goal (0.90 of the oracle) is from noise and from what the features carry, at the list month of a
    twin already trained (``models/<batch>``), on the firms not yet judged:

    - the published model's ratio and its 90 % interval when the firms are resampled (paired: the model's and the
      oracle's AUC-PR on the same draw), ``draws`` draws;
    - the ratio of the oracle that knows month m only (``p_failure_18m_now``: the exact hidden state, not the
      future sector shocks or regime);
    - the ratio of the evaluated LightGBM configuration fitted on the list month and the 5 months before it with
      the twin's own outcomes (``failure_18m``, unknown at the batch), five folds of companies: a model no batch can
      fit, so an upper reference for the panel's features, not a candidate.
    """
    import numpy as np
    import pandas as pd
    from sklearn.metrics import average_precision_score

    from signaux_faibles.layout import DataDir, batch_month
    from signaux_faibles.model.artefact import FailureModel
    from signaux_faibles.model.dataset import PanelEncoder, load_panel
    from signaux_faibles.model.train import TrainConfig, _lightgbm, _list_month

    target = DataDir(data).model(batch)
    metrics = json.loads((target / "metrics.json").read_text(encoding="utf-8"))
    model = FailureModel.load(target / "model.joblib")
    last = batch_month(batch)
    month = _list_month(load_panel(data, ["siren", "periode", "cotisation_moy12m"], until=last), last, None)
    free = _with_truth(_not_yet_judged(load_panel(data, since=month - 5, until=month)), data)
    at = (free.periode == month).to_numpy()
    y_all = free.failure_18m.to_numpy().astype(int)
    y = y_all[at]
    p_model = model.predict_proba(free[at])
    oracle, now = free.p_failure_18m.to_numpy()[at], free.p_failure_18m_now.to_numpy()[at]
    ratio = average_precision_score(y, p_model) / average_precision_score(y, oracle)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(draws):
        i = rng.integers(0, len(y), len(y))
        if y[i].sum():
            boot.append(average_precision_score(y[i], p_model[i]) / average_precision_score(y[i], oracle[i]))
    lo, hi = np.quantile(boot, [0.05, 0.95])
    # the reference no batch can fit: the same configuration on fresh outcomes, other companies (5 folds)
    params = metrics["lightgbm"]["params"]
    fold = (pd.util.hash_pandas_object(free.siren, index=False).to_numpy() % 5).astype(int)
    fresh = np.zeros(int(at.sum()))
    for k in range(5):
        fit = fold != k
        enc = PanelEncoder().fit(free[fit])
        est = _lightgbm(params, TrainConfig().n_seeds).fit(enc.transform(free[fit]), y_all[fit])
        fresh[fold[at] == k] = est.margin(enc.transform(free[at & (fold == k)]))
    ceiling = average_precision_score(y, fresh) / average_precision_score(y, oracle)
    return (f"| {item} | {ratio:.2f} | {lo:.2f} – {hi:.2f} | {average_precision_score(y, now) / average_precision_score(y, oracle):.2f} "
            f"| {ceiling:.2f} |")  # fmt: skip


def reach(spec: str, companies: int, months: int, work: Path) -> None:
    """What simple scores reach at the list months, against the list models, per twin ``seed:end`` (trained by
    ``--regimes``): model / oracle AUC-PR on the firms not yet judged, mean over the list month and the 5 months
    before it and at the list month, beside each score's AUC-PR on the list models' validation (what a batch can
    see). Every fitted score learns from the list models' own rows (``refit_splits``: fitting groups, latest
    labelled months, firms not yet judged), so each is a model a batch could publish:

    - the paydex smoothed alone (no fit): its exponentially weighted mean (weight 0.25 on the latest month, the
      steady-state Kalman gain of the twin's paydex), missing → the median;
    - a logistic regression (C 0.01) on three inputs: that smoothed paydex, ``fpi_30`` and ``effectif_ent``;
    - a logistic regression (C 0.01) on the list models' themes, and on them without « dette URSSAF »;
    - the LightGBM list configuration on the list models' themes (margins, no calibration).
    """
    import numpy as np
    from sklearn.metrics import average_precision_score as aps

    sys.path.insert(0, str(Path(__file__).parent))
    from model import build  # benchmarks/model.py
    from signaux_faibles.layout import DataDir, batch_month
    from signaux_faibles.model.dataset import (
        PanelEncoder,
        categorical_columns,
        feature_columns,
        feature_groups,
        load_panel,
        refit_splits,
    )
    from signaux_faibles.model.train import TrainConfig, _lightgbm, _list_month, _logistic

    print("\n| twin (seed:end) | score | validation AUC-PR | list months (6) / oracle, mean | list month / oracle |")
    print("|---|---|---|---|---|")
    for item in spec.split(","):
        seed, end = item.split(":")
        data, batch = build(work, companies, months, int(seed), end)
        metrics_path = DataDir(data).model(batch) / "metrics.json"
        if not metrics_path.is_file():
            print(f"| {item} | not trained: run --regimes {item} first | | | |")
            continue
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        last = batch_month(batch)
        df = load_panel(data, until=last).sort_values(["siren", "periode"])
        df["paydex_ewm"] = df.groupby("siren").paydex_nb_jours.transform(
            lambda s: s.ewm(alpha=0.25, ignore_na=True).mean()
        )
        df = df.sort_values(["periode", "siren"]).reset_index(drop=True)
        month = _list_month(df, last, None)
        rs = refit_splits(df, TrainConfig().splits, last)
        early = ~df.signal_fort.fillna(False).to_numpy(dtype=bool)
        y = df.failure.fillna(0).to_numpy().astype(int)
        fit, valid = rs.fit & early, rs.valid & early
        ev = _with_truth(_not_yet_judged(df[(df.periode >= month - 5) & (df.periode <= month)]), data)
        groups, cats = feature_groups(), set(categorical_columns())
        themes = (metrics.get("themes") or {}).get("themes") or sorted(set(groups.values()))
        by_theme = [c for c in feature_columns() if groups.get(c, "autres") in themes]
        no_debt = [c for c in by_theme if groups.get(c) != "dette URSSAF"]
        median = float(df.paydex_ewm.median())

        scores = [("paydex smoothed alone", df.paydex_ewm.fillna(median).to_numpy()[valid],
                   ev.paydex_ewm.fillna(median).to_numpy())]  # fmt: skip
        fitted = {
            "logistic: smoothed paydex, fpi_30, effectif_ent": (["paydex_ewm", "fpi_30", "effectif_ent"], "logistic"),
            "logistic: the list themes": (by_theme, "logistic"),
            "logistic: the list themes but dette URSSAF": (no_debt, "logistic"),
            "lightgbm list configuration: the list themes": (by_theme, "lightgbm"),
        }
        for name, (cols, kind) in fitted.items():
            enc = PanelEncoder(columns=cols).fit(df[fit])
            est = (
                _logistic({"C": 0.01}, tuple(i for i, c in enumerate(cols) if c in cats))
                if kind == "logistic"
                else _lightgbm(metrics["lightgbm"]["params"], TrainConfig().n_seeds)
            ).fit(enc.transform(df[fit]), y[fit])
            scores.append((name, est.margin(enc.transform(df[valid])), est.margin(enc.transform(ev))))
        for name, p_valid, p_ev in scores:
            r = [aps(g.failure_18m, p_ev[g.index]) / aps(g.failure_18m, g.p_failure_18m)
                 for _, g in ev.groupby("periode")]  # fmt: skip
            print(f"| {item} | {name} | {aps(y[valid], p_valid):.3f} | {np.mean(r):.2f} | {r[-1]:.2f} |", flush=True)

if __name__ == "__main__":
    main()
