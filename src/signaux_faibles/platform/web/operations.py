"""The operations page for national admins (``/admin/exploitation``): the monthly runs and the models in service.

It reads what the monthly run leaves in the data directory the platform is configured with (``SF_DATA_DIR``):
the run logs ``runs/<AAMM>/run.json``, the quarantine ``quarantine/<table>/<AAMM>.parquet`` and the models'
``models/<AAMM>/metrics.json``. The quarantined lines hold raw partner data: downloading them
(``/admin/exploitation/quarantaine/<AAMM>.csv``) is for the platform admin only and is audited as an export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from ...cells import neutralise
from ..policy import Action
from .context import Ctx
from .deps import CtxDep
from .guard import ensure_allowed
from .rendering import render

__all__ = ["model_rows", "quarantine_summary", "router", "run_rows"]

router = APIRouter(include_in_schema=False)
BATCH = r"^\d{4}$"
STATUS_FR = {
    "published": "publié",
    "published_with_warnings": "publié, à vérifier",
    "refused": "refusé",
    "running": "en cours ou interrompu",
}
STEP_FR = {"done": "fait", "skipped": "inchangé", "not_due": "pas dû", "running": "interrompu", "failed": "échec",
           "pending": "non lancé"}  # fmt: skip


def _data_dir(ctx: Ctx) -> Path:
    return Path(ctx.request.app.state.settings.data_dir)


def _seconds(start: str | None, end: str | None) -> float | None:
    try:
        return (dt.datetime.fromisoformat(end or "") - dt.datetime.fromisoformat(start or "")).total_seconds()
    except ValueError:
        return None


def _journals(folder: Path, pattern: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The JSON files of ``folder`` matching ``pattern``, newest batch first, read (unreadable ones left out)."""
    for path in sorted(folder.glob(pattern), reverse=True):
        try:
            yield path, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue


def run_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Every run log, newest batch first."""
    out = []
    for _path, run in _journals(data_dir / "runs", "*/run.json"):
        steps = {s["name"]: s for s in run.get("steps", [])}
        ingest = steps.get("ingest", {}).get("counts", {})
        out.append({
            "batch": run.get("batch"),
            "status": STATUS_FR.get(run.get("status", ""), run.get("status")),
            "exit_code": run.get("exit_code"),
            "started": run.get("started"),
            "seconds": _seconds(run.get("started"), run.get("ended")),
            "steps": [(name, STEP_FR.get(s.get("status", ""), s.get("status"))) for name, s in steps.items()],
            "read": ingest.get("read"),
            "accepted": ingest.get("accepted"),
            "quarantined": ingest.get("quarantined"),
            "filtered": ingest.get("filtered"),
            "alerts": steps.get("score", {}).get("counts", {}).get("alerts", {}),
            "warnings": run.get("warnings", []),
            "code_version": run.get("code_version"),
        })  # fmt: skip
    return out


def _quarantine_files(data_dir: Path, batch: str) -> list[Path]:
    return sorted((data_dir / "quarantine").glob(f"*/{batch}.parquet"))


def quarantine_summary(data_dir: Path, batch: str) -> list[dict[str, Any]]:
    """Quarantined lines of a batch by source and reason (numbers in a reason read ``N``, so that "duplicate of
    line 12" and "duplicate of line 40" count together), most frequent first."""
    import duckdb

    files = _quarantine_files(data_dir, batch)
    if not files:
        return []
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT source, regexp_replace(reason, '[0-9]+', 'N', 'g') AS r, count(*) AS n "
            "FROM read_parquet(?, union_by_name = true) GROUP BY source, r ORDER BY n DESC, source, r LIMIT 200",
            [[str(f) for f in files]],
        ).fetchall()
    return [{"source": s, "reason": r, "lines": n} for s, r, n in rows]


def model_rows(data_dir: Path) -> list[dict[str, Any]]:
    """The trained models, newest first; the first one is in service (``score`` takes the latest)."""
    out = []
    for path, m in _journals(data_dir / "models", "*/metrics.json"):
        kind = (m.get("selection") or {}).get("selected") or next(
            (k for k in ("lightgbm", "hazard", "logistic") if isinstance(m.get(k), dict)), None
        )
        test = (m.get(kind) or {}).get("test", {}) if kind else {}
        early = test.get("without_signaux_forts", {})
        window = (m.get(kind) or {}).get("list_model", {}) if kind else {}
        out.append({
            "batch": path.parent.name,
            "trained": dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC),
            "kind": kind,
            "window": window.get("window") or window.get("months") if isinstance(window, dict) else None,
            "auc_pr": early.get("auc_pr"),
            "prevalence": early.get("prevalence"),
            "oracle_ratio": early.get("oracle_ratio_auc_pr"),
            "code_version": m.get("code_version"),
        })  # fmt: skip
    return out


@router.get("/admin/exploitation")
def operations_page(ctx: CtxDep, lot: str | None = Query(None, pattern=BATCH)) -> Response:
    ensure_allowed(ctx, Action.ADMIN)
    data_dir = _data_dir(ctx)
    runs = run_rows(data_dir)
    batch = lot or (runs[0]["batch"] if runs else None)
    return render(
        ctx,
        "admin_operations.html",
        runs=runs,
        batch=batch,
        quarantine=quarantine_summary(data_dir, batch) if batch else [],
        models=model_rows(data_dir),
    )


QUARANTINE_COLUMNS = (("batch", "Lot"), ("file", "Fichier"), ("source", "Source"), ("line", "Ligne"),
                      ("column", "Colonne"), ("reason", "Motif"), ("raw_value", "Valeur brute"))  # fmt: skip


@router.get("/admin/exploitation/quarantaine/{batch}.csv")
def quarantine_download(
    ctx: CtxDep,
    batch: str = PathParam(..., pattern=BATCH),
    source: str | None = Query(None, max_length=32, pattern=r"^[a-z_]+$"),
) -> Response:
    """The quarantined lines of a batch (of one source), as a French CSV; audited as an export."""
    import duckdb

    ensure_allowed(ctx, Action.ADMIN)
    files = _quarantine_files(_data_dir(ctx), batch)
    rows: list[tuple[Any, ...]] = []
    if files:
        cols = ", ".join(f'"{c}"' for c, _ in QUARANTINE_COLUMNS)
        where = "WHERE source = ?" if source else ""
        with duckdb.connect() as con:
            rows = con.execute(
                f"SELECT {cols} FROM read_parquet(?, union_by_name = true) {where} ORDER BY source, file, line",
                [[str(f) for f in files], *([source] if source else [])],
            ).fetchall()
    ctx.audit("export", detail={"format": "csv", "what": "quarantine", "batch": batch, "source": source,
                                "rows": len(rows)})  # fmt: skip
    ctx.finish()
    out = io.StringIO()
    w = csv.writer(out, delimiter=";")
    w.writerow([label for _, label in QUARANTINE_COLUMNS])
    w.writerows([neutralise(v) for v in r] for r in rows)
    name = f"quarantaine-{batch}{'-' + source if source else ''}.csv"
    return StreamingResponse(
        iter(["\ufeff" + out.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
