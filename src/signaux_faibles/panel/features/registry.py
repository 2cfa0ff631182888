"""The feature registry: every column of ``panel/company_month`` with its definition, source, window, unit and
group (the theme the model's explanations aggregate by), and the generator of ``docs/data_dictionary.md``."""

from __future__ import annotations

from pathlib import Path

from signaux_faibles.panel.features import ap, ccsf, effectif, financial, groups, procol, sirene, urssaf
from signaux_faibles.panel.features.base import FEATURES as base
from signaux_faibles.panel.features.feature import GROUPS, Feature

__all__ = ["GROUPS", "Feature", "data_dictionary_markdown", "registry", "write_data_dictionary"]


def registry() -> tuple[Feature, ...]:
    """Every registered column, in the order of the panel's columns."""
    out = (
        *base,
        *urssaf.FEATURES,
        *ccsf.FEATURES,
        *effectif.FEATURES,
        *ap.FEATURES,
        *procol.FEATURES,
        *financial.FEATURES,
        *groups.FEATURES,
        *sirene.FEATURES,
    )
    names = [f.name for f in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"features registered twice: {sorted(dup)}")
    return out


def data_dictionary_markdown() -> str:
    lines = [
        "# Data dictionary: `panel/company_month`",
        "",
        "Generated from the feature registry (`signaux_faibles.panel.features.registry`) by",
        "`uv run python -c 'from signaux_faibles.panel.features.registry import write_data_dictionary as w; w()'`",
        "(a test checks it is current); do not edit by hand.",
        "",
        "One row per SIREN × month (`periode`, first day of the month) of the window for which the company is",
        "active. No look-ahead: a value at month m uses only data known at m (see `docs/panel.md`).",
        "",
    ]
    feats = registry()
    for group in GROUPS:
        rows = [f for f in feats if f.group == group]
        if not rows:
            continue
        lines += [
            f"## {group}",
            "",
            "| name | definition | source | window | unit |",
            "|---|---|---|---|---|",
        ]
        for f in rows:
            cells = [f"`{f.name}`", f.definition, f.source, f.window, f.unit]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write_data_dictionary(path: Path | str = Path("docs/data_dictionary.md")) -> Path:
    """Write the data dictionary (Markdown) to ``path``; return it."""
    path = Path(path)
    path.write_text(data_dictionary_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_data_dictionary())
