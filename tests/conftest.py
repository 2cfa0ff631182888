"""Shared fixtures.

``shared_dir``: the read-only ``../shared`` folder (reference files of the real system). Tests that need it fail
when it is missing and the environment variable ``CI`` is ``true``, and are skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"


def require_shared() -> Path:
    """The shared folder, or fail (CI) / skip (elsewhere) when it is missing."""
    if (SHARED / "reference").is_dir():
        return SHARED
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{SHARED} is missing: the reference conformance tests must run in CI")
    pytest.skip(f"{SHARED} is missing (set CI=true to make this a failure)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (read-only reference material)."""
    return require_shared()


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    """``../shared/reference/osf``."""
    return shared_dir / "reference" / "osf"
