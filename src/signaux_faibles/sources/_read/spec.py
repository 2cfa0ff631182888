"""Declarative column specs: a source read by the text reader says each column once, as a :class:`Field`.

From the fields, :class:`TextSource` derives the staging columns, the SQL value of each column, the checks
(empty, unreadable → row or field rejection) and the raw headers the file must have. A source file then reads as
its schema plus its few special rules (``rules``: extra :class:`~.rules.Check`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from signaux_faibles.sources._base import Column, ParseResult
from signaux_faibles.sources._read.rules import (
    Check,
    optional_value,
    required_value,
    siren_checks,
    siret_checks,
)
from signaux_faibles.sources._read.text import RawRead, read_text
from signaux_faibles.sources._read.typed import finish
from signaux_faibles.sources._sql import fr_date, go_bool, integer, iso_date, luhn, num, txt

__all__ = [
    "BOOLEAN",
    "FR_DATE",
    "ISO_DATE",
    "NUMBER",
    "WHOLE",
    "Declared",
    "Field",
    "Parser",
    "TextSource",
    "gz",
    "luhn_of",
]


@dataclass(frozen=True)
class Parser:
    """How a raw value is read: SQL over the trimmed raw value (NULL when unreadable), and the expected format
    as the rejection reasons name it (``MOIS (YYYY-MM-DD) is not valid``)."""

    sql: Callable[[str], str]
    label: str


NUMBER = Parser(num, "number")
WHOLE = Parser(integer, "whole number")
ISO_DATE = Parser(iso_date, "YYYY-MM-DD")
FR_DATE = Parser(fr_date, "dd/mm/yyyy")
BOOLEAN = Parser(go_bool, "boolean")


@dataclass(frozen=True)
class Field:
    """One staging column, said once.

    Attributes
    ----------
    name, type, description
        The staging column (see :class:`~signaux_faibles.sources._base.Column`).
    raw : str or None
        Raw header it is read from (case-insensitive); ``None`` when derived.
    parser : Parser or None
        How the raw value is typed; ``None``: the trimmed text (NULL when empty).
    required : bool
        An empty value rejects the row (``<raw> (<format>) is empty``); an unreadable one too.
    on_error : {"row", "field"}
        What an unreadable value does when the field is not required: rejects the row, or is set to NULL
        (field-level rejection).
    label : str or None
        The format as the reasons name it, instead of the parser's.
    invalid : str or None
        The whole reason of an unreadable value, instead of ``<raw> (<format>) is not valid`` (``{raw}``: the raw
        header).
    optional : bool
        The column may be missing from the file (its values are then NULL).
    identifier : {"siret", "siren"} or None
        A SIRET or SIREN: empty or malformed rejects the row (its Luhn key is only flagged, :func:`luhn_of`).
    sql : str or None
        The value's SQL when it is not the parsed raw value (derived columns, special rules).
    """

    name: str
    raw: str | None
    type: str = "VARCHAR"
    description: str = ""
    parser: Parser | None = None
    required: bool = False
    on_error: Literal["row", "field"] = "row"
    label: str | None = None
    invalid: str | None = None
    optional: bool = False
    identifier: Literal["siret", "siren"] | None = None
    sql: str | None = None

    def column(self) -> Column:
        """The staging column."""
        return Column(self.name, self.type, self.raw, self.description)

    def value(self) -> str:
        """SQL of the staging value over the raw columns."""
        if self.sql is not None:
            return self.sql
        if self.raw is None:
            raise ValueError(f"field {self.name!r}: a derived field needs its sql")
        return self.parser.sql(txt(self.raw)) if self.parser is not None else txt(self.raw)

    def checks(self) -> list[Check]:
        """The checks this field's declaration implies."""
        if self.raw is None:
            return []
        if self.identifier == "siret":
            return siret_checks(self.raw)
        if self.identifier == "siren":
            return siren_checks(self.raw, self.value())
        what = f"{self.raw} ({self.label or (self.parser.label if self.parser else 'text')})"
        if self.parser is None:
            return [Check(self.raw, f"{txt(self.raw)} IS NULL", f"{what} is empty")] if self.required else []
        parsed = self.parser.sql(txt(self.raw))
        if self.required:
            return required_value(self.raw, parsed, what)
        check = optional_value(self.raw, parsed, what, self.on_error)
        if self.invalid is None:
            return [check]
        return [Check(check.column, check.condition, self.invalid.format(raw=self.raw), check.level)]


def luhn_of(key: Field) -> Field:
    """The ``<key>_luhn_ok`` column: the SIRET or SIREN passes the Luhn check (flagged, not rejected)."""
    what = key.name.upper()
    return Field(f"{key.name}_luhn_ok", None, "BOOLEAN",
                 f"The {what} passes the Luhn check (false: flagged, not rejected)", sql=luhn(key.value()))


def gz(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """A file-name pattern that also takes the gzipped file (``<pattern>.gz``)."""
    return re.compile(pattern + r"(\.gz)?$", re.IGNORECASE if ignore_case else 0)


@dataclass(frozen=True)
class Declared:
    """What every declared source says first (see :class:`~signaux_faibles.sources._base.Source`)."""

    name: str
    table: str
    kind: Literal["stock", "flux"]
    key: Literal["siret", "siren"] | None
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class TextSource(Declared):
    """A :class:`~signaux_faibles.sources._base.Source` read by the text reader from its :class:`Field` list.

    ``header``: the delivered header in the file's order, when it differs from the fields' order (the whole-file
    error for a missing column lists it); ``rules``: the source's special checks; ``reader``: a reader other
    than :func:`~.text.read_text` (an Excel sheet).
    """

    fields: tuple[Field, ...]
    delimiter: str = ","
    expected: str = "CSV file"
    encoding: str = "utf-8"
    header: tuple[str, ...] = ()
    rules: tuple[Check, ...] = ()
    reader: Callable[[Path], RawRead] | None = None
    columns: tuple[Column, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(f.column() for f in self.fields))
        missing = {f.raw for f in self.fields if f.raw is not None and not f.optional} - set(self.header)
        if self.header and missing:
            raise ValueError(f"source {self.name!r}: header lacks {sorted(missing)}")

    def raw_headers(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(required, optional) raw headers."""
        seen = tuple(dict.fromkeys(f.raw for f in self.fields if f.raw is not None))
        optional = tuple(r for r in seen if all(f.optional for f in self.fields if f.raw == r))
        order = self.header or seen
        return tuple(r for r in order if r not in optional), optional

    def checks(self) -> list[Check]:
        """Every check: those the fields imply, then the special rules."""
        return [c for f in self.fields for c in f.checks()] + list(self.rules)

    def parse(self, path: Path, con: duckdb.DuckDBPyConnection) -> ParseResult:
        """Parse one file (plain or gzip; never raises on bad data)."""
        if self.reader is not None:
            raw = self.reader(path)
        else:
            required, optional = self.raw_headers()
            raw = read_text(path, delimiter=self.delimiter, required=required, optional=optional,
                            encoding=self.encoding, expected=self.expected)
        return finish(con, self.columns, raw, {f.name: f.value() for f in self.fields}, self.checks())
