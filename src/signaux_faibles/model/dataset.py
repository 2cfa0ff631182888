"""The model's sample: the panel's perimeter rows, the feature matrix and the leakage-free splits.

Splits (``make_splits``)
------------------------
The outcome of a row at month m is known 18 months later (``HORIZON``). With ``L`` the last month whose outcome is
known (the panel's last month minus 18):

- **test**: the last ``test_months`` labelled months (``L - test_months + 1 .. L``), companies of the *test* group;
- **development window**: months up to ``test_start - 18``: every training label was known when the test
  period began (a model trained as of ``test_start`` could have been fitted on them);
- **validation** and **calibration**: the last ``valid_months`` months of the development window, companies of the
  *validation* and *calibration* groups (hyper-parameters and thresholds are chosen on validation, the calibrator
  is fitted on calibration, which is later than the fitting months);
- **fit**: the earlier development months, companies of the *fit* group.

The company groups come from a stable hash of the SIREN (``siren_group``), so test companies never appear in any
other part (SIREN-disjoint) and the test is later in time than everything else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin

from signaux_faibles.layout import DataDir

__all__ = [
    "HORIZON",
    "TRAINING_KEYS",
    "PanelEncoder",
    "PanelSample",
    "SplitConfig",
    "Splits",
    "base_feature",
    "complete_month",
    "feature_columns",
    "feature_groups",
    "hazard_rows",
    "hazard_targets",
    "load_panel",
    "make_splits",
    "panel_columns",
    "panel_companies",
    "refit_splits",
    "sample_companies",
    "sample_draw",
    "siren_group",
]

HORIZON = 18
#: Registry groups that are not model inputs.
NOT_FEATURES = ("cible", "clé")
#: Registered columns left out of the model: dates (their information is in derived features), identifiers too
#: fine-grained to generalise (APE code, département: sector and region are kept).
EXCLUDED = ("date_proc_collective", "date_creation", "code_ape", "departement", "statut_juridique")
#: Suffixes of lagged and windowed variants: ``base_feature`` strips them ("micro" explanations).
#: Label columns with a known order: fixed codes (so an unseen level still gets its place in the order).
ORDERED_LABELS: dict[str, list[str]] = {
    "etat_proc_collective": [
        "in_bonis",
        "sauvegarde",
        "plan_sauvegarde",
        "continuation",
        "plan_redressement",
        "liquidation",
    ],
    "paydex_bin": ["<=0", "0-15", "15-30", "30-60", "60-90", ">90"],
    "taille": ["0-9", "10-49", "50-249", "250+"],
}
_VARIANT = re.compile(r"_(past_\d+|moy\d+m|diff_\d+m|cumulees|reporte)$")


def feature_columns() -> list[str]:
    """The model's input columns, from the feature registry (registry order)."""
    from signaux_faibles.panel.features.registry import registry

    return [f.name for f in registry() if f.group not in NOT_FEATURES and f.name not in EXCLUDED]


def feature_groups() -> dict[str, str]:
    """Feature → theme ("santé financière", "dette URSSAF", …) for the "macro" explanations."""
    from signaux_faibles.panel.features.registry import registry

    return {f.name: f.group for f in registry()}


def categorical_columns() -> list[str]:
    """Input columns that hold labels or codes (encoded as category codes)."""
    from signaux_faibles.panel.features.registry import registry

    cols = set(feature_columns())
    return [f.name for f in registry() if f.name in cols and f.unit in ("label", "code")]


def base_feature(name: str) -> str:
    """The base feature of a lagged or windowed variant (``effectif_past_12`` → ``effectif``)."""
    while True:
        stripped = _VARIANT.sub("", name)
        if stripped == name:
            return name
        name = stripped


def complete_month(panel: pd.DataFrame, last: pd.Period, min_share: float = 0.8) -> pd.Period:
    """The latest month ≤ ``last`` whose cotisations cover at least ``min_share`` of the best-covered month."""
    cover = (
        panel.loc[panel.periode <= last, ["periode", "cotisation_moy12m"]]
        .groupby("periode")["cotisation_moy12m"]
        .apply(lambda s: s.notna().mean())
    )
    if cover.empty:
        raise ValueError(f"the panel has no month up to {last}")
    ok = cover[cover >= min_share * cover.max()]
    return ok.index.max()


#: Panel columns training reads besides the features (``feature_columns``) and the segments of its evaluation:
#: the keys, the target, the signaux forts, what the hazard targets and the list month are made of.
TRAINING_KEYS = (
    "siren", "periode", "failure", "signal_fort", "time_til_failure", "date_premier_jugement", "cotisation_moy12m",
)  # fmt: skip


