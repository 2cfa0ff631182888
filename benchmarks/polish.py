"""Polish UCI bankruptcy data (years 1 and 5): the production failure model under the published protocol.

The production model is ``FailureClassifier()`` with its defaults (LightGBM and XGBoost boosters averaged, plain
and ratio views), the same configuration for both years.

Protocol: 10 stratified 90/10 hold-outs per year (StratifiedShuffleSplit, seed 0), as in "Bankruptcy prediction
using optimal ensemble models under balanced and imbalanced data" (Expert Systems, 2024). Printed beside that
paper's table, with two baselines measured in the same run on the same splits (LightGBM with its defaults, and
the logistic pipeline), so the ratios do not depend on the machine.
Usage: uv run python benchmarks/polish.py [--years 1 5] [--splits 10]
Reads ../shared/datasets/polish_uci_bankruptcy/ (relative to the project root).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--splits", type=int, default=10, help="first N of the 10 hold-outs")
    args = ap.parse_args()
    models: dict[str, Any] = {
        "production (FailureClassifier)": FailureClassifier(),
        "baseline LightGBM defaults": make_baseline_lightgbm(),
        "baseline logistic pipeline": make_logistic_pipeline(),
    }
    results: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in models}
    for year in args.years:
        path = DATA / f"{year}year.arff"
        for name, est in models.items():
            t0 = time.perf_counter()
            res = run_benchmark(path, "class", None, None, "holdout90", None, None, estimator=est,
                                n_splits=args.splits)  # fmt: skip
            res["seconds"] = round(time.perf_counter() - t0, 1)
            results[name][year] = res
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
    prod = results["production (FailureClassifier)"]
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


if __name__ == "__main__":
    main()
