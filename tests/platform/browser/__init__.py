"""Browser tests (a package, so that its ``conftest`` is ``browser.conftest`` and never shadows
``tests/platform/conftest.py``, which the other platform tests import as ``conftest``)."""
