"""The real system's reference run, as the tests compare with it: its input files and its golden dumps.

``REFERENCE_BATCH`` maps each reference input (under ``../shared/reference/``) to the name a partner delivers it
under; ``read_golden`` reads a golden dump (tab- or comma-separated, ``NULL`` / ``t`` / ``f`` as the real system
writes them), as ``../shared/acceptance/lib/golden.py`` does. Import them as ``from golden import read_golden``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

__all__ = ["REFERENCE_BATCH", "read_golden"]

#: Reference input file → the name it is delivered under in a batch folder.
REFERENCE_BATCH = {
    "urssaf/debitTestData.csv": "sigfaible_debits.csv",
    "urssaf/ccsfTestData.csv": "sigfaible_ccsf.csv",
    "urssaf/cotisationTestData.csv": "sigfaible_cotisdues.csv",
    "urssaf/delaiTestData.csv": "sigfaible_delais.csv",
    "urssaf/procolTestData.csv": "sigfaible_pcoll.csv",
    "effectif/effectifTestData.csv": "sigfaible_effectif_siret.csv",
    "effectif/effectifEntTestData.csv": "sigfaible_effectif_siren.csv",
    "activite_partielle/apconsoTestData.csv": "consommation_ap.csv",
    "activite_partielle/apdemandeTestData.csv": "demande_ap.csv",
    "sirene/sireneTestData.csv": "StockEtablissement_utf8_geo.csv",
    "sirene/sireneULTestData.csv": "sireneUL.csv",
    "sirene/sireneHistoTestData.csv": "StockEtablissementHistorique_utf8.csv",
}


def read_golden(path: Path) -> tuple[list[str], list[list[str]]]:
    """A golden dump's header and rows, every cell stripped, ``NULL`` → ``""``, ``t`` / ``f`` → ``true`` / ``false``."""
    text = path.read_text(encoding="utf-8")
    first = text.split("\n", 1)[0]
    if "\t" not in first and "," in first:
        rows = list(csv.reader(io.StringIO(text)))
        head, body = [h.strip() for h in rows[0]], [[c.strip() for c in r] for r in rows[1:] if r]
    else:
        lines = text.splitlines()
        head = [h.strip() for h in lines[0].split("\t")]
        body = [[c.strip() for c in line.split("\t")] for line in lines[1:] if line.strip()]
    fix = {"NULL": "", "t": "true", "f": "false"}
    return head, [[fix.get(c, c) for c in r] for r in body]
