"""Digital twin: a synthetic region's partner files in the real formats, with known ground truth."""

from .generate import TwinConfig, TwinSummary, generate

__all__ = ["TwinConfig", "TwinSummary", "generate"]
