"""One column of ``panel/company_month``: its definition, source, window, unit and group (the theme the model's
explanations aggregate by). Every feature module declares its columns with it; :mod:`.registry` collects them."""

from __future__ import annotations

from dataclasses import dataclass

from signaux_faibles.contract import THEMES

__all__ = ["GROUPS", "Feature"]

#: Themes of the features (the explanations group contributions by them); "cible" and "clé" are not features.
GROUPS = (*THEMES, "cible", "clé")


@dataclass(frozen=True)
class Feature:
    name: str
    definition: str
    source: str
    window: str
    unit: str
    group: str

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"{self.name}: unknown group {self.group!r}")
