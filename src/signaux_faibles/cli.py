"""The ``signaux-faibles`` command."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__


class Engine(StrEnum):
    """The analytics engines (``engine.ENGINES``)."""

    duckdb = "duckdb"
    spark = "spark"


app = typer.Typer(
    help="Signaux Faibles: détection précoce des entreprises en difficulté.", no_args_is_help=True
)
console = Console()

from .model.cli import model_app  # noqa: E402  (the sub-app loads nothing heavy)

app.add_typer(model_app, name="model")

from .platform.cli import regions_app, users_app  # noqa: E402

app.add_typer(users_app, name="users")
app.add_typer(regions_app, name="regions")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )  # fmt: skip


@app.callback()
def main() -> None:
    """Signaux Faibles."""
    # confidential files (data directory, platform database, exports, keys) are readable by their owner only
    os.umask(0o077)
    _check_settings()


def _check_settings() -> None:
    """A wrong setting (environment ``SF_…`` or ``signaux-faibles.toml``) stops every command with its name, what
    was given and what is expected, before anything is read or written."""
    from pydantic import ValidationError

    from .config import get_settings

    try:
        get_settings()
    except ValidationError as e:
        for err in e.errors():
            name = ".".join(str(x) for x in err["loc"])
            console.print(
                f"[red]error:[/red] setting {name} (SF_{name.upper()} or signaux-faibles.toml): {err['msg']}"
                f" (given: {err.get('input')!r})",
                highlight=False,
            )
        raise typer.Exit(2) from None


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def twin(
    out: Annotated[Path, typer.Option(help="Folder to write the twin into")],
    companies: Annotated[int, typer.Option(help="Number of companies (SIREN)")] = 2000,
    months: Annotated[int, typer.Option(help="Months of history delivered")] = 60,
    end: Annotated[str, typer.Option(help="Last delivered month, YYYY-MM")] = "2026-09",
    region: Annotated[str, typer.Option(help="INSEE region code(s), comma-separated")] = "27",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes)")] = 0,
    defects: Annotated[float, typer.Option(help="Share of lines carrying a defect")] = 0.0,
    monthly_batches: Annotated[int, typer.Option(help="Monthly deliveries after the initial batch")] = 0,
    urssaf_format: Annotated[
        str, typer.Option(help="siret (today's URSSAF files) or account (keyed by account only, before 12/2025)")
    ] = "siret",
) -> None:
    """Write a digital twin: the partners' files of a synthetic region, with known ground truth."""
    from .twin import TwinConfig, generate

    cfg = TwinConfig(out=out, companies=companies, months=months, end=end, region=region, seed=seed,
                     defects=defects, monthly_batches=monthly_batches, urssaf_format=urssaf_format)  # fmt: skip
    try:
        with _progress() as p:
            task = p.add_task("Jumeau numérique", total=None)
            summary = generate(cfg, progress=lambda d, t: p.update(task, completed=d, total=t))
    except ValueError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    table = Table(title=f"Twin written to {out}")
    table.add_column("file")
    table.add_column("lines", justify="right")
    for name, n in sorted(summary.files.items()):
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(
        f"{summary.companies:,} companies, {summary.establishments:,} establishments, batches "
        f"{', '.join(summary.batches)}; {summary.truth_rows:,} ground-truth rows; {summary.defects:,} defects injected"
    )


@app.command()
def ingest(
    directory: Annotated[
        Path, typer.Argument(help="Batch folder of partner files.", exists=True, file_okay=False)
    ],
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM (or AAMM_NN).")],
    no_filter: Annotated[bool, typer.Option("--no-filter", help="Keep rows outside the perimeter.")] = False,
    engine: Annotated[
        Engine | None, typer.Option("--engine", help="duckdb or spark: spark parses the files on its executors")
    ] = None,
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL")] = None,
) -> None:
    """Ingest a batch folder into staging tables, quarantine and import log (under SF_DATA_DIR)."""
    from .config import get_settings
    from .ingest import run_ingest

    raise typer.Exit(run_ingest(directory, batch, get_settings(), no_filter, engine, spark_master))


