"""SQL snippets, the one module of them: identifiers and literals, and the real system's field rules (URSSAF dates
and periods, decimal commas, identifiers, French and ISO dates).

Each rule takes the SQL expression of a raw VARCHAR field and returns a SQL expression. They mirror
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
    "date_fmt",
    "digits",
    "fr_date",
    "go_bool",
    "ident",
    "integer",
    "is_comma_float",
    "is_float",
    "is_int",
    "is_siren",
    "is_siret",
    "is_urssaf_date",
    "is_urssaf_period",
    "iso_date",
    "lit",
    "luhn",
    "luhn_ok",
    "month_date",
    "month_yyyymmdd",
    "num",
    "parse_bool",
    "period_months",
    "q",
    "txt",
    "urssaf_date",
    "urssaf_date_int",
    "urssaf_period_end",
    "urssaf_period_int",
    "urssaf_period_length",
    "urssaf_period_months",
    "urssaf_period_start",
    "ymd_date",
]

import re
from collections.abc import Callable

_TRUE = "('1','t','T','TRUE','true','True')"
_FALSE = "('0','f','F','FALSE','false','False')"


def _full_match(pattern: str) -> Callable[[str], str]:
    """The test that a value wholly matches ``pattern`` (NULL for NULL)."""
    return lambda x: f"regexp_full_match({x}, '{pattern}')"


#: 14 digits.
is_siret = _full_match("[0-9]{14}")
#: 9 digits.
is_siren = _full_match("[0-9]{9}")
#: An optionally signed integer (Go ``strconv.Atoi``).
is_int = _full_match("[+-]?[0-9]+")


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


def urssaf_date_int(x: str) -> str:
    """``(A)AAMMJJ`` → INTEGER ``YYYYMMDD`` (value + 19000000; NULL when not 1 to 7 digits, not yet checked)."""
    return f"(CASE WHEN regexp_full_match({x}, '[0-9]{{1,7}}') THEN CAST({x} AS INTEGER) + 19000000 END)"


def _days_in_month(y: str, m: str) -> str:
    return (
        f"(CASE WHEN {m} = 2 THEN 28 + CAST(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0) AS INTEGER) "
        f"WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)"
    )


def ymd_date(v: str) -> str:
    """INTEGER ``YYYYMMDD`` → DATE (NULL when impossible, e.g. 31 February), by integer arithmetic."""
    y, m, d = f"(({v}) // 10000)", f"(({v}) // 100 % 100)", f"(({v}) % 100)"
    return (
        f"(CASE WHEN {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {_days_in_month(y, m)} "
        f"THEN make_date({y}, {m}, {d}) END)"
    )


def urssaf_date(x: str) -> str:
    """``(A)AAMMJJ`` → DATE (NULL when invalid, e.g. 31 February)."""
    return ymd_date(urssaf_date_int(x))


def is_urssaf_date(x: str) -> str:
    """Valid ``(A)AAMMJJ`` date."""
    return f"({urssaf_date(x)} IS NOT NULL)"


def is_urssaf_period(x: str) -> str:
    """Valid ``YYQM`` / ``YYYYQM`` period."""
    return f"regexp_full_match({x}, '[0-9]{{4}}|[0-9]{{6}}')"


def urssaf_period_int(x: str) -> str:
    """The period's digits as INTEGER (NULL when not ``YYQM`` / ``YYYYQM``); feed to :func:`period_months`."""
    return f"(CASE WHEN {is_urssaf_period(x)} THEN CAST({x} AS INTEGER) END)"


def period_months(p: str, width: str) -> str:
    """First month (``year * 12 + month - 1``) of the period whose digits are the INTEGER ``p`` (``width`` 4 or 6)."""
    qm = f"({p} % 100)"
    year = f"(CASE WHEN {width} = 4 THEN (CASE WHEN {p} // 100 < 50 THEN 2000 ELSE 1900 END) + {p} // 100 " \
           f"ELSE {p} // 100 END)"
    k = f"(CASE WHEN {qm} = 62 THEN 0 WHEN {qm} % 10 = 0 THEN ({qm} // 10 - 1) * 3 " \
        f"ELSE ({qm} // 10 - 1) * 3 + {qm} % 10 - 1 END)"
    return f"({year} * 12 + {k})"


