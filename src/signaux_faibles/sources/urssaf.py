"""URSSAF (ACOSS) files: cotisations, débits, délais, CCSF, procédures collectives.

Formats and rules: ``real_system.md`` §1.2, opensignauxfaibles ``lib/parsing/urssaf/*Parser.go``. All are
``;``-separated UTF-8 with a header, possibly gzipped. Headers are matched case-insensitively.

Where our rules go beyond the real system (it would keep the row; here it goes to quarantine):

- a SIRET that is not 14 digits is rejected (the real system checks the key length of every tuple);
- CCSF ``Code_externe_stade`` outside DEBUT/REFUS/APPROB/FIN/REJ is rejected;
- a procol label whose action is none of liquidation/redressement/sauvegarde is rejected;
- a délai ``Duree_delai`` that is not an integer: the real parser ignores the error and keeps the row with no
  value; here too, plus a field-level quarantine record.

Codes outside the documented tables (débit ``Cd_op_ecn`` 63, ``Etat_cpte`` 5…) are kept, as the real system does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from signaux_faibles.sources import _sql as sql
from signaux_faibles.sources._read import Cell, Check, DelimitedSource, Projection
from signaux_faibles.sources._read import vector as vec
from signaux_faibles.sources._read.spec import gz

__all__ = ["CCSF", "COTISATION", "DEBIT", "DELAI", "PROCOL", "SIRET"]


def _unless_empty(valid: Callable[[str], str]) -> Callable[[str], str]:
    """The rule of an optional value: when given, it must pass ``valid``."""
    return lambda x: f"{x} <> '' AND NOT {valid(x)}"


#: The SIRET of every URSSAF file: 14 digits, else the record is rejected.
SIRET = Cell("siret", "Siret", "VARCHAR", "SIRET of the établissement", invalid=lambda x: f"NOT {sql.is_siret(x)}",
             reason="siret: expected 14 digits")
_COMPTE = Cell("numero_compte", "Compte", "VARCHAR", "URSSAF account number")


def _urssaf(name: str, file: str, *cells: Cell, **options: Any) -> DelimitedSource:
    """A URSSAF flux keyed by SIRET, ``sigfaible_<file>.csv`` (any case, gzipped or not): the SIRET, then ``cells``."""
    return DelimitedSource(name, f"stg_{name}", "flux", "siret", (gz(rf"^sigfaible_{file}\.csv", ignore_case=True),),
                           cells=(SIRET, *cells), **options)

# --- cotisations -------------------------------------------------------------------------------------------

COTISATION = _urssaf(
    "cotisation", "cotisdues",
    _COMPTE,
    Cell("periode_debut", "periode", "DATE", "first day of the period (YYQM)", sql.urssaf_period_start,
         lambda x: f"NOT {sql.is_urssaf_period(x)}", "periode: expected YYQM or YYYYQM"),
    Cell("periode_fin", "periode", "DATE", "first day after the period", sql.urssaf_period_end),
    Cell("encaisse", "enc_direct", "DOUBLE", "amount collected (euros, decimal comma)", sql.comma_float,
         _unless_empty(sql.is_comma_float), "enc_direct: not a number"),
    Cell("du", "cotis_due", "DOUBLE", "amount due (euros, decimal comma)", sql.comma_float,
         _unless_empty(sql.is_comma_float), "cotis_due: not a number"),
)

# --- débits ------------------------------------------------------------------------------------------------
# The exact rules are one projection written by hand (helper columns computed once, for speed), and the same
# rules in numpy for the Arrow reader (:func:`_debit_vector`).

_FLOAT_RE = "'[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?'"


def _debit(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    # helpers computed once per record (integer arithmetic: no strptime, no intervals, no strftime)
    # (DuckDB does not share a sub-expression repeated inside one expression: each stage names what the next reuses)
    pre = [
        {
            "_dv": sql.urssaf_date_int(f["dt_trt_ecn"]),  # YYYYMMDD, not yet checked
            "_pi": sql.urssaf_period_int(f["periode"]),  # the period's digits
            "_pw": f"strlen({f['periode']})",
            "_po": f"try_cast({f['mt_po']} AS DOUBLE)",
            "_pp": f"try_cast({f['mt_pp']} AS DOUBLE)",
            "_b": sql.parse_bool(f["recours_en_cours"]),
        },
        {
            "_d": sql.ymd_date("_dv"),
            "_pm": sql.period_months("_pi", "_pw"),  # first month of the period
            # its length from the digits (as urssaf_period_length; NULL only for an invalid period, rejected)
            "_pl": "(CASE WHEN _pi % 100 = 62 THEN 12 WHEN _pi % 10 = 0 THEN 3 ELSE 1 END)",
        },
    ]
    date = "_d"
    amounts = []
    for raw, col, v in (("mt_po", "part_ouvriere", "_po"), ("mt_pp", "part_patronale", "_pp")):
        # DuckDB's cast also takes spaces, '_', inf/nan, hex: only strings made of [0-9.eE+-] pass the cheap test
        amounts.append(Check(col, f"{v} IS NULL OR (CASE WHEN {f[raw]} GLOB '*[!0-9]*' "
                             f"THEN NOT regexp_full_match({f[raw]}, {_FLOAT_RE}) ELSE false END)", f"{raw}: expected an amount in centimes", raw=f[raw]))
    # debit_id: both YYYYMMDD in one integer → one cast, one concat (years 1000–9999; else the plain form;
    # a NULL period rejects the record, so concat's NULL-as-'' never reaches a kept row)
    ymd = "((_pm) // 12 * 10000 + (_pm) % 12 * 100 + 101)"
    ymd_end = "((_pm + _pl) // 12 * 10000 + (_pm + _pl) % 12 * 100 + 101)"
    debit_id = (
        f"CASE WHEN _pm BETWEEN 12000 AND 119987 "
        f"THEN concat({f['siret']}, CAST({ymd}::BIGINT * 100000000 + {ymd_end} AS VARCHAR), {f['num_ecn']}) "
        f"ELSE {f['siret']} || {sql.month_yyyymmdd('_pm')} || {sql.month_yyyymmdd('_pm + _pl')} || {f['num_ecn']} END"
    )
    prise = "(_dv // 10000) * 12 + (_dv // 100 % 100) - 1 + CASE WHEN _dv % 100 > 20 THEN 1 ELSE 0 END"
    return Projection(
        pre=pre,
        exprs={
            "siret": f["siret"],
            "numero_compte": f["num_cpte"],
            "numero_ecart_negatif": f["num_ecn"],
            "date_traitement": date,
            "part_ouvriere": "_po / 100",
            "part_patronale": "_pp / 100",
            "numero_historique_ecart_negatif": f"try_cast({f['num_hist_ecn']} AS INTEGER)",
            "etat_compte": f"try_cast({f['etat_cpte']} AS INTEGER)",
            "code_procedure_collective": f["cd_pro_col"],
            "periode_debut": sql.month_date("_pm"),
            "periode_fin": sql.month_date("_pm + _pl"),
            "periode_prise_en_compte": f"CASE WHEN {date} IS NOT NULL THEN {sql.month_date(prise)} END",
            "code_operation_ecart_negatif": f["cd_op_ecn"],
            "code_motif_ecart_negatif": f["motif_ecn"],
            "recours_en_cours": "_b",
            "debit_id": debit_id,
        },
        checks=[
            SIRET.check(f["siret"]),
            Check("periode_debut", "_pm IS NULL", "Periode: expected YYQM or YYYYQM", raw=f["periode"]),
            Check("date_traitement", "_d IS NULL", "Dt_trt_ecn: impossible date, expected (A)AAMMJJ", raw=f["dt_trt_ecn"]),
            *amounts,
            Check("numero_historique_ecart_negatif", f"{f['num_hist_ecn']} <> '' AND NOT {sql.is_int(f['num_hist_ecn'])}", "Num_Hist_Ecn: not an integer", raw=f["num_hist_ecn"]),
            Check("etat_compte", f"{f['etat_cpte']} <> '' AND NOT {sql.is_int(f['etat_cpte'])}", "Etat_cpte: not an integer", raw=f["etat_cpte"]),
            Check("recours_en_cours", "_b IS NULL", "Recours_en_cours: expected 0/1/true/false", raw=f["recours_en_cours"]),
        ],
    )


_DIM = np.array([31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)  # index 0 unused


def _debit_dates(col: pa.ChunkedArray) -> dict[str, np.ndarray | pa.Array]:
    """Dt_trt_ecn: 1 to 7 digits, + 19000000 → YYYYMMDD, a possible date (as :func:`_sql.urssaf_date`)."""
    dt = vec.raw(col)
    ok = dt.digits_between(1, 7)
    dv = dt.ints(ok) + 19000000
    y, m, d = dv // 10000, dv // 100 % 100, dv % 100
    m_ok = (m >= 1) & (m <= 12)
    mi = np.where(m_ok, m, 0)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= m_ok & (d >= 1) & (d <= _DIM[mi] + ((mi == 2) & leap))
    month = y * 12 + mi - 1
    return {"ok": ok, "date": (vec.month_days(month) + d - 1).astype(np.int32),
            "prise": vec.month_days(month + (d > 20))}


def _debit_periods(col: pa.ChunkedArray) -> dict[str, np.ndarray | pa.Array]:
    """Periode: YYQM or YYYYQM (as :func:`_sql.period_months`), first month within years 1000–9998."""
    per = vec.raw(col)
    ok = per.digits & ((per.length == 4) | (per.length == 6))
    p = per.ints(ok)
    yy, qm = p // 100, p % 100
    year = np.where(per.length == 4, np.where(yy < 50, 2000, 1900) + yy, yy)
    qq, mm = qm // 10, qm % 10
    pm = year * 12 + np.where(qm == 62, 0, np.where(mm == 0, (qq - 1) * 3, (qq - 1) * 3 + mm - 1))
    pl = np.where(qm == 62, 12, np.where(mm == 0, 3, 1))
    ok &= (pm >= 12000) & (pm <= 119987)
    return {"ok": ok, "start": vec.month_days(pm), "end": vec.month_days(pm + pl),
            "mid": pc.cast(vec.array(vec.ymd(pm) * 100000000 + vec.ymd(pm + pl), pa.int64()), pa.string())}


def _debit_int(col: pa.ChunkedArray) -> dict[str, np.ndarray | pa.Array]:
    """An integer field: empty (NULL) or at most 9 digits (others take the exact rules)."""
    r = vec.raw(col)
    ok = r.digits_between(0, 9)
    return {"ok": ok, "value": r.ints(ok & (r.length > 0)).astype(np.int32), "valid": r.length > 0}


def _debit_bool(col: pa.ChunkedArray) -> dict[str, np.ndarray | pa.Array]:
    """Recours_en_cours: 0 or 1 (Go's other boolean spellings take the exact rules)."""
    r = vec.raw(col)
    return {"ok": (r.length == 1) & ((r.first == 48) | (r.first == 49)), "value": r.first == 49}


def _debit_vector(f: dict[str, pa.ChunkedArray]) -> vec.VectorResult:
    """:func:`_debit` with numpy on the records that pass cheap tests (see :mod:`._vec`); the others are flagged."""
    siret, po, pp = vec.raw(f["siret"]), vec.raw(f["mt_po"]), vec.raw(f["mt_pp"])
    dt = vec.by_value(f["dt_trt_ecn"], _debit_dates)
    per = vec.by_value(f["periode"], _debit_periods)
    hist, etat = vec.by_value(f["num_hist_ecn"], _debit_int), vec.by_value(f["etat_cpte"], _debit_int)
    rec = vec.by_value(f["recours_en_cours"], _debit_bool)
    # amounts in centimes: digits only (at most 15: exact as DOUBLE)
    ok_po, ok_pp = po.digits_between(1, 15), pp.digits_between(1, 15)
    ok = (siret.digits & (siret.length == 14) & dt["ok"] & per["ok"] & ok_po & ok_pp & hist["ok"] & etat["ok"]
          & rec["ok"])
    mid = per["mid"]
    debit_id = pc.binary_join_element_wise(f["siret"], mid, f["num_ecn"], vec.const_string("", len(mid)))
    return vec.VectorResult(
        columns={
            "siret": f["siret"],
            "numero_compte": f["num_cpte"],
            "numero_ecart_negatif": f["num_ecn"],
            "date_traitement": vec.date_array(dt["date"]),
            "part_ouvriere": vec.array(po.ints(ok_po, pa.float64()) / 100, pa.float64()),
            "part_patronale": vec.array(pp.ints(ok_pp, pa.float64()) / 100, pa.float64()),
            "numero_historique_ecart_negatif": vec.array(hist["value"], pa.int32(), hist["valid"]),
            "etat_compte": vec.array(etat["value"], pa.int32(), etat["valid"]),
            "code_procedure_collective": f["cd_pro_col"],
            "periode_debut": vec.date_array(per["start"]),
            "periode_fin": vec.date_array(per["end"]),
            "periode_prise_en_compte": vec.date_array(dt["prise"]),
            "code_operation_ecart_negatif": f["cd_op_ecn"],
            "code_motif_ecart_negatif": f["motif_ecn"],
            "recours_en_cours": vec.array(rec["value"], pa.bool_()),
            "debit_id": debit_id,
        },
        ok=ok,
    )


DEBIT = _urssaf(
    "debit", "debits",
    Cell("numero_compte", "num_cpte", "VARCHAR", "URSSAF account number"),
    Cell("numero_ecart_negatif", "Num_Ecn", "VARCHAR", "écart négatif: one debt for one period"),
    Cell("date_traitement", "Dt_trt_ecn", "DATE", "processing date, (A)AAMMJJ"),
    Cell("part_ouvriere", "Mt_PO", "DOUBLE", "employee share, euros (file in centimes)"),
    Cell("part_patronale", "Mt_PP", "DOUBLE", "employer share, euros (file in centimes)"),
    Cell("numero_historique_ecart_negatif", "Num_Hist_Ecn", "INTEGER", "order of operations on the debt"),
    Cell("etat_compte", "Etat_cpte", "INTEGER", "1 actif, 2 suspendu, 3 radié"),
    Cell("code_procedure_collective", "Cd_pro_col", "VARCHAR", "0 none, 1 in progress, 2 plan, 9 without debt"),
    Cell("periode_debut", "Periode", "DATE", "first day of the period (YYYYQM)"),
    Cell("periode_fin", "Periode", "DATE", "first day after the period"),
    Cell("periode_prise_en_compte", None, "DATE", "month of date_traitement if its day ≤ 20, else the next month"),
    Cell("code_operation_ecart_negatif", "Cd_op_ecn", "VARCHAR", "1 mise en recouvrement, 2 paiement…"),
    Cell("code_motif_ecart_negatif", "Motif_ecn", "VARCHAR", "motif 0–27"),
    Cell("recours_en_cours", "Recours_en_cours", "BOOLEAN", "appeal in progress"),
    Cell("debit_id", None, "VARCHAR", "siret + periode_debut + periode_fin (YYYYMMDD) + numero_ecart_negatif"),
    project=_debit,
    vector=_debit_vector,
    dedup=("Siret", "Periode", "Num_Ecn", "Num_Hist_Ecn", "Dt_trt_ecn", "Mt_PO"),
    categorical=("Dt_trt_ecn", "Periode", "Num_Hist_Ecn", "Etat_cpte", "Recours_en_cours"),
)

# --- délais ------------------------------------------------------------------------------------------------

def _fr_date(x: str) -> str:
    return (
        f"CAST(CASE WHEN regexp_full_match({x}, '[0-9]{{2}}/[0-9]{{2}}/[0-9]{{4}}') "
        f"THEN try_strptime({x}, '%d/%m/%Y') END AS DATE)"
    )


_INT = _unless_empty(sql.is_int)

DELAI = _urssaf(
    "delai", "delais",
    Cell("numero_compte", "Numero_compte_externe", "VARCHAR", "URSSAF account number"),
    Cell("numero_contentieux", "Numero_structure", "VARCHAR", "case number"),
    Cell("date_creation", "Date_creation", "DATE", "creation of the payment plan (dd/mm/yyyy)", _fr_date,
         lambda x: f"{_fr_date(x)} IS NULL", "Date_creation: impossible date, expected dd/mm/yyyy"),
    Cell("date_echeance", "Date_echeance", "DATE", "end of the payment plan (dd/mm/yyyy)", _fr_date,
         lambda x: f"{_fr_date(x)} IS NULL", "Date_echeance: impossible date, expected dd/mm/yyyy"),
    Cell("duree_delai", "Duree_delai", "INTEGER", "duration in days",
         lambda x: f"CASE WHEN {sql.is_int(x)} THEN try_cast({x} AS INTEGER) END", _INT,
         "Duree_delai: not an integer (value dropped, row kept)", level="field"),
    Cell("denomination", "Denomination_premiere_ligne", "VARCHAR", "company name"),
    Cell("indic_6m", "Indic_6M", "VARCHAR", "INF/SUP six months"),
    Cell("annee_creation", "Annee_creation", "INTEGER", "year of creation", lambda x: f"try_cast({x} AS INTEGER)",
         _INT, "Annee_creation: not an integer"),
    Cell("montant_echeancier", "Montant_global_echeancier", "DOUBLE", "amount of the plan (decimal comma)",
         sql.comma_float, _unless_empty(sql.is_comma_float), "Montant_global_echeancier: not a number"),
    Cell("stade", "Code_externe_stade", "VARCHAR", "stage code"),
    Cell("action", "Code_externe_action", "VARCHAR", "action code"),
    check_order=("siret", "date_creation", "date_echeance", "annee_creation", "montant_echeancier", "duree_delai"),
)

# --- CCSF --------------------------------------------------------------------------------------------------

CCSF_STADES = ("DEBUT", "REFUS", "APPROB", "FIN", "REJ")

CCSF = _urssaf(
    "ccsf", "ccsf",
    _COMPTE,
    Cell("date_traitement", "Date_de_traitement", "DATE", "processing date, (A)AAMMJJ", sql.urssaf_date,
         lambda x: f"NOT {sql.is_urssaf_date(x)}", "Date_de_traitement: impossible date, expected (A)AAMMJJ"),
    Cell("stade", "Code_externe_stade", "VARCHAR", "DEBUT, REFUS, APPROB, FIN or REJ",
         invalid=lambda x: f"{x} NOT IN ({', '.join(sql.lit(s) for s in CCSF_STADES)})",
         reason=f"Code_externe_stade: unknown code, expected one of {'/'.join(CCSF_STADES)}"),
    Cell("action", "Code_externe_action", "VARCHAR", "always CCSF"),
)

# --- procédures collectives --------------------------------------------------------------------------------

PROCOL_ACTIONS = ("liquidation", "redressement", "sauvegarde")


def _tokens(label: str) -> str:
    return f"string_split(lower({label}), '_')"


def _action_at(label: str) -> str:
    """Position of the first token that names an action (as Go's regexp.MatchString: a substring match)."""
    return (f"list_position(list_transform({_tokens(label)}, "
            f"lambda t: regexp_matches(t, 'liquidation|redressement|sauvegarde')), true)")


def _date_effet(x: str) -> str:
    return (f"CAST(CASE WHEN regexp_full_match({x}, '[0-9]{{2}}[A-Za-z]{{3}}[0-9]{{4}}') "
            f"THEN try_strptime({x}, '%d%b%Y') END AS DATE)")


PROCOL = _urssaf(
    "procol", "pcoll",
    Cell("date_effet", "Dt_effet", "DATE", "effective date (26MAY2014)", _date_effet,
         lambda x: f"{_date_effet(x)} IS NULL", "Dt_effet: impossible date, expected like 26MAY2014"),
    Cell("action_procol", "Lib_actx_stdx", "VARCHAR", "liquidation, redressement or sauvegarde",
         lambda x: f"{_tokens(x)}[{_action_at(x)}]", lambda x: f"{_action_at(x)} IS NULL",
         "Lib_actx_stdx: unknown label, no action among liquidation/redressement/sauvegarde"),
    Cell("stade_procol", "Lib_actx_stdx", "VARCHAR", "the rest of the label: ouverture, solde_procedure…",
         lambda x: f"array_to_string(list_filter({_tokens(x)}, lambda t, i: i <> {_action_at(x)}), '_')"),
)
