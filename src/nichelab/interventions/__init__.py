"""Interventions on a trained model: single-unit ablation."""
from .ablation import AblationResult, ablate_units

__all__ = ["AblationResult", "ablate_units"]
