#!/usr/bin/env bash
# Run `signaux-faibles monthly` on the newest batch folder (AAMM) under the partners' delivery folder.
# Usage: scripts/monthly-latest.sh /srv/signaux-faibles/depot   (settings: signaux-faibles.toml or SF_CONFIG)
# Exit code: the monthly command's (0 published, 1 published with warnings, 2 refused); 2 when no batch folder.
set -euo pipefail
root=${1:?usage: monthly-latest.sh DELIVERY_FOLDER}
batch=$(find "$root" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9]{4}' -printf '%f\n' \
        | sort | tail -n 1)
if [[ -z $batch ]]; then
  echo "aucun dossier de lot AAMM dans $root" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
exec uv run --frozen signaux-faibles monthly "$root/$batch" --batch "$batch"
