"""Data sources: one module per kind of partner file, and the registry mapping file names to sources.

A source module is its declaration: the columns said once (:class:`~signaux_faibles.sources._read.spec.Field` for
the text sources, :class:`~signaux_faibles.sources._read.delimited.Cell` for the URSSAF ones), plus its few special
rules. See :mod:`signaux_faibles.sources._base` for the contract, :mod:`signaux_faibles.sources._read` for the
readers, :mod:`signaux_faibles.sources._sql` for the SQL snippets and :mod:`signaux_faibles.sources.registry` for
the list.
"""
