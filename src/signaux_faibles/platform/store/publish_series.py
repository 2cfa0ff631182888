"""The SQL (DuckDB, over the data directory's clean views) of the partner and establishment series that
``publish`` loads: ``payment_records``, ``ccsf_events``, ``group_members``, ``establishment_months``, ``delais``.

Each function takes ``has(view)`` (whether that clean view exists in the data directory) and returns the SELECT
whose columns are named as the table's, or None when none of its sources is there. Every source is optional: a
missing one contributes an empty, typed relation, so one publication loads what the data directory has.

- ``payment_records``: ``clean_paydex`` (nb_jours → paydex_jours) full-joined with ``clean_fpi`` on
  (siren, date_valeur).
- ``ccsf_events`` and ``delais``: the clean rows as delivered (one row per distinct event).
- ``group_members``: ``clean_ellisphere``, every member of a group with at least one published company, so that
  a company's page lists its whole group.
- ``establishment_months``: per (SIRET, month) over the **last 36 months of the panel** (``PAGE_MONTHS``, bounded
  by the panel's first month): effectif (``clean_effectif``, summed over the URSSAF accounts), cotisations due
  (``clean_cotisation.du`` spread over ``[periode, periode_fin)`` as the panel does), the URSSAF debt
  (``clean_debit``, each event's state carried forward to the following months until the next event: a debt
  stays until it changes) and the activité partielle in ETP (``clean_ap``).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PAGE_MONTHS", "calendar_sql", "ccsf", "delais", "establishment_months", "group_members",
           "payment_records"]  # fmt: skip

#: Months of ``establishment_months``: the panel's last 36 months (what the establishment page charts).
PAGE_MONTHS = 36

Has = Callable[[str], bool]

_UNIVERSE = "siren IN (SELECT siren FROM universe)"


def calendar_sql() -> str:
    """``CREATE TABLE page_months``: the first days of the panel's last ``PAGE_MONTHS`` months."""
    return (
        "CREATE TABLE page_months AS SELECT CAST(unnest(generate_series(CAST(greatest(lo, "
        f"hi - INTERVAL {PAGE_MONTHS - 1} MONTH) AS TIMESTAMP), CAST(hi AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE) "
        "AS periode FROM (SELECT CAST(date_trunc('month', min(periode)) AS DATE) AS lo, "
        "CAST(date_trunc('month', max(periode)) AS DATE) AS hi FROM panel) WHERE hi IS NOT NULL"
    )


def _or_empty(has: Has, view: str, sql: str, empty: str) -> str:
    """``sql`` when ``view`` exists, else an empty relation with ``empty``'s typed columns."""
    return f"({sql})" if has(view) else f"(SELECT {empty} WHERE false)"


def payment_records(has: Has) -> str | None:
    """Paydex and FPI per (siren, date_valeur), one row per key (the latest delivery wins nothing: distinct keys)."""
    if not (has("clean_paydex") or has("clean_fpi")):
        return None
    paydex = _or_empty(
        has, "clean_paydex",
        "SELECT siren, CAST(date_valeur AS DATE) AS date_valeur, CAST(nb_jours AS DOUBLE) AS paydex_jours "
        "FROM clean_paydex WHERE siren IS NOT NULL AND date_valeur IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY siren, CAST(date_valeur AS DATE) ORDER BY nb_jours DESC) = 1",
        "CAST(NULL AS VARCHAR) AS siren, CAST(NULL AS DATE) AS date_valeur, CAST(NULL AS DOUBLE) AS paydex_jours",
    )  # fmt: skip
    fpi = _or_empty(
        has, "clean_fpi",
        "SELECT siren, CAST(date_valeur AS DATE) AS date_valeur, CAST(fpi_30 AS DOUBLE) AS fpi_30, "
        "CAST(fpi_90 AS DOUBLE) AS fpi_90 FROM clean_fpi WHERE siren IS NOT NULL AND date_valeur IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY siren, CAST(date_valeur AS DATE) ORDER BY fpi_90 DESC) = 1",
        "CAST(NULL AS VARCHAR) AS siren, CAST(NULL AS DATE) AS date_valeur, CAST(NULL AS DOUBLE) AS fpi_30, "
        "CAST(NULL AS DOUBLE) AS fpi_90",
    )  # fmt: skip
    return (
        "SELECT * FROM (SELECT coalesce(p.siren, f.siren) AS siren, coalesce(p.date_valeur, f.date_valeur) "
        "AS date_valeur, CASE WHEN isfinite(p.paydex_jours) THEN p.paydex_jours END AS paydex_jours, "
        "CASE WHEN isfinite(f.fpi_30) THEN f.fpi_30 END AS fpi_30, "
        "CASE WHEN isfinite(f.fpi_90) THEN f.fpi_90 END AS fpi_90 "
        f"FROM {paydex} p FULL JOIN {fpi} f ON p.siren = f.siren AND p.date_valeur = f.date_valeur) "
        f"WHERE {_UNIVERSE} ORDER BY siren, date_valeur"
    )


