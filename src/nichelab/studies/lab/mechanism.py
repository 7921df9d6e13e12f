"""Why lab units take different niches, measured: who pulls each unit, and niche exclusion.

Two measurements on the lab network Dense(H, ReLU) 'L1' -> Dense(C) 'L2' with softmax
cross-entropy, in float64 numpy (the network is tiny; everything is vectorised over seeds or
restarts):

- :func:`class_pull` -- the gradient of the mean training loss on each hidden unit's incoming
  weights (its two input weights and its bias), split by class: the part of the gradient that
  the samples of class ``c`` contribute, ``(1/n) sum_{i in c} dL_i/d(w_h, b_h)``, and its norm.
  The classes whose errors push a unit's line hardest are the ones that "pull" it.
- :func:`niche_exclusion` -- freeze unit 0 of a trained 2-unit network at its trained weights,
  re-initialise unit 1 from many random starts and train, all restarts at once; compare how often
  unit 1 ends on unit 0's split with a control in which unit 0 is silenced (its output clamped
  to 0, so unit 1 trains as the only hidden unit).

References
----------
Glorot, X. & Bengio, Y. (2010). Understanding the difficulty of training deep feedforward neural
networks (the initialisation). Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic
optimization (the optimizer, Keras' epsilon 1e-7).
"""
from __future__ import annotations

import numpy as np

from ...metrics.partitions import split_key
from ...train.config import epoch_orders

__all__ = ["forward_backward", "class_pull", "train_restarts", "niche_exclusion", "reference_seed"]


def forward_backward(W1, b1, W2, b2, X, y, n_classes: int, gate=None, weights=None):
    """Loss and gradients of the lab network, vectorised over a leading axis R.

    Parameters
    ----------
    W1 : (R, H, d) float64 ; b1 : (R, H) ; W2 : (R, C, H) ; b2 : (R, C)
    X : (n, d) float64 ; y : (n,) int
    gate : (H,) or (R, H) float, optional
        Multiplies each hidden unit's output (0 silences a unit: no output, no gradient). Default 1.
    weights : (n,) float, optional
        Per-sample weight of the loss (default ``1/n``: the mean loss).

    Returns
    -------
    loss : (R,) float64
    grads : dict with ``W1`` (R, H, d), ``b1`` (R, H), ``W2`` (R, C, H), ``b2`` (R, C)
    """
    n = len(y)
    g = np.ones((1, 1, W1.shape[1])) if gate is None else np.asarray(gate, np.float64).reshape(-1, 1, W1.shape[1])
    w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, np.float64)
    pre = np.matmul(W1, X.T).transpose(0, 2, 1) + b1[:, None, :]
    act = np.maximum(pre, 0.0) * g
    z = np.matmul(act, W2.transpose(0, 2, 1)) + b2[:, None, :]
    z = z - z.max(axis=2, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=2, keepdims=True)
    onehot = np.eye(n_classes)[y]
    loss = -(np.log(np.maximum(p[:, np.arange(n), y], 1e-300)) * w).sum(axis=1)
    dz = (p - onehot) * w[None, :, None]                      # (R, n, C)
    gW2 = np.matmul(dz.transpose(0, 2, 1), act)
    gb2 = dz.sum(axis=1)
    dpre = np.matmul(dz, W2) * g * (pre > 0)                 # (R, n, H)
    gW1 = np.matmul(dpre.transpose(0, 2, 1), X)
    gb1 = dpre.sum(axis=1)
    return loss, {"W1": gW1, "b1": gb1, "W2": gW2, "b2": gb2}


