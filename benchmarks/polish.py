"""Polish UCI bankruptcy data (years 1 and 5): the production failure model under the published protocol.

The production model is ``FailureClassifier()`` with its defaults (LightGBM and XGBoost boosters averaged, plain
and ratio views), the same configuration for both years.

Protocol: 10 stratified 90/10 hold-outs per year (StratifiedShuffleSplit, seed 0), as in "Bankruptcy prediction
using optimal ensemble models under balanced and imbalanced data" (Expert Systems, 2024). Printed beside that
paper's table, with two baselines measured in the same run on the same splits (LightGBM with its defaults, and
the logistic pipeline), so the ratios do not depend on the machine.
Usage: uv run python benchmarks/polish.py [--years 1 5] [--splits 10] [--draws 1]
``--draws N`` repeats the protocol on N draws of hold-outs (split seeds 0 .. N-1; seed 0 is the table above and
the ``model benchmark`` command's) and prints each draw's mean AUC-ROC and their spread: how much of a difference
between two models the draw alone can make.
Reads ../shared/datasets/polish_uci_bankruptcy/ (relative to the project root).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from signaux_faibles.model import (
    FailureClassifier,
    make_baseline_lightgbm,
    make_logistic_pipeline,
    run_benchmark,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "polish_uci_bankruptcy"

# AUC-ROC, mean over 10 stratified 90/10 hold-outs (model_benchmarks.md §2.1, verified from the paper's README).
PUBLISHED = {
    "LightGBM (published)": {1: 0.960, 5: 0.958},
    "CatBoost (published)": {1: 0.958, 5: 0.961},
    "XGBoost (published)": {1: 0.956, 5: 0.961},
    "best ensemble (published)": {1: 0.964, 5: 0.963},
}
GOAL = 0.965
PRODUCTION = "production (FailureClassifier)"


def holdouts(year: int, estimator: Any, splits: int, seed: int = 0) -> dict[str, Any]:
    """``run_benchmark`` on one year under the published protocol (the draw of hold-outs of split seed ``seed``)."""
    return run_benchmark(DATA / f"{year}year.arff", "class", None, None, "holdout90", None, None,
                         estimator=estimator, n_splits=splits, seed=seed)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--splits", type=int, default=10, help="first N of the 10 hold-outs")
    ap.add_argument("--draws", type=int, default=1, help="draws of hold-outs (split seeds 0 .. N-1)")
    args = ap.parse_args()
    models: dict[str, Any] = {
        PRODUCTION: FailureClassifier(),
        "baseline LightGBM defaults": make_baseline_lightgbm(),
        "baseline logistic pipeline": make_logistic_pipeline(),
    }
    results: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in models}
    for year in args.years:
        for name, est in models.items():
            res = results[name][year] = holdouts(year, est, args.splits)
            print(f"year {year} {name}: AUC {res['auc_roc']['mean']:.4f} ± {res['auc_roc']['std']:.4f} "
                  f"({res['seconds']} s)", flush=True)  # fmt: skip

    years = args.years
    head = f"{'model':34s}" + "".join(f" | year {y} AUC-ROC   AUC-PR  Brier " for y in years)
    print()
    print(f"Polish UCI, {args.splits} stratified 90/10 hold-outs (seed 0); Brier on raw probabilities")
    print(head)
    print("-" * len(head))
    for name in models:
        cells = ""
        for y in years:
            r = results[name][y]
            cells += (f" | {r['auc_roc']['mean']:.4f} ± {r['auc_roc']['std']:.3f} "
                      f"{r['auc_pr']['mean']:.3f}  {r['brier']['mean']:.4f}")  # fmt: skip
        print(f"{name:34s}{cells}")
    for name, row in PUBLISHED.items():
        cells = "".join(f" | {row[y]:.3f}" + " " * 27 if y in row else " | n/a" + " " * 29 for y in years)
        print(f"{name:34s}{cells}")
    print()
    prod = results[PRODUCTION]
    for y in years:
        p = prod[y]["auc_roc"]["mean"]
        lgb_base = results["baseline LightGBM defaults"][y]["auc_roc"]["mean"]
        logit = results["baseline logistic pipeline"][y]["auc_roc"]["mean"]
        best_pub = PUBLISHED["best ensemble (published)"].get(y)
        ratios = (
            f"year {y}: production/LightGBM-defaults {p / lgb_base:.4f}, production/logistic {p / logit:.4f}"
        )
        if best_pub:
            ratios += f", production/best-published {p / best_pub:.4f}"
        ratios += f"; goal ≥ {GOAL}: {'met' if p >= GOAL else 'NOT met'}"
        print(ratios)
    print(json.dumps({f"year{y}": {n: results[n][y]["auc_roc"] for n in models} for y in years}))
    if args.draws > 1:
        draws(models, results, years, args.draws, args.splits)


def draws(
    models: dict[str, Any], results: dict[str, dict[int, dict[str, Any]]], years: list[int], n: int, splits: int
) -> None:
    """The same protocol on other draws of hold-outs (seeds 1 .. n-1; seed 0 is ``results``)."""
    means: dict[str, dict[int, list[float]]] = {
        name: {y: [results[name][y]["auc_roc"]["mean"]] for y in years} for name in models
    }
    for seed in range(1, n):
        for year in years:
            for name, est in models.items():
                means[name][year].append(holdouts(year, est, splits, seed)["auc_roc"]["mean"])
                print(f"draw {seed} year {year} {name}: AUC {means[name][year][-1]:.4f}", flush=True)
    print()
    print(f"{n} draws of {splits} hold-outs (split seeds 0 .. {n - 1}): mean AUC-ROC of each draw")
    for year in years:
        for name in models:
            v = np.asarray(means[name][year])
            cells = " ".join(f"{x:.4f}" for x in v)
            print(f"year {year} {name:34s} {cells} | mean {v.mean():.4f}, sd {v.std():.4f}, "
                  f"range {v.min():.4f}–{v.max():.4f}")  # fmt: skip
        prod = np.asarray(means[PRODUCTION][year])
        print(f"year {year}: goal ≥ {GOAL} met on {(prod >= GOAL).sum()} of {n} draws; "
              f"on the mean of the draws: {'met' if prod.mean() >= GOAL else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
