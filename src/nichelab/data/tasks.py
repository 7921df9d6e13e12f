"""Task pairs for transfer experiments: which images, which classes, at which size, which split.

A *task* is a named image source and a list of its classes, written as text::

    digits:0-4          scikit-learn digits 0, 1, 2, 3, 4 (relabelled 0..4 in that order)
    digits:5,7,9        digits 5, 7 and 9
    digits              all ten digits
    parts               the procedural parts-and-objects images (nichelab.data.parts), all 5 classes
    parts:face,house    two of their classes, by name
    faces               the LFW subset of scikit-image: non-face vs face

Every task is loaded as grayscale images ``(n, 1, H, W)`` in [0, 1] and brought to a common
size (by default the target task's) with ``skimage.transform.resize`` (anti-aliased area
averaging when shrinking). Each sample keeps its row index in the source dataset
(``meta["index"]``), so train/test leakage and overlap between tasks can be checked.

Two tasks from the same source form a *similar* pair and must not share a class; tasks from
different sources form a *dissimilar* pair (Yosinski et al. 2014, "Transfer" in REFERENCES.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError, check_positive_int, suggest
from .base import Dataset
from .split import stratified_indices

__all__ = ["SOURCES", "TaskSpec", "parse_task", "load_task", "split_task", "subsample",
           "check_disjoint", "pair_kind", "TaskData", "prepare_tasks"]

#: Image sources a task can come from.
SOURCES = ("digits", "parts", "faces")

_DIGITS = [str(d) for d in range(10)]
_FACES = ["non-face", "face"]


def _source_classes(source: str) -> list[str]:
    if source == "digits":
        return list(_DIGITS)
    if source == "faces":
        return list(_FACES)
    from .parts import CLASS_NAMES
    return list(CLASS_NAMES)


@dataclass(frozen=True)
class TaskSpec:
    """A task: an image source and some of its classes, in label order.

    Attributes
    ----------
    source : {"digits", "parts", "faces"}
    classes : tuple of str
        Class names of the source, in the order they are relabelled 0, 1, ...
        (digits are named ``"0"`` .. ``"9"``).
    text : str
        The text it was parsed from.
    """

    source: str
    classes: tuple[str, ...]
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"{self.source}:{','.join(self.classes)}"

    @property
    def label(self) -> str:
        """Readable name, e.g. ``"digits 0–4"``, ``"parts images"`` or ``"parts: face, house"``."""
        if self.source == "digits":
            ints = [int(c) for c in self.classes]
            if len(ints) > 2 and ints == list(range(ints[0], ints[-1] + 1)):
                return f"digits {ints[0]}–{ints[-1]}"
            return "digits " + ",".join(self.classes)
        if list(self.classes) == _source_classes(self.source):
            return {"parts": "parts images", "faces": "LFW faces"}[self.source]
        return f"{self.source}: " + ", ".join(self.classes)


def _parse_digits(body: str, text: str) -> list[str]:
    out: list[str] = []
    for tok in body.split(","):
        tok = tok.strip()
        lo, dash, hi = tok.partition("-")
        try:
            if dash:
                a, b = int(lo), int(hi)
                if a > b:
                    raise ValueError
                out += [str(d) for d in range(a, b + 1)]
            else:
                out.append(str(int(tok)))
        except ValueError:
            raise NichelabError(f"task {text!r}: digit classes must be digits 0-9 or ranges like 0-4, "
                                f"joined by ','; got {tok!r}") from None
    bad = [c for c in out if c not in _DIGITS]
    if bad:
        raise NichelabError(f"task {text!r}: digit classes must lie in 0..9; got {', '.join(bad)}")
    return out


def parse_task(text: str | TaskSpec) -> TaskSpec:
    """Parse a task such as ``"digits:0-4"``, ``"parts"`` or ``"parts:face,house"``.

    Parameters
    ----------
    text : str or TaskSpec
        ``SOURCE`` or ``SOURCE:CLASSES``. Digit classes are integers or ranges (``0-4``) joined by
        commas; parts and faces classes are names joined by commas.

    Returns
    -------
    TaskSpec

    Raises
    ------
    NichelabError
        Unknown source or class, a repeated class, or fewer than 2 classes.

    Examples
    --------
    >>> parse_task("digits:0-2,7").classes
    ('0', '1', '2', '7')
    """
    if isinstance(text, TaskSpec):
        return text
    raw = str(text).strip()
    source, _, body = raw.partition(":")
    source = source.strip().lower()
    if source not in SOURCES:
        raise NichelabError(f"task {raw!r}: source must be one of {', '.join(SOURCES)}; got {source!r}"
                            + suggest(source, SOURCES))
    names = _source_classes(source)
    if not body.strip():
        classes = names
    elif source == "digits":
        classes = _parse_digits(body, raw)
    else:
        classes = [c.strip() for c in body.split(",")]
        for c in classes:
            if c not in names:
                raise NichelabError(f"task {raw!r}: {source} classes are {', '.join(names)}; got {c!r}"
                                    + suggest(c, names))
    if len(set(classes)) != len(classes):
        raise NichelabError(f"task {raw!r}: classes must not repeat; got {', '.join(classes)}")
    if len(classes) < 2:
        raise NichelabError(f"task {raw!r}: a task needs at least 2 classes; got {len(classes)}")
    return TaskSpec(source, tuple(classes), raw)


def check_disjoint(a: TaskSpec, b: TaskSpec) -> None:
    """Raise if two tasks of the same source share a class (their samples would overlap).

    Raises
    ------
    NichelabError
        ``"... share classes 3, 4 ..."``.
    """
    if a.source == b.source:
        shared = [c for c in a.classes if c in b.classes]
        if shared:
            raise NichelabError(
                f"source task {str(a)!r} and target task {str(b)!r} must not share classes; "
                f"both contain {', '.join(shared)}")


def pair_kind(a: TaskSpec, b: TaskSpec) -> str:
    """``"similar"`` for two tasks of the same source, ``"dissimilar"`` otherwise."""
    return "similar" if a.source == b.source else "dissimilar"


def _resize(X: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(n, 1, h, w) -> (n, 1, H, W) float32 in [0, 1]; anti-aliased when shrinking."""
    if tuple(X.shape[2:]) == tuple(size):
        return X.astype(np.float32)
    from skimage.transform import resize
    shrink = size[0] < X.shape[2] or size[1] < X.shape[3]
    out = resize(X, (X.shape[0], X.shape[1], *size), order=1, mode="reflect",
                 anti_aliasing=shrink, preserve_range=True)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    size = tuple(size)
    if len(size) != 2:
        raise NichelabError(f"size must be an int or (height, width); got {size!r}")
    return (check_positive_int("size", size[0], 4), check_positive_int("size", size[1], 4))


