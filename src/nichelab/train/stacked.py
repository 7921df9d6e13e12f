"""The fast path of the ensemble for plain MLPs: stacked weights, hand-written backward, flat optimizer.

A plain MLP is an ``nn.Sequential`` of an optional leading ``nn.Flatten``, then built-in
:class:`~nichelab.nn.models.Dense` blocks (``nn.Linear`` + ReLU / tanh / sigmoid / GELU / identity),
each optionally followed by ``nn.Dropout`` -- what ``build_model("mlp ...")`` returns. For S seeds
every weight is stacked to (S, out, in), one minibatch per seed is (S, B, in), and a step is a
handful of batched matrix products (``torch.baddbmm`` / ``torch.bmm``) plus element-wise work, with
no autograd graph and no per-seed Python loop:

    forward   z_l = a_{l-1} W_l' + b_l,  a_l = act(z_l) * dropout_noise_l
    loss      mean over the batch of softmax cross-entropy, per seed
    backward  dz_L = (softmax(z_L) - onehot(y)) / B
              dW_l = dz_l' a_{l-1},  db_l = sum_b dz_l,  da_{l-1} = dz_l W_l
              dz_{l-1} = da_{l-1} * noise_{l-1} * act'(z_{l-1})

All parameters live in one (S, P) buffer (the layer tensors are views into it), so the optimizer
is a few element-wise operations on one tensor, written exactly as ``torch.optim.Adam`` /
``torch.optim.SGD`` (single-tensor implementations) update each element. Each element depends
only on its own seed, so seed ``s`` follows :func:`nichelab.train.loop.train_one` up to float
rounding; a unit's row of a product is computed by the same arithmetic as every other unit's,
so identical units stay bit-identical.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..nn.models import Dense
from .config import TrainConfig
from .masks import dropout_noise

__all__ = ["DenseLayer", "mlp_plan", "StackedMLP", "FlatOptimizer"]

_ACTS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Identity: "linear"}


@dataclass(frozen=True)
class DenseLayer:
    """One dense layer of a plain MLP: parameter names, activation and the dropout after it."""

    weight: str
    bias: str | None
    act: str
    dropout: float = 0.0
    dropout_index: int | None = None


def _act_name(module: nn.Module) -> str | None:
    if type(module) is nn.GELU:
        return "gelu" if module.approximate == "none" else None
    return _ACTS.get(type(module))


def mlp_plan(model: nn.Module) -> list[DenseLayer] | None:
    """The layers of ``model`` if it is a plain MLP the fast path can train, else None.

    Returns None for anything else (convolutions, buffers, custom forward methods, other
    modules), which the ensemble then trains with the generic ``vmap`` path.
    """
    if type(model).forward is not nn.Sequential.forward or any(True for _ in model.buffers()):
        return None
    plan: list[DenseLayer] = []
    n_drop = 0
    children = list(model.named_children())
    for i, (name, m) in enumerate(children):
        if type(m) is nn.Flatten and i == 0:
            continue
        if type(m) is Dense and type(m.linear) is nn.Linear and _act_name(m.act):
            plan.append(DenseLayer(f"{name}.linear.weight",
                                   f"{name}.linear.bias" if m.linear.bias is not None else None, _act_name(m.act)))
        elif type(m) is nn.Dropout and plan and plan[-1].dropout == 0 and plan[-1].dropout_index is None:
            last = plan[-1]
            plan[-1] = DenseLayer(last.weight, last.bias, last.act, float(m.p), n_drop)
            n_drop += 1
        else:
            return None
    if not plan or plan[-1].act != "linear" or plan[-1].dropout:
        return None
    names = {k for k, _ in model.named_parameters()}
    if names != {n for l in plan for n in (l.weight, l.bias) if n}:
        return None
    return plan


def _act(z: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "relu":
        return torch.relu(z)
    if kind == "tanh":
        return torch.tanh(z)
    if kind == "sigmoid":
        return torch.sigmoid(z)
    if kind == "gelu":
        return torch.nn.functional.gelu(z)
    return z


def _act_grad(da: torch.Tensor, z: torch.Tensor, a: torch.Tensor, kind: str) -> torch.Tensor:
    """Backward through the activation, as torch's autograd formulas compute it."""
    if kind == "relu":
        return torch.ops.aten.threshold_backward(da, a, 0)   # da where a > 0, as autograd does
    if kind == "tanh":
        return da * (1 - a * a)
    if kind == "sigmoid":
        return da * (1 - a) * a
    if kind == "gelu":
        cdf = 0.5 * (1 + torch.erf(z * (1 / math.sqrt(2))))
        pdf = torch.exp(-0.5 * z * z) * (1 / math.sqrt(2 * math.pi))
        return da * (cdf + z * pdf)
    return da


