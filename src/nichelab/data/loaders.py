"""Loaders for a user's own data: ``.npz`` (X, y), CSV with a label column, an image folder
(one subfolder per class), MNIST-format idx files; and :func:`load_dataset`, which resolves a
built-in name or a path.
"""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np

from ..errors import NichelabError, suggest
from .base import Dataset

__all__ = ["load_npz", "load_csv", "load_image_folder", "load_idx", "load_dataset", "BUILTIN_DATASETS"]

BUILTIN_DATASETS = ("blobs", "digits", "digits-images", "faces", "parts")
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}


def _labels(raw: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """Integer labels and class names from integer or string labels."""
    raw = np.asarray(raw)
    if raw.dtype.kind in "iu":
        if raw.size and raw.min() < 0:
            raise NichelabError(f"{what} labels must be integers >= 0; got minimum {raw.min()}")
        k = int(raw.max()) + 1 if raw.size else 0
        return raw.astype(np.int64), [str(c) for c in range(k)]
    if raw.dtype.kind == "f":
        if np.all(np.isfinite(raw)) and np.all(raw == np.round(raw)) and (raw >= 0).all():
            return _labels(raw.astype(np.int64), what)
        raise NichelabError(f"{what} labels must be integers (class indices) or class names; got non-integer values "
                            f"such as {raw[~(raw == np.round(raw))][:3].tolist() if np.all(np.isfinite(raw)) else 'NaN'}")
    names, y = np.unique(raw.astype(str), return_inverse=True)
    return y.astype(np.int64), [str(n) for n in names]


def load_npz(path: str | Path) -> Dataset:
    """A ``.npz`` archive with arrays ``X`` (n_samples, ...) and ``y`` (n_samples,).

    Loaded with ``allow_pickle=False``. Raises NichelabError for a missing file, missing keys,
    non-numeric X, or labels that are not integers or strings.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("X", "y") if k not in z.files]
            if missing:
                raise NichelabError(f"--data {str(path)!r} must hold arrays 'X' and 'y'; missing {missing}, has {z.files}")
            X, raw = z["X"], z["y"]
    except NichelabError:
        raise
    except (OSError, ValueError) as exc:
        raise NichelabError(f"--data {str(path)!r} is not a readable .npz file: {exc}") from None
    if X.dtype.kind not in "fiub":
        raise NichelabError(f"--data {str(path)!r}: X must be numeric; got dtype {X.dtype}")
    y, names = _labels(raw, "--data")
    return Dataset(X.astype(np.float32), y, names, path.stem, {"source": str(path)})


def load_csv(path: str | Path, label_column: str = "label") -> Dataset:
    """A CSV file with a header row, numeric feature columns and one label column.

    Parameters
    ----------
    path : str or Path
    label_column : str, default "label"
        Holds integer class indices or class names.

    Raises
    ------
    NichelabError
        Missing file or label column (close names suggested), non-numeric features, ragged rows.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise NichelabError(f"--data {str(path)!r} is not a readable CSV file: {exc}") from None
    if len(rows) < 2:
        raise NichelabError(f"--data {str(path)!r} must have a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise NichelabError(f"--label-column {label_column!r} is not a column of {path.name}; columns: "
                            f"{', '.join(header)}{suggest(label_column, header)}")
    j = header.index(label_column)
    body = [r for r in rows[1:] if r]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise NichelabError(f"--data {str(path)!r}: every row must have {len(header)} fields; rows {bad[:5]} differ")
    try:
        X = np.array([[float(v) for k, v in enumerate(r) if k != j] for r in body], dtype=np.float32)
    except ValueError as exc:
        raise NichelabError(f"--data {str(path)!r}: feature columns must be numeric: {exc}") from None
    raw = np.array([r[j].strip() for r in body])
    try:
        raw = raw.astype(np.int64)
    except ValueError:
        try:
            raw = raw.astype(np.float64)
        except ValueError:
            pass
    y, names = _labels(raw, f"--label-column {label_column!r}")
    feats = [h for k, h in enumerate(header) if k != j]
    return Dataset(X, y, names, path.stem, {"source": str(path), "features": feats})


def load_image_folder(path: str | Path, *, size: int | tuple[int, int] | None = None,
                      grayscale: bool = True) -> Dataset:
    """Images in one subfolder per class (``root/cat/001.png``), resized to a common size.

    Parameters
    ----------
    path : folder
    size : int or (H, W), optional
        Target size; default the first image's size.
    grayscale : bool, default True
        Convert to one channel; else RGB (3 channels).

    Returns
    -------
    Dataset
        ``X`` (n, C, H, W) float32 in [0, 1]; class names are the subfolder names, sorted.
    """
    from skimage import io as skio
    from skimage.color import gray2rgb, rgb2gray, rgba2rgb
    from skimage.transform import resize

    root = Path(path)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not classes:
        raise NichelabError(f"--data {str(path)!r} must be a folder with one subfolder of images per class")
    images, labels = [], []
    target = (size, size) if isinstance(size, int) else size
    for k, cls in enumerate(classes):
        for f in sorted(p for p in (root / cls).iterdir() if p.suffix.lower() in _IMAGE_EXT):
            try:
                img = skio.imread(f)
            except Exception as exc:
                raise NichelabError(f"--data: cannot read image {str(f)!r}: {exc}") from None
            img = np.asarray(img, dtype=np.float64)
            img = img / 255.0 if img.max() > 1.0 else img
            if img.ndim == 3 and img.shape[2] == 4:
                img = rgba2rgb(img)
            if grayscale and img.ndim == 3:
                img = rgb2gray(img)
            if not grayscale and img.ndim == 2:
                img = gray2rgb(img)
            target = target or img.shape[:2]
            img = resize(img, target, anti_aliasing=True) if img.shape[:2] != tuple(target) else img
            images.append(img[None] if img.ndim == 2 else np.moveaxis(img, 2, 0))
            labels.append(k)
    if not images:
        raise NichelabError(f"--data {str(path)!r}: no images ({', '.join(sorted(_IMAGE_EXT))}) in the class folders")
    X = np.stack(images).astype(np.float32)
    return Dataset(X, np.array(labels, np.int64), classes, root.name,
                   {"source": str(root), "image_shape": tuple(X.shape[1:])})


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise NichelabError(f"cannot read idx file {str(path)!r}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise NichelabError(f"{str(path)!r} is not an unsigned-byte idx file (MNIST format)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise NichelabError(f"{str(path)!r}: header says shape {shape} but holds {arr.size} values")
    return arr.reshape(shape)


def load_idx(images: str | Path, labels: str | Path) -> Dataset:
    """MNIST-format files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``).

    Returns ``X`` (n, 1, H, W) float32 in [0, 1] and ``y`` int64.
    """
    X, y = _read_idx(Path(images)), _read_idx(Path(labels))
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise NichelabError(f"idx images must be (n, H, W) and labels (n,); got {X.shape} and {y.shape}")
    return Dataset((X[:, None] / 255.0).astype(np.float32), y.astype(np.int64), [str(i) for i in range(int(y.max()) + 1)],
                   Path(images).name.split("-")[0], {"source": str(images), "image_shape": (1,) + X.shape[1:]})


def load_dataset(name: str, *, label_column: str = "label", image_size: int | None = None,
                 images: bool = False) -> Dataset:
    """A built-in dataset by name, or a user's file or folder by path.

    Parameters
    ----------
    name : str
        ``blobs``, ``digits``, ``faces``, ``parts``; or a path to ``.npz``, ``.csv``, an image
        folder, or ``IMAGES,LABELS`` idx files.
    images : bool, default False
        For digits: return (n, 1, 8, 8) images instead of (n, 64) vectors.

    Raises
    ------
    NichelabError
        Unknown name (close names suggested) or unreadable path.
    """
    from . import blobs, digits, faces
    if name == "blobs":
        return blobs.load_blobs()
    if name in ("digits", "digits-images"):
        return digits.load_digits(images=images or name == "digits-images")
    if name == "faces":
        return faces.load_faces()
    if name == "parts":
        from .parts import load_parts
        return load_parts()
    if "," in name:
        a, b = name.split(",", 1)
        return load_idx(a, b)
    path = Path(name)
    if path.is_dir():
        return load_image_folder(path, size=image_size)
    if path.suffix == ".npz" and path.exists():
        return load_npz(path)
    if path.suffix == ".csv" and path.exists():
        return load_csv(path, label_column)
    raise NichelabError(f"--dataset must be one of {', '.join(BUILTIN_DATASETS)} or an existing .npz/.csv file, "
                        f"image folder or IMAGES,LABELS idx pair; got {name!r}{suggest(name, BUILTIN_DATASETS)}")
