"""Interventions on a trained model: single-unit ablation and feature visualisation."""
from .ablation import AblationResult, ablate_units
from .featvis import FeatVisResult, visualize_units

__all__ = ["AblationResult", "ablate_units", "FeatVisResult", "visualize_units"]
