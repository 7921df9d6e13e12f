"""Conformance suite for every public metric (the idea of scikit-learn's ``check_estimator``).

``REGISTRY`` lists every public function and class of :mod:`nichelab.metrics` once, with an
adapter that feeds it one varying array (the other arguments fixed and healthy) and the
claims its docstring makes: output range, whether NaN is a documented value, how the output
scales when the input is multiplied by ``s > 0`` (degree 0 = scale-invariant, 1 =
equivariant) and which outputs are invariant to a common offset. Each metric then gets the
degenerate kinds: constant and dead units, n < 4, d >= n, NaN / inf, empty, mismatched
lengths, 1-D / 3-D input, float16 / int / bool / complex / string dtypes, offsets of 1e6,
scales of 1e-300 and 1e200, duplicate columns, one class, labels with gaps, string or
fractional labels, and NaN / None parameters.

Every call must end in a documented value or exactly one ``NichelabError`` naming the
argument (and saying what it got); a numpy RuntimeWarning (overflow, invalid value, complex
cast) is an error here, and any other exception fails the test with its traceback.
"""
from __future__ import annotations

import dataclasses
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import nichelab.metrics as M
from nichelab.errors import NichelabError
from nichelab.metrics.dissection import activation_thresholds, mask_iou, unit_masks
from nichelab.metrics.partitions import format_classes

N, D = 12, 5
_RNG = np.random.default_rng(0)
#: healthy non-negative activations (tuning and selectivity need >= 0), all units varying
BASE = np.abs(_RNG.normal(size=(N, D))) + 0.1 * np.arange(D)
_Y_POOL = _RNG.normal(size=(64, 3))


def other(n: int) -> np.ndarray:
    """The fixed, healthy second representation with ``n`` rows."""
    return _Y_POOL[:n] + 0.5 * np.arange(3)


def labels(n: int) -> np.ndarray:
    return np.arange(n) % 3


def angles(n: int) -> np.ndarray:
    return np.arange(n) * np.pi / max(n, 1)


def _rows(x) -> int:
    return np.shape(x)[0] if np.ndim(x) else 0


# ----------------------------------------------------------------------------- adapters

