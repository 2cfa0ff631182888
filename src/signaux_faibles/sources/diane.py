"""DIANE (Bureau van Dijk) financial statements, legacy (``Diane*.txt`` / ``diane*.csv``) → ``stg_diane``.

Raw format (real_system.md §1.5, OSF-legacy ``lib/diane``): a manual Diane+ export in **UTF-16 with a BOM**,
``;``-separated, quoted, decimal comma, with one column per field *and year*
(``"Chiffre d'affaires net (H.T.) kEUR 2017"``). The year columns are projected into one row per
(SIREN, year), for every year of the header, as the real parser does; labels are matched after removing the
year and collapsing double spaces (the export is not consistent about them).

Each company line gives one row per year, all carrying that line's number. A company line is rejected as a
whole (bad SIREN, malformed line, duplicate); an unreadable value is set to NULL with a field-level rejection
whose raw value is prefixed by its year. ``read`` counts the (SIREN, year) rows built plus the rejected lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult, Record, fatal_result, rejections_table
from signaux_faibles.sources._read import (
    Check,
    FileError,
    raw_from_rows,
    siren_checks,
    typed_stage,
    with_early,
)
from signaux_faibles.sources._read.lines import Records, cut, decoded_lines
from signaux_faibles.sources._sql import fr_date, integer, luhn, num, q, txt

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


_Raw = tuple[int, list[str | None], object]


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


def _read(path: Path) -> tuple[list[_Raw], list[Record]]:
    """One raw record per company line and year of the header, and the lines rejected while reading."""
    early: list[Record] = []
    records: list[_Raw] = []
    index: tuple[dict[str, int], dict[str, dict[int, int]]] | None = None
    years: list[int] = []
    for start, _end, fields, problem, text in Records(decoded_lines(path, "utf-16"), ";", multiline=False):
        if index is None:
            index = _index(fields, path)
            years = sorted({y for per_year in index[1].values() for y in per_year})
            continue
        if problem is not None:
            early.append((start, problem[0], cut(text.replace("\x00", "\\0")), problem[1], "row"))
            continue
        fixed, yearly = index
        for year in years:
            values: list[str | None] = [fields[fixed["siren"]], str(year)]
            for name, _, _ in DIANE_FIELDS:
                idx = yearly[name].get(year) if name in yearly else fixed.get(name)
                values.append(fields[idx] if idx is not None else None)
            records.append((start, values, (tuple(fields), year)))
    if index is None:
        raise FileError(f"{path.name}: empty file, expected a Diane+ export")
    return records, early


def _typing() -> tuple[dict[str, str], list[Check]]:
    """SQL of each staging value over the raw columns, and the checks (an unreadable value is set to NULL)."""
    siren = txt("siren")
    values: dict[str, str] = {"siren": siren, "exercice_diane": f"CAST({q('annee')} AS INTEGER)"}
    checks: list[Check] = siren_checks(_SIREN_LABEL, siren)
    for name, label, kind in DIANE_FIELDS:
        v = txt(name)
        if kind == "text":
            values[name] = v
            continue
        if kind == "bool":
            values[name] = f"coalesce({v} = 'Oui', false)"
            continue
        parsed = {"int": integer(v), "float": num(v), "date": fr_date(v)}[kind]
        values[name] = parsed
        checks.append(Check(label, f"{v} IS NOT NULL AND {parsed} IS NULL", f"{label}: not a valid {kind}",
                            "field", raw=f"{q('annee')} || ': ' || {q(name)}"))
    values["siren_luhn_ok"] = luhn(siren)
    return values, checks


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
            records, early = _read(path)
        except FileError as e:
            return fatal_result(self.columns, str(e))
        except (OSError, UnicodeError) as e:
            return fatal_result(self.columns, f"{path.name}: unreadable Diane export ({e})")
        raw = raw_from_rows(["siren", "annee", *(n for n, _, _ in DIANE_FIELDS)], records)
        rows, rejections = typed_stage(con, raw, self.columns, *_typing())
        rows = rows.sort_by([("_line", "ascending"), ("exercice_diane", "ascending")])
        rejections = with_early(rejections, early)
        # a rejected company line is reported once, not once per year
        rejections = rejections_table(list(dict.fromkeys(tuple(r.values()) for r in rejections.to_pylist())))
        result = ParseResult(rows=rows, rejections=rejections, read=0)
        result.read = rows.num_rows + result.rejected_rows
        return result


DIANE = DianeSource()
