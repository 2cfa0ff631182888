"""Calibration statistics of a generated twin, recomputed from its files (what the partners deliver) and its
ground truth: the table of ``docs/twin.md``.

Perimeter firms are those with at least 10 employees (SIREN effectif) in some month of the last 36 delivered.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# target ranges (low, high) from ../shared/research/twin_targets.md and model_benchmarks.md
TARGETS: dict[str, tuple[float, float]] = {
    "failure_18m_perimeter": (0.03, 0.05),
    "failure_18m_all": (0.02, 0.08),
    "oracle_auc_roc": (0.85, 0.97),
    "oracle_auc_pr": (0.15, 0.55),
    "share_urssaf_debt": (0.10, 0.45),
    "share_activite_partielle": (0.10, 0.80),
    "share_under_10": (0.15, 0.60),
    "mix_liquidation": (0.55, 0.75),
    "mix_redressement": (0.25, 0.42),
    "mix_sauvegarde": (0.0, 0.05),
}


@dataclass
class Stat:
    name: str
    value: float
    description: str

    @property
    def target(self) -> tuple[float, float] | None:
        return TARGETS.get(self.name)

    @property
    def ok(self) -> bool:
        t = self.target
        return t is None or t[0] <= self.value <= t[1]


def _read(path: Path, sep: str, encoding: str = "utf-8") -> pd.DataFrame:
    if path.suffix == ".gz":
        with gzip.open(path) as fh:
            raw = fh.read()
    else:
        raw = path.read_bytes()
    text = raw.decode(encoding, errors="replace")
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    return pd.DataFrame(body, columns=head)


def auc_roc(y: np.ndarray, p: np.ndarray) -> float:
    ranks = pd.Series(p).rank().to_numpy()
    pos = y == 1
    n1 = pos.sum()
    n0 = len(y) - n1
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else float("nan")


def auc_pr(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(-p, kind="mergesort")
    ys = y[order]
    prec = np.cumsum(ys) / np.arange(1, len(ys) + 1)
    return float((prec * ys).sum() / max(ys.sum(), 1))


def twin_stats(twin: Path) -> list[Stat]:
    """Statistics of the twin's initial batch and ground truth."""
    batch = sorted(p for p in twin.iterdir() if p.is_dir() and p.name.isdigit())[0]
    ent = _read(batch / "sigfaible_effectif_siren.csv", ";")
    eff_cols = [c for c in ent.columns if c.startswith("eff")]
    eff = ent[eff_cols].replace("", np.nan).astype(float)
    last36 = eff[eff_cols[-36:]]
    perim = set(ent.siren[(last36 >= 10).any(axis=1)])
    latest = eff.ffill(axis=1).iloc[:, -1]
    debits = _read(batch / "sigfaible_debits.csv", ";")
    debits["trt"] = debits.Dt_trt_ecn.astype(int) + 19_000_000
    recent_debt = set(debits.Siren[(debits.Cd_op_ecn == "1") & (debits.trt > debits.trt.max() - 10_000)])
    ap = _read(batch / "demande_ap.csv", ",")
    sirets_ap = set(ap.ETAB_SIRET.str[:9])
    procol = _read(batch / "sigfaible_pcoll.csv", ";")
    opening = procol[procol.Lib_actx_stdx.str.startswith("Ouverture")].copy()
    opening["date"] = pd.to_datetime(opening.Dt_effet, format="%d%b%Y")
    first = opening.sort_values("date").groupby("Siren").first()
    kinds = first.Lib_actx_stdx.str.split("_").str[-1].value_counts(normalize=True)
    truth = pq.read_table(twin / "ground_truth.parquet").to_pandas()
    truth["periode"] = pd.to_datetime(truth.periode)
    known = truth[truth.periode <= truth.periode.max() - pd.DateOffset(months=18)]
    # perimeter at each month: >= 10 employees in some month of the 36 months up to it (no survivor bias)
    months = pd.PeriodIndex([pd.Period(f"{c[3:7]}-{(int(c[7]) - 1) * 3 + int(c[8]):02d}", "M") for c in eff_cols])
    roll = eff.T.rolling(36, min_periods=1).max().T.to_numpy() >= 10
    col = {p: i for i, p in enumerate(months)}
    row = {s: i for i, s in enumerate(ent.siren)}
    kp = known.periode.dt.to_period("M")
    ci = kp.map(lambda p: col.get(p, -1)).to_numpy()
    ri = known.siren.map(lambda s: row.get(s, -1)).to_numpy()
    ok = (ci >= 0) & (ri >= 0)
    mask = np.zeros(len(known), dtype=bool)
    mask[ok] = roll[ri[ok], ci[ok]]
    in_p = known[mask]
    y, p = known.failure_18m.to_numpy().astype(int), known.p_failure_18m.to_numpy()
    n_ent = len(ent)
    return [
        Stat("companies", float(n_ent), "companies in the SIREN effectif file"),
        Stat("perimeter", float(len(perim)), "companies with >= 10 employees in the last 36 months"),
        Stat("failure_18m_perimeter", float(in_p.failure_18m.mean()),
             "perimeter company-months (>= 10 employees within the 36 months up to the month) followed by a first judgment within 18 months"),
        Stat("failure_18m_all", float(y.mean()), "same, all companies"),
        Stat("oracle_auc_roc", auc_roc(y, p), "AUC-ROC of the true probability (physical limit)"),
        Stat("oracle_auc_pr", auc_pr(y, p), "AUC-PR of the true probability (physical limit)"),
        Stat("share_urssaf_debt", len(recent_debt & perim) / max(len(perim), 1),
             "perimeter companies with a debt put into collection in the last 12 months"),
        Stat("share_activite_partielle", len(sirets_ap & perim) / max(len(perim), 1),
             "perimeter companies with at least one activité partielle request"),
        Stat("share_under_10", float((latest < 10).mean()), "companies under 10 employees (latest effectif)"),
        Stat("share_10_49", float(((latest >= 10) & (latest < 50)).mean()), "companies with 10-49 employees"),
        Stat("share_50_249", float(((latest >= 50) & (latest < 250)).mean()), "companies with 50-249 employees"),
        Stat("share_250_plus", float((latest >= 250).mean()), "companies with 250+ employees"),
        Stat("mix_liquidation", float(kinds.get("liquidation", 0.0)), "first judgments: liquidation"),
        Stat("mix_redressement", float(kinds.get("redressement", 0.0)), "first judgments: redressement"),
        Stat("mix_sauvegarde", float(kinds.get("sauvegarde", 0.0)), "first judgments: sauvegarde"),
    ]


def markdown(stats: list[Stat]) -> str:
    lines = ["| statistic | value | target | ok | definition |", "|---|---:|---|---|---|"]
    for s in stats:
        t = f"{s.target[0]:g}–{s.target[1]:g}" if s.target else ""
        v = f"{s.value:,.0f}" if s.value >= 100 else f"{s.value:.3f}"
        lines.append(f"| `{s.name}` | {v} | {t} | {'yes' if s.ok else 'NO'} | {s.description} |")
    return "\n".join(lines)