def _panel_dataset(data_dir: Path) -> Any:
    import pyarrow.dataset as ds

    path = DataDir(data_dir).panel
    if not path.is_dir():
        raise FileNotFoundError(f"no panel at {path}: run `signaux-faibles panel --batch AAMM` first")
    return ds.dataset(path, format="parquet")


def panel_columns(data_dir: Path) -> list[str]:
    """The panel's column names (its schema; nothing read)."""
    return list(_panel_dataset(data_dir).schema.names)


def _month_filter(since: pd.Period | None, until: pd.Period | None) -> Any:
    import pyarrow.dataset as ds

    cond = ds.field("in_perimeter") == True  # noqa: E712
    if since is not None:
        cond = cond & (ds.field("periode") >= since.to_timestamp().date())
    if until is not None:
        cond = cond & (ds.field("periode") < (until + 1).to_timestamp().date())
    return cond


def load_panel(
    data_dir: Path, columns: list[str] | None = None, since: pd.Period | None = None, *,
    until: pd.Period | None = None, sirens: Any = None, float32: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Read ``panel/company_month`` (perimeter rows only; from month ``since`` to month ``until`` when given; the
    companies ``sirens`` when given), ``periode`` as a month period, sorted by month and SIREN.

    The column, month and company selections are pushed into the Parquet scan (pyarrow filters): nothing else is
    read. ``float32``: the decimal columns (other than the keys) as float32, half the memory."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dataset = _panel_dataset(data_dir)
    cond = _month_filter(since, until)
    if sirens is not None:
        import pyarrow.dataset as ds

        cond = cond & ds.field("siren").isin(pa.array(np.asarray(sirens, dtype=object), type=pa.string()))
    table = dataset.to_table(columns=columns, filter=cond)
    if float32:
        for i, f in enumerate(table.schema):
            if pa.types.is_float64(f.type) and f.name not in TRAINING_KEYS:
                table = table.set_column(i, f.name, pc.cast(table.column(i), pa.float32()))
    # sorted in Arrow (a stable sort, as pandas' was) one column at a time, each unsorted column dropped once
    # taken, then converted column by column: at most one column more than the table is held, no pandas copy
    order = pc.sort_indices(table, sort_keys=[("periode", "ascending"), ("siren", "ascending")])
    names, taken = table.column_names, []
    for _ in names:
        taken.append(pc.take(table.column(0), order))
        table = table.remove_column(0)
    table = pa.table(taken, names=names)
    del taken, order
    df = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    df["periode"] = pd.to_datetime(df["periode"]).dt.to_period("M")
    return df


def panel_companies(data_dir: Path, until: pd.Period) -> tuple[pd.DataFrame, pd.Period | None]:
    """Per company of the panel's perimeter up to month ``until``: its rows and whether it fails (a row with
    ``failure`` = 1); and the panel's last month. Reads three columns only (the first pass of a sampled training)."""
    import pyarrow.compute as pc

    table = _panel_dataset(data_dir).to_table(columns=["siren", "periode", "failure"], filter=_month_filter(None, None))
    if table.num_rows == 0:
        return pd.DataFrame({"siren": [], "rows": [], "failing": []}), None
    last = pd.Period(pc.max(table["periode"]).as_py(), "M")
    table = table.filter(pc.less(table["periode"], (until + 1).to_timestamp().date()))
    failure = pc.fill_null(pc.cast(table["failure"], "int8"), 0)
    table = table.drop_columns(["periode", "failure"]).append_column("failure", failure)
    per = table.group_by("siren").aggregate([("failure", "max"), ("failure", "count")]).to_pandas()
    per = per.rename(columns={"failure_max": "failing", "failure_count": "rows"})
    per["failing"] = per["failing"].astype(bool)
    return per.sort_values("siren", kind="stable").reset_index(drop=True)[["siren", "rows", "failing"]], last


def sample_draw(siren: Any, seed: int = 0) -> NDArray[np.float64]:
    """A stable pseudo-random number in [0, 1) per SIREN for the sample of the survivors (BLAKE2 of ``sample``,
    the seed and the SIREN: independent of the split groups of :func:`siren_group`)."""
    values = pd.Series(np.asarray(siren, dtype=object)).astype(str)
    key = {
        s: int.from_bytes(hashlib.blake2b(f"sample:{seed}:{s}".encode(), digest_size=8).digest(), "big") / 2**64
        for s in pd.unique(values)
    }
    return np.asarray(values.map(key), dtype=float)


#: The lowest sampling rate of the survivors (below it, the sample holds more rows than ``max_rows``).
MIN_SAMPLE_RATE = 0.01


@dataclass(frozen=True)
class PanelSample:
    """A sample of the panel's companies for training at national size (``Settings.train_max_rows``).

    Every company that fails (a row with ``failure`` = 1 up to the batch) is kept with all its rows; the others
    (the survivors) are kept whole when their draw (:func:`sample_draw`, seeded) is below ``rate``. A kept survivor
    stands for ``1 / rate`` companies: its rows weigh ``1 / rate`` wherever probabilities, thresholds and the
    choices between models are fitted (Horvitz–Thompson weights), so that they are the population's. The
    companies whose draw is below ``rate`` — failing or not — are a uniform random sample of the companies: the
    **representative** part, on which the evaluation is reported unweighted.
    """

    rate: float
    seed: int
    max_rows: int
    rows: int
    companies: int
    failing_companies: int
    kept_rows: int
    kept_companies: int
    sirens: tuple[str, ...] = ()

    def representative(self, siren: pd.Series) -> NDArray[np.bool_]:
        return np.asarray(sample_draw(siren, self.seed) < self.rate)

    def weights(self, siren: pd.Series, failure: pd.Series) -> NDArray[np.float64]:
        """Per row: 1 for a failing company's rows, ``1 / rate`` for a sampled survivor's."""
        s = siren.astype(str)
        failing = s.isin(pd.unique(s[failure.fillna(0).to_numpy(dtype=float) == 1]))
        return np.where(failing.to_numpy(dtype=bool), 1.0, 1.0 / self.rate)

    def describe(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed, "max_rows": self.max_rows, "panel_rows": self.rows,
                "panel_companies": self.companies, "failing_companies": self.failing_companies,
                "rows": self.kept_rows, "companies": self.kept_companies,
                "survivor_weight": 1.0 / self.rate}  # fmt: skip


def sample_companies(companies: pd.DataFrame, max_rows: int, seed: int = 0) -> PanelSample | None:
    """The sample of :class:`PanelSample` when ``companies`` (:func:`panel_companies`) hold more than
    ``max_rows`` rows; None otherwise (training reads every company). The rate is the share of survivors that
    brings the sample to about ``max_rows`` rows (at least ``MIN_SAMPLE_RATE``)."""
    total = int(companies["rows"].sum())
    if total <= max_rows:
        return None
    failing = companies["failing"].to_numpy(dtype=bool)
    failing_rows = int(companies["rows"].to_numpy()[failing].sum())
    survivor_rows = total - failing_rows
    rate = min(1.0, max(MIN_SAMPLE_RATE, (max_rows - failing_rows) / survivor_rows)) if survivor_rows else 1.0
    keep = failing | (sample_draw(companies["siren"], seed) < rate)
    kept = companies.loc[keep]
    return PanelSample(
        rate=float(rate), seed=seed, max_rows=max_rows, rows=total, companies=len(companies),
        failing_companies=int(failing.sum()), kept_rows=int(kept["rows"].sum()), kept_companies=len(kept),
        sirens=tuple(kept["siren"].astype(str)),
    )  # fmt: skip


class PanelEncoder(TransformerMixin, BaseEstimator):
    """Panel rows → float matrix: numbers as float, booleans as 0/1, labels as codes learned in ``fit``.

    Unknown labels at transform time become missing values (LightGBM handles them natively; the logistic
    pipeline imputes them).
    """

    def __init__(
        self, columns: list[str] | None = None, categorical: list[str] | None = None, dtype: str | None = None
    ) -> None:
        self.columns = columns
        self.categorical = categorical
        #: The matrix's dtype (None: float64; "float32" for a training at national size, half the memory).
        self.dtype = dtype

    def fit(self, X: pd.DataFrame, y: Any = None) -> PanelEncoder:
        cols = list(self.columns if self.columns is not None else feature_columns())
        cats = list(self.categorical if self.categorical is not None else categorical_columns())
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.categories_: dict[str, list[str]] = {
            c: ORDERED_LABELS.get(c) or sorted(str(v) for v in X[c].dropna().unique())
            for c in cats
            if c in cols
        }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        names = [str(c) for c in self.feature_names_in_]
        # one array filled column by column (no dict of columns consolidated into a second copy)
        out = np.empty((len(X), len(names)), dtype=np.dtype(getattr(self, "dtype", None) or np.float64), order="F")
        for j, c in enumerate(names):
            col = X[c]
            if c in self.categories_:
                cats = self.categories_[c]
                text = col.astype(object).where(col.notna()).astype(str)  # missing → "nan", not a category
                v = pd.Categorical(text.where(text.isin(cats)), categories=cats).codes.astype(float)
                v[v < 0] = np.nan
            elif col.dtype == object:  # nullable booleans arrive as objects (True/False/None)
                v = col.map({True: 1.0, False: 0.0}).astype(float).to_numpy()
            else:
                v = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
            out[:, j] = v
        return pd.DataFrame(out, index=X.index, columns=list(self.feature_names_in_), copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[Any]:
        return np.asarray(self.feature_names_in_, dtype=object)


def siren_group(siren: pd.Series, seed: int = 0) -> NDArray[np.float64]:
    """A stable pseudo-random number in [0, 1) per SIREN (BLAKE2 of seed and SIREN): the company's split group."""
    uniq = pd.unique(siren.astype(str))
    key = {
        s: int.from_bytes(hashlib.blake2b(f"{seed}:{s}".encode(), digest_size=8).digest(), "big") / 2**64
        for s in uniq
    }
    return np.asarray(siren.astype(str).map(key), dtype=float)


@dataclass(frozen=True)
class SplitConfig:
    """Sizes of the splits: months of test and validation, shares of companies per group."""

    test_months: int = 6
    valid_months: int = 6
    test_share: float = 0.25
    valid_share: float = 0.15
    calib_share: float = 0.15
    seed: int = 0
    #: Months the list model is refitted on (the latest ones whose outcome is known, before its held-out months).
    refit_months: int = 12
    #: Months of rows the hazard model learns from (the latest ones, whatever part of their outcome is known).
    hazard_months: int = 36


@dataclass
class Splits:
    """Boolean row masks of the four parts and the months that bound them."""

    fit: NDArray[np.bool_]
    valid: NDArray[np.bool_]
    calib: NDArray[np.bool_]
    test: NDArray[np.bool_]
    last_labelled: pd.Period
    test_start: pd.Period
    dev_end: pd.Period
    valid_start: pd.Period

    def describe(self, df: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """Months, rows, companies and prevalence of each part."""
        out: dict[str, dict[str, Any]] = {}
        for name in ("fit", "valid", "calib", "test"):
            mask = getattr(self, name)
            part = df.loc[mask, ["periode", "siren", "failure"]]
            out[name] = {
                "from": str(part.periode.min()) if len(part) else None,
                "to": str(part.periode.max()) if len(part) else None,
                "rows": int(mask.sum()),
                "companies": int(part.siren.nunique()),
                "positives": int(part.failure.sum()),
                "prevalence": float(part.failure.mean()) if len(part) else float("nan"),
            }
        return out


def make_splits(
    df: pd.DataFrame, cfg: SplitConfig | None = None, last_month: pd.Period | None = None
) -> Splits:
    """The fit / validation / calibration / test masks of the module docstring.

    ``last_month`` is the panel's last month (default: the latest ``periode`` of ``df``); only rows whose outcome
    is known by then (``periode <= last_month - 18``) are used.
    """
    cfg = cfg or SplitConfig()
    last = last_month if last_month is not None else df.periode.max()
    # a short panel gets shorter test and validation windows (at least 2 months each, 3 months to fit on)
    span = (last - df.periode.min()).n + 1
    room = span - 2 * HORIZON - 3
    if room < cfg.test_months + cfg.valid_months and room >= 4:
        short = max(2, room // 2)
        cfg = replace(cfg, test_months=min(cfg.test_months, short), valid_months=min(cfg.valid_months, short))
    last_labelled = last - HORIZON
    test_start = last_labelled - (cfg.test_months - 1)
    dev_end = test_start - HORIZON
    valid_start = dev_end - (cfg.valid_months - 1)
    if valid_start <= df.periode.min():
        raise ValueError(
            f"the panel ({df.periode.min()} .. {last}) is too short: the test months start at {test_start}, "
            f"so training must end at {dev_end} and validation would start at {valid_start}; "
            f"a panel of at least {2 * HORIZON + 2 + 2 + 3} months is needed"
        )
    test_g, valid_g, calib_g = _groups(df, cfg)
    fit_g = ~(test_g | valid_g | calib_g)
    p = df.periode
    test_m = ((p >= test_start) & (p <= last_labelled)).to_numpy()
    valid_m = ((p >= valid_start) & (p <= dev_end)).to_numpy()
    fit_m = (p < valid_start).to_numpy()
    return Splits(
        fit=fit_g & fit_m,
        valid=valid_g & valid_m,
        calib=calib_g & valid_m,
        test=test_g & test_m,
        last_labelled=last_labelled,
        test_start=test_start,
        dev_end=dev_end,
        valid_start=valid_start,
    )


def _groups(df: pd.DataFrame, cfg: SplitConfig) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Company groups (stable hash of the SIREN): test, validation, calibration (the rest fits)."""
    g = siren_group(df.siren, cfg.seed)
    test_g = g < cfg.test_share
    valid_g = (g >= cfg.test_share) & (g < cfg.test_share + cfg.valid_share)
    calib_g = (g >= cfg.test_share + cfg.valid_share) & (g < cfg.test_share + cfg.valid_share + cfg.calib_share)
    return test_g, valid_g, calib_g


def refit_splits(
    df: pd.DataFrame, cfg: SplitConfig | None = None, last_month: pd.Period | None = None
) -> Splits:
    """The masks of the **list model**: the chosen configuration refitted on the latest labelled months.

    The evaluation (:func:`make_splits`) must end its training 18 months before its test months, so its model is
    at least three years older than the list it would score. The list model takes the ``refit_months`` latest
    months whose outcome is known (up to ``last_month − 18``) and splits them by company as the evaluation does:
    it is fitted on the fitting and test groups (``fit``), calibrated on the calibration group (``calib``) and
    thresholded on the validation group (``valid``), so the companies that calibrate and threshold it are not
    those it learned from. Calibration is held out by company, not by time: a later fold would cost the list model
    the freshest months, which matter most when conditions change (a crisis, the end of State support). ``test``
    is empty: the list model's expected performance is the evaluation's, measured on the test with the same
    configuration.
    """
    cfg = cfg or SplitConfig()
    base = make_splits(df, cfg, last_month)  # same checks (a panel long enough to be evaluated)
    last_labelled = base.last_labelled
    start = max(last_labelled - (cfg.refit_months - 1), df.periode.min())
    _test_g, valid_g, calib_g = _groups(df, cfg)
    fit_g = ~(valid_g | calib_g)  # the fitting and the test groups
    months = ((df.periode >= start) & (df.periode <= last_labelled)).to_numpy()
    return Splits(
        fit=fit_g & months,
        valid=valid_g & months,
        calib=calib_g & months,
        test=np.zeros(len(df), dtype=bool),
        last_labelled=last_labelled,
        test_start=last_labelled + 1,
        dev_end=last_labelled,
        valid_start=start,
    )


def hazard_targets(df: pd.DataFrame, last_month: pd.Period) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per row, what the batch knows of its first judgment: ``(event, duration)`` for :class:`~.hazard.HazardClassifier`.

    ``event`` is 1 when the first judgment is known (``time_til_failure`` ≥ 1: the months from the row's month to
    the judgment's), and ``duration`` is then those months; otherwise the row is observed without a judgment for
    ``duration = last_month − 1 − month`` months: the batch of month ``last_month`` delivers the judgments up to
    the month before it (the procol file covers the previous month), so the row of ``last_month − 1`` has no
    month observed yet. Rows already judged (``time_til_failure`` ≤ 0, the signaux forts) get ``duration`` 0.
    """
    ttf = pd.to_numeric(df["time_til_failure"], errors="coerce").to_numpy(dtype=float)
    month = (df["periode"].dt.year * 12 + df["periode"].dt.month).to_numpy()
    observed = (last_month.year * 12 + last_month.month - 1) - month
    event = ~np.isnan(ttf) & (ttf >= 1)
    duration = np.where(event, ttf, np.maximum(observed, 0)).astype(float)
    duration[~np.isnan(ttf) & (ttf <= 0)] = 0.0
    return event.astype(np.int64), duration


def hazard_rows(df: pd.DataFrame, cfg: SplitConfig | None = None, last_month: pd.Period | None = None) -> NDArray[np.bool_]:
    """The rows the hazard list model learns from: the companies of the list model's fitting groups (those of
    :func:`refit_splits`: neither the validation nor the calibration group), the ``hazard_months`` latest months
    with at least one month observed after them, firms not yet judged at the month."""
    cfg = cfg or SplitConfig()
    last = last_month if last_month is not None else df.periode.max()
    _test_g, valid_g, calib_g = _groups(df, cfg)
    months = ((df.periode >= last - cfg.hazard_months) & (df.periode <= last - 2)).to_numpy()
    early = ~df["signal_fort"].fillna(False).to_numpy(dtype=bool)
    return np.asarray(~(valid_g | calib_g) & months & early)
