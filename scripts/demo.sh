#!/usr/bin/env bash
# Install everything (uv if missing, the locked environment) and run the demo: the whole chain on a digital twin.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv
uv sync --frozen
uv run signaux-faibles demo "$@"