@app.command()
def panel(
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM (or AAMM_NN).")],
    start: Annotated[
        str | None, typer.Option("--from", help="First month, YYYY-MM (default: 5 years before --to)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last month, YYYY-MM (default: the batch's month)")
    ] = None,
    engine: Annotated[
        Engine | None, typer.Option("--engine", help="duckdb or spark (default: settings)")
    ] = None,
    spark_master: Annotated[str | None, typer.Option("--spark-master", help="Spark master URL")] = None,
) -> None:
    """Build the clean relations (DATA_DIR/clean/) and the company panel (DATA_DIR/panel/company_month/)."""
    from .config import get_settings
    from .panel import run_panel

    raise typer.Exit(run_panel(get_settings(), batch, start, end, engine, spark_master))


@app.command()
def train(
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM: the panel's last month")],
    ground_truth: Annotated[
        Path | None,
        typer.Option(help="Twin ground truth (default: DATA_DIR/twin/ground_truth.parquet if present)"),
    ] = None,
) -> None:
    """Train, calibrate, threshold and evaluate the failure model; save it and its model card (report.html)."""
    from .config import get_settings
    from .layout import DataDir
    from .model.train import run_train

    settings = get_settings()
    try:
        out = run_train(settings.data_dir, batch, ground_truth=ground_truth, log=console.print)
    except (ValueError, FileNotFoundError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    _print_headline(out.metrics)
    console.print(f"model, metrics and report in {DataDir(settings.data_dir).model(batch)}")


def _print_headline(metrics: dict[str, Any]) -> None:
    """Early detection first: on the twin, each list model at the list month against the oracle (firms not yet
    judged), the selection of the list model, then the test without the signaux forts; the figures with the
    signaux forts come second."""
    lm, sel = metrics.get("list_month"), metrics.get("selection")
    if lm:
        console.print(
            f"Early detection at the list month {lm['periode']} (twin): {lm['rows']:,} firms not yet judged, "
            f"{lm['failures']} judged within 18 months (prevalence {lm['prevalence']:.3f}); oracle AUC-PR "
            f"{lm.get('oracle_auc_pr', float('nan')):.3f}; {lm['judged']:,} firms already in proceedings left out",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        for kind, k in lm["kinds"].items():
            hi, mo = k["risque_eleve"], k["risque_modere"]
            mark = " ← list model" if sel and sel.get("selected") == kind else ""
            console.print(
                f"  {kind:8} AUC-PR {k['auc_pr']:.3f}, model/oracle {k['ratio']:.2f}; risque élevé P {hi['precision']:.2f} "
                f"R {hi['recall']:.2f} ({hi['alerts']:,} alerts), risque modéré P {mo['precision']:.2f} "
                f"R {mo['recall']:.2f} ({mo['alerts']:,} alerts){mark}",
                highlight=False, soft_wrap=True,
            )  # fmt: skip
    if sel:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in sel["scores"].items())
        wins = ", ".join(f"{k} {v:.0%}" for k, v in sel.get("wins_over_default", {}).items())
        rule = (f"; {sel['default']} by default, replaced only by a model beating it in {sel['level']:.0%} of "
                f"{sel['draws']} draws of the companies: {wins}") if sel.get("default") else ""  # fmt: skip
        console.print(f"List model: {sel['selected']} (validation AUC-PR, firms not yet judged: {scores}{rule})",
                      highlight=False, soft_wrap=True)  # fmt: skip
    themes = metrics.get("themes")
    if themes and themes.get("themes"):
        console.print(f"List models' themes: {', '.join(themes['themes'])}", highlight=False, soft_wrap=True)
    for name, title in (
        ("without_signaux_forts", "Test, early detection (firms not yet judged; companies and months never seen in training):"),
        ("with_signaux_forts", "Test with the signaux forts (firms already judged included, probability 1):"),
    ):
        console.print(title)
        for kind in ("lightgbm", "logistic"):
            if kind not in metrics or "test" not in metrics[kind]:
                continue
            t = metrics[kind]["test"][name]
            hi, mo = t["risque_eleve"], t["risque_modere"]
            ratio = t.get("oracle_ratio_auc_pr")
            oracle = (
                "" if ratio is None else f"; oracle AUC-PR {t['oracle_auc_pr']:.3f}, model/oracle {ratio:.2f}"
            )
            if "oracle_now_ratio_auc_pr" in t:
                oracle += f" (oracle without the future {t['oracle_now_auc_pr']:.3f}, {t['oracle_now_ratio_auc_pr']:.2f})"
            if "oracle_monthly_ratio_auc_pr" in t:
                oracle += f"; within each month {t['oracle_monthly_ratio_auc_pr']:.2f}"
            console.print(
                f"  {kind:8} {t['rows']:>8,} rows, prevalence {t['prevalence']:.3f}: AUC-PR {t['auc_pr']:.3f}, "
                f"AUC-ROC {t['auc_roc']:.3f}, Brier {t['brier']:.4f}; risque élevé P {hi['precision']:.2f} "
                f"R {hi['recall']:.2f} ({hi['alerts']:,} alerts), risque modéré P {mo['precision']:.2f} R {mo['recall']:.2f} "
                f"({mo['alerts']:,} alerts){oracle}",
                highlight=False,
                soft_wrap=True,
            )


@app.command()
def score(
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM")],
    period: Annotated[
        str | None,
        typer.Option("--period", help="Month to score, YYYY-MM (default: the latest complete month)"),
    ] = None,
    adjustments: Annotated[
        str,
        typer.Option(help="Expert adjustments, comma-separated: urssaf_2021, tailoring_2022 (default none)"),
    ] = "",
    merge: Annotated[
        list[Path] | None,
        typer.Option(help="Earlier scores.parquet of other models to merge (the new list wins)"),
    ] = None,
) -> None:
    """Score a month: the risk list with alert levels, explanations, what-if, flags and the diff (DATA_DIR/lists/)."""
    from .config import get_settings
    from .lists.score import score as run_score

    settings = get_settings()
    names = [a.strip() for a in adjustments.split(",") if a.strip()]
    try:
        res = run_score(
            settings.data_dir, batch, period, adjustments=names, merge=merge or [], log=console.print
        )
    except (ValueError, FileNotFoundError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    _print_list(res.summary, res.scores)
    console.print(f"list written to {res.path}")


def _print_list(summary: dict[str, Any], scores: Any, top: int = 10) -> None:
    from .contract import ALERT_WORDS

    a, pre = summary["alerts"], summary["alerts_before_adjustments"]
    judged = summary.get("procedures_en_cours")
    console.print(
        f"Liste {summary['id_liste']} (lot {summary['batch']}, modèle {summary.get('model', '?')}): "
        f"{summary['companies']:,} entreprises; "
        + ", ".join(f"{ALERT_WORDS[k]} {v:,} (avant redressements {pre[k]:,})" for k, v in a.items())
        + (f"; {judged:,} en procédure collective, hors alertes" if judged is not None else ""),
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    fallback = (summary.get("thresholds") or {}).get("fallback")
    if fallback:
        console.print(f"seuils dégénérés, règle de repli appliquée : {fallback}", highlight=False, soft_wrap=True)
    if summary["adjustments"]:
        console.print(f"redressements: {summary['adjustments']}", highlight=False)
    if summary["previous_batch"]:
        console.print(f"par rapport au lot {summary['previous_batch']}: {summary['diff']}", highlight=False)
    table = Table(title=f"Tête de liste ({top})")
    for col in ("rang", "siren", "raison sociale", "dépt", "probabilité à 3 / 12 / 18 mois", "niveau", "1re alerte"):
        table.add_column(col)

    def pct(x: Any) -> str:
        return "–" if x is None or x != x else f"{100 * x:.0f}"

    for r in scores.head(top).itertuples(index=False):
        terms = (f"{pct(getattr(r, 'probability_3m', None))} / {pct(getattr(r, 'probability_12m', None))} / "
                 f"{pct(r.probability)} %")  # fmt: skip
        table.add_row(str(r.rank), r.siren, str(r.raison_sociale or "")[:24], str(r.departement or ""), terms,
                      ALERT_WORDS[r.alert], "oui" if r.first_alert else "non")  # fmt: skip
    console.print(table)


class ExportFormat(StrEnum):
    sf_json = "sf-json"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def export(
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM of a scored list")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="sf-json (real system's interchange), csv or xlsx")
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write")],
) -> None:
    """Export a scored list: the real system's JSON interchange format, CSV or XLSX (French column labels)."""
    from .config import get_settings
    from .lists.export import export_list

    try:
        n = export_list(get_settings().data_dir, batch, fmt.value, out)
    except (ValueError, FileNotFoundError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    console.print(f"{n:,} companies written to {out}")


@app.command("twin-stats")
def twin_stats(
    twin_dir: Annotated[Path, typer.Argument(help="A twin written by `signaux-faibles twin`")],
) -> None:
    """Recompute the twin's calibration table (docs/twin.md) from its files and ground truth."""
    from .twin.calibration import markdown
    from .twin.calibration import twin_stats as compute

    stats = compute(twin_dir)
    console.print(markdown(stats), markup=False, highlight=False, soft_wrap=True)
    if not all(s.ok for s in stats):
        console.print("[red]some statistics are outside their target range[/red]")
        raise typer.Exit(1)


@app.command()
def publish(
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM of a scored list")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="Platform database URL (default: settings, else DATA_DIR/platform.db)"
        ),
    ] = None,
) -> None:
    """Publish the list and the latest data to the platform database, in one transaction (schema upgraded first)."""
    from sqlalchemy.exc import OperationalError

    from .config import get_settings
    from .platform.store.publish import publish as run_publish

    settings = get_settings()
    try:
        res = run_publish(
            settings.data_dir, batch, database_url or settings.database_url, log=console.print,
            memory_limit=settings.duckdb_memory_limit,
        )  # fmt: skip
    except (ValueError, FileNotFoundError, OperationalError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    console.print(
        f"list {res.label} ({res.algo}, id {res.list_id}) published to {res.database} in {res.seconds:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in res.rows.items()),
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def _demo_results(settings: Any, first: str, last: str, step: int) -> None:
    """The demo's last words: the model trained at the first batch, the latest list and its exports."""
    import json

    import pandas as pd

    from .layout import DataDir

    console.rule(f"{step}. Détection précoce, liste {last} (early detection, model card, list, exports)")
    data = DataDir(settings.data_dir)
    folder = data.list(last)
    scores = pd.read_parquet(folder / "scores.parquet")
    truth = data.ground_truth
    if truth.is_file():
        _print_early_detection(scores, pd.read_parquet(truth))
    metrics = json.loads((data.model(first) / "metrics.json").read_text(encoding="utf-8"))
    console.print(f"The model trained on batch {first} (the lists since use it):", highlight=False)
    _print_headline(metrics)
    console.print(f"model card: {data.model(first) / 'report.html'}")
    _print_list(json.loads((folder / "summary.json").read_text(encoding="utf-8")), scores)
    console.print(f"list in {folder}; exports (sf-json, csv, xlsx) in {data.exports(last)}; "
                  f"run logs in {data.runs}", highlight=False, soft_wrap=True)  # fmt: skip


def _print_early_detection(scores: Any, truth: Any) -> None:
    """The headline: how the published list ranks the firms prevention can still reach (not yet judged at the
    batch) against the twin's oracle, and what each alert level catches; then the figure with signaux forts."""
    from .contract import ALERT_HIGH, ALERT_MODERATE
    from .model.metrics import list_vs_oracle

    free = scores[~scores["procedure_en_cours"].fillna(False).astype(bool)] if "procedure_en_cours" in scores else scores
    vs = list_vs_oracle(free, truth)
    if vs is None:
        console.print("early detection: too few failures with a known outcome in this list to measure it")
        return
    m = free.assign(periode=free.periode.astype(str).str[:7]).merge(
        truth.assign(siren=truth.siren.astype(str), periode=truth.periode.astype(str).str[:7])[["siren", "periode", "failure_18m"]],
        on=["siren", "periode"]).dropna(subset=["failure_18m"])  # fmt: skip
    y = m.failure_18m.astype(bool)
    from babel.numbers import format_decimal, format_percent

    def d(x: float, digits: int = 3) -> str:
        return str(format_decimal(x, format="0." + "0" * digits, locale="fr_FR"))

    def n_(x: float) -> str:
        return str(format_decimal(x, locale="fr_FR"))

    console.print(
        f"DÉTECTION PRÉCOCE (entreprises pas encore jugées, {n_(vs['rows'])} avec une issue connue, prévalence "
        f"{format_percent(vs['failures'] / vs['rows'], '0.0 %', locale='fr_FR')}) : AUC-PR {d(vs['auc_pr'])}, oracle "
        f"du jumeau {d(vs['oracle_auc_pr'])}, rapport {d(vs['ratio'], 2)} (objectif ≥ 0,90)", highlight=False, soft_wrap=True)  # fmt: skip
    caught = m.alert == ALERT_HIGH
    for label, sel in (("risque élevé", caught), ("risque élevé ou modéré", caught | (m.alert == ALERT_MODERATE))):
        n, tp = int(sel.sum()), int((sel & y).sum())
        console.print(f"  {label:<22} {n_(n):>6} alertes : précision {d(tp / max(n, 1), 2)}, "
                      f"rappel {d(tp / max(int(y.sum()), 1), 2)}", highlight=False)  # fmt: skip
    judged = len(scores) - len(free)
    with_sf = list_vs_oracle(scores, truth)
    if with_sf is not None:
        console.print(f"  (avec les signaux forts : {n_(judged)} entreprises déjà en procédure, hors alertes ; sur toute "
                      f"la liste AUC-PR {d(with_sf['auc_pr'])}, rapport à l'oracle {d(with_sf['ratio'], 2)})",
                      highlight=False, soft_wrap=True)  # fmt: skip


class Step(StrEnum):
    ingest = "ingest"
    panel = "panel"
    train = "train"
    score = "score"
    exports = "exports"
    publish = "publish"


@app.command()
def monthly(
    directory: Annotated[Path, typer.Argument(help="The batch folder delivered by the partners.")],
    batch: Annotated[str, typer.Option("--batch", help="Batch key AAMM (a real month, not after the current one)")],
    retrain: Annotated[bool, typer.Option("--retrain", help="Retrain the model whatever its age")] = False,
    start_from: Annotated[
        Step | None, typer.Option("--from", help="Force this step and those after it (the others may be skipped)")
    ] = None,
    engine: Annotated[Engine | None, typer.Option("--engine", help="duckdb or spark (default: settings)")] = None,
) -> None:
    """The monthly cycle: ingest → panel → train when due → score → exports → publish; logged in runs/AAMM/run.json.

    Exit code 0: published; 1: published with warnings to look at; 2: refused, nothing published."""
    from .config import get_settings
    from .monthly import run_monthly

    res = run_monthly(
        get_settings(),
        directory,
        batch,
        retrain=retrain,
        start_from=start_from.value if start_from else None,
        engine=engine,
        log=lambda s: console.print(s, highlight=False, soft_wrap=True),
    )
    console.rule("Résumé du passage mensuel")
    for line in res.summary:
        console.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(res.exit_code)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes")] = 1,
) -> None:
    """Start the platform (uvicorn): pages at /, API at /api/ (OpenAPI at /api/openapi.json)."""
    import uvicorn

    from .config import get_settings
    from .platform.web import create_app

    settings = get_settings()
    if settings.production and not settings.secret_key:
        console.print(
            "[red]error:[/red] production needs SF_SECRET_KEY (the key signing CSRF tokens and SSO state)"
        )
        raise typer.Exit(2)
    create_app(settings)  # migrate the schema once, before the workers start
    console.print(f"platform on http://{host}:{port}/ (API http://{host}:{port}/api/docs)", highlight=False)
    uvicorn.run(
        "signaux_faibles.platform.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # X-Forwarded-For is read by the platform, from settings.trusted_proxies only
        log_level="info",
    )


@app.command()
def demo(
    companies: Annotated[int, typer.Option(help="Companies in the demo twin")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed of the demo twin")] = 1,
    serve_after: Annotated[
        bool,
        typer.Option("--serve", help="Then start the platform on http://127.0.0.1:PORT/ (Ctrl-C to stop)"),
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the platform started by --serve")] = 8000,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="With --serve: rebuild the demo even when one is already there")
    ] = False,
) -> None:
    """Run the whole chain on a small digital twin and print what each stage did. With ``--serve``, an existing
    demo (its twin and a published list) is reused as it is, its accounts completed, and the platform started."""
    from .config import get_settings
    from .layout import DataDir
    from .twin import TwinConfig, generate
    from .twin.calibration import markdown
    from .twin.calibration import twin_stats as compute

    settings = get_settings()
    twin_dir = DataDir(settings.data_dir).twin
    if serve_after and not rebuild and _demo_exists(settings):
        console.rule("Démo existante réutilisée (existing demo reused; --rebuild to build it again)")
        _demo_accounts(settings, port)
        serve(host="127.0.0.1", port=port, workers=1)
        return
    console.rule("1. Jumeau numérique (digital twin)")
    with _progress() as p:
        task = p.add_task("Jumeau numérique", total=None)
        summary = generate(TwinConfig(out=twin_dir, companies=companies, months=60, seed=seed, defects=0.002,
                                      monthly_batches=2), progress=lambda d, t: p.update(task, completed=d, total=t))  # fmt: skip
    console.print(
        f"{summary.companies:,} companies, {summary.establishments:,} establishments, batches "
        f"{', '.join(summary.batches)} written to {twin_dir}; {summary.defects} defects injected (defects.csv)"
    )
    console.print(markdown(compute(twin_dir)), markup=False, highlight=False, soft_wrap=True)

    from .monthly import run_monthly

    for i, batch in enumerate(summary.batches, start=2):
        console.rule(f"{i}. Passage mensuel du lot {batch} (monthly run: ingest → panel → model → list → platform)")
        res = run_monthly(settings, twin_dir / batch, batch, log=lambda s: None)
        for line in res.summary:
            console.print(line, highlight=False, soft_wrap=True)
        if res.exit_code == 2:
            raise typer.Exit(2)
    last, first = summary.batches[-1], summary.batches[0]
    step = len(summary.batches) + 2
    _demo_results(settings, first, last, step)
    console.rule(f"{step + 1}. Comptes de démonstration (demo accounts)")
    _demo_accounts(settings, port)
    if serve_after:
        serve(host="127.0.0.1", port=port, workers=1)


def _demo_exists(settings: Any) -> bool:
    """A demo is there: its twin, and a platform database with a published list."""
    from .layout import DataDir
    from .platform.store import db as platform_db

    if not DataDir(settings.data_dir).twin.is_dir():
        return False
    try:
        engine = platform_db.get_engine(platform_db.resolve_url(settings.database_url, settings.data_dir))
        try:
            from sqlalchemy import func, select

            from .platform.models import List

            with platform_db.sessions(engine)() as session:
                return bool(session.scalar(select(func.count()).select_from(List)))
        finally:
            engine.dispose()
    except Exception:  # no database, or not migrated yet: no demo
        return False


def _demo_accounts(settings: Any, port: int) -> None:
    """Create (or keep) the demo accounts in the demo's most populated département, and say how to log in."""
    from .platform.cli import DEMO_PASSWORD, create_demo_accounts
    from .platform.store import db as platform_db

    engine = platform_db.get_engine(platform_db.resolve_url(settings.database_url, settings.data_dir))
    with platform_db.sessions(engine)() as session:
        from sqlalchemy import func, select

        from .platform.models import Company

        dept, region = session.execute(
            select(Company.departement, Company.region)
            .where(Company.departement.is_not(None))
            .group_by(Company.departement, Company.region)
            .order_by(func.count().desc())
        ).first() or ("21", "27")
        accounts = create_demo_accounts(session, dept or "21", region or "27")
    engine.dispose()
    for email, org, territory, rights, role in accounts:
        console.print(f"  {email:<32} {org:<18} territoire {territory:<6} droits {rights:<24} rôle {role}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    console.print(
        f"password of every demo account: {DEMO_PASSWORD} (the second factor is enrolled at first login: "
        "the page shows a QR code and the key to add to an authenticator app)",
        highlight=False,
    )
    console.print(
        f"start the platform with: SF_DATA_DIR={settings.data_dir} uv run signaux-faibles serve --port {port}"
        f"  →  http://127.0.0.1:{port}/ (API: http://127.0.0.1:{port}/api/docs)",
        highlight=False,
        soft_wrap=True,
    )