def class_pull(W1, b1, W2, b2, X, y, n_classes: int = 4) -> np.ndarray:
    """Norm of each class's share of the gradient on each hidden unit's incoming weights.

    Parameters
    ----------
    W1 : (..., H, 2) ; b1 : (..., H) ; W2 : (..., C, H) ; b2 : (..., C) -- any leading shape
        (e.g. seeds x epochs), float.
    X : (n, 2) float ; y : (n,) int

    Returns
    -------
    (..., H, C) float64
        ``|| (1/n) sum_{i: y_i = c} d L_i / d (W1[h], b1[h]) ||`` -- how hard the errors of class
        ``c`` push unit ``h``'s line (the class contributions add up to the full-batch gradient).
    """
    W1 = np.asarray(W1, np.float64)
    lead = W1.shape[:-2]
    H, d = W1.shape[-2:]
    C = np.asarray(b2).shape[-1]
    flat = lambda a, *s: np.asarray(a, np.float64).reshape(-1, *s)  # noqa: E731
    W1f, b1f, W2f, b2f = flat(W1, H, d), flat(b1, H), flat(W2, C, H), flat(b2, C)
    X, y = np.asarray(X, np.float64), np.asarray(y)
    out = np.zeros((W1f.shape[0], H, n_classes))
    for c in range(n_classes):
        w = np.where(y == c, 1.0 / len(y), 0.0)
        _, g = forward_backward(W1f, b1f, W2f, b2f, X, y, C, weights=w)
        out[:, :, c] = np.sqrt((g["W1"] ** 2).sum(axis=2) + g["b1"] ** 2)
    return out.reshape(*lead, H, n_classes)


class _Adam:
    """Element-wise Adam (betas 0.9, 0.999, Keras' epsilon 1e-7) or plain SGD."""

    def __init__(self, kind: str, lr: float):
        self.kind, self.lr, self.t, self.m, self.v = kind, lr, 0, {}, {}

    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        for k, g in grads.items():
            if self.kind != "adam":
                params[k] -= self.lr * g
                continue
            m = self.m[k] = 0.9 * self.m.get(k, 0.0) + 0.1 * g
            v = self.v[k] = 0.999 * self.v.get(k, 0.0) + 0.001 * g * g
            mh, vh = m / (1 - 0.9 ** self.t), v / (1 - 0.999 ** self.t)
            params[k] -= self.lr * mh / (np.sqrt(vh) + 1e-7)


def train_restarts(params: dict, X, y, *, epochs: int, lr: float, batch_size: int, optimizer: str = "adam",
                   order_seed: int = 0, frozen=None, gate=None, n_classes: int = 4) -> dict:
    """Train R copies of the lab network at once (float64), with some units' incoming weights frozen.

    Parameters
    ----------
    params : dict with ``W1`` (R, H, d), ``b1`` (R, H), ``W2`` (R, C, H), ``b2`` (R, C) -- start weights.
    X : (n, d) ; y : (n,) int
    epochs, lr, batch_size, optimizer : the lab's training settings (Adam or SGD).
    order_seed : int, default 0 -- the minibatch order is :func:`nichelab.train.config.epoch_orders`
        of this seed, shared by every restart.
    frozen : (H,) bool, optional -- units whose incoming weights and bias never change.
    gate : (H,) or (R, H) float, optional -- multiplies each unit's output (0 silences it).

    Returns
    -------
    dict of the same arrays after training (copies).
    """
    p = {k: np.array(v, np.float64, copy=True) for k, v in params.items()}
    X, y = np.asarray(X, np.float64), np.asarray(y)
    keep = None if frozen is None else (~np.asarray(frozen, bool)).astype(np.float64)
    opt = _Adam(optimizer, lr)
    for order in epoch_orders(order_seed, len(y), epochs):
        for s in range(0, len(y), batch_size):
            idx = order[s:s + batch_size]
            _, g = forward_backward(p["W1"], p["b1"], p["W2"], p["b2"], X[idx], y[idx], n_classes, gate=gate)
            if keep is not None:
                g["W1"] = g["W1"] * keep[None, :, None]
                g["b1"] = g["b1"] * keep[None, :]
            opt.step(p, g)
    return p


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int, size) -> np.ndarray:
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-lim, lim, size=size)


def _unit_states(p: dict, X, y, n_classes: int, gate=None) -> tuple[np.ndarray, np.ndarray]:
    """(R, H, C) active sides and (R, H) dead flags of trained restarts."""
    from .analysis import _active
    pre = np.einsum("nd,rhd->rnh", np.asarray(X, np.float64), p["W1"]) + p["b1"][:, None, :]
    acts = np.maximum(pre, 0.0)
    return _active(acts, np.asarray(y), n_classes), ~(acts > 0).any(axis=1)


