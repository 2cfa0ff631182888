"""The twin with defects round-trips through ingestion: every defect is in quarantine with a fitting reason,
no clean row is, and the import log adds up for every file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from signaux_faibles.ingest._run import ingest_batch
from signaux_faibles.twin import TwinConfig, generate

FITTING = {  # defect kind -> what the quarantine reason must say
    "malformed_line": r"wrong number of fields|malformed",
    "broken_quote": r"wrong number of fields|quote|malformed|(must be|expected) 14 digits",
    "bad_siret_length": r"(must be|expected) (14|9) digits",
    "bad_siret_letters": r"(must be|expected) (14|9) digits",
    "unknown_code": r"unknown|outside|not one of|action",
    "impossible_date": r"not (a )?valid|impossible date",
    "wrong_encoding": r"UTF-8|encoding",
    "duplicate": r"duplicate",
}


def test_twin_defects_land_in_quarantine_and_nothing_else_does(tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    summary = generate(TwinConfig(out=twin, companies=300, months=36, seed=5, defects=0.02, monthly_batches=1))
    data = tmp_path / "data"
    for b in summary.batches:
        ingest_batch(twin / b, b, data)
    log = pq.read_table(data / "import_log.parquet").to_pandas()
    assert (log["read"] == log["accepted"] + log["quarantined"] + log["filtered"]).all()
    assert set(log.batch) == set(summary.batches)
    q = ds.dataset(data / "quarantine", format="parquet", partitioning="hive").to_table().to_pandas()
    q["f"] = q["batch"].astype(str) + "/" + q["file"].map(lambda s: Path(s).name)
    defects = pd.read_csv(twin / "defects.csv")
    assert len(defects) > 50
    errored = set(log.loc[log.status == "error", "batch"].astype(str) + "/" + log.loc[log.status == "error", "file"])
    for d in defects.itertuples():
        if d.kind == "truncated_gzip":
            assert d.file in errored
            continue
        reasons = q.loc[(q.f == d.file) & (q.line == d.line), "reason"].tolist()
        assert reasons, f"defect {d.kind} at {d.file}:{d.line} not in quarantine"
        assert any(re.search(FITTING[d.kind], r, re.I) for r in reasons), (d.kind, reasons)
    # no clean row in quarantine: every quarantined line is a defect (or the 2nd line of a broken quote)
    keys = set(zip(defects.file, defects.line, strict=True))
    bq = defects[defects.kind == "broken_quote"]
    keys |= set(zip(bq.file, bq.line + 1, strict=True))
    extra = q[[(f, int(line)) not in keys for f, line in zip(q.f, q.line, strict=True)]]
    assert extra.empty, extra[["f", "line", "reason"]].head().to_string()
