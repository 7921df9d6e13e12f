"""Compact model specifications: ``"mlp 64-32"``, ``"cnn 8-16-32 fc=64"``.

Grammar (tokens separated by spaces)::

    mlp W1-W2-...   [act=relu|tanh|sigmoid|gelu] [dropout=P]
    cnn C1-C2-...   [fc=W1-W2] [k=3] [pool=2] [act=...] [dropout=P]

``mlp 2`` is the multiclass lab's network (one hidden layer of 2 units). ``cnn 8-16`` is two
3x3 convolution layers (padding 1, ReLU, 2x2 max-pool after each while the image is at least
2 pixels wide) followed by the output layer; ``fc=64`` adds dense hidden layers before it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NichelabError, suggest

__all__ = ["ModelSpec", "parse_spec", "ACTIVATIONS"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "linear")
_OPTIONS = {"mlp": ("act", "dropout"), "cnn": ("fc", "k", "pool", "act", "dropout")}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model specification.

    Attributes
    ----------
    kind : {"mlp", "cnn"}
    widths : tuple of int
        Hidden units per dense layer (mlp) or channels per conv layer (cnn).
    fc : tuple of int
        Dense hidden layers after the convolutions (cnn only).
    act : str
        Hidden activation, one of ``ACTIVATIONS``.
    dropout : float
        Dropout probability after each hidden activation (0 = none).
    kernel : int
        Convolution kernel size (cnn).
    pool : int
        Max-pool size after each conv layer (cnn; 0 or 1 = none).
    text : str
        The original text.
    """

    kind: str
    widths: tuple[int, ...]
    fc: tuple[int, ...] = ()
    act: str = "relu"
    dropout: float = 0.0
    kernel: int = 3
    pool: int = 2
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or f"{self.kind} {'-'.join(map(str, self.widths))}"


def _widths(token: str, what: str, text: str) -> tuple[int, ...]:
    try:
        ws = tuple(int(t) for t in token.split("-"))
    except ValueError:
        raise NichelabError(
            f"model spec {text!r}: {what} must be positive integers joined by '-', e.g. '64-32'; got {token!r}",
            field="model") from None
    if not ws or min(ws) < 1:
        raise NichelabError(f"model spec {text!r}: {what} must be >= 1; got {token!r}", field="model")
    return ws


def parse_spec(text: str) -> ModelSpec:
    """Parse a model specification string.

    Parameters
    ----------
    text : str
        E.g. ``"mlp 2"``, ``"mlp 64-32 dropout=0.2"``, ``"cnn 8-16-32 fc=64"``.

    Returns
    -------
    ModelSpec

    Raises
    ------
    NichelabError
        Unknown kind or option, widths that are not positive integers, dropout outside [0, 1).

    Examples
    --------
    >>> parse_spec("mlp 64-32").widths
    (64, 32)
    """
    if isinstance(text, ModelSpec):
        return text
    tokens = str(text).split()
    if len(tokens) < 2:
        raise NichelabError(
            f"model must look like 'mlp 64-32' or 'cnn 8-16-32 fc=64'; got {text!r}", field="model"
        )
    kind = tokens[0].lower()
    if kind not in _OPTIONS:
        raise NichelabError(f"model kind must be 'mlp' or 'cnn'; got {tokens[0]!r}{suggest(kind, _OPTIONS)}",
                            field="model")
    kw: dict = {"kind": kind, "widths": _widths(tokens[1], "widths", text), "text": str(text)}
    for tok in tokens[2:]:
        key, _, val = tok.partition("=")
        if key not in _OPTIONS[kind] or not val:
            raise NichelabError(
                f"model spec {text!r}: unknown option {tok!r}; {kind} takes "
                + ", ".join(f"{k}=..." for k in _OPTIONS[kind]) + suggest(key, _OPTIONS[kind]), field="model"
            )
        kw.update(_option(key, val, text))
    return ModelSpec(**kw)


def _option(key: str, val: str, text: str) -> dict:
    if key == "fc":
        return {"fc": _widths(val, "fc widths", text)}
    if key == "act":
        if val not in ACTIVATIONS:
            raise NichelabError(f"model spec {text!r}: act must be one of {', '.join(ACTIVATIONS)}; got {val!r}",
                                field="model")
        return {"act": val}
    if key == "dropout":
        try:
            p = float(val)
        except ValueError:
            p = -1.0
        if not 0.0 <= p < 1.0:
            raise NichelabError(f"model spec {text!r}: dropout must be a number in [0, 1); got {val!r}",
                                field="model")
        return {"dropout": p}
    name = {"k": "kernel", "pool": "pool"}[key]
    if not val.isdigit() or (key == "k" and int(val) < 1):
        raise NichelabError(f"model spec {text!r}: {key} must be a positive integer; got {val!r}", field="model")
    return {name: int(val)}
