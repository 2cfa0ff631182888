"""DIANE (Bureau van Dijk) financial statements, legacy (``Diane*.txt`` / ``diane*.csv``) → ``stg_diane``.

Raw format (real_system.md §1.5, OSF-legacy ``lib/diane``): a manual Diane+ export in **UTF-16 with a BOM**,
``;``-separated, quoted, decimal comma, with one column per field *and year*
(``"Chiffre d'affaires net (H.T.) kEUR 2017"``). The year columns are projected into one row per
(SIREN, year), for every year of the header, as the real parser does; labels are matched after removing the
year and collapsing double spaces (the export is not consistent about them).

Each company line gives one row per year, all carrying that line's number. A company line is rejected as a
whole (bad SIREN, malformed line, duplicate); an unreadable value is set to NULL with a field-level rejection
whose raw value is prefixed by its year. ``read`` counts the (SIREN, year) rows built plus the rejected lines.

Reading is columnar (issue 24). When every line is plain (every field quoted, no quote inside, no NUL byte, no
blank line: a Diane+ export as delivered), Arrow's CSV reader splits the fields of the text transcoded to UTF-8;
otherwise the lines are split by the text reader's CSV records (same rejections) and the fields used are converted
to Arrow a few thousand lines at a time. Each raw column is then typed once (the columns of one kind stacked into
one small DuckDB query), and the yearly columns are unpivoted with Arrow.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from signaux_faibles.sources._base import (
    ARROW_TYPES,
    Column,
    ParseResult,
    Record,
    fatal_result,
    rejections_table,
    rows_schema,
)
from signaux_faibles.sources._read import FileError
from signaux_faibles.sources._read.lines import Records, cut, utf16_text
from signaux_faibles.sources._read.typed import fetch
from signaux_faibles.sources._sql import digits, fr_date, integer, luhn, num, q, txt

__all__ = ["DIANE", "DIANE_FIELDS", "DianeSource"]

#: (staging column, Diane label without year, kind). Kinds: text, int, float, date, bool.
DIANE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("nom_entreprise", "Nom de l'entreprise", "text"),
    ("statut_juridique", "Statut juridique", "text"),
    ("procedure_collective", "Procédure collective", "bool"),
    ("effectif_consolide", "Effectif consolidé", "int"),
    ("dette_fiscale_et_sociale", "Dettes fiscales et sociales kEUR", "float"),
    ("frais_de_retd", "Frais de R&D : net kEUR", "float"),
    ("conces_brev_et_droits_sim", "Conces., brev. et droits sim. : net kEUR", "float"),
    ("nombre_etab_secondaire", "Nombre d’ES", "int"),
    ("nombre_filiale", "Nombre de filiales", "int"),
    ("taille_compo_groupe", "Taille de la Composition du Groupe", "int"),
    ("arrete_bilan_diane", "Date de clôture", "date"),
    ("nombre_mois", "Nombre de mois", "int"),
    ("concours_bancaire_courant", "Conc. banc. cour. & sold. cr. kEUR", "float"),
    ("equilibre_financier", "Equilibre financier", "float"),
    ("independance_financiere", "Indépendance fin. %", "float"),
    ("endettement", "Endettement %", "float"),
    ("autonomie_financiere", "Autonomie fin. %", "float"),
    ("degre_immo_corporelle", "Degré d'amort. des immob. corp. %", "float"),
    ("financement_actif_circulant", "Financ. de l'actif circ. net", "float"),
    ("liquidite_generale", "Liquidité générale", "float"),
    ("liquidite_reduite", "Liquidité réduite", "float"),
    ("rotation_stocks", "Rotation des stocks jours", "float"),
    ("credit_client", "Crédit clients jours", "float"),
    ("credit_fournisseur", "Crédit fournisseurs jours", "float"),
    ("ca_par_effectif", "C. A. par effectif (milliers/pers.) kEUR", "float"),
    ("taux_interet_financier", "Taux d'intérêt financier %", "float"),
    ("taux_interet_sur_ca", "Intérêts / Chiffre d'affaires %", "float"),
    ("endettement_global", "Endettement global jours", "float"),
    ("taux_endettement", "Taux d'endettement %", "float"),
    ("capacite_remboursement", "Capacité de remboursement", "float"),
    ("capacite_autofinancement", "Capacité d'autofin. %", "float"),
    ("couverture_ca_fdr", "Couv. du C.A. par le f.d.r. jours", "float"),
    ("couverture_ca_besoin_fdr", "Couv. du C.A. par bes. en fdr jours", "float"),
    ("poids_bfr_exploitation", "Poids des BFR d'exploitation %", "float"),
    ("exportation", "Exportation %", "float"),
    ("efficacite_economique", "Efficacité économique (milliers/pers.) kEUR", "float"),
    ("productivite_potentiel_production", "Prod. du potentiel de production", "float"),
    ("productivite_capital_financier", "Productivité du capital financier", "float"),
    ("productivite_capital_investi", "Productivité du capital investi", "float"),
    ("taux_d_investissement_productif", "Taux d'invest. productif %", "float"),
    ("rentabilite_economique", "Rentabilité économique %", "float"),
    ("performance", "Performance %", "float"),
    ("rendement_brut_fonds_propres", "Rend. brut des f. propres nets %", "float"),
    ("rentabilite_nette", "Rentabilité nette %", "float"),
    ("rendement_capitaux_propres", "Rend. des capitaux propres nets %", "float"),
    ("rendement_ressources_durables", "Rend. des res. durables nettes %", "float"),
    ("taux_marge_commerciale", "Taux de marge commerciale %", "float"),
    ("taux_valeur_ajoutee", "Taux de valeur ajoutée %", "float"),
    ("part_salaries", "Part des salariés %", "float"),
    ("part_etat", "Part de l'Etat %", "float"),
    ("part_preteur", "Part des prêteurs %", "float"),
    ("part_autofinancement", "Part de l'autofin. %", "float"),
    ("ca", "Chiffre d'affaires net (H.T.) kEUR", "float"),
    ("ca_exportation", "Dont exportation kEUR", "float"),
    ("achat_marchandises", "Achats march. et autres approv. kEUR", "float"),
    ("achat_matieres_premieres", "Achats de mat. prem. et autres approv. kEUR", "float"),
    ("production", "Production de l'ex. kEUR", "float"),
    ("marge_commerciale", "Marge commerciale kEUR", "float"),
    ("consommation", "Consommation de l'ex. kEUR", "float"),
    ("autres_achats_charges_externes", "Autres achats et charges externes kEUR", "float"),
    ("valeur_ajoutee", "Valeur ajoutée kEUR", "float"),
    ("charge_personnel", "Charges de personnel kEUR", "float"),
    ("impots_taxes", "Impôts, taxes et vers. assimil. kEUR", "float"),
    ("subventions_d_exploitation", "Subventions d'expl. kEUR", "float"),
    ("excedent_brut_d_exploitation", "Excédent brut d'exploitation kEUR", "float"),
    ("autres_produits_charges_reprises", "Autres Prod., char. et Repr. kEUR", "float"),
    ("dotation_amortissement", "Dot. d'exploit. aux amort. et prov. kEUR", "float"),
    ("resultat_expl", "Résultat d'expl. kEUR", "float"),
    ("operations_commun", "Opérations en commun kEUR", "float"),
    ("produits_financiers", "Produits fin. kEUR", "float"),
    ("charges_financieres", "Charges fin. kEUR", "float"),
    ("interets", "Intérêts et charges assimilées kEUR", "float"),
    ("resultat_avant_impot", "Résultat courant avant impôts kEUR", "float"),
    ("produit_exceptionnel", "Produits except. kEUR", "float"),
    ("charge_exceptionnelle", "Charges except. kEUR", "float"),
    ("participation_salaries", "Particip. des sal. aux résul. kEUR", "float"),
    ("impot_benefice", "Impôts sur le bénéf. et impôts diff. kEUR", "float"),
    ("benefice_ou_perte", "Bénéfice ou perte kEUR", "float"),
)

_SIREN_LABEL = "Numéro Siren"
_TYPES = {"text": "VARCHAR", "int": "INTEGER", "float": "DOUBLE", "date": "DATE", "bool": "BOOLEAN"}
_YEAR = re.compile(r"\s([0-9]{4})$")


def _norm(label: str) -> str:
    label = label.replace("\ufeff", "").replace("d'ES", "d’ES").replace('d"ES', "d’ES")
    return re.sub(r"\s+", " ", label).strip().lower()


_LABELS = {_norm(label): name for name, label, _ in DIANE_FIELDS}


def _index(fields: list[str], path: Path) -> tuple[dict[str, int], dict[str, dict[int, int]]]:
    """Header → (column without year → index, column with years → year → index)."""
    fixed: dict[str, int] = {}
    yearly: dict[str, dict[int, int]] = {}
    for i, h in enumerate(fields):
        m = _YEAR.search(h.strip())
        label = _norm(h[: m.start()] if m else h)
        if label == _norm(_SIREN_LABEL):
            fixed["siren"] = i
        elif label in _LABELS:
            if m:
                yearly.setdefault(_LABELS[label], {})[int(m.group(1))] = i
            else:
                fixed[_LABELS[label]] = i
    if "siren" not in fixed or not yearly:
        raise FileError(
            f"{path.name}: missing column 'Numéro Siren' or yearly columns such as "
            "\"Chiffre d'affaires net (H.T.) kEUR 2017\"; expected a Diane+ export"
        )
    return fixed, yearly


_CHUNK = 1 << 20  # characters of decoded text split into lines at a time
_BATCH = 4096  # company lines turned into Arrow columns at a time
_PLAIN_CHUNK = 1 << 24  # characters of a plain file given to Arrow's CSV reader at a time


@dataclass
class _Read:
    """The company lines of an export, as raw strings, before typing."""

    fixed: dict[str, int]
    yearly: dict[str, dict[int, int]]
    years: list[int]
    #: header field index → its raw strings, one per company line kept (malformed lines and duplicates left out)
    columns: dict[int, pa.ChunkedArray]
    #: the physical line of each company line kept
    lines: pa.Array
    #: row-level rejections found while reading (malformed lines, duplicates)
    early: list[Record]


def _slices(text: str, size: int, start: int = 0) -> Iterator[str]:
    """``text[start:]`` in slices of about ``size`` characters, each but the last ending just after a line feed.

    A line feed ends a line whatever the line ending (``\\n``, ``\\r\\n``; a ``\\r`` alone also breaks lines
    when read with ``newline=""``), so the lines of the slices are the lines of the whole text.
    """
    pos, n = start, len(text)
    while pos < n:
        end = text.find("\n", pos + size)
        end = n if end < 0 else end + 1
        yield text[pos:end]
        pos = end


def _lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """``(line number, text, False)`` for each physical line, as ``decoded_lines`` gives them (which copies the
    whole text into a ``StringIO``, four bytes per character; here a slice at a time)."""
    number = 1
    for part in _slices(text, _CHUNK):
        for line in io.StringIO(part, newline=""):
            yield number, line, False
            number += 1


def _plain_fields(line: str) -> int:
    """The number of fields of a *plain* line (without its line ending), 0 when it is not plain.

    Plain: every field in double quotes, no double quote inside, no NUL byte, no carriage return, shorter than
    the CSV reader's field limit. Such a line is ``"f1";"f2";…;"fn"`` literally, so its fields are the text
    between the quotes, as the CSV reader (and Arrow's) reads them, and it is a well-formed record of its own.
    """
    if len(line) < 2 or line[0] != '"' or line[-1] != '"' or len(line) >= csv.field_size_limit():
        return 0
    if "\x00" in line or "\r" in line:
        return 0
    inner = line[1:-1]
    n = inner.count('";"') + 1
    # the n - 1 separators hold 2 (n - 1) quotes: when that is every quote of the line, no field holds one
    return n if inner.count('"') == 2 * (n - 1) else 0


def _read_plain(text: str, path: Path) -> _Read | None:
    """The company lines when every line of the file is plain (:func:`_plain_fields`), read by Arrow's CSV
    reader; None otherwise (:func:`_read` then reads the file line by line).

    Same result as the line-by-line reading: no line is malformed or blank, so the k-th line is record k;
    duplicates are found on the text of the lines (for plain lines, the same fields is the same text).
    """
    first = text.find("\n")
    header_line = (text if first < 0 else text[:first]).removesuffix("\r")
    n = _plain_fields(header_line)
    if n < 2:
        return None
    header = header_line[1:-1].split('";"')
    body = len(text) if first < 0 else first + 1  # where the company lines start
    early: list[Record] = []
    seen: dict[int, int] = {}
    number = 1
    dropped: set[int] = set()
    for part in _slices(text, _CHUNK, body):
        lines = part.split("\n")
        if lines[-1] == "":
            lines.pop()
        for line in lines:
            number += 1
            line = line.removesuffix("\r")
            if _plain_fields(line) != n:
                return None
            first_line = seen.setdefault(hash(line), number)
            if first_line != number:
                early.append((number, None, None, f"duplicate of line {first_line}", "row"))
                dropped.add(number)
    fixed, yearly = _index(header, path)
    used = _used(fixed, yearly)
    names = [f"f{i}" for i in range(n)]
    chunks: dict[int, list[pa.Array]] = {i: [] for i in used}
    kept: list[pa.Array] = []
    number = 1
    for part in _slices(text, _PLAIN_CHUNK, body):
        try:
            table = pacsv.read_csv(
                pa.BufferReader(part.encode("utf-8")),
                read_options=pacsv.ReadOptions(column_names=names, block_size=max(1 << 22, 2 * len(part)),
                                               use_threads=False),
                parse_options=pacsv.ParseOptions(delimiter=";", quote_char='"', double_quote=True,
                                                  newlines_in_values=False, ignore_empty_lines=False),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[names[i] for i in used], column_types={names[i]: pa.string() for i in used},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        if table.num_rows != part.count("\n") + (not part.endswith("\n")):  # one record per line, as checked
            return None
        numbers = np.arange(number + 1, number + 1 + table.num_rows, dtype=np.int64)
        number += table.num_rows
        if dropped:
            mask = pa.array(~np.isin(numbers, np.fromiter(dropped, np.int64, len(dropped))))
            table, numbers = table.filter(mask), numbers[mask.to_numpy(zero_copy_only=False)]
        for i in used:
            chunks[i].extend(table.column(names[i]).chunks)
        kept.append(pa.array(numbers))
    years = sorted({y for per_year in yearly.values() for y in per_year})
    columns = {i: pa.chunked_array(chunks[i], pa.string()) for i in used}
    lines = pa.concat_arrays(kept) if kept else pa.array([], pa.int64())
    return _Read(fixed, yearly, years, columns, lines, early)


def _used(fixed: dict[str, int], yearly: dict[str, dict[int, int]]) -> list[int]:
    """The header fields read."""
    return sorted({*fixed.values(), *(i for per_year in yearly.values() for i in per_year.values())})


def _read(path: Path) -> _Read:
    """The company lines of the export, as columns of raw strings, and the lines rejected while reading.

    Only the header fields used are kept, converted to Arrow every few thousand lines (no Python string is kept
    longer). A company line whose fields are those of an earlier one is rejected as its duplicate.
    """
    early: list[Record] = []
    index: tuple[dict[str, int], dict[str, dict[int, int]]] | None = None
    used: list[int] = []
    seen: dict[int, int] = {}
    lines: list[int] = []
    batch: list[list[str]] = []
    chunks: dict[int, list[pa.Array]] = {}

    def flush() -> None:
        if batch:
            cols = list(zip(*batch, strict=True))
            for i in used:
                chunks[i].append(pa.array(cols[i], pa.string()))
            batch.clear()

    text = utf16_text(path)
    plain = _read_plain(text, path)
    if plain is not None:
        return plain
    for start, _end, fields, problem, line in Records(_lines(text), ";", multiline=False):
        if index is None:
            index = _index(fields, path)
            used = _used(*index)
            chunks = {i: [] for i in used}
            continue
        if problem is not None:
            early.append((start, problem[0], cut(line.replace("\x00", "\\0")), problem[1], "row"))
            continue
        first = seen.setdefault(hash(tuple(fields)), start)
        if first != start:
            early.append((start, None, None, f"duplicate of line {first}", "row"))
            continue
        lines.append(start)
        batch.append(fields)
        if len(batch) >= _BATCH:
            flush()
    if index is None:
        raise FileError(f"{path.name}: empty file, expected a Diane+ export")
    flush()
    years = sorted({y for per_year in index[1].values() for y in per_year})
    columns = {i: pa.chunked_array(chunks[i], pa.string()) for i in used}
    return _Read(index[0], index[1], years, columns, pa.array(lines, pa.int64()), early)


_KINDS = {name: kind for name, _, kind in DIANE_FIELDS}
_counter = [0]


def _query(con: duckdb.DuckDBPyConnection, raw: pa.ChunkedArray, select: str) -> pa.Table:
    """``select`` (SQL over ``v``, the trimmed raw value, NULL when empty) for each value of ``raw``, in order."""
    _counter[0] += 1
    name = f"_sf_diane_{id(raw):x}_{_counter[0]}"
    n = len(raw)
    con.register(name, pa.table({"_i": pa.array(np.arange(n, dtype=np.int64)), "c": raw}))
    try:
        out = fetch(con, f"SELECT _i, {select} FROM (SELECT _i, {txt('c')} AS v FROM {q(name)})")
    finally:
        con.unregister(name)
    i = out.column("_i").to_numpy()
    if n > 1 and not bool((i[1:] > i[:-1]).all()):  # the connection need not preserve the order
        out = out.take(pa.array(np.argsort(i)))
    return out.drop_columns(["_i"])


def _typed(
    con: duckdb.DuckDBPyConnection, raw: _Read
) -> tuple[pa.Table, dict[int, pa.ChunkedArray], dict[int, pa.ChunkedArray]]:
    """The SIREN, and each raw column typed once (whatever the years it serves).

    Returns the SIREN table (``siren`` trimmed, ``siren_luhn_ok``, and the row-level checks ``_empty``,
    ``_bad``), the typed value of each raw column, and for numbers and dates the flag "present but unreadable"
    (a field-level rejection). The columns of one kind are stacked and typed by one small DuckDB query: same
    SQL as the text reader's (``sources._sql``: trimmed, empty is NULL; ``num``, ``integer``, ``fr_date``, ``luhn``,
    ``digits``), but a handful of expressions instead of one per column and year (planning a query of 500
    expressions costs more than typing 10 000 lines).
    """
    siren = _query(con, raw.columns[raw.fixed["siren"]],
                 f"v AS siren, {luhn('v')} AS siren_luhn_ok, v IS NULL AS _empty, "
                 f"(v IS NOT NULL AND NOT {digits('v', 9)}) AS _bad")
    kind_of: dict[int, str] = {}
    for name, i in raw.fixed.items():
        if name != "siren":
            kind_of[i] = _KINDS[name]
    for name, per_year in raw.yearly.items():
        for i in per_year.values():
            kind_of[i] = _KINDS[name]
    n = len(raw.lines)
    values: dict[int, pa.ChunkedArray] = {}
    flags: dict[int, pa.ChunkedArray] = {}
    for kind in ("text", "bool", "int", "float", "date"):
        idx = [i for i, k in kind_of.items() if k == kind]
        if not idx:
            continue
        stacked = pa.chunked_array([c for i in idx for c in raw.columns[i].chunks], pa.string())
        if kind == "text":
            out = _query(con, stacked, "v AS t")
        elif kind == "bool":
            out = _query(con, stacked, "coalesce(v = 'Oui', false) AS t")
        else:
            value = {"int": integer("v"), "float": num("v"), "date": fr_date("v")}[kind]
            out = _query(con, stacked, f"CAST(({value}) AS {_TYPES[kind]}) AS t, v IS NOT NULL AS present")
        t = out.column("t")
        k = pc.and_(out.column("present"), pc.is_null(t)) if kind not in ("text", "bool") else None
        for j, i in enumerate(idx):
            values[i] = t.slice(j * n, n)
            if k is not None:
                flags[i] = k.slice(j * n, n)
    return siren, values, flags


def _rejection_key(r: Record) -> tuple[int, str, bool, str, str]:
    """Order of the rejections: line, level, column (missing last), reason (then as generated: year order)."""
    return (r[0], r[4], r[1] is None, r[1] or "", r[3])


@dataclass(frozen=True)
class DianeSource:
    """DIANE (Bureau van Dijk): yearly financial statements per company."""

    name: str = "diane"
    table: str = "stg_diane"
    kind: Literal["stock", "flux"] = "stock"
    key: Literal["siret", "siren"] | None = "siren"
    patterns: tuple[re.Pattern[str], ...] = (
        re.compile(r"^Diane.*\.txt(\.gz)?$"),
        re.compile(r"^[Dd]iane.*\.csv(\.gz)?$"),
    )
    columns: tuple[Column, ...] = (
        Column("siren", "VARCHAR", _SIREN_LABEL, "SIREN (9 digits)"),
        Column("exercice_diane", "INTEGER", None, "Year of the financial statement (from the column's year)"),
        *(Column(name, _TYPES[kind], label, label) for name, label, kind in DIANE_FIELDS),
        Column("siren_luhn_ok", "BOOLEAN", None, "The SIREN passes the Luhn check (false: flagged, not rejected)"),
    )

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one Diane export (UTF-16 with BOM, plain or gzip)."""
        try:
            raw = _read(path)
        except FileError as e:
            return fatal_result(self.columns, str(e))
        except (OSError, UnicodeError) as e:
            return fatal_result(self.columns, f"{path.name}: unreadable Diane export ({e})")
        siren, values, flags = _typed(con, raw)
        line = raw.lines
        empty, bad = siren.column("_empty"), siren.column("_bad")
        rejections: list[Record] = list(raw.early)
        ids = siren.column("siren")
        for ln, s in zip(pc.filter(line, empty).to_pylist(), pc.filter(ids, empty).to_pylist(), strict=True):
            rejections.append((ln, _SIREN_LABEL, s, "SIREN is empty", "row"))
        for ln, s in zip(pc.filter(line, bad).to_pylist(), pc.filter(ids, bad).to_pylist(), strict=True):
            rejections.append((ln, _SIREN_LABEL, s, "SIREN must be 9 digits", "row"))
        # a company line rejected as a whole gives no row and no field-level rejection
        keep = pc.invert(pc.or_(empty, bad))
        kept = bool(pc.all(keep).as_py()) if len(keep) else True

        def kept_only(a: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
            return a if kept else pc.filter(a, keep)

        lines = kept_only(line)
        n = len(lines)
        siren_kept, luhn_kept = kept_only(ids), kept_only(siren.column("siren_luhn_ok"))
        per_year: list[pa.Table] = []
        for year in raw.years:
            cols: dict[str, pa.ChunkedArray | pa.Array] = {
                "siren": siren_kept,
                "exercice_diane": pa.array(np.full(n, year, dtype=np.int32)),
            }
            for name, label, kind in DIANE_FIELDS:
                i = raw.yearly[name].get(year) if name in raw.yearly else raw.fixed.get(name)
                if i is None:
                    cols[name] = pa.nulls(n, ARROW_TYPES[_TYPES[kind]])
                    continue
                cols[name] = kept_only(values[i])
                if i not in flags:
                    continue
                flag = kept_only(flags[i])
                if pc.any(flag).as_py():
                    reason = f"{label}: not a valid {kind}"
                    bad_raw = pc.filter(kept_only(raw.columns[i]), flag).to_pylist()
                    for ln, v in zip(pc.filter(lines, flag).to_pylist(), bad_raw, strict=True):
                        rejections.append((ln, label, f"{year}: {v}", reason, "field"))
            cols["siren_luhn_ok"] = luhn_kept
            cols["_line"] = lines
            per_year.append(pa.table(cols))
        schema = rows_schema(self.columns)
        rows = pa.concat_tables([t.cast(schema) for t in per_year])
        # year-major (all lines of the first year, then the next…) → line-major: the rows of a line, by year
        years = len(raw.years)
        order = (np.arange(n, dtype=np.int64)[:, None] + np.arange(years, dtype=np.int64)[None, :] * n).ravel()
        rows = rows.take(pa.array(order)).combine_chunks()
        rejections.sort(key=_rejection_key)
        result = ParseResult(rows=rows, rejections=rejections_table(list(dict.fromkeys(rejections))), read=0)
        result.read = rows.num_rows + result.rejected_rows
        return result

DIANE = DianeSource()
