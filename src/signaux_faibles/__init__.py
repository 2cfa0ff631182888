"""Signaux Faibles: early detection of companies heading for failure.

The package is laid out along the data's journey (see ``docs/architecture.md``): ``twin`` writes partner files,
``sources`` and ``ingest`` read them, ``panel`` builds the monthly company panel, ``model`` trains the failure
model, ``lists`` publishes the monthly risk list, ``platform`` serves it.
"""

__version__ = "0.1.0"
