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

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from signaux_faibles.sources import _sql as q
from signaux_faibles.sources._base import Column
from signaux_faibles.sources._read import Check, DelimitedSource, Projection
from signaux_faibles.sources._read import vector as vec

__all__ = ["CCSF", "COTISATION", "DEBIT", "DELAI", "PROCOL"]


def _gz(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"(\.gz)?$", re.IGNORECASE)


def _siret_check(f: dict[str, str], raw: str = "siret") -> Check:
    return Check("siret", f"NOT {q.is_siret(f[raw])}", "siret: expected 14 digits", raw=f[raw])


# --- cotisations -------------------------------------------------------------------------------------------

_COTISATION_COLUMNS = (
    Column("siret", "VARCHAR", "Siret", "SIRET of the établissement"),
    Column("numero_compte", "VARCHAR", "Compte", "URSSAF account number"),
    Column("periode_debut", "DATE", "periode", "first day of the period (YYQM)"),
    Column("periode_fin", "DATE", "periode", "first day after the period"),
    Column("encaisse", "DOUBLE", "enc_direct", "amount collected (euros, decimal comma)"),
    Column("du", "DOUBLE", "cotis_due", "amount due (euros, decimal comma)"),
)


def _cotisation(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    return Projection(
        exprs={
            "siret": f["siret"],
            "numero_compte": f["compte"],
            "periode_debut": q.urssaf_period_start(f["periode"]),
            "periode_fin": q.urssaf_period_end(f["periode"]),
            "encaisse": q.comma_float(f["enc_direct"]),
            "du": q.comma_float(f["cotis_due"]),
        },
        checks=[
            _siret_check(f),
            Check("periode_debut", f"NOT {q.is_urssaf_period(f['periode'])}", "periode: expected YYQM or YYYYQM", raw=f["periode"]),
            Check("encaisse", f"{f['enc_direct']} <> '' AND NOT {q.is_comma_float(f['enc_direct'])}", "enc_direct: not a number", raw=f["enc_direct"]),
            Check("du", f"{f['cotis_due']} <> '' AND NOT {q.is_comma_float(f['cotis_due'])}", "cotis_due: not a number", raw=f["cotis_due"]),
        ],
    )


COTISATION = DelimitedSource(
    name="cotisation",
    table="stg_cotisation",
    kind="flux",
    key="siret",
    patterns=(_gz(r"^sigfaible_cotisdues\.csv"),),
    columns=_COTISATION_COLUMNS,
    required=("Siret", "Compte", "periode", "enc_direct", "cotis_due"),
    project=_cotisation,
)

# --- débits ------------------------------------------------------------------------------------------------

_DEBIT_COLUMNS = (
    Column("siret", "VARCHAR", "Siret", "SIRET of the établissement"),
    Column("numero_compte", "VARCHAR", "num_cpte", "URSSAF account number"),
    Column("numero_ecart_negatif", "VARCHAR", "Num_Ecn", "écart négatif: one debt for one period"),
    Column("date_traitement", "DATE", "Dt_trt_ecn", "processing date, (A)AAMMJJ"),
    Column("part_ouvriere", "DOUBLE", "Mt_PO", "employee share, euros (file in centimes)"),
    Column("part_patronale", "DOUBLE", "Mt_PP", "employer share, euros (file in centimes)"),
    Column("numero_historique_ecart_negatif", "INTEGER", "Num_Hist_Ecn", "order of operations on the debt"),
    Column("etat_compte", "INTEGER", "Etat_cpte", "1 actif, 2 suspendu, 3 radié"),
    Column("code_procedure_collective", "VARCHAR", "Cd_pro_col", "0 none, 1 in progress, 2 plan, 9 without debt"),
    Column("periode_debut", "DATE", "Periode", "first day of the period (YYYYQM)"),
    Column("periode_fin", "DATE", "Periode", "first day after the period"),
    Column("periode_prise_en_compte", "DATE", None,
           "month of date_traitement if its day ≤ 20, else the next month"),
    Column("code_operation_ecart_negatif", "VARCHAR", "Cd_op_ecn", "1 mise en recouvrement, 2 paiement…"),
    Column("code_motif_ecart_negatif", "VARCHAR", "Motif_ecn", "motif 0–27"),
    Column("recours_en_cours", "BOOLEAN", "Recours_en_cours", "appeal in progress"),
    Column("debit_id", "VARCHAR", None, "siret + periode_debut + periode_fin (YYYYMMDD) + numero_ecart_negatif"),
)


_FLOAT_RE = "'[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?'"


def _debit(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    # helpers computed once per record (integer arithmetic: no strptime, no intervals, no strftime)
    # (DuckDB does not share a sub-expression repeated inside one expression: each stage names what the next reuses)
    pre = [
        {
            "_dv": q.urssaf_date_int(f["dt_trt_ecn"]),  # YYYYMMDD, not yet checked
            "_pi": q.urssaf_period_int(f["periode"]),  # the period's digits
            "_pw": f"strlen({f['periode']})",
            "_po": f"try_cast({f['mt_po']} AS DOUBLE)",
            "_pp": f"try_cast({f['mt_pp']} AS DOUBLE)",
            "_b": q.parse_bool(f["recours_en_cours"]),
        },
        {
            "_d": q.ymd_date("_dv"),
            "_pm": q.period_months("_pi", "_pw"),  # first month of the period
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
        f"ELSE {f['siret']} || {q.month_yyyymmdd('_pm')} || {q.month_yyyymmdd('_pm + _pl')} || {f['num_ecn']} END"
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
            "periode_debut": q.month_date("_pm"),
            "periode_fin": q.month_date("_pm + _pl"),
            "periode_prise_en_compte": f"CASE WHEN {date} IS NOT NULL THEN {q.month_date(prise)} END",
            "code_operation_ecart_negatif": f["cd_op_ecn"],
            "code_motif_ecart_negatif": f["motif_ecn"],
            "recours_en_cours": "_b",
            "debit_id": debit_id,
        },
        checks=[
            _siret_check(f),
            Check("periode_debut", "_pm IS NULL", "Periode: expected YYQM or YYYYQM", raw=f["periode"]),
            Check("date_traitement", "_d IS NULL", "Dt_trt_ecn: impossible date, expected (A)AAMMJJ", raw=f["dt_trt_ecn"]),
            *amounts,
            Check("numero_historique_ecart_negatif", f"{f['num_hist_ecn']} <> '' AND NOT {q.is_int(f['num_hist_ecn'])}", "Num_Hist_Ecn: not an integer", raw=f["num_hist_ecn"]),
            Check("etat_compte", f"{f['etat_cpte']} <> '' AND NOT {q.is_int(f['etat_cpte'])}", "Etat_cpte: not an integer", raw=f["etat_cpte"]),
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


DEBIT = DelimitedSource(
    name="debit",
    table="stg_debit",
    kind="flux",
    key="siret",
    patterns=(_gz(r"^sigfaible_debits\.csv"),),
    columns=_DEBIT_COLUMNS,
    required=("Siret", "num_cpte", "Num_Ecn", "Dt_trt_ecn", "Mt_PO", "Mt_PP", "Num_Hist_Ecn", "Etat_cpte",
              "Cd_pro_col", "Periode", "Cd_op_ecn", "Motif_ecn", "Recours_en_cours"),
    project=_debit,
    vector=_debit_vector,
    dedup=("Siret", "Periode", "Num_Ecn", "Num_Hist_Ecn", "Dt_trt_ecn", "Mt_PO"),
    categorical=("Dt_trt_ecn", "Periode", "Num_Hist_Ecn", "Etat_cpte", "Recours_en_cours"),
)

# --- délais ------------------------------------------------------------------------------------------------

_DELAI_COLUMNS = (
    Column("siret", "VARCHAR", "Siret", "SIRET of the établissement"),
    Column("numero_compte", "VARCHAR", "Numero_compte_externe", "URSSAF account number"),
    Column("numero_contentieux", "VARCHAR", "Numero_structure", "case number"),
    Column("date_creation", "DATE", "Date_creation", "creation of the payment plan (dd/mm/yyyy)"),
    Column("date_echeance", "DATE", "Date_echeance", "end of the payment plan (dd/mm/yyyy)"),
    Column("duree_delai", "INTEGER", "Duree_delai", "duration in days"),
    Column("denomination", "VARCHAR", "Denomination_premiere_ligne", "company name"),
    Column("indic_6m", "VARCHAR", "Indic_6M", "INF/SUP six months"),
    Column("annee_creation", "INTEGER", "Annee_creation", "year of creation"),
    Column("montant_echeancier", "DOUBLE", "Montant_global_echeancier", "amount of the plan (decimal comma)"),
    Column("stade", "VARCHAR", "Code_externe_stade", "stage code"),
    Column("action", "VARCHAR", "Code_externe_action", "action code"),
)


def _fr_date(x: str) -> str:
    return (
        f"CAST(CASE WHEN regexp_full_match({x}, '[0-9]{{2}}/[0-9]{{2}}/[0-9]{{4}}') "
        f"THEN try_strptime({x}, '%d/%m/%Y') END AS DATE)"
    )


def _delai(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    duree = f["duree_delai"]
    return Projection(
        exprs={
            "siret": f["siret"],
            "numero_compte": f["numero_compte_externe"],
            "numero_contentieux": f["numero_structure"],
            "date_creation": _fr_date(f["date_creation"]),
            "date_echeance": _fr_date(f["date_echeance"]),
            "duree_delai": f"CASE WHEN {q.is_int(duree)} THEN try_cast({duree} AS INTEGER) END",
            "denomination": f["denomination_premiere_ligne"],
            "indic_6m": f["indic_6m"],
            "annee_creation": f"try_cast({f['annee_creation']} AS INTEGER)",
            "montant_echeancier": q.comma_float(f["montant_global_echeancier"]),
            "stade": f["code_externe_stade"],
            "action": f["code_externe_action"],
        },
        checks=[
            _siret_check(f),
            Check("date_creation", f"{_fr_date(f['date_creation'])} IS NULL", "Date_creation: impossible date, expected dd/mm/yyyy", raw=f["date_creation"]),
            Check("date_echeance", f"{_fr_date(f['date_echeance'])} IS NULL", "Date_echeance: impossible date, expected dd/mm/yyyy", raw=f["date_echeance"]),
            Check("annee_creation", f"{f['annee_creation']} <> '' AND NOT {q.is_int(f['annee_creation'])}", "Annee_creation: not an integer", raw=f["annee_creation"]),
            Check("montant_echeancier", f"{f['montant_global_echeancier']} <> '' AND NOT {q.is_comma_float(f['montant_global_echeancier'])}", "Montant_global_echeancier: not a number", raw=f["montant_global_echeancier"]),
            Check("duree_delai", f"{duree} <> '' AND NOT {q.is_int(duree)}", "Duree_delai: not an integer (value dropped, row kept)", raw=duree, level="field"),
        ],
    )


DELAI = DelimitedSource(
    name="delai",
    table="stg_delai",
    kind="flux",
    key="siret",
    patterns=(_gz(r"^sigfaible_delais\.csv"),),
    columns=_DELAI_COLUMNS,
    required=("Siret", "Numero_compte_externe", "Numero_structure", "Date_creation", "Date_echeance",
              "Duree_delai", "Denomination_premiere_ligne", "Indic_6M", "Annee_creation",
              "Montant_global_echeancier", "Code_externe_stade", "Code_externe_action"),
    project=_delai,
)

# --- CCSF --------------------------------------------------------------------------------------------------

CCSF_STADES = ("DEBUT", "REFUS", "APPROB", "FIN", "REJ")

_CCSF_COLUMNS = (
    Column("siret", "VARCHAR", "Siret", "SIRET of the établissement"),
    Column("numero_compte", "VARCHAR", "Compte", "URSSAF account number"),
    Column("date_traitement", "DATE", "Date_de_traitement", "processing date, (A)AAMMJJ"),
    Column("stade", "VARCHAR", "Code_externe_stade", "DEBUT, REFUS, APPROB, FIN or REJ"),
    Column("action", "VARCHAR", "Code_externe_action", "always CCSF"),
)


def _ccsf(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    stades = ", ".join(f"'{s}'" for s in CCSF_STADES)
    return Projection(
        exprs={
            "siret": f["siret"],
            "numero_compte": f["compte"],
            "date_traitement": q.urssaf_date(f["date_de_traitement"]),
            "stade": f["code_externe_stade"],
            "action": f["code_externe_action"],
        },
        checks=[
            _siret_check(f),
            Check("date_traitement", f"NOT {q.is_urssaf_date(f['date_de_traitement'])}", "Date_de_traitement: impossible date, expected (A)AAMMJJ", raw=f["date_de_traitement"]),
            Check("stade", f"{f['code_externe_stade']} NOT IN ({stades})", f"Code_externe_stade: unknown code, expected one of {'/'.join(CCSF_STADES)}", raw=f["code_externe_stade"]),
        ],
    )


CCSF = DelimitedSource(
    name="ccsf",
    table="stg_ccsf",
    kind="flux",
    key="siret",
    patterns=(_gz(r"^sigfaible_ccsf\.csv"),),
    columns=_CCSF_COLUMNS,
    required=("Siret", "Compte", "Date_de_traitement", "Code_externe_stade", "Code_externe_action"),
    project=_ccsf,
)

# --- procédures collectives --------------------------------------------------------------------------------

PROCOL_ACTIONS = ("liquidation", "redressement", "sauvegarde")

_PROCOL_COLUMNS = (
    Column("siret", "VARCHAR", "Siret", "SIRET of the établissement"),
    Column("date_effet", "DATE", "Dt_effet", "effective date (26MAY2014)"),
    Column("action_procol", "VARCHAR", "Lib_actx_stdx", "liquidation, redressement or sauvegarde"),
    Column("stade_procol", "VARCHAR", "Lib_actx_stdx", "the rest of the label: ouverture, solde_procedure…"),
)


def _procol(f: dict[str, str], header: tuple[str, ...]) -> Projection:
    label = f"lower({f['lib_actx_stdx']})"
    tokens = f"string_split({label}, '_')"
    # the first token matching the regexp (as Go's regexp.MatchString: a substring match)
    pos = f"list_position(list_transform({tokens}, lambda t: regexp_matches(t, 'liquidation|redressement|sauvegarde')), true)"
    date = f"CAST(CASE WHEN regexp_full_match({f['dt_effet']}, '[0-9]{{2}}[A-Za-z]{{3}}[0-9]{{4}}') THEN try_strptime({f['dt_effet']}, '%d%b%Y') END AS DATE)"
    return Projection(
        exprs={
            "siret": f["siret"],
            "date_effet": date,
            "action_procol": f"{tokens}[{pos}]",
            "stade_procol": f"array_to_string(list_filter({tokens}, lambda t, i: i <> {pos}), '_')",
        },
        checks=[
            _siret_check(f),
            Check("date_effet", f"{date} IS NULL", "Dt_effet: impossible date, expected like 26MAY2014", raw=f["dt_effet"]),
            Check("action_procol", f"{pos} IS NULL", "Lib_actx_stdx: unknown label, no action among liquidation/redressement/sauvegarde", raw=f["lib_actx_stdx"]),
        ],
    )


PROCOL = DelimitedSource(
    name="procol",
    table="stg_procol",
    kind="flux",
    key="siret",
    patterns=(_gz(r"^sigfaible_pcoll\.csv"),),
    columns=_PROCOL_COLUMNS,
    required=("Siret", "Dt_effet", "Lib_actx_stdx"),
    project=_procol,
)
