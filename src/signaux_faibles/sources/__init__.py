"""Data sources: one module per kind of partner file, and the registry mapping file names to sources.

See :mod:`signaux_faibles.sources._base` for the contract and :mod:`signaux_faibles.sources.registry` for the list.
"""
