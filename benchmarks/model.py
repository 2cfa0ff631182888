"""Benchmark the failure model on a digital twin: test metrics beside the twin's oracle, and training time.

    uv run python benchmarks/model.py [--companies 20000] [--months 60] [--work /tmp/sf-bench-model]

Builds (once, cached in ``--work``) a twin of ``--companies`` companies (``--end``: its last month, to put the list
month in a crisis or its aftermath), ingests its last batch and builds the panel, then runs ``signaux-faibles
train``'s protocol (``run_train``) and prints **early detection first**: at the list month, the firms not yet
judged, each list model (LightGBM, logistic, hazard, average) against the oracle, precision and recall of each alert
level, volumes, and the selection of the published one. Then the evaluation's test rows, for LightGBM and the
logistic model, without and with the "signaux forts": AUC-ROC, AUC-PR, the oracle's AUC-PR on the same test rows (the
twin's exact probability ``p_failure_18m``; 1 for companies already in proceedings) and the ratio model / oracle
(goal ≥ 0.90), then the same ratio within each test month (the mean of the months' AUC-PR: how each monthly list
is ranked, without the calendar effect pooling adds). The logistic model is the baseline measured in the same run.
Peak memory of the process is printed.

Then **the list**: the month ``signaux-faibles score`` would score (the latest complete month), companies with a
known outcome in the ground truth: AUC-PR of the saved list model (refitted on the latest labelled months), of the
evaluated model it was refitted from (its configuration, fitted before the test), and of the oracle, with the
ratios; first without the signaux forts, then as the acceptance check D3 counts the published list (a company
judged during the month is still in the ground truth for that month, and has probability 1 in the list).

``--without FEATURE …`` leaves features out of the model (the panel is the same): compare with a run without it to
measure what they bring (``--without fpi_30 fpi_90 ccsf_recent ccsf_mois_depuis groupe groupe_tete_en_procol``).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def build(work: Path, companies: int, months: int, seed: int, end: str | None = None) -> tuple[Path, str]:
    """A twin (``end``: its last delivered month, default the twin's), its last batch ingested, its panel."""
    from signaux_faibles.config import Settings
    from signaux_faibles.ingest import ingest_batch
    from signaux_faibles.panel import run_panel
    from signaux_faibles.twin.generate import DEFAULT_END, TwinConfig, generate

    data = work / (f"twin_{companies}_{months}_{seed}" + (f"_{end}" if end and end != DEFAULT_END else ""))
    done = data / "panel_done"
    if done.is_file():
        return data, done.read_text().strip()
    summary = generate(
        TwinConfig(data / "twin", companies=companies, months=months, seed=seed, end=end or DEFAULT_END)
    )
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
    parser.add_argument(
        "--end", default=None, help="last delivered month of the twin, YYYY-MM (default 2026-09)"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/sf-bench-model"))
    parser.add_argument(
        "--without", nargs="*", default=[], metavar="FEATURE",
        help="features left out of the model (to measure what they bring: compare with a run without this option)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.without:
        from signaux_faibles.model import dataset
        from signaux_faibles.panel.features.registry import registry

        unknown = set(args.without) - {f.name for f in registry()}
        if unknown:
            parser.error(f"--without: not features of the panel: {sorted(unknown)}")
        dataset.EXCLUDED = (*dataset.EXCLUDED, *args.without)  # read by feature_columns() at each call
        print(f"features left out: {', '.join(args.without)}")

    from signaux_faibles.model.train import run_train

    t0 = time.perf_counter()
    data, batch = build(args.work, args.companies, args.months, args.seed, args.end)
    t1 = time.perf_counter()
    out = run_train(data, batch, log=lambda s: print("  " + s))
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = out.metrics
    print(f"\ntwin {args.companies:,} companies x {args.months} months (seed {args.seed}), batch {batch}")
    print(
        f"twin + ingest + panel {t1 - t0:.1f} s (cached when 0); train {t2 - t1:.1f} s; peak memory {peak:,.0f} MB"
    )
    early_detection(m)
    print("\nTest rows of the evaluation (models fitted 18 months before the test), early detection first:")
    print(
        "| model | test rows | sample | prevalence | AUC-ROC | AUC-PR | oracle AUC-PR | model / oracle "
        "| oracle without the future | model / it | Brier |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, label in (("without_signaux_forts", "without signaux forts"), ("with_signaux_forts", "with")):
        for kind in ("lightgbm", "logistic"):
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
    mon = lgb["without_signaux_forts"]["oracle_monthly_ratio_auc_pr"]
    mon_log = log["without_signaux_forts"]["oracle_monthly_ratio_auc_pr"]
    print(
        f"within each test month (mean AUC-PR of the monthly lists), without signaux forts: LightGBM "
        f"{lgb['without_signaux_forts']['monthly_auc_pr']:.3f} / oracle "
        f"{lgb['without_signaux_forts']['oracle_monthly_auc_pr']:.3f} = {mon:.2f}; logistic {mon_log:.2f}"
    )
    list_month(data, batch, out)


def early_detection(m: dict[str, object]) -> None:
    """The headline: at the list month, the firms not yet judged, each list model against the oracle, with the
    precision and recall of each alert level and the volumes; the selection of the published one."""
    lm, sel = m.get("list_month"), m.get("selection")
    if isinstance(lm, dict):
        print(f"\nEarly detection at the list month {lm['periode']}: {lm['rows']:,} firms not yet judged, "
              f"{lm['failures']} judged within 18 months (prevalence {lm['prevalence']:.3f}), oracle AUC-PR "
              f"{lm['oracle_auc_pr']:.3f}; {lm['judged']:,} firms already in proceedings left out")  # fmt: skip
        print(
            "| list model | AUC-PR | model / oracle | risque élevé P / R (alerts) | risque modéré P / R (alerts) |"
        )
        print("|---|---|---|---|---|")
        for kind, k in lm["kinds"].items():
            hi, mo = k["risque_eleve"], k["risque_modere"]
            mark = " (published)" if isinstance(sel, dict) and sel.get("selected") == kind else ""
            print(f"| {kind}{mark} | {k['auc_pr']:.3f} | {k['ratio']:.2f} | {hi['precision']:.2f} / {hi['recall']:.2f} "
                  f"({hi['alerts']:,}) | {mo['precision']:.2f} / {mo['recall']:.2f} ({mo['alerts']:,}) |")  # fmt: skip
    if isinstance(sel, dict):
        print("selection (validation AUC-PR, firms not yet judged): "
              + ", ".join(f"{k} {v:.3f}" for k, v in sel["scores"].items()) + f" → {sel['selected']}")  # fmt: skip
    themes = m.get("themes")
    if isinstance(themes, dict) and themes.get("themes"):
        print(f"themes of the list models: {', '.join(themes['themes'])}")


def list_month(data: Path, batch: str, out: object) -> None:
    """AUC-PR at the list's month: list model, evaluated model, oracle; without the signaux forts, then as the
    acceptance check D3 counts (the published list: companies judged during the month are in the ground truth,
    with probability 1 in the list)."""
    import pandas as pd

    from signaux_faibles.layout import batch_month
    from signaux_faibles.model.dataset import complete_month, load_panel
    from signaux_faibles.model.metrics import list_vs_oracle

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