def ccsf(has: Has) -> str | None:
    """The CCSF events of the published companies."""
    if not has("clean_ccsf"):
        return None
    return (
        "SELECT DISTINCT siret, siren, CAST(numero_compte AS VARCHAR) AS numero_compte, "
        "CAST(date_traitement AS DATE) AS date_traitement, CAST(stade AS VARCHAR) AS stade, "
        f"CAST(action AS VARCHAR) AS action FROM clean_ccsf WHERE siret IS NOT NULL AND {_UNIVERSE} "
        "ORDER BY siren, siret, date_traitement"
    )


def group_members(has: Has) -> str | None:
    """Every member of the groups that hold at least one published company, one row per (group, member)."""
    if not has("clean_ellisphere"):
        return None
    return (
        "SELECT code_groupe, siren, siren_tete, raison_sociale_groupe, niveau_detention, part_financiere FROM ("
        "SELECT CAST(code_groupe AS VARCHAR) AS code_groupe, siren, CAST(siren_tete AS VARCHAR) AS siren_tete, "
        "CAST(raison_sociale_groupe AS VARCHAR) AS raison_sociale_groupe, "
        "CAST(niveau_detention AS BIGINT) AS niveau_detention, "
        "CASE WHEN isfinite(CAST(part_financiere AS DOUBLE)) THEN CAST(part_financiere AS DOUBLE) END "
        "AS part_financiere FROM clean_ellisphere WHERE code_groupe IS NOT NULL AND siren IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY code_groupe, siren ORDER BY niveau_detention) = 1) "
        "WHERE code_groupe IN (SELECT code_groupe FROM clean_ellisphere WHERE siren IN (SELECT siren FROM universe)) "
        "ORDER BY code_groupe, siren"
    )


def delais(has: Has) -> str | None:
    """The URSSAF payment plans of the published companies."""
    if not has("clean_delai"):
        return None
    return (
        "SELECT DISTINCT siret, siren, CAST(numero_compte AS VARCHAR) AS numero_compte, "
        "CAST(numero_contentieux AS VARCHAR) AS numero_contentieux, CAST(date_creation AS DATE) AS date_creation, "
        "CAST(date_echeance AS DATE) AS date_echeance, CAST(duree_delai AS BIGINT) AS duree_delai, "
        "CASE WHEN isfinite(CAST(montant_echeancier AS DOUBLE)) THEN CAST(montant_echeancier AS DOUBLE) END "
        "AS montant_echeancier, CAST(stade AS VARCHAR) AS stade, CAST(action AS VARCHAR) AS action "
        f"FROM clean_delai WHERE siret IS NOT NULL AND {_UNIVERSE} ORDER BY siren, siret, date_creation"
    )


