"""SQL snippets for the real system's field rules (URSSAF dates and periods, decimal commas, identifiers).

Each function takes the SQL expression of a raw VARCHAR field and returns a SQL expression. They mirror
opensignauxfaibles ``lib/parsing/urssaf/utils.go`` and ``lib/parsing/fields.go``:

- ``(A)AAMMJJ`` date: the integer value + 19000000 read as ``YYYYMMDD`` (``1160318`` → 2016-03-18,
  ``990612`` → 1999-06-12);
- ``YYQM`` / ``YYYYQM`` period: YY < 50 → 20YY else 19YY; ``QM = 62`` → the whole year; ``M = 0`` → the whole
  quarter Q; otherwise month M of quarter Q. Month numbers outside 1..12 roll over as Go's ``time.Date`` does
  (``199904`` → 1999-01-01 … 1999-02-01);
- Go's ``strconv.ParseBool`` accepts ``1 t T TRUE true True 0 f F FALSE false False``.
"""

from __future__ import annotations

__all__ = [
    "comma_float",
    "is_comma_float",
    "is_float",
    "is_int",
    "is_siren",
    "is_siret",
    "is_urssaf_date",
    "is_urssaf_period",
    "luhn_ok",
    "parse_bool",
    "urssaf_date",
    "urssaf_period_end",
    "urssaf_period_start",
]

_TRUE = "('1','t','T','TRUE','true','True')"
_FALSE = "('0','f','F','FALSE','false','False')"


def is_siret(x: str) -> str:
    """14 digits."""
    return f"regexp_full_match({x}, '[0-9]{{14}}')"


def is_siren(x: str) -> str:
    """9 digits."""
    return f"regexp_full_match({x}, '[0-9]{{9}}')"


def is_int(x: str) -> str:
    """An optionally signed integer (Go ``strconv.Atoi``)."""
    return f"regexp_full_match({x}, '[+-]?[0-9]+')"


def is_float(x: str) -> str:
    """A decimal number with a point."""
    return f"(try_cast({x} AS DOUBLE) IS NOT NULL AND regexp_full_match({x}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?'))"


def is_comma_float(x: str) -> str:
    """A decimal number with a comma (or a point)."""
    return is_float(f"replace({x}, ',', '.')")


def comma_float(x: str) -> str:
    """Decimal comma → DOUBLE (NULL when invalid or empty)."""
    return f"try_cast(replace({x}, ',', '.') AS DOUBLE)"


def parse_bool(x: str) -> str:
    """Go ``strconv.ParseBool`` → BOOLEAN (NULL when invalid)."""
    return f"CASE WHEN {x} IN {_TRUE} THEN true WHEN {x} IN {_FALSE} THEN false END"


def is_bool(x: str) -> str:
    """Accepted by Go ``strconv.ParseBool``."""
    return f"({x} IN {_TRUE} OR {x} IN {_FALSE})"


def urssaf_date(x: str) -> str:
    """``(A)AAMMJJ`` → DATE (NULL when invalid, e.g. 31 February)."""
    return (
        f"CAST(CASE WHEN regexp_full_match({x}, '[0-9]{{1,7}}') THEN "
        f"try_strptime(lpad(CAST(CAST({x} AS INTEGER) + 19000000 AS VARCHAR), 8, '0'), '%Y%m%d') END AS DATE)"
    )


def is_urssaf_date(x: str) -> str:
    """Valid ``(A)AAMMJJ`` date."""
    return f"({urssaf_date(x)} IS NOT NULL)"


def _period_full(x: str) -> str:
    return (
        f"(CASE WHEN length({x}) = 4 THEN (CASE WHEN {x}[1:2] < '50' THEN '20' ELSE '19' END) || {x} "
        f"ELSE {x} END)"
    )


def is_urssaf_period(x: str) -> str:
    """Valid ``YYQM`` / ``YYYYQM`` period."""
    return f"regexp_full_match({x}, '[0-9]{{4}}|[0-9]{{6}}')"


def _period_month_index(p: str) -> str:
    # month index from January of the year (1-based), may be outside 1..12 (Go rolls it over)
    return (
        f"(CASE WHEN {p}[5:6] = '62' THEN 1 "
        f"WHEN {p}[6:6] = '0' THEN (CAST({p}[5:5] AS INTEGER) - 1) * 3 + 1 "
        f"ELSE (CAST({p}[5:5] AS INTEGER) - 1) * 3 + CAST({p}[6:6] AS INTEGER) END)"
    )


def _period_length(p: str) -> str:
    return f"(CASE WHEN {p}[5:6] = '62' THEN 12 WHEN {p}[6:6] = '0' THEN 3 ELSE 1 END)"


def urssaf_period_start(x: str) -> str:
    """First day of the period (DATE)."""
    p = _period_full(x)
    return (
        f"CAST(CASE WHEN {is_urssaf_period(x)} THEN make_date(CAST({p}[1:4] AS INTEGER), 1, 1) "
        f"+ to_months({_period_month_index(p)} - 1) END AS DATE)"
    )


def urssaf_period_end(x: str) -> str:
    """First day after the period (DATE)."""
    p = _period_full(x)
    return (
        f"CAST(CASE WHEN {is_urssaf_period(x)} THEN make_date(CAST({p}[1:4] AS INTEGER), 1, 1) "
        f"+ to_months({_period_month_index(p)} - 1 + {_period_length(p)}) END AS DATE)"
    )


def luhn_ok(x: str, width: int) -> str:
    """Luhn key check of a ``width``-digit identifier (NULL when it is not ``width`` digits)."""
    terms = []
    for j in range(1, width + 1):
        d = f"(ascii({x}[{j}:{j}]) - 48)"
        from_right = width - j
        terms.append(f"({d} * 2 - CASE WHEN {d} >= 5 THEN 9 ELSE 0 END)" if from_right % 2 == 1 else d)
    return (
        f"CASE WHEN regexp_full_match({x}, '[0-9]{{{width}}}') THEN ({' + '.join(terms)}) % 10 = 0 END"
    )
