"""The readers of partner files, shared by every source (private: sources import from here).

Two readers, one :class:`Check`, the SQL snippets of :mod:`signaux_faibles.sources._sql`:

- the **DuckDB reader** (:func:`parse_delimited`, :class:`DelimitedSource`) for the large ``;``-separated URSSAF
  files: :mod:`.sniff` (first look), :mod:`.prescan` (line count, blank lines), :mod:`.fast` and :mod:`.arrow`
  (fast paths), :mod:`.slow` (the per-line rules), :mod:`.duplicates`, :mod:`.vector` (numpy typing);
- the **Python text reader** (:func:`read_text`, :func:`finish`) for the smaller DGEFP, SIRENE and legacy files:
  :mod:`.lines` (bytes → decoded lines → CSV records, one rejection per malformed line), :mod:`.text` (records →
  raw string columns), :mod:`.typed` (raw strings → typed rows and rejections, in one DuckDB query).

A source declares its columns once (:mod:`.spec`); the values, checks and required headers are derived from it.

How the DuckDB reader reads a file
----------------------------------
1. :func:`sniff` looks at the first bytes: empty, gzip (by magic bytes, whatever the extension), binary or UTF-16
   (NUL bytes), header not UTF-8 → a whole-file error (``fatal``). It returns the header fields and the line ending.
2. **Fast path.** A cheap pass over the bytes (:func:`_prescan`: memory-mapped and vectorised with numpy for a
   plain file, read by chunks for gzip) counts the physical lines, notes the blank ones and whether any double
   quote occurs. DuckDB's own CSV reader then splits the fields (every column as
   VARCHAR, no quoting, a few extra columns that catch overlong lines, ``null_padding`` for short ones, empty
   fields kept as ``''``), and one streaming query computes the typed columns, one "needs a closer look" flag per
   record (wrong field count, a double quote, or any check firing) and a hash of the raw fields, straight to Arrow.
   The reader skips blank lines, so the physical line of the k-th record is rebuilt from the blank lines found by
   the pre-scan (and the counts must agree, else the slow path below is taken for the whole file).
   **Arrow variant.** A source may also give a *vector* function (:mod:`.vector`; débits do). Arrow's streaming
   CSV reader (strict: any line with the wrong number of fields makes it give up and the DuckDB reader above takes
   over) splits the fields the source needs, by parts of a plain file read in parallel (cut after line feeds),
   each record batch typed as soon as it is read: the vector function types it with numpy (low-cardinality
   fields once per distinct value, read dictionary-encoded) and flags every record that fails its cheap tests
   (ASCII digits, lengths, ranges); the duplicate search hashes its typed values. A plain LF file needs no
   pre-scan: each part is searched for a carriage return (→ per-line path), a double quote or a NUL byte (→ the
   DuckDB reader), checked to be UTF-8 when it is not all ASCII, and its line feeds counted; only when the record
   count says some lines are blank does the full pre-scan run (to place them). Other files (gzip, CRLF) have the
   pre-scan run alongside. Flagged records take the exact per-line rules below, their raw lines read back from
   the file.
3. **Slow path, per line.** The flagged records only (usually a handful) go through the exact per-line rules:
   each physical line is split on the delimiter with ``string_split``; the source gives, per staging column, a SQL
   expression over the raw fields, and a list of :class:`Check` (SQL condition → rejection reason, row or field
   level). The whole file takes this path when the fast one cannot be used (a bare carriage return, invalid UTF-8,
   a wide → long source, or a reader disagreement): every physical line is then loaded as one VARCHAR in file
   order, so its position is its line number (header = line 1), blank lines kept as NULL rows.
4. Records with the wrong number of fields, or with a stray double quote, are rejected as a whole (a quoted field
   broken across two physical lines therefore rejects both lines, and no following line is lost). Fields wrapped
   in ``"..."`` are unquoted.
5. Exact duplicate records (same raw line) within a file: the first is kept, later ones are rejected
   ``duplicate``. Candidates share the hash of their raw fields (Arrow variant: of their typed values), found by
   sorting the hashes' upper 32 bits (by part, then merged) and grouping the few records whose upper bits repeat
   by their whole hash; their raw lines are then compared.

Invalid UTF-8 (e.g. one latin-1 row in a UTF-8 file) takes the slow path: the file is copied line by line in
Python, undecodable lines are replaced by an empty marker and rejected with reason ``encoding``. A file whose
header itself is not UTF-8, or where most non-ASCII lines are undecodable, is a whole-file error.

A bare carriage return inside a line counts as a line break (DuckDB's reader treats it so; such files take the
slow path).
"""

from signaux_faibles.sources._read.delimited import Cell, DelimitedSource, parse_delimited
from signaux_faibles.sources._read.lines import FileError, read_all_bytes
from signaux_faibles.sources._read.rules import (
    Check,
    Projection,
    optional_value,
    required_value,
    siren_checks,
    siret_checks,
)
from signaux_faibles.sources._read.sniff import FatalError, FileInfo, sniff
from signaux_faibles.sources._read.text import RawRead, raw_from_rows, read_text
from signaux_faibles.sources._read.typed import finish, typed_stage, with_early
from signaux_faibles.sources._read.vector import VectorResult

__all__ = [
    "Cell",
    "Check",
    "DelimitedSource",
    "FatalError",
    "FileError",
    "FileInfo",
    "Projection",
    "RawRead",
    "VectorResult",
    "finish",
    "optional_value",
    "parse_delimited",
    "raw_from_rows",
    "read_all_bytes",
    "read_text",
    "required_value",
    "siren_checks",
    "siret_checks",
    "sniff",
    "typed_stage",
    "with_early",
]