def reference_seed(seeds, outcome: list, show_seed: int) -> int:
    """The seed whose unit 0 is frozen: the shown seed if it ended distinct, else the first distinct seed.

    Returns -1 when no seed ended distinct.
    """
    seeds = [int(s) for s in seeds]
    if int(show_seed) in seeds and outcome[seeds.index(int(show_seed))] == "distinct":
        return int(show_seed)
    return next((s for s, o in zip(seeds, outcome) if o == "distinct"), -1)


def niche_exclusion(ref: dict, X, y, *, restarts: int, epochs: int, lr: float, batch_size: int,
                    optimizer: str = "adam", seed: int = 0, n_classes: int = 4) -> dict:
    """Niche exclusion: does a trained partner keep a fresh unit off its split?

    Unit 0 of the reference network keeps its trained incoming weights (frozen); unit 1's incoming
    weights (Glorot uniform, bias 0) and outgoing weights (Glorot uniform) are drawn afresh for each
    restart from ``np.random.default_rng([seed, r])``; unit 0's outgoing weights and the output
    biases start at their trained values and train. Every restart is trained twice, with the same
    start and minibatches: with the partner (unit 0 active) and in the control (unit 0's output
    clamped to 0, so unit 1 trains as the network's only hidden unit).

    Parameters
    ----------
    ref : dict with ``L1.linear.weight`` (2, d), ``L1.linear.bias`` (2,), ``L2.linear.weight``
        (C, 2), ``L2.linear.bias`` (C,) -- one trained 2-unit network.
    X : (n, d) ; y : (n,) int
    restarts : int >= 1
    epochs, lr, batch_size, optimizer : training settings (the lab's).
    seed : int -- seed of the restarts' draws and minibatch order.

    Returns
    -------
    dict
        ``partner_split`` (str), ``restarts`` (int), and for ``"with_partner"`` and ``"silenced"``:
        ``same`` (restarts whose unit 1 ends on the partner's split, alive), ``dead`` (unit 1 silent
        on every sample), ``splits`` (list of unit 1's final split per restart, "dead" when dead).
    """
    W1 = np.asarray(ref["L1.linear.weight"], np.float64)
    b1 = np.asarray(ref["L1.linear.bias"], np.float64)
    W2 = np.asarray(ref["L2.linear.weight"], np.float64)
    b2 = np.asarray(ref["L2.linear.bias"], np.float64)
    H, d = W1.shape
    C = W2.shape[0]
    R = int(restarts)
    start = {"W1": np.repeat(W1[None], R, 0), "b1": np.repeat(b1[None], R, 0),
             "W2": np.repeat(W2[None], R, 0), "b2": np.repeat(b2[None], R, 0)}
    for r in range(R):
        rng = np.random.default_rng([int(seed), r])
        start["W1"][r, 1] = _glorot(rng, d, H, d)
        start["b1"][r, 1] = 0.0
        start["W2"][r, :, 1] = _glorot(rng, H, C, C)
    _, dead0 = _unit_states({k: v[:1] for k, v in start.items()}, X, y, n_classes)
    act0, _ = _unit_states({k: v[:1] for k, v in start.items()}, X, y, n_classes)
    partner = split_key(act0[0, 0])
    out = {"partner_split": partner, "partner_dead": bool(dead0[0, 0]), "restarts": R}
    frozen = np.array([True] + [False] * (H - 1))
    gate = np.ones((2 * R, H))
    gate[R:, 0] = 0.0  # the control: the same restarts with unit 0 silenced
    both = {k: np.concatenate([v, v]) for k, v in start.items()}
    p = train_restarts(both, X, y, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
                       order_seed=seed, frozen=frozen, gate=gate, n_classes=n_classes)
    act, dead = _unit_states(p, X, y, n_classes)
    for name, rows in (("with_partner", range(R)), ("silenced", range(R, 2 * R))):
        splits = ["dead" if dead[r, 1] else split_key(act[r, 1]) for r in rows]
        out[name] = {"same": int(sum(s == partner for s in splits)), "dead": int(sum(s == "dead" for s in splits)),
                     "splits": splits}
    return out