def urssaf_period_months(x: str) -> str:
    """First month of the period as INTEGER ``year * 12 + month - 1`` (NULL when invalid; Go's roll-over kept)."""
    return period_months(urssaf_period_int(x), f"strlen({x})")


def urssaf_period_length(x: str) -> str:
    """Length of the period in months (12 for ``QM = 62``, 3 for ``M = 0``, else 1)."""
    return f"(CASE WHEN substr({x}, -2) = '62' THEN 12 WHEN substr({x}, -1) = '0' THEN 3 ELSE 1 END)"


def month_date(months: str) -> str:
    """INTEGER ``year * 12 + month - 1`` → DATE, first day of that month."""
    return f"make_date(({months}) // 12, ({months}) % 12 + 1, 1)"


def month_yyyymmdd(months: str) -> str:
    """INTEGER ``year * 12 + month - 1`` → VARCHAR ``YYYYMM01`` (as ``strftime(month_date(…), '%Y%m%d')``)."""
    return f"CAST((({months}) // 12) * 10000 + (({months}) % 12 + 1) * 100 + 1 AS VARCHAR)"


def urssaf_period_start(x: str) -> str:
    """First day of the period (DATE)."""
    return month_date(urssaf_period_months(x))


def urssaf_period_end(x: str) -> str:
    """First day after the period (DATE)."""
    return month_date(f"{urssaf_period_months(x)} + {urssaf_period_length(x)}")


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


# --- identifiers, literals, and the text reader's typed values (a trimmed raw value, NULL when empty) ----------

def q(name: str) -> str:
    """Quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def txt(col: str) -> str:
    """Trimmed raw value, NULL when empty."""
    return f"nullif(trim({q(col)}), '')"


_NUM_RE = r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?"


def num(expr: str) -> str:
    """DOUBLE from a text expression (decimal point or comma); NULL when not a plain number."""
    return f"(CASE WHEN regexp_full_match({expr}, {lit(_NUM_RE)}) THEN TRY_CAST(replace({expr}, ',', '.') AS DOUBLE) END)"


def integer(expr: str, sql_type: str = "INTEGER") -> str:
    """Whole number from a text expression (``559.0`` accepted); NULL when not a whole number."""
    d = num(expr)
    return f"(CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS {sql_type}) END)"


def date_fmt(expr: str, fmt: str, pattern: str) -> str:
    """DATE from a text expression in ``fmt`` (strptime), which must fully match the regex ``pattern``."""
    return f"(CASE WHEN regexp_full_match({expr}, {lit(pattern)}) THEN CAST(try_strptime({expr}, {lit(fmt)}) AS DATE) END)"


def iso_date(expr: str) -> str:
    """DATE from ``YYYY-MM-DD`` (impossible dates such as 2019-02-30 give NULL)."""
    return date_fmt(expr, "%Y-%m-%d", r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def fr_date(expr: str) -> str:
    """DATE from ``dd/mm/yyyy``."""
    return date_fmt(expr, "%d/%m/%Y", r"[0-9]{2}/[0-9]{2}/[0-9]{4}")


def go_bool(expr: str) -> str:
    """BOOLEAN as Go's ``strconv.ParseBool`` reads it; NULL otherwise."""
    return f"({parse_bool(expr)})"


def digits(expr: str, n: int) -> str:
    """True when ``expr`` is exactly ``n`` digits."""
    return f"coalesce(regexp_full_match({expr}, '[0-9]{{{n}}}'), false)"


def luhn(expr: str) -> str:
    """True when ``expr`` is all digits with a valid Luhn key (SIREN, SIRET)."""
    d = f"CAST(substr({expr}, length({expr}) - r, 1) AS INTEGER)"
    term = f"(CASE WHEN r % 2 = 1 THEN (CASE WHEN 2 * {d} > 9 THEN 2 * {d} - 9 ELSE 2 * {d} END) ELSE {d} END)"
    return (
        f"(CASE WHEN coalesce(regexp_full_match({expr}, '[0-9]+'), false) "
        f"THEN list_sum([{term} FOR r IN range(length({expr}))]) % 10 = 0 ELSE false END)"
    )


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def ident(name: str) -> str:
    """SQL identifier, quoted only when it has to be."""
    return name if _IDENT.match(name) else q(name)