def _month_parts(has: Has) -> list[tuple[str, str]]:
    """(CTE name, SELECT siret, periode, <its columns>) of each source of ``establishment_months`` present."""
    parts = []
    if has("clean_effectif"):
        parts.append(("eff", (
            "SELECT siret, CAST(date_trunc('month', periode) AS DATE) AS periode, "
            "CAST(sum(effectif) AS BIGINT) AS effectif FROM clean_effectif GROUP BY ALL"
        )))  # fmt: skip
    if has("clean_cotisation"):
        parts.append(("cot", (
            "SELECT c.siret, m.periode, sum(c.du / c.n) AS cotisation FROM (SELECT siret, du, "
            "CAST(date_trunc('month', periode) AS DATE) AS start, greatest(1, date_diff('month', "
            "date_trunc('month', periode), date_trunc('month', periode_fin))) AS n FROM clean_cotisation "
            "WHERE periode IS NOT NULL) c JOIN page_months m ON m.periode >= c.start "
            "AND m.periode < c.start + to_months(CAST(c.n AS INTEGER)) GROUP BY ALL"
        )))  # fmt: skip
    if has("clean_debit"):
        parts.append(("deb", (
            "WITH ev AS (SELECT siret, CAST(date_trunc('month', periode) AS DATE) AS periode, "
            "sum(part_ouvriere) AS part_ouvriere, sum(part_patronale) AS part_patronale FROM clean_debit "
            "GROUP BY ALL), grid AS (SELECT s.siret, m.periode FROM (SELECT siret, min(periode) AS first "
            "FROM ev GROUP BY siret) s JOIN page_months m ON m.periode >= s.first) "
            "SELECT g.siret, g.periode, e.part_ouvriere, e.part_patronale FROM grid g "
            "ASOF LEFT JOIN ev e ON g.siret = e.siret AND g.periode >= e.periode"
        )))  # fmt: skip
    if has("clean_ap"):
        parts.append(("ap", (
            "SELECT siret, CAST(date_trunc('month', periode) AS DATE) AS periode, "
            "sum(etp_autorise) AS etp_autorise, sum(etp_consomme) AS etp_consomme FROM clean_ap GROUP BY ALL"
        )))  # fmt: skip
    return parts


def establishment_months(has: Has) -> str | None:
    """One row per (SIRET of a published company, month of ``page_months``) with at least one source's value."""
    parts = _month_parts(has)
    if not parts:
        return None
    ctes = ", ".join(f"{name} AS ({sql})" for name, sql in parts)
    names = [name for name, _ in parts]
    keys = " UNION ".join(f"SELECT siret, periode FROM {n}" for n in names)
    joins = " ".join(f"LEFT JOIN {n} USING (siret, periode)" for n in names)
    cols = {
        "effectif": "eff.effectif" if "eff" in names else "CAST(NULL AS BIGINT)",
        "cotisation": "cot.cotisation" if "cot" in names else "CAST(NULL AS DOUBLE)",
        "part_ouvriere": "deb.part_ouvriere" if "deb" in names else "CAST(NULL AS DOUBLE)",
        "part_patronale": "deb.part_patronale" if "deb" in names else "CAST(NULL AS DOUBLE)",
        "etp_autorise": "ap.etp_autorise" if "ap" in names else "CAST(NULL AS DOUBLE)",
        "etp_consomme": "ap.etp_consomme" if "ap" in names else "CAST(NULL AS DOUBLE)",
    }
    select_cols = ", ".join(
        f"{expr} AS {c}" if c == "effectif" else f"CASE WHEN isfinite({expr}) THEN {expr} END AS {c}"
        for c, expr in cols.items()
    )
    return (
        f"WITH {ctes}, k AS (SELECT siret, periode FROM ({keys}) WHERE siret IS NOT NULL AND periode IN "
        "(SELECT periode FROM page_months) AND substr(siret, 1, 9) IN (SELECT siren FROM universe)) "
        f"SELECT siret, periode, substr(siret, 1, 9) AS siren, {select_cols} FROM k {joins} ORDER BY siret, periode"
    )
