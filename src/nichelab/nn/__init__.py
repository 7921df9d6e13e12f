"""Model specs, built-in models with named layers, and initialisation schemes.

Names are imported from their submodule on first use (PEP 562): :mod:`nichelab.nn.spec` (the
model-spec parser the study configs use) imports no torch; the models and init schemes do.
"""
from __future__ import annotations

import importlib

#: submodule -> the names it exports here.
_EXPORTS = {
    "init": ("INIT_SCHEMES", "init_model", "make_symmetric", "perturb"),
    "models": ("ConvBlock", "Dense", "Net", "build_model"),
    "spec": ("ModelSpec", "parse_spec"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["INIT_SCHEMES", "init_model", "make_symmetric", "perturb", "ConvBlock", "Dense", "Net", "build_model",
           "ModelSpec", "parse_spec"]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
