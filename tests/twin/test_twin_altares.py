"""The twin's Altares files (stock in the first batch, monthly increments after): they parse with the sources,
the FPI covers about half of the companies and follows the hidden health (higher before a failure)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from signaux_faibles.sources.registry import source_for
from signaux_faibles.twin import TwinSummary


def _parse(path: Path) -> pd.DataFrame:
    source = source_for(path.name)
    assert source is not None and source.name.startswith("altares_"), path.name
    result = source.parse(path, duckdb.connect())
    assert result.fatal is None and result.rejections.num_rows == 0, (path.name, result.fatal)
    return result.rows.to_pandas()


def test_altares_files_parse_and_fpi_follows_health(clean_twin: TwinSummary) -> None:
    first, *later = clean_twin.batches
    stock = list((clean_twin.out / first).glob("SF_DATA_*.txt"))
    assert len(stock) == 1 and not list((clean_twin.out / first).glob("S_*.csv"))
    rows = [_parse(stock[0])]
    for b in later:
        inc = list((clean_twin.out / b).glob("S_*.csv"))
        assert len(inc) == 1 and not list((clean_twin.out / b).glob("SF_DATA_*"))
        rows.append(_parse(inc[0]))
    t = pd.concat(rows)
    scored = t[t.fpi_30.notna()]
    share = scored.siren.nunique() / clean_twin.companies
    assert 0.35 < share < 0.65, share
    assert scored.fpi_30.between(0, 100).all() and (scored.fpi_90 <= scored.fpi_30).all()
    truth = pd.read_parquet(clean_twin.out / "ground_truth.parquet")
    failing = set(truth.loc[truth.failure_18m == 1, "siren"])
    by = scored.groupby(scored.siren.isin(failing)).fpi_30.mean()
    assert by[True] > by[False] + 5, by
