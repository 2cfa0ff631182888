"""Benchmark the failure model on a digital twin: test metrics beside the twin's oracle, and training time.

    uv run python benchmarks/model.py [--companies 20000] [--months 60] [--work /tmp/sf-bench-model]

Builds (once, cached in ``--work``) a twin of ``--companies`` companies, ingests its last batch and builds the
panel, then runs ``signaux-faibles train``'s protocol (``run_train``) and prints, for LightGBM and the logistic
model, with and without the "signaux forts": AUC-ROC, AUC-PR, the oracle's AUC-PR on the same test rows (the
twin's exact probability ``p_failure_18m``; 1 for companies already in proceedings) and the ratio model / oracle
(goal ≥ 0.90), then the same ratio within each test month (the mean of the months' AUC-PR: how each monthly list
is ranked, without the calendar effect pooling adds). The logistic model is the baseline measured in the same run.
Peak memory of the process is printed.

Then **the list**: the month ``signaux-faibles score`` would score (the latest complete month), companies with a
known outcome in the ground truth: AUC-PR of the saved list model (refitted on the latest labelled months), of the
evaluated model it was refitted from (its configuration, fitted before the test), and of the oracle, with the
ratios; first without the signaux forts, then as the acceptance check D3 counts the published list (a company
judged during the month is still in the ground truth for that month, and has probability 1 in the list).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def build(work: Path, companies: int, months: int, seed: int) -> tuple[Path, str]:
    from signaux_faibles.config import Settings
    from signaux_faibles.ingest import ingest_batch
    from signaux_faibles.panel import run_panel
    from signaux_faibles.twin.generate import TwinConfig, generate

    data = work / f"twin_{companies}_{months}_{seed}"
    done = data / "panel_done"
    if done.is_file():
        return data, done.read_text().strip()
    summary = generate(TwinConfig(data / "twin", companies=companies, months=months, seed=seed))
    batch = summary.batches[-1]
    ingest_batch(data / "twin" / batch, batch, data)
    if run_panel(Settings(data_dir=data), batch, None, None, "duckdb", None):
        raise SystemExit("panel failed")
    done.write_text(batch)
    return data, batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sf-bench-model"))
    args = parser.parse_args()

    from signaux_faibles.model.train import run_train

    t0 = time.perf_counter()
    data, batch = build(args.work, args.companies, args.months, args.seed)
    t1 = time.perf_counter()
    out = run_train(data, batch, log=lambda s: print("  " + s))
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = out.metrics
    print(f"\ntwin {args.companies:,} companies x {args.months} months (seed {args.seed}), batch {batch}")
    print(
        f"twin + ingest + panel {t1 - t0:.1f} s (cached when 0); train {t2 - t1:.1f} s; peak memory {peak:,.0f} MB"
    )
    print(
        "| model | test rows | sample | prevalence | AUC-ROC | AUC-PR | oracle AUC-PR | model / oracle "
        "| oracle without the future | model / it | Brier |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("lightgbm", "logistic"):
        for name, label in (
            ("with_signaux_forts", "with signaux forts"),
            ("without_signaux_forts", "without"),
        ):
            t = m[kind]["test"][name]
            print(
                f"| {kind} | {t['rows']:,} | {label} | {t['prevalence']:.3f} | {t['auc_roc']:.3f} | {t['auc_pr']:.3f} "
                f"| {t['oracle_auc_pr']:.3f} | {t['oracle_ratio_auc_pr']:.2f} | {t['oracle_now_auc_pr']:.3f} "
                f"| {t['oracle_now_ratio_auc_pr']:.2f} | {t['brier']:.4f} |"
            )
    lgb, log = m["lightgbm"]["test"], m["logistic"]["test"]
    ratio = lgb["without_signaux_forts"]["auc_pr"] / log["without_signaux_forts"]["auc_pr"]
    print(f"LightGBM / logistic AUC-PR without signaux forts: {ratio:.2f}")
    for r in m["backtest"]:
        print(
            f"backtest {r['as_of']}: AUC-ROC {r['auc_roc']:.3f}, AUC-PR {r['auc_pr']:.3f} (prevalence {r['prevalence']:.3f})"
        )
    goal = lgb["with_signaux_forts"]["oracle_ratio_auc_pr"]
    goal_nsf = lgb["without_signaux_forts"]["oracle_ratio_auc_pr"]
    now = lgb["with_signaux_forts"]["oracle_now_ratio_auc_pr"]
    now_nsf = lgb["without_signaux_forts"]["oracle_now_ratio_auc_pr"]
    print(
        f"model / oracle (goal >= 0.90): with signaux forts {goal:.2f}, without {goal_nsf:.2f}; "
        f"model / oracle without the future: with signaux forts {now:.2f}, without {now_nsf:.2f}"
    )
    mon = lgb["without_signaux_forts"]["oracle_monthly_ratio_auc_pr"]
    mon_log = log["without_signaux_forts"]["oracle_monthly_ratio_auc_pr"]
    print(
        f"within each test month (mean AUC-PR of the monthly lists), without signaux forts: LightGBM "
        f"{lgb['without_signaux_forts']['monthly_auc_pr']:.3f} / oracle "
        f"{lgb['without_signaux_forts']['oracle_monthly_auc_pr']:.3f} = {mon:.2f}; logistic {mon_log:.2f}"
    )
    list_month(data, batch, out)


def list_month(data: Path, batch: str, out: object) -> None:
    """AUC-PR at the list's month: list model, evaluated model, oracle; without the signaux forts, then as the
    acceptance check D3 counts (the published list: companies judged during the month are in the ground truth,
    with probability 1 in the list)."""
    import pandas as pd

    from signaux_faibles.lists.score import complete_month
    from signaux_faibles.model.dataset import load_panel
    from signaux_faibles.model.metrics import list_vs_oracle
    from signaux_faibles.model.train import batch_month

    panel = load_panel(data)
    month = complete_month(panel, batch_month(batch))
    listed = panel[panel.periode == month].drop_duplicates("siren")
    early = listed[~listed.signal_fort.astype(bool)]
    gt = pd.read_parquet(data / "twin" / "ground_truth.parquet")

    def vs(model: object, rows: pd.DataFrame) -> dict[str, float]:
        scores = rows[["siren", "periode"]].assign(probability=model.predict_proba(rows))  # type: ignore[attr-defined]
        res = list_vs_oracle(scores, gt)
        assert res is not None, "fewer than 10 known failures at the list month"
        return res

    for kind, saved in (("lightgbm", out.model), ("logistic", out.logistic)):  # type: ignore[attr-defined]
        evaluated = out.evaluated[kind]  # type: ignore[attr-defined]
        strict, strict_eval = vs(saved, early), vs(evaluated, early)
        published, published_eval = vs(saved, listed), vs(evaluated, listed)
        if kind == "lightgbm":
            print(f"list month {month}, without signaux forts: {strict['rows']:,} companies, {strict['failures']} "
                  f"failures within 18 months; oracle AUC-PR {strict['oracle_auc_pr']:.3f}")  # fmt: skip
        print(f"  {kind}: list model AUC-PR {strict['auc_pr']:.3f} (/ oracle {strict['ratio']:.2f}), evaluated model "
              f"{strict_eval['auc_pr']:.3f} (/ oracle {strict_eval['ratio']:.2f}); as D3 counts (published list, "
              f"{published['rows']:,} companies, {published['failures']} failures): list model / oracle "
              f"{published['ratio']:.2f}, evaluated {published_eval['ratio']:.2f}")  # fmt: skip

if __name__ == "__main__":
    main()
