"""Model specs, built-in models with named layers, and initialisation schemes.

Names are imported from their submodule on first use (PEP 562): :mod:`nichelab.nn.spec` (the
model-spec parser the study configs use) imports no torch; the models and init schemes do.
"""
from __future__ import annotations

from .._lazy import lazy_exports

#: submodule -> the names it exports here.
_EXPORTS = {
    "init": ("INIT_SCHEMES", "init_model", "make_symmetric", "perturb"),
    "models": ("ConvBlock", "Dense", "Net", "build_model"),
    "spec": ("ModelSpec", "parse_spec"),
}

__all__ = ["INIT_SCHEMES", "init_model", "make_symmetric", "perturb", "ConvBlock", "Dense", "Net", "build_model",
           "ModelSpec", "parse_spec"]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