def _raw(source: str, parts_per_class: int, seed: int) -> Dataset:
    if source == "digits":
        from .digits import load_digits
        return load_digits(images=True)
    if source == "faces":
        from .faces import load_faces
        return load_faces()
    from .parts import load_parts
    d = load_parts(parts_per_class, 32, seed)
    return Dataset(d.X, d.y, d.class_names, "parts", {"image_shape": d.meta["image_shape"]})


def load_task(task: str | TaskSpec, *, size=None, parts_per_class: int = 300, seed: int = 0) -> Dataset:
    """Load a task's images, relabelled 0..k-1 in the task's class order, at a given size.

    Parameters
    ----------
    task : str or TaskSpec
        See :func:`parse_task`.
    size : int or (int, int), optional
        Image height and width (>= 4); default: the source's own size (digits 8, faces 25,
        parts 32).
    parts_per_class : int, default 300
        Images per class generated for ``parts``.
    seed : int, default 0
        Seed of the parts generator (digits and faces are fixed datasets).

    Returns
    -------
    Dataset
        ``X`` (n, 1, H, W) float32 in [0, 1]; ``y`` (n,) int64; ``class_names`` the task's
        classes; ``name`` the source; ``meta`` with ``task`` (text), ``source``, ``index``
        ((n,) int64, row in the source dataset), ``original_size`` and ``image_shape``.

    Raises
    ------
    NichelabError
        A bad task text or size.
    """
    spec = parse_task(task)
    size = _check_size(size)
    parts_per_class = check_positive_int("parts_per_class", parts_per_class)
    raw = _raw(spec.source, parts_per_class, seed)
    wanted = [raw.class_names.index(c) for c in spec.classes]
    index = np.flatnonzero(np.isin(raw.y, wanted))
    relabel = np.full(raw.n_classes, -1, dtype=np.int64)
    relabel[wanted] = np.arange(len(wanted))
    X = raw.X[index]
    original = tuple(X.shape[2:])
    X = _resize(X, size or original)
    meta = {"task": str(spec), "source": spec.source, "index": index.astype(np.int64),
            "original_size": original, "image_shape": (1, *X.shape[2:])}
    return Dataset(X, relabel[raw.y[index]], list(spec.classes), spec.source, meta)


def _subset(ds: Dataset, idx: np.ndarray, **extra) -> Dataset:
    idx = np.sort(np.asarray(idx, dtype=np.int64))
    meta = {**ds.meta, "index": np.asarray(ds.meta["index"])[idx], **extra}
    return Dataset(ds.X[idx], ds.y[idx], list(ds.class_names), ds.name, meta)


