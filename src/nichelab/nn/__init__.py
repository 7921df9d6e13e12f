"""Model specs, built-in models with named layers, and initialisation schemes."""
from .init import INIT_SCHEMES, init_model, make_symmetric, perturb
from .models import ConvBlock, Dense, Net, build_model
from .spec import ModelSpec, parse_spec

__all__ = ["INIT_SCHEMES", "init_model", "make_symmetric", "perturb", "ConvBlock", "Dense", "Net", "build_model", "ModelSpec", "parse_spec"]