def _affine_minor(a: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``z[o] = b[o] + sum_i W[o, i] * a[i]`` in the seed-minor layout: a (in, B, S), W (out, in, S) -> (out, B, S).

    One fused multiply-add per input unit over the contiguous seed axis (no (out, in, B, S) temporary).
    """
    z = W[:, 0].unsqueeze(1) * a[0].unsqueeze(0)
    for i in range(1, a.shape[0]):
        z.addcmul_(W[:, i].unsqueeze(1), a[i].unsqueeze(0))
    return z if b is None else z.add_(b.unsqueeze(1))


def _layout(plan: list[DenseLayer], shapes: dict, S: int) -> str:
    """``"seed_minor"`` for many seeds of tiny layers (element-wise work vectorised over seeds),
    else ``"seed_major"`` (batched matrix products)."""
    biggest = max(shapes[l.weight][0] * shapes[l.weight][1] for l in plan)
    return "seed_minor" if S >= 64 and biggest <= 64 else "seed_major"


class StackedMLP:
    """S plain MLPs with stacked parameters in one flat buffer.

    Two memory layouts, chosen by :func:`_layout` (the arithmetic is the same):

    - ``seed_major``: activations (S, B, units), weights (S, out, in), flat buffer (S, P);
      layers are ``torch.baddbmm`` / ``torch.bmm`` over the seed axis.
    - ``seed_minor``: activations (units, B, S), weights (out, in, S), flat buffer (P, S); every
      product is a broadcast multiply and a sum over a leading axis, so each operation runs over
      the contiguous seed axis. This is what makes 1000 lab networks (2 inputs, 2 hidden units)
      fast: their matrices are far too small for matrix-product kernels.

    Parameters
    ----------
    plan : list of DenseLayer
    params : dict of str -> torch.Tensor of shape (S, ...)
        Stacked initial parameters (copied).
    trainable : set of str
        Names of the parameters the optimizer updates (the others stay frozen).
    dtype : torch.dtype
    layout : {"auto", "seed_major", "seed_minor"}, default "auto"

    Attributes
    ----------
    flat : torch.Tensor
        (S, P) or (P, S); trainable parameters first, then frozen ones.
    params : dict of str -> torch.Tensor of shape (S, ...)
        Views of ``flat`` with each parameter's stacked shape (live: they change as it trains).
    train_view : torch.Tensor
        The trained part of ``flat``.
    """

    def __init__(self, plan: list[DenseLayer], params: dict, trainable: set, dtype: torch.dtype,
                 layout: str = "auto") -> None:
        self.plan = plan
        S = next(iter(params.values())).shape[0]
        shapes = {k: tuple(v.shape[1:]) for k, v in params.items()}
        self.layout = _layout(plan, shapes, S) if layout == "auto" else layout
        order = [k for k in params if k in trainable] + [k for k in params if k not in trainable]
        sizes = [math.prod(shapes[k]) for k in order]
        cols = [params[k].detach().reshape(S, -1).to(dtype) for k in order]
        minor = self.layout == "seed_minor"
        self.flat = (torch.cat(cols, dim=1).T if minor else torch.cat(cols, dim=1)).contiguous()
        self.w, self.params, off = {}, {}, 0     # w: the layout's own view; params: (S, ...) view
        for k, n in zip(order, sizes):
            if minor:
                self.w[k] = self.flat[off:off + n].view(*shapes[k], S)
                self.params[k] = self.w[k].permute(len(shapes[k]), *range(len(shapes[k])))
            else:
                self.w[k] = self.params[k] = self.flat[:, off:off + n].view(S, *shapes[k])
            off += n
        self.trained = [k for k in order if k in trainable]
        n_train = sum(n for k, n in zip(order, sizes) if k in trainable)
        full = n_train == sum(sizes)
        self.train_view = self.flat if full else (self.flat[:n_train] if minor else self.flat[:, :n_train])

    # ---- seed-major layout: (S, B, units) -----------------------------------------------------
    def _forward_major(self, x, noises):
        a, cache = x, []
        for l, layer in enumerate(self.plan):
            W = self.w[layer.weight]
            if layer.bias is not None:
                z = torch.baddbmm(self.w[layer.bias].unsqueeze(1), a, W.transpose(1, 2))
            else:
                z = torch.bmm(a, W.transpose(1, 2))
            h = _act(z, layer.act)
            noise = noises[l] if noises is not None else None
            cache.append((a, z, h, noise))
            a = h * noise if noise is not None else h
        return a, cache

    def _backward_major(self, dz, cache):
        grads = {}
        for l in range(len(self.plan) - 1, -1, -1):
            layer, a_prev = self.plan[l], cache[l][0]
            grads[layer.weight] = torch.bmm(dz.transpose(1, 2), a_prev)
            if layer.bias is not None:
                grads[layer.bias] = dz.sum(dim=1)
            if l == 0:
                break
            da = torch.bmm(dz, self.w[layer.weight])
            _, z_prev, h_prev, noise_prev = cache[l - 1]
            if noise_prev is not None:
                da = da * noise_prev
            dz = _act_grad(da, z_prev, h_prev, self.plan[l - 1].act)
        return grads

    # ---- seed-minor layout: (units, B, S) -----------------------------------------------------
    def _forward_minor(self, x, noises):
        a, cache = x, []
        for l, layer in enumerate(self.plan):
            z = _affine_minor(a, self.w[layer.weight], self.w[layer.bias] if layer.bias else None)
            h = _act(z, layer.act)
            noise = noises[l] if noises is not None else None
            cache.append((a, z, h, noise))
            a = h * noise if noise is not None else h
        return a, cache

    def _backward_minor(self, dz, cache):
        grads = {}
        for l in range(len(self.plan) - 1, -1, -1):
            layer, a_prev = self.plan[l], cache[l][0]
            grads[layer.weight] = (dz.unsqueeze(1) * a_prev.unsqueeze(0)).sum(dim=2)   # (out, in, S)
            if layer.bias is not None:
                grads[layer.bias] = dz.sum(dim=1)
            if l == 0:
                break
            W = self.w[layer.weight]                                                  # (out, in, S)
            da = _affine_minor(dz, W.transpose(0, 1), None)                            # (in, B, S)
            _, z_prev, h_prev, noise_prev = cache[l - 1]
            if noise_prev is not None:
                da = da * noise_prev
            dz = _act_grad(da, z_prev, h_prev, self.plan[l - 1].act)
        return grads

    # ---- both ---------------------------------------------------------------------------------
    def set_data(self, X2: torch.Tensor, y: torch.Tensor) -> None:
        """Keep the training data ``X2`` (n, d) and labels ``y`` (n,) as one table ``[X, onehot(y)]``.

        Every minibatch is then a single gather from this table, in the layout's axis order.
        """
        C = self.params[self.plan[-1].weight].shape[1]
        onehot = torch.nn.functional.one_hot(y, C).to(X2.dtype)
        table = torch.cat([X2, onehot], dim=1)
        self.n_inputs = X2.shape[1]
        self.table = table.T.contiguous() if self.layout == "seed_minor" else table

    def batch(self, idx: torch.Tensor):
        """Inputs and one-hot targets of the minibatch ``idx`` (S, B) in this layout."""
        d = self.n_inputs
        if self.layout == "seed_minor":
            it = idx.T.contiguous()
            xy = self.table.index_select(1, it.view(-1)).view(-1, *it.shape)   # (d + C, B, S)
            return xy[:d], xy[d:]
        xy = self.table.index_select(0, idx.reshape(-1)).view(*idx.shape, -1)  # (S, B, d + C)
        return xy[..., :d], xy[..., d:]

    def loss_and_grads(self, x: torch.Tensor, target: torch.Tensor, noises: list | None = None):
        """Per-seed mean cross-entropy (S,) and the gradient of the trained parameters (``train_view``'s shape).

        ``x`` and the one-hot ``target`` come from :meth:`batch`.
        """
        minor = self.layout == "seed_minor"
        c = 0 if minor else 2                                          # class axis
        logits, cache = (self._forward_minor if minor else self._forward_major)(x, noises)
        B = logits.shape[1]
        shifted = logits - logits.amax(dim=c, keepdim=True)
        e = shifted.exp()
        se = e.sum(dim=c, keepdim=True)
        loss = (se.log() - (shifted * target).sum(dim=c, keepdim=True)).squeeze(c).mean(dim=0 if minor else 1)
        dz = (e / se).sub_(target).div_(B)
        grads = (self._backward_minor if minor else self._backward_major)(dz, cache)
        if not self.trained:
            return loss, None
        if minor:
            S = dz.shape[-1]
            return loss, torch.cat([grads[k].reshape(-1, S) for k in self.trained], dim=0)
        S = dz.shape[0]
        return loss, torch.cat([grads[k].reshape(S, -1) for k in self.trained], dim=1)

    def noises(self, seeds: torch.Tensor, step: int, batch: int) -> list | None:
        """Dropout multipliers of every layer for this step, in this layout (None where no dropout)."""
        if not any(l.dropout for l in self.plan):
            return None
        out = []
        for layer in self.plan:
            if not layer.dropout:
                out.append(None)
                continue
            units = self.params[layer.weight].shape[1]
            noise = dropout_noise(seeds, step, layer.dropout_index, (batch, units), layer.dropout, self.flat.dtype)
            out.append(noise.permute(2, 1, 0).contiguous() if self.layout == "seed_minor" else noise)
        return out


class FlatOptimizer:
    """Adam or SGD (with momentum and L2 weight decay) on a flat (S, P) tensor, element by element.

    The arithmetic is that of ``torch.optim.Adam`` / ``torch.optim.SGD`` (single-tensor
    implementations, the ones the one-seed loop runs on CPU), so both paths round the same way.
    """

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.t = 0
        self.m = self.v = self.buf = None

    def step(self, p: torch.Tensor, g: torch.Tensor) -> None:
        """Update ``p`` in place from its gradient ``g`` (same shape)."""
        cfg = self.cfg
        if cfg.weight_decay:
            g = g.add(p, alpha=cfg.weight_decay)
        if cfg.optimizer == "adam":
            b1, b2, eps = 0.9, 0.999, 1e-7
            if self.m is None:
                self.m, self.v = torch.zeros_like(p), torch.zeros_like(p)
            self.t += 1
            self.m.lerp_(g, 1 - b1)
            self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
            step_size = cfg.lr / (1 - b1 ** self.t)
            denom = (self.v.sqrt() / ((1 - b2 ** self.t) ** 0.5)).add_(eps)
            p.addcdiv_(self.m, denom, value=-step_size)
            return
        if cfg.momentum:
            if self.buf is None:
                self.buf = g.detach().clone()
            else:
                self.buf.mul_(cfg.momentum).add_(g, alpha=1)
            g = self.buf
        p.add_(g, alpha=-cfg.lr)
