"""What a training returns (:class:`TrainOutput`) and the segments its evaluation is broken down by.

A small module of its own so that :mod:`.report` (the model card) reads a training's results without importing
:mod:`.train`, which writes the model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .artefact import FailureModel

__all__ = ["SEGMENTS", "TrainOutput"]

#: Columns the test metrics are broken down by, and their French names (the model card's headings).
SEGMENTS = {"region": "région", "naf_section": "secteur (section NAF)", "taille": "taille"}


@dataclass
class TrainOutput:
    model: FailureModel
    logistic: FailureModel
    metrics: dict[str, Any]
    curves: dict[str, Any]
    #: The evaluated models (fitted before the test, the ones the test metrics describe), by kind; the saved
    #: models are the list models refitted from them (the same objects when ``TrainConfig.refit`` is False).
    evaluated: dict[str, FailureModel] = field(default_factory=dict)
    #: Every list model by kind (``LIST_KINDS``); ``model`` is the selected one.
    list_models: dict[str, FailureModel] = field(default_factory=dict)
