#!/usr/bin/env bash
# Install everything (uv if missing, the locked environment) and run the whole test suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv
uv sync --frozen
uv run ruff check src tests benchmarks
uv run mypy
uv run pytest "$@"