def _check_fraction(name: str, value, closed_low: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = np.isfinite(v) and (0.0 <= v if closed_low else 0.0 < v) and v <= 1.0
    if not ok:
        raise NichelabError(f"{name} must be a number in {'[0' if closed_low else '(0'}, 1]; got {value!r}", field=name)
    return v


def split_task(ds: Dataset, test_fraction: float = 0.3, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Split a task into stratified, disjoint train and test sets.

    Parameters
    ----------
    ds : Dataset
        From :func:`load_task` (``meta["index"]`` is carried into both parts).
    test_fraction : float, default 0.3
        Share held out for testing, in (0, 1), shared among the classes in proportion to
        their sizes (:func:`nichelab.data.split.stratified_indices`, scikit-learn's split).
    seed : int, default 0
        Seed of the split (``random_state``).

    Returns
    -------
    train, test : Dataset
        Disjoint; together they are ``ds``.

    Raises
    ------
    NichelabError
        ``test_fraction`` outside (0, 1), or a class with fewer than 2 samples.
    """
    train_idx, test_idx = stratified_indices(ds.y, test_fraction, seed)
    return _subset(ds, train_idx, split="train"), _subset(ds, test_idx, split="test")


def subsample(ds: Dataset, fraction: float, seed: int = 0) -> Dataset:
    """A stratified share of a (training) set: ``round(fraction * n_c)`` samples of each class, at least 1.

    Raises
    ------
    NichelabError
        ``fraction`` outside (0, 1] (about the field ``target_fraction``).
    """
    f = _check_fraction("target_fraction", fraction)
    if f == 1.0:
        return ds
    rng = np.random.default_rng([int(seed), 11])
    keep = [rng.choice(idx, size=max(1, int(round(f * len(idx)))), replace=False)
            for idx in (np.flatnonzero(ds.y == c) for c in range(ds.n_classes)) if len(idx)]
    return _subset(ds, np.concatenate(keep), fraction=f)


@dataclass
class TaskData:
    """Train and test sets of one task, ready for training.

    Attributes
    ----------
    spec : TaskSpec
    train, test : Dataset
        Disjoint; images (n, 1, H, W) at the common size.
    n_train_full : int
        Training samples before ``target_fraction`` was applied (equal to ``len(train)`` for
        source tasks).
    """

    spec: TaskSpec
    train: Dataset
    test: Dataset
    n_train_full: int

    @property
    def n_classes(self) -> int:
        return self.train.n_classes


def prepare_tasks(sources, target, *, target_fraction: float = 1.0, size=None, test_fraction: float = 0.3,
                  seed: int = 0, parts_per_class: int = 300) -> tuple[list[TaskData], TaskData]:
    """Load the source tasks A and the target task B at one common size, split and subsample.

    Parameters
    ----------
    sources : sequence of str or TaskSpec
        The source tasks A (each forms a pair with the target); at least one, no repeats.
    target : str or TaskSpec
        The target task B.
    target_fraction : float, default 1.0
        Share of B's training set used (stratified), in (0, 1]; B's test set is kept whole.
    size : int or (int, int), optional
        Common image size; default the target's own size (8 x 8 for digits).
    test_fraction : float, default 0.3
        Share of each task held out for testing.
    seed : int, default 0
        Seed of the splits, the subsample and the parts generator.
    parts_per_class : int, default 300

    Returns
    -------
    sources : list of TaskData
    target : TaskData

    Raises
    ------
    NichelabError
        A bad task, a source sharing classes with the target (same source), a repeated source,
        ``target_fraction`` outside (0, 1] or ``test_fraction`` outside (0, 1).
    """
    tspec = parse_task(target)
    specs = [parse_task(s) for s in ([sources] if isinstance(sources, (str, TaskSpec)) else list(sources))]
    if not specs:
        raise NichelabError("sources must name at least one source task; got none", field="sources")
    if len({str(s) for s in specs}) != len(specs):
        raise NichelabError(f"sources must differ; got {', '.join(str(s) for s in specs)}", field="sources")
    for s in specs:
        check_disjoint(s, tspec)
    _check_fraction("target_fraction", target_fraction)
    stratified_indices([0, 0, 1, 1], test_fraction)  # checks test_fraction early, before loading
    size = _check_size(size)
    b = load_task(tspec, size=size, parts_per_class=parts_per_class, seed=seed)
    size = size or tuple(b.X.shape[2:])
    b_train, b_test = split_task(b, test_fraction, seed)
    target_data = TaskData(tspec, subsample(b_train, target_fraction, seed), b_test, len(b_train))
    out = []
    for s in specs:
        a_train, a_test = split_task(load_task(s, size=size, parts_per_class=parts_per_class, seed=seed),
                                     test_fraction, seed)
        out.append(TaskData(s, a_train, a_test, len(a_train)))
    return out, target_data
