"""The one numpy forward pass of stacked one-hidden-layer networks (S seeds at once).

Studies that train many seeds of ``mlp H`` at once keep their weights stacked on axis 0 under
the built-in model's ``state_dict`` names: ``L1.linear.weight`` (S, H, d), ``L1.linear.bias``
(S, H), ``L2.linear.weight`` (S, C, H), ``L2.linear.bias`` (S, C). Numpy only (no torch).
"""
from __future__ import annotations

import numpy as np

__all__ = ["hidden_forward"]


def hidden_forward(params: dict, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pre-activations, ReLU activations and logits of every stacked network, in float64.

    Parameters
    ----------
    params : dict of str -> array
        ``L1.linear.weight`` (S, H, d), ``L1.linear.bias`` (S, H), ``L2.linear.weight`` (S, C, H),
        ``L2.linear.bias`` (S, C); any float dtype (computed in float64).
    X : array of shape (n, d) or (n, ...)
        Inputs, flattened to (n, d). Dropout is off (evaluation).

    Returns
    -------
    pre, acts : numpy.ndarray of float64, shape (S, n, H)
        ``X W1' + b1`` and ``max(pre, 0)``.
    logits : numpy.ndarray of float64, shape (S, n, C)
        ``acts W2' + b2``.

    Examples
    --------
    >>> p = {"L1.linear.weight": np.ones((1, 1, 2)), "L1.linear.bias": np.array([[-1.0]]),
    ...      "L2.linear.weight": np.array([[[2.0]]]), "L2.linear.bias": np.array([[0.5]])}
    >>> [a.ravel().tolist() for a in hidden_forward(p, [[1.0, 1.0], [0.0, 0.0]])]
    [[1.0, -1.0], [1.0, 0.0], [2.5, 0.5]]
    """
    X = np.asarray(X, np.float64)
    X = X.reshape(len(X), -1)
    W1, b1, W2, b2 = (np.asarray(params[k], np.float64) for k in
                      ("L1.linear.weight", "L1.linear.bias", "L2.linear.weight", "L2.linear.bias"))
    pre = np.matmul(X, W1.transpose(0, 2, 1)) + b1[:, None, :]
    acts = np.maximum(pre, 0.0)
    logits = np.matmul(acts, W2.transpose(0, 2, 1)) + b2[:, None, :]
    return pre, acts, logits