def _minibatch(x, n):
    m = M.MinibatchCKA()
    y = other(n)
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        m.update(x, y)
        return m.compute()
    half = max(4, _rows(x) // 2)
    m.update(x[:half], y[:half])
    if _rows(x) > half:
        m.update(x[half:], y[half:])
    return m.compute()


def _streaming(x, n):
    acc = M.StreamingCKA()
    y = other(n)
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        acc.update({"x": x}, {"y": y})
    for i in range(0, max(_rows(x), 1), 5):
        acc.update({"x": x[i:i + 5]}, {"y": y[i:i + 5]})
    return acc.compute(debiased=False)


def _streaming_fn(x, n):
    y = other(n)
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        return M.streaming_cka([({"x": x}, {"y": y})])[2]
    return M.streaming_cka(({"x": x[i:i + 4]}, {"y": y[i:i + 4]}) for i in range(0, max(_rows(x), 1), 4))[2]


def _same_columns(x, y):
    """``y`` with as many columns as ``x`` (its rows kept, so length mismatches stay visible)."""
    try:
        shape = np.shape(x)
    except ValueError:          # ragged input: let the metric report it
        shape = ()
    d = shape[1] if len(shape) == 2 and shape[1] > 0 else y.shape[1]
    return np.resize(y.T, (d, y.shape[0])).T


def _hsic(x, n):
    """hsic of the linear Grams; the Gram of x is formed in float64 when x is a real 2-D array
    (so x's own bad values reach hsic as bad Gram values), else x is passed as it is."""
    ok = isinstance(x, np.ndarray) and x.ndim == 2 and x.dtype.kind in "fiub"
    k = x.astype(np.float64) @ x.astype(np.float64).T if ok else x
    y = other(n)
    return M.hsic(k, y @ y.T)


@dataclass
class Spec:
    """How to call one public metric and what its docstring promises."""

    name: str
    call: Callable                      # call(x, n_other) -> result
    kind: str = "acts"                  # acts | pair | labels | tuning | maps
    arg: str = "acts"                   # the argument name errors about x must mention
    out: Callable | None = None         # result -> {key: ndarray}
    scale: dict = field(default_factory=dict)   # key -> degree under x -> s x (s > 0)
    offset: tuple = ()                  # keys invariant to x -> x + 1e6
    lo: float = -math.inf
    hi: float = math.inf
    nan_ok: bool = False                # NaN documented for dead / constant units, absent classes
    accepts_1d: bool = False            # documented: 1-D input is one unit (same as x[:, None])
    tol: float = 1e-9                   # invariance tolerance (absolute, relative for degree > 0)


def _as_out(result) -> dict:
    if isinstance(result, dict):
        return {k: np.asarray(v, dtype=float) for k, v in result.items()}
    if dataclasses.is_dataclass(result):
        keep = {}
        for f in dataclasses.fields(result):
            v = getattr(result, f.name)
            if isinstance(v, (float, int, np.ndarray)) and not isinstance(v, bool):
                a = np.asarray(v)
                if a.dtype.kind in "biuf":
                    keep[f.name] = a.astype(float)
        return keep
    if isinstance(result, (list, str)):
        return {"": np.asarray(str(result))}
    return {"": np.asarray(result, dtype=float)}


def acts(name, fn, **kw):
    return Spec(name, lambda x, n: fn(x), **kw)


def pair(name, fn, lo=0.0, hi=1.0, **kw):
    kw = {"tol": 1e-8, "arg": "x", **kw}
    return Spec(name, lambda x, n: fn(x, other(n)), kind="pair", scale={"": 0},
                offset=("",), lo=lo, hi=hi, nan_ok=True, **kw)


def lab(name, fn, **kw):
    return Spec(name, lambda x, n: fn(x, labels(n)), kind="labels", **kw)


REGISTRY: list[Spec] = [
    # units.py
    acts("unit_stats", M.unit_stats, scale={"mean": 1, "std": 1, "frac_active": 0}, offset=("std",), lo=-np.inf),
    acts("dead_units", M.dead_units, scale={"": 0}, lo=0, hi=1),
    acts("constant_units", M.constant_units, scale={"": 0}, offset=("",), lo=0, hi=1),
    acts("top_k", lambda x: M.top_k(x, 2), scale={"": 0}, lo=0, hi=N),
    lab("class_means", M.class_means, scale={"": 1}, nan_ok=True),
    lab("selectivity_index", M.selectivity_index, scale={"": 0}, lo=0, hi=1, nan_ok=True),
    lab("preferred_class", M.preferred_class, scale={"": 0}, offset=("",), lo=-1, hi=N),
    # layers.py
    acts("unit_correlation_matrix", M.unit_correlation_matrix, scale={"": 0}, offset=("",), lo=-1, hi=1, tol=1e-6),
    acts("near_duplicate_groups", M.near_duplicate_groups, scale={"": 0}, offset=("",)),
    Spec("correlation_groups", lambda x, n: M.correlation_groups(M.unit_correlation_matrix(x)),
         scale={"": 0}, offset=("",)),
    acts("participation_ratio", M.participation_ratio, scale={"": 0}, offset=("",), lo=0, hi=N, tol=1e-6),
    acts("dead_fraction", M.dead_fraction, scale={"": 0}, lo=0, hi=1),
    # probes.py
    Spec("linear_probe", lambda x, n: M.linear_probe(x, labels(n) % 2), kind="labels",
         out=lambda r: {"test_acc": np.float64(r.test_acc), "train_acc": np.float64(r.train_acc)},
         scale={"test_acc": 0, "train_acc": 0}, lo=0, hi=1, tol=0.5),
    # partitions.py
    lab("active_classes", M.active_classes, scale={"": 0}, lo=0, hi=1),
    # detection.py
    Spec("average_precision", lambda x, n: M.average_precision(x, labels(n) == 0), kind="labels",
         accepts_1d=True, arg="scores", scale={"": 0}, offset=("",), lo=0, hi=1),
    Spec("one_vs_rest_average_precision", lambda x, n: M.one_vs_rest_average_precision(x, labels(n)),
         kind="labels", accepts_1d=True, arg="scores", scale={"": 0}, offset=("",), lo=0, hi=1, nan_ok=True),
    # tuning.py
    Spec("orientation_selectivity", lambda x, n: dict(zip(("osi", "pref"), M.orientation_selectivity(x, angles(n)))),
         kind="tuning", accepts_1d=True, arg="responses", scale={"osi": 0, "pref": 0}, lo=0, hi=np.pi, nan_ok=True, tol=1e-6),
    Spec("orientation_tuning", lambda x, n: M.orientation_tuning(x, angles(n)), kind="tuning", accepts_1d=True, arg="responses",
         out=lambda r: {"osi": r.osi, "selective": r.selective.astype(float)},
         scale={"osi": 0, "selective": 0}, lo=0, hi=1, nan_ok=True, tol=1e-6),
    Spec("tuning_curves", lambda x, n: M.tuning_curves(x, angles(n))[1], kind="tuning", accepts_1d=True, arg="responses",
         scale={"": 1}, lo=0),
    # similarity.py (x varies, y fixed)
    pair("linear_cka", M.linear_cka),
    pair("linear_cka[debiased]", lambda x, y: M.linear_cka(x, y, debiased=True), lo=-1),
    pair("rbf_cka", M.rbf_cka),
    pair("cca", lambda x, y: M.cca(x, y).mean_rho),
    pair("svcca", M.svcca, tol=1e-6),
    pair("pwcca", M.pwcca, tol=1e-6),
    pair("procrustes_distance", M.procrustes_distance, hi=2.0),
    pair("rsa", M.rsa, lo=-1, tol=1e-6),
    pair("unit_correlation", M.unit_correlation, lo=-1),
    pair("match_units", lambda x, y: M.match_units(x, y).semi_corr, lo=-1),
    pair("cka_matrix", lambda x, y: M.cka_matrix({"x": x}, {"y": y})[2], arg="acts_a"),
    Spec("MinibatchCKA", _minibatch, kind="pair", arg="x_batch", scale={"": 0}, offset=("",), lo=-1, hi=1,
         nan_ok=True, tol=1e-8),
    Spec("StreamingCKA", _streaming, kind="pair", arg="acts_a", scale={"": 0}, offset=("",), lo=0, hi=1,
         nan_ok=True, tol=1e-8),
    Spec("streaming_cka", _streaming_fn, kind="pair", arg="acts_a", scale={"": 0}, offset=("",), lo=0, hi=1,
         nan_ok=True, tol=1e-8),
    Spec("hsic", _hsic, kind="pair", arg="k", nan_ok=False),
    # superposition.py: W is (m_dims, n_features)
    acts("feature_norms", M.feature_norms, arg="W", scale={"": 1}, lo=0),
    acts("feature_dimensionality", M.feature_dimensionality, arg="W", scale={"": 0}, lo=0, hi=1, nan_ok=True),
    # prediction.py: y (fixed) reproduced by x column by column / by a linear map of x (held-out half)
    Spec("pearson_columns", lambda x, n: M.pearson_columns(x, _same_columns(x, other(n))),
         kind="pair", arg="a", scale={"": 0}, offset=("",), lo=-1, hi=1, nan_ok=True, tol=1e-8),
    Spec("linear_prediction", lambda x, n: M.linear_prediction(x[::2], other(n)[::2], x[1::2], other(n)[1::2]),
         kind="pair", arg="x_", scale={"": 0}, offset=("",), lo=-1, hi=1, nan_ok=True, tol=1e-6),
    # the similarity registry: every measure through its Measure object
    *[pair(f"SIMILARITY_MEASURES[{k!r}]", m.function, lo=-1 if k in ("rsa",) or m.debiased else 0,
           hi=2.0 if k == "procrustes_distance" else 1.0, tol=1e-6)
      for k, m in M.SIMILARITY_MEASURES.items()],
]

#: Public names that are data containers, warnings or constants, not metrics.
NOT_METRICS = {"CCAResult", "DegenerateCCAWarning", "UnitMatch", "ProbeResult", "DissectionResult",
               "TuningResult", "Measure", "SIMILARITY_MEASURES", "RBF_CKA_MAX_SAMPLES", "RSA_TIE_TOLERANCE"}
#: Public names tested below by their own families (maps, rows, names).
OTHER_FAMILIES = {"dissect", "iou_scores", "upsample_bilinear", "describe_unit", "split_key", "get_measure",
                  "most_similar", "identify_layers"}


def test_registry_lists_every_public_metric_once():
    names = [s.name for s in REGISTRY]
    assert len(names) == len(set(names))
    public = {n for n in M.__all__ if n not in NOT_METRICS}
    missing = public - set(names) - OTHER_FAMILIES
    assert not missing, f"public metrics without a conformance entry: {sorted(missing)}"


# ----------------------------------------------------------------------------- running a case

def run(spec: Spec, x, n_other: int | None = None):
    """(result, None) or (None, NichelabError); any other exception or RuntimeWarning propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)        # DegenerateCCAWarning, ConvergenceWarning
        warnings.simplefilter("error", RuntimeWarning)       # overflow, invalid, ComplexWarning
        try:
            return spec.call(x, _rows(x) if n_other is None else n_other), None
        except NichelabError as err:
            return None, err


def outputs(spec: Spec, result) -> dict:
    return (spec.out or _as_out)(result)


def check_values(spec: Spec, result, case: str, nan_ok: bool) -> dict:
    out = outputs(spec, result)
    for key, v in out.items():
        if v.dtype.kind in "US":
            continue
        assert not np.isinf(v).any(), f"{spec.name}[{key}] on {case}: inf"
        if not (nan_ok and spec.nan_ok):
            assert not np.isnan(v).any(), f"{spec.name}[{key}] on {case}: undocumented NaN {v}"
        finite = v[~np.isnan(v)]
        assert ((finite >= spec.lo - 1e-12) & (finite <= spec.hi + 1e-12)).all(), (
            f"{spec.name}[{key}] on {case}: outside [{spec.lo}, {spec.hi}]: {v}")
    return out


def assert_same(spec: Spec, got: dict, want: dict, case: str, factor: float = 1.0, keys=None) -> None:
    for key in keys if keys is not None else got:
        g, w = got[key], want[key]
        if g.dtype.kind in "US":
            assert g == w, f"{spec.name} on {case}: {g} != {w}"
            continue
        degree = spec.scale.get(key, 0)
        if degree:
            # equivariant: compare mantissas, the scaled value may be far outside float64 products
            np.testing.assert_allclose(g / factor**degree, w, rtol=1e-9, atol=0, equal_nan=True,
                                       err_msg=f"{spec.name}[{key}] on {case}")
        else:
            np.testing.assert_allclose(g, w, rtol=0, atol=spec.tol, equal_nan=True,
                                       err_msg=f"{spec.name}[{key}] on {case}")


def base_result(spec: Spec) -> dict:
    result, err = run(spec, BASE)
    assert err is None, f"{spec.name} rejects the healthy base input: {err}"
    return check_values(spec, result, "base", nan_ok=False)


IDS = [s.name for s in REGISTRY]


# ----------------------------------------------------------------------------- bad input: one clear error

def _with(value, where=(3, 1)):
    x = BASE.copy()
    x[where] = value
    return x


BAD = {
    "nan": lambda: _with(np.nan),
    "inf": lambda: _with(np.inf),
    "-inf": lambda: _with(-np.inf),
    "empty": lambda: np.zeros((0, D)),
    "1-D": lambda: BASE[:, 0],
    "3-D": lambda: BASE[:, :, None],
    "complex": lambda: BASE + 0j,
    "complex-imaginary": lambda: BASE + 1j,
    "strings": lambda: BASE.astype(str),
    "object": lambda: np.array([[1.0, "a"]] * N, dtype=object),
    "ragged": lambda: [[1.0, 2.0], [3.0]],
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_bad_input_gives_one_clear_error(spec, case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.VisibleDeprecationWarning)
        x = BAD[case]()
    result, err = run(spec, x, n_other=N)
    if case == "1-D" and spec.accepts_1d:
        assert err is None, err
        want, _ = run(spec, x[:, None], n_other=N)
        got, want = outputs(spec, result), outputs(spec, want)
        for key in got:
            np.testing.assert_allclose(np.ravel(got[key]), np.ravel(want[key]), equal_nan=True)
        return
    assert err is not None, f"{spec.name} accepted {case} input and returned {result!r}"
    msg = str(err)
    assert spec.arg in msg, f"{spec.name}: error does not name {spec.arg!r}: {msg}"
    assert "got" in msg or "need" in msg, f"{spec.name}: error does not say what it received: {msg}"


@pytest.mark.parametrize("spec", [s for s in REGISTRY if s.kind != "acts" and s.name != "hsic"],
                         ids=[s.name for s in REGISTRY if s.kind != "acts" and s.name != "hsic"])
def test_mismatched_lengths_are_refused(spec):
    result, err = run(spec, BASE, n_other=N - 2)
    assert err is not None, f"{spec.name} accepted mismatched lengths and returned {result!r}"
    assert re.search(r"same number of samples|one .*per|must have shape|n_samples|\(\d+,\)|at least one sample",
                     str(err)), str(err)


# ----------------------------------------------------------------------------- degenerate but valid input

def _dead():
    x = BASE.copy()
    x[:, 1] = 0.0
    return x


def _const():
    x = BASE.copy()
    x[:, 2] = 3.0
    return x


VALID = {
    "dead unit": (_dead, True),
    "constant unit": (_const, True),
    "all dead": (lambda: np.zeros((N, D)), True),
    "all constant": (lambda: np.full((N, D), 2.0), True),
    "duplicate columns": (lambda: BASE[:, [0, 0, 1, 2, 2]], False),
    "d >= n": (lambda: np.abs(_RNG.normal(size=(6, 10))), False),
    "single unit": (lambda: BASE[:, :1], True),
    "n=4": (lambda: BASE[:4], True),
    "n=3": (lambda: BASE[:3], True),
    "n=2": (lambda: BASE[:2], True),
    "n=1": (lambda: BASE[:1], True),
}
#: Errors that are documented for degenerate sizes (too few samples / classes for the estimator).
DOCUMENTED = r"at least|too few|single class|classes|every condition|must be <= n_samples"


@pytest.mark.parametrize("case", list(VALID))
@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_degenerate_input_gives_a_documented_value(spec, case):
    make, nan_ok = VALID[case]
    x = make()
    result, err = run(spec, x)
    if err is not None:
        small = case.startswith("n=") or case in ("all dead", "all constant", "d >= n")
        assert small and re.search(DOCUMENTED, str(err)), f"{spec.name} on {case}: {err}"
        return
    check_values(spec, result, case, nan_ok=nan_ok)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_real_dtypes_give_the_float64_value(spec, dtype):
    x = (BASE * 4).astype(dtype)
    result, err = run(spec, x)
    assert err is None or re.search(DOCUMENTED, str(err)), f"{spec.name} on {dtype}: {err}"
    if err is None:
        ref, ref_err = run(spec, x.astype(np.float64))
        assert ref_err is None
        assert_same(spec, outputs(spec, result), outputs(spec, ref), str(dtype))


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e200])
@pytest.mark.parametrize("spec", [s for s in REGISTRY if s.scale], ids=[s.name for s in REGISTRY if s.scale])
def test_scale_claims_hold_at_extreme_scales(spec, scale):
    want = base_result(spec)
    result, err = run(spec, BASE * scale)
    assert err is None, f"{spec.name} at scale {scale:g}: {err}"
    got = check_values(spec, result, f"scale {scale:g}", nan_ok=False) if all(
        spec.scale.get(k, 0) == 0 for k in want) else outputs(spec, result)
    assert_same(spec, got, want, f"scale {scale:g}", factor=scale, keys=list(spec.scale))


@pytest.mark.parametrize("spec", [s for s in REGISTRY if s.offset], ids=[s.name for s in REGISTRY if s.offset])
def test_offset_claims_hold_for_large_offsets(spec):
    want = base_result(spec)
    result, err = run(spec, BASE + 1e6)
    assert err is None, f"{spec.name} with offset 1e6: {err}"
    got = outputs(spec, result)
    for key in spec.offset:
        if got[key].dtype.kind in "US":
            assert got[key] == want[key], f"{spec.name} with offset 1e6: {got[key]} != {want[key]}"
            continue
        np.testing.assert_allclose(got[key], want[key], atol=max(spec.tol, 1e-6), rtol=0, equal_nan=True,
                                   err_msg=f"{spec.name}[{key}] with offset 1e6")


# ----------------------------------------------------------------------------- labels

LABEL_SPECS = [s for s in REGISTRY if s.kind == "labels"]
_LAB_IDS = [s.name for s in LABEL_SPECS]


def _call_with_labels(spec: Spec, y):
    fn = {
        "class_means": lambda: M.class_means(BASE, y),
        "selectivity_index": lambda: M.selectivity_index(BASE, y),
        "preferred_class": lambda: M.preferred_class(BASE, y),
        "linear_probe": lambda: M.linear_probe(BASE, y),
        "active_classes": lambda: M.active_classes(BASE, y),
        "average_precision": lambda: M.average_precision(BASE, y),
        "one_vs_rest_average_precision": lambda: M.one_vs_rest_average_precision(BASE, y),
    }[spec.name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return fn(), None
        except NichelabError as err:
            return None, err


BAD_LABELS = {
    "strings": np.array(list("abc") * 4),
    "fractions": labels(N) + 0.5,
    "negative": labels(N) - 1,
    "NaN": np.where(labels(N) == 0, np.nan, labels(N)),
    "2-D": labels(N)[:, None],
    "too short": labels(N - 1),
    "complex": labels(N) + 0j,
    "object": np.array([0, "1"] * 6, dtype=object),
}


@pytest.mark.parametrize("case", list(BAD_LABELS))
@pytest.mark.parametrize("spec", LABEL_SPECS, ids=_LAB_IDS)
def test_malformed_labels_are_refused(spec, case):
    y = BAD_LABELS[case]
    if spec.name == "average_precision" and case in ("negative",):
        y = labels(N) - 1                      # -1/0/1 is not a boolean target either
    result, err = _call_with_labels(spec, y)
    assert err is not None, f"{spec.name} accepted {case} labels: {result!r}"
    assert "y" in str(err) or "target" in str(err), str(err)


@pytest.mark.parametrize("case", ["one class", "gaps"])
@pytest.mark.parametrize("spec", [s for s in LABEL_SPECS if s.name != "average_precision"],
                         ids=[s.name for s in LABEL_SPECS if s.name != "average_precision"])
def test_one_class_and_label_gaps_give_documented_values(spec, case):
    y = np.zeros(N, int) if case == "one class" else np.array([0, 2, 5] * 4)
    result, err = _call_with_labels(spec, y)
    if err is not None:
        assert case == "one class" and re.search(r"at least 2 classes|single class", str(err)), str(err)
        return
    out = check_values(spec, result, case, nan_ok=True)
    if spec.name in ("class_means", "one_vs_rest_average_precision", "active_classes"):
        rows = next(iter(out.values()))
        n_rows = rows.shape[0] if spec.name != "active_classes" else rows.shape[1]
        assert n_rows == (1 if case == "one class" else 6)   # classes 0..max(y), absent ones included


# ----------------------------------------------------------------------------- parameters

P = {
    "unit_stats(tol)": lambda v: M.unit_stats(BASE, tol=v),
    "dead_units(tol)": lambda v: M.dead_units(BASE, tol=v),
    "dead_fraction(tol)": lambda v: M.dead_fraction(BASE, tol=v),
    "active_classes(threshold)": lambda v: M.active_classes(BASE, labels(N), threshold=v),
    "active_classes(tol)": lambda v: M.active_classes(BASE, labels(N), tol=v),
    "correlation_groups(threshold)": lambda v: M.correlation_groups(np.eye(3), threshold=v),
    "near_duplicate_groups(threshold)": lambda v: M.near_duplicate_groups(BASE, threshold=v),
    "orientation_tuning(threshold)": lambda v: M.orientation_tuning(BASE, angles(N), threshold=v),
    "dissect(quantile)": lambda v: M.dissect(MAPS, MASKS, quantile=v),
    "dissect(iou_threshold)": lambda v: M.dissect(MAPS, MASKS, iou_threshold=v),
    "iou_scores(quantile)": lambda v: M.iou_scores(MAPS, MASKS, quantile=v),
    "activation_thresholds(quantile)": lambda v: activation_thresholds(MAPS, quantile=v),
    "linear_probe(C)": lambda v: M.linear_probe(BASE, labels(N) % 2, C=v),
    "linear_probe(seed)": lambda v: M.linear_probe(BASE, labels(N) % 2, seed=v),
    "linear_probe(test_size)": lambda v: M.linear_probe(BASE, labels(N) % 2, test_size=v),
    "linear_probe(max_iter)": lambda v: M.linear_probe(BASE, labels(N) % 2, max_iter=v),
    "svcca(keep)": lambda v: M.svcca(BASE, other(N), keep=v),
    "rbf_cka(sigma_frac)": lambda v: M.rbf_cka(BASE, other(N), sigma_frac=v),
    "rbf_cka(max_samples)": lambda v: M.rbf_cka(BASE, other(N), max_samples=v),
    "match_units(threshold_high)": lambda v: M.match_units(BASE, other(N), threshold_high=v),
    "match_units(threshold_low)": lambda v: M.match_units(BASE, other(N), threshold_low=v),
    "top_k(k)": lambda v: M.top_k(BASE, v),
    "class_means(n_classes)": lambda v: M.class_means(BASE, labels(N), n_classes=v) if v is not None else _raise(v),
    "cka_matrix(measure)": lambda v: M.cka_matrix({"a": BASE}, measure=v),
    "upsample_bilinear(size)": lambda v: M.upsample_bilinear(MAPS, v),
}


def _raise(v):
    raise NichelabError(f"n_classes=None is the documented default (max(y) + 1); got {v!r}")


_MAP_RNG = np.random.default_rng(1)
MAPS = np.abs(_MAP_RNG.normal(size=(4, 2, 3, 3)))
MASKS = _MAP_RNG.random(size=(4, 2, 6, 6)) > 0.6


@pytest.mark.parametrize("value", [float("nan"), None, "0.5", 1 + 0j], ids=["nan", "None", "str", "complex"])
@pytest.mark.parametrize("name", list(P))
def test_nan_none_and_non_numbers_for_parameters_are_refused(name, value):
    param = name[name.index("(") + 1:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(NichelabError) as info:
            P[name](value)
    msg = str(info.value)
    assert param in msg and ("got" in msg or "None" in msg), msg


# ----------------------------------------------------------------------------- maps (Network Dissection)

MAP_FUNCS = {
    "dissect": lambda m, c: M.dissect(m, c),
    "iou_scores": lambda m, c: M.iou_scores(m, c),
    "activation_thresholds": lambda m, c: activation_thresholds(m),
    "upsample_bilinear": lambda m, c: M.upsample_bilinear(m, 6),
    "unit_masks": lambda m, c: unit_masks(m, activation_thresholds(m), 6),
}
MAP_DEGREE = {"dissect": {"iou": 0, "thresholds": 1}, "iou_scores": {"": 0}, "activation_thresholds": {"": 1},
              "upsample_bilinear": {"": 1}, "unit_masks": {"": 0}}


def _run_maps(name, m, c=MASKS):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return MAP_FUNCS[name](m, c), None
        except NichelabError as err:
            return None, err


BAD_MAPS = {
    "nan": lambda: np.where(MAPS > 1.0, np.nan, MAPS),
    "inf": lambda: np.where(MAPS > 1.0, np.inf, MAPS),
    "empty samples": lambda: MAPS[:0],
    "empty units": lambda: MAPS[:, :0],
    "empty pixels": lambda: MAPS[:, :, :0],
    "3-D": lambda: MAPS[:, 0],
    "complex": lambda: MAPS + 0j,
    "strings": lambda: MAPS.astype(str),
}


@pytest.mark.parametrize("case", list(BAD_MAPS))
@pytest.mark.parametrize("name", list(MAP_FUNCS))
def test_maps_bad_input_gives_one_clear_error(name, case):
    result, err = _run_maps(name, BAD_MAPS[case]())
    assert err is not None, f"{name} accepted {case} maps"
    assert "maps" in str(err) and "got" in str(err), str(err)


@pytest.mark.parametrize("masks, words", [
    (MASKS[:3], "same number of samples"),
    (MASKS[:, :0], "at least one"),
    (MASKS[:, :, :0], "at least one"),
    (MASKS[:, 0], "shape"),
    (MASKS.astype(float) * 2, "boolean"),
    (MASKS + 0j, "real"),
    (np.where(MASKS, np.nan, 0.0), "boolean"),
])
@pytest.mark.parametrize("name", ["dissect", "iou_scores"])
def test_concept_masks_malformed_are_refused(name, masks, words):
    result, err = _run_maps(name, MAPS, masks)
    assert err is not None and words in str(err) and "concept_masks" in str(err), err


@pytest.mark.parametrize("names, words", [(["a"], "name every concept"), ("ab", "list of strings"), ([1, 2], "list of strings")])
def test_dissect_concept_names_are_checked(names, words):
    with pytest.raises(NichelabError, match=words):
        M.dissect(MAPS, MASKS, concept_names=names)


@pytest.mark.parametrize("name", list(MAP_FUNCS))
def test_maps_dead_unit_scales_and_dtypes(name):
    base, err = _run_maps(name, MAPS)
    assert err is None
    want = _as_out(base)
    dead = MAPS.copy()
    dead[:, 1] = 0.0
    res, err = _run_maps(name, dead)
    assert err is None, err
    for v in _as_out(res).values():
        assert not np.isinf(v).any()
    for scale in (1e-300, 1e200):
        res, err = _run_maps(name, MAPS * scale)
        assert err is None, err
        got = _as_out(res)
        for key, deg in MAP_DEGREE[name].items():
            np.testing.assert_allclose(got[key] / scale**deg, want[key], rtol=1e-9, atol=1e-12, equal_nan=True)
    res, err = _run_maps(name, (MAPS * 8).astype(np.float16))
    ref, _ = _run_maps(name, (MAPS * 8).astype(np.float16).astype(np.float64))
    for key in MAP_DEGREE[name]:
        np.testing.assert_allclose(_as_out(res)[key], _as_out(ref)[key], equal_nan=True)


def test_mask_iou_checks_masks():
    assert mask_iou([True, False], [1, 1]) == 0.5
    assert math.isnan(mask_iou([False], [0]))
    for bad in ([2, 0], [0.5, 1], [1j, 0]):
        with pytest.raises(NichelabError, match="a must be"):
            mask_iou(bad, [1, 1])
    with pytest.raises(NichelabError, match="same shape"):
        mask_iou([1, 0], [1, 0, 1])


# ----------------------------------------------------------------------------- rows, matrices, names

@pytest.mark.parametrize("fn", [M.split_key, lambda r: M.describe_unit("L1:0", r), format_classes])
def test_class_rows_valid_forms_agree(fn):
    assert fn(np.array([True, False, True])) == fn([1, 0, 1]) == fn(np.array([1.0, 0.0, 1.0]))


@pytest.mark.parametrize("row, words", [
    (np.ones((2, 2), bool), "1-D"), (np.zeros(0, bool), "n_classes >= 1"), ([2, 0], "0/1"),
    ([np.nan, 1.0], "0/1"), ([1j, 0], "real"), (["a", "b"], "real"), ([[1], [0, 1]], "real"),
])
@pytest.mark.parametrize("fn", [M.split_key, lambda r: M.describe_unit("L1:0", r)], ids=["split_key", "describe_unit"])
def test_class_rows_malformed_are_refused(fn, row, words):
    with pytest.raises(NichelabError, match=words) as info:
        fn(row)
    assert "active_row" in str(info.value)


def test_describe_unit_name_must_be_a_string():
    with pytest.raises(NichelabError, match="name must be a string"):
        M.describe_unit(3, [True])


@pytest.mark.parametrize("r, words", [
    (np.ones((2, 3)), "square"), (np.ones(3), "square"), (np.full((2, 2), np.nan), "NaN"),
    (np.eye(2) + 0j, "real"), (np.eye(2).astype(str), "real"),
])
def test_correlation_groups_malformed_matrix(r, words):
    with pytest.raises(NichelabError, match=words):
        M.correlation_groups(r)


def test_correlation_groups_of_a_layer_without_units():
    assert M.correlation_groups(np.zeros((0, 0))) == []
    assert M.near_duplicate_groups(np.zeros((5, 0))) == []


@pytest.mark.parametrize("name", ["nope", "", None, 3])
def test_get_measure_unknown_names(name):
    with pytest.raises(NichelabError, match="measure must be one of"):
        M.get_measure(name)


# ----------------------------------------------------------------------------- the second argument of pairs

PAIR_FUNCS = {
    "linear_cka": M.linear_cka, "rbf_cka": M.rbf_cka, "cca": M.cca, "svcca": M.svcca, "pwcca": M.pwcca,
    "procrustes_distance": M.procrustes_distance, "rsa": M.rsa, "unit_correlation": M.unit_correlation,
    "match_units": M.match_units,
}


@pytest.mark.parametrize("case", ["nan", "inf", "empty", "1-D", "3-D", "complex-imaginary", "strings"])
@pytest.mark.parametrize("name", list(PAIR_FUNCS))
def test_pair_second_argument_bad_input(name, case):
    y = BAD[case]()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(NichelabError) as info:
            PAIR_FUNCS[name](BASE, y)
    assert "y" in str(info.value) and "got" in str(info.value), str(info.value)


@pytest.mark.parametrize("name", list(PAIR_FUNCS))
def test_pair_both_sides_dead_or_scaled(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("error", RuntimeWarning)
        want = PAIR_FUNCS[name](BASE, other(N))
        got = PAIR_FUNCS[name](BASE * 1e-300, other(N) * 1e200)
        dead = PAIR_FUNCS[name](np.zeros((N, 3)), np.zeros((N, 2)))
    want, got = _as_out(want), _as_out(got)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-6, equal_nan=True)
    for v in _as_out(dead).values():
        assert not np.isinf(v).any()


# ----------------------------------------------------------------------------- similarity matrices

@pytest.mark.parametrize("fn", [M.most_similar, M.identify_layers])
@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((0, 2, 2)), np.ones((2, 2, 3)) + 1j, [["a", "b"], ["c", "d"]]])
def test_similarity_matrices_bad_input_is_one_clear_error(fn, bad):
    if fn is M.most_similar and np.ndim(bad) == 3 and np.shape(bad)[0] == 2:
        pass
    with pytest.raises(NichelabError, match="matri"):
        fn(bad)


def test_similarity_matrices_nan_and_scale():
    """NaN entries are ignored (documented); the answer is invariant to positive scaling."""
    m = np.array([[[0.9, np.nan, 0.1], [0.3, 0.8, 0.2], [np.nan, np.nan, np.nan]]])
    for s in (1e-300, 1.0, 1e200):
        assert M.identify_layers(m * s).tolist() == [[True, True, False]]
        assert M.most_similar(m[0] * s).tolist() == [0, 1, -1]
