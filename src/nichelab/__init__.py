"""nichelab: see and measure what the hidden units of a neural network learn.

``import nichelab`` is light (no torch, no matplotlib): the names below load on first use.

- :func:`capture` — activations of named layers: ``{layer: (n_samples, n_units) array}``.
- :func:`load_run` — a finished run folder back as its study's Result.
- :data:`STUDIES` — every built-in study: ``STUDIES["lab"].run(STUDIES["lab"].Config(seeds=10))``.
- :class:`NichelabError` — the one exception for bad input.
"""
from .errors import NichelabError

__version__ = "0.1.0"
__all__ = ["capture", "load_run", "STUDIES", "NichelabError", "__version__"]


def __getattr__(name: str):
    if name == "capture":
        from .capture import capture
        return capture
    if name == "load_run":
        from .runs.load import load_run
        return load_run
    if name == "STUDIES":
        from .studies import STUDIES
        return STUDIES
    raise AttributeError(f"module 'nichelab' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
