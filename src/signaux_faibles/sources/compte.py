"""URSSAF account → SIRET mapping (legacy ``admin_urssaf``, ``Sigfaible_etablissement_utf8.csv``) → ``stg_compte``.

Raw format (real_system.md §1.2): ``;``-separated UTF-8 CSV, header ``Urssaf_gestion;Dep;Compte;Etat_compte;
Siren;Siret;Date_crea_siret;Date_disp_siret`` (a trailing ``Cle_md5`` may follow). Dates are URSSAF
``(A)AAMMJJ`` numbers: value = (year − 1900) × 10000 + MMDD, so ``1130828`` is 2013-08-28 and ``990612``
1999-06-12. An empty ``Date_disp_siret`` means the SIRET was never closed: it is stored as the real system's
sentinel ``9990101``, i.e. 2899-01-01.

The staging table keeps every mapping row. :func:`siret_for` and :func:`comptes_at` apply the real rule: for an
account, sort its (SIRET, closure date) pairs by closure date and take the first SIRET closed after the period.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from signaux_faibles.sources._read.spec import WHOLE, Field, Parser, TextSource, gz, luhn_of
from signaux_faibles.sources._sql import txt

__all__ = ["COMPTE", "NEVER_CLOSED", "comptes_at", "siret_for", "urssaf_date_sql"]

#: Closure date of a SIRET that was never closed (URSSAF ``9990101``).
NEVER_CLOSED = dt.date(2899, 1, 1)


def urssaf_date_sql(expr: str) -> str:
    """DATE from an URSSAF ``(A)AAMMJJ`` number (6 or 7 digits); NULL when not a real date."""
    v = f"TRY_CAST({expr} AS INTEGER)"
    return (
        f"(CASE WHEN regexp_full_match({expr}, '[0-9]{{6,7}}') THEN CAST(try_strptime(printf('%04d-%04d', "
        f"{v} // 10000 + 1900, {v} % 10000), '%Y-%m%d') AS DATE) END)"
    )


_URSSAF_DATE = Parser(urssaf_date_sql, "(A)AAMMJJ date")
_SIRET = Field("siret", "Siret", description="SIRET attached to the account (14 digits)", identifier="siret")

COMPTE = TextSource(
    "admin_urssaf", "stg_compte", "stock", "siret", (gz(r"^Sigfaible_etablissement_utf8\.csv"),),
    delimiter=";",
    expected="URSSAF Sigfaible_etablissement CSV",
    header=("Urssaf_gestion", "Dep", "Compte", "Etat_compte", "Siren", "Siret", "Date_crea_siret",
            "Date_disp_siret"),
    fields=(
        Field("numero_compte", "Compte", description="URSSAF account number", required=True, label="account number"),
        _SIRET,
        Field("siren", "Siren", description="SIREN as delivered"),
        Field("urssaf_gestion", "Urssaf_gestion", description="Managing URSSAF code"),
        Field("departement", "Dep", description="Département"),
        Field("etat_compte", "Etat_compte", "INTEGER", "Account state code", WHOLE, on_error="field",
              invalid="{raw} is not a number"),
        Field("date_creation_siret", "Date_crea_siret", "DATE", "Date the SIRET was attached", _URSSAF_DATE,
              on_error="field", invalid="{raw} is not a valid (A)AAMMJJ date"),
        Field("date_disparition_siret", "Date_disp_siret", "DATE", "Date the SIRET was closed; 2899-01-01 "
              "(URSSAF 9990101) when never closed", _URSSAF_DATE, invalid="{raw} is not a valid (A)AAMMJJ date",
              sql=f"coalesce({urssaf_date_sql(txt('Date_disp_siret'))}, DATE '2899-01-01')"),
        luhn_of(_SIRET),
    ),
)


def _by_account(mapping: pa.Table) -> dict[str, list[tuple[dt.date, str]]]:
    out: dict[str, list[tuple[dt.date, str]]] = {}
    cols = mapping.select(["numero_compte", "siret", "date_disparition_siret"]).to_pydict()
    for compte, siret, disp in zip(cols["numero_compte"], cols["siret"], cols["date_disparition_siret"], strict=True):
        if compte is None or siret is None:
            continue
        out.setdefault(compte, []).append((disp if disp is not None else NEVER_CLOSED, siret))
    for pairs in out.values():
        pairs.sort()
    return out


def siret_for(mapping: pa.Table, compte: str, periode: dt.date) -> str | None:
    """The SIRET of URSSAF account ``compte`` at ``periode``, or None.

    Parameters
    ----------
    mapping : pyarrow.Table
        ``stg_compte`` rows (at least ``numero_compte``, ``siret``, ``date_disparition_siret``).
    compte : str
        URSSAF account number.
    periode : datetime.date
        First day of the period.

    Returns
    -------
    str or None
        The first SIRET of the account, by closure date, closed after ``periode``; None when every SIRET of the
        account was closed by then (the real system's "filter error").

    Examples
    --------
    >>> import pyarrow as pa, datetime as dt
    >>> m = pa.table({"numero_compte": ["A", "A"], "siret": ["11111111111111", "22222222222222"],
    ...               "date_disparition_siret": [dt.date(2011, 8, 1), NEVER_CLOSED]})
    >>> siret_for(m, "A", dt.date(2010, 1, 1)), siret_for(m, "A", dt.date(2018, 12, 1))
    ('11111111111111', '22222222222222')
    """
    for closed, siret in _by_account(mapping).get(compte, []):
        if closed > periode:
            return siret
    return None


def comptes_at(mapping: pa.Table, periode: dt.date) -> pa.Table:
    """For every account, its SIRET at ``periode``: columns ``numero_compte``, ``siret``, ``periode``.

    Accounts without a SIRET open at ``periode`` are left out (see :func:`siret_for`).
    """
    rows = []
    for compte, pairs in _by_account(mapping).items():
        siret = next((s for closed, s in pairs if closed > periode), None)
        if siret is not None:
            rows.append((compte, siret))
    return pa.table(
        {
            "numero_compte": pa.array([r[0] for r in rows], pa.string()),
            "siret": pa.array([r[1] for r in rows], pa.string()),
            "periode": pa.array([periode] * len(rows), pa.date32()),
        }
    )
