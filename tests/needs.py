"""What a test needs from outside the project (the ``../shared`` folder, PostgreSQL, Chromium).

When it is missing, the test fails in CI (the environment variable ``CI`` is ``true``) and is skipped elsewhere:
``unavailable`` is the one place that rule is written. Import it as ``from needs import unavailable``.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "unavailable"]


def in_ci() -> bool:
    """``CI=true`` in the environment."""
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, hint: str = "") -> NoReturn:
    """Fail in CI, skip elsewhere, saying what is missing (``what``) and how to get it (``hint``)."""
    if in_ci():
        pytest.fail(f"{what} is missing: it must be there in CI{f' ({hint})' if hint else ''}")
    pytest.skip(f"{what} is missing ({hint + '; ' if hint else ''}set CI=true to make this a failure)")
