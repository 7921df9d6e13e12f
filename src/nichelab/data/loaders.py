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

__all__ = ["load_npz", "load_npy_pair", "npz_member_mmap", "load_csv", "load_image_folder", "load_idx", "load_dataset", "tokens_dataset", "model_inputs",
           "BUILTIN_DATASETS", "CHANNELS", "NORMALIZE", "IMAGENET_MEAN", "IMAGENET_STD"]

BUILTIN_DATASETS = ("blobs", "digits", "digits-images", "faces", "parts")
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff"}


#: The loaders' arguments that a message may be about (the studies' fields of the same names).
_ARGUMENTS = ("dataset", "label_column", "channels", "normalize")


def _error(text: str) -> NichelabError:
    """A loader's error about the argument its message starts with (``dataset``, ``label_column``,
    ``channels``, ``normalize``): the CLI shows it as that option's flag."""
    word = text.split(" ", 1)[0].rstrip(":")
    return NichelabError(text, field=word if word in _ARGUMENTS else None)


def _labels(raw: np.ndarray, what: str, source: str = "") -> tuple[np.ndarray, list[str], dict]:
    """Class indices 0..k-1, class names and the mapping original label -> index, from labels of any kind.

    Non-negative integer labels that already look like class indices (at most half of 0..max
    unused) are kept as they are (classes ``0 .. max``, so they still match a model's outputs);
    any other labels -- strings, years (2019, 2020, 2021), huge or negative ids -- are mapped in
    sorted order to 0..k-1. Integer-valued floats count as integers.

    Raises
    ------
    NichelabError
        Non-integer numeric labels, or more classes than half the samples (with more than 2
        classes): such a column is an id or a measurement, not a class label.
    """
    raw = np.asarray(raw)
    where = f" in {source!r}" if source else ""
    if raw.ndim != 1:
        raise _error(f"{what} labels{where} must be one label per sample, shape (n,); found shape {raw.shape}")
    if raw.dtype.kind == "b":
        raw = raw.astype(np.int64)
    if raw.dtype.kind == "f":
        finite = np.isfinite(raw)
        if not finite.all() or not np.all(raw == np.round(raw)):
            bad = raw[~finite][:3].tolist() if not finite.all() else raw[raw != np.round(raw)][:3].tolist()
            raise _error(f"{what} labels must be integers (class indices) or class names; found{where} "
                                f"non-integer values such as {bad}")
        raw = raw.astype(np.int64)
    if raw.dtype.kind not in "iu":
        raw = raw.astype(str)
    uniq, inverse = np.unique(raw, return_inverse=True)
    k, n = len(uniq), len(raw)
    if k > 2 and k > n / 2:
        raise _error(f"{what} labels{where} must be class labels with several samples per class; found {k} "
                            f"different values in {n} samples (more classes than half the samples), e.g. "
                            f"{uniq[:4].tolist()}: is it an id or a measurement column?")
    if raw.dtype.kind in "iu" and k and uniq[0] >= 0 and int(uniq[-1]) + 1 <= 2 * k:
        y = raw.astype(np.int64)
        names = [str(c) for c in range(int(uniq[-1]) + 1)]
        mapping = {int(c): int(c) for c in uniq}
    else:
        y = inverse.astype(np.int64).reshape(-1)
        names = [str(c) for c in uniq.tolist()]
        mapping = {c: i for i, c in enumerate(uniq.tolist())}
    return y, names, mapping


def npz_member_mmap(path: str | Path, name: str) -> np.ndarray | None:
    """Member ``name`` of an uncompressed ``.npz`` (``np.savez``) as a read-only memory map, or None.

    ``np.load`` reads ``.npz`` members whole; a stored (uncompressed) member is a plain ``.npy``
    file inside the zip, so it can be mapped in place: only the pages a batch touches are read.
    Compressed members (``np.savez_compressed``) cannot be mapped (None: the caller reads them).
    """
    import struct
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(f"{name}.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            if local[:4] != b"PK\x03\x04":
                return None
            n_name, n_extra = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + n_name + n_extra)
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(fh)
            offset = fh.tell()
        if dtype.hasobject:
            return None
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
    except (KeyError, OSError, ValueError, struct.error, zipfile.BadZipFile):
        return None


def _features(X: np.ndarray) -> np.ndarray:
    """float32 features: a float32 (possibly memory-mapped) array is kept as it is, anything else converted."""
    return X if X.dtype == np.float32 else X.astype(np.float32)


def load_npy_pair(x_path: str | Path, y_path: str | Path) -> Dataset:
    """Features and labels as two ``.npy`` files (``np.save``); the features are memory-mapped.

    ``X`` is opened with ``mmap_mode="r"``: a float32 file is never read whole into memory (batches
    are read from the file as capture needs them). Labels are read and mapped as in :func:`load_npz`.

    Raises
    ------
    NichelabError
        Unreadable files, object arrays, non-numeric X, lengths that differ, bad labels.
    """
    xp, yp = Path(x_path), Path(y_path)
    try:
        X = np.load(xp, mmap_mode="r", allow_pickle=False)
        raw = np.load(yp, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise _error(f"dataset {str(xp)!r},{str(yp)!r} must be two readable .npy files (features, labels): "
                            f"{exc}") from None
    if X.dtype.kind not in "fiub":
        raise _error(f"dataset {str(xp)!r}: X must be numeric; got dtype {X.dtype}")
    y, names, mapping = _labels(raw, "dataset", str(yp))
    return Dataset(_features(X), y, names, xp.stem, {"source": f"{xp},{yp}", "label_mapping": mapping,
                                                      "memory_mapped": X.dtype == np.float32})


def load_npz(path: str | Path) -> Dataset:
    """A ``.npz`` archive with arrays ``X`` (n_samples, ...) and ``y`` (n_samples,).

    Loaded with ``allow_pickle=False``. In an uncompressed archive (``np.savez``) a float32 ``X``
    is memory-mapped (:func:`npz_member_mmap`), not read whole; a compressed one
    (``np.savez_compressed``) must be decompressed into memory. Raises NichelabError for a missing
    file, missing keys, non-numeric X, or labels that are not integers or strings.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "input_ids" in z.files and "X" not in z.files:
                return _token_npz(path, {k: z[k] for k in z.files})
            missing = [k for k in ("X", "y") if k not in z.files]
            if missing:
                raise _error(f"dataset {str(path)!r} must hold arrays 'X' and 'y' (or 'input_ids' and 'y'); "
                                    f"missing {missing}, has {z.files}")
            mapped = npz_member_mmap(path, "X")
            X, raw = (mapped if mapped is not None else z["X"]), z["y"]
    except NichelabError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        # numpy reads a file that is not a zip archive as a pickle and then suggests allow_pickle:
        # never pass that advice on (loading pickles can run code)
        why = "not a numpy .npz archive" if "pickle" in str(exc) else str(exc).splitlines()[0]
        raise _error(f"dataset {str(path)!r} is not a readable .npz file (a numpy archive of arrays X and y): "
                            f"{why}") from None
    if X.dtype.kind not in "fiub":
        raise _error(f"dataset {str(path)!r}: X must be numeric; got dtype {X.dtype}")
    y, names, mapping = _labels(raw, "dataset", str(path))
    return Dataset(_features(X), y, names, path.stem, {"source": str(path), "label_mapping": mapping,
                                                       "memory_mapped": mapped is not None and X.dtype == np.float32})


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
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _error(f"dataset {str(path)!r} is not a readable CSV file (UTF-8 text, a header row, then one "
                            f"row per sample): {exc}") from None
    if len(rows) < 2:
        raise _error(f"dataset {str(path)!r} must have a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise _error(f"label_column {label_column!r} is not a column of {path.name}; columns: "
                            f"{', '.join(header)}{suggest(label_column, header)}")
    j = header.index(label_column)
    body = [r for r in rows[1:] if r]
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise _error(f"dataset {str(path)!r}: every row must have {len(header)} fields; rows {bad[:5]} differ")
    try:
        X = np.array([[float(v) for k, v in enumerate(r) if k != j] for r in body], dtype=np.float32)
    except ValueError as exc:
        raise _error(f"dataset {str(path)!r}: feature columns must be numeric: {exc}") from None
    raw = np.array([r[j].strip() for r in body])
    try:
        raw = raw.astype(np.int64)
    except ValueError:
        try:
            raw = raw.astype(np.float64)
        except ValueError:
            pass
    y, names, mapping = _labels(raw, f"label_column {label_column!r}", str(path))
    feats = [h for k, h in enumerate(header) if k != j]
    return Dataset(X, y, names, path.stem, {"source": str(path), "features": feats, "label_mapping": mapping})


#: Per-channel mean and standard deviation of ImageNet (RGB), as torchvision's pretrained models expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CHANNELS = ("auto", 1, 3)
NORMALIZE = ("none", "unit", "imagenet", "dataset")


def _read_image(f: Path) -> np.ndarray:
    """One image file as float64 (H, W) or (H, W, 3) in [0, 1] (alpha dropped), or raw values for "none"."""
    from skimage import io as skio
    try:
        img = np.asarray(skio.imread(f))
    except Exception as exc:
        raise _error(f"dataset: cannot read image {str(f)!r}: expected an image file "
                            f"({', '.join(sorted(_IMAGE_EXT))}); found {type(exc).__name__}: "
                            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'unreadable'}") from None
    if img.dtype == object or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise _error(f"dataset: image {str(f)!r} must be a grey or colour picture (H, W) / (H, W, 1-4 channels); "
                            f"found an array of shape {img.shape}")
    return img


def _to_unit(img: np.ndarray) -> np.ndarray:
    if img.dtype.kind in "ui":
        return img.astype(np.float64) / float(np.iinfo(img.dtype).max)
    return img.astype(np.float64)


def _channels(img: np.ndarray, c: int) -> np.ndarray:
    """(H, W) or (H, W, k) -> (H, W, c), c in {1, 3}."""
    from skimage.color import gray2rgb, rgb2gray
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] in (2, 4):                        # grey + alpha, RGBA: drop alpha
        img = img[:, :, :img.shape[2] - 1]
    if c == 1 and img.shape[2] == 3:
        return rgb2gray(img)[:, :, None]
    if c == 3 and img.shape[2] == 1:
        return gray2rgb(img[:, :, 0])
    return img


def load_image_folder(path: str | Path, *, size: int | tuple[int, int] | None = None,
                      grayscale: bool | None = None, channels="auto", normalize: str = "unit") -> Dataset:
    """Images in one subfolder per class (``root/cat/001.png``), resized to a common size.

    Parameters
    ----------
    path : folder
    size : int or (H, W), optional
        Target size (anti-aliased resize); default the first image's size.
    grayscale : bool, optional
        Deprecated spelling of ``channels``: True is ``channels=1``, False ``channels=3``.
    channels : {"auto", 1, 3}, default "auto"
        "auto" keeps the images as they are: 3 channels (RGB) if any file has colour channels,
        else 1. 1 converts colour to grey (ITU-R 709 luminance); 3 repeats grey into RGB. An
        alpha channel is dropped.
    normalize : {"none", "unit", "imagenet", "dataset"}, default "unit"
        "unit": values in [0, 1] (integer pixels divided by their type's maximum, 255 for 8-bit);
        "none": the raw pixel values; "imagenet": unit values, then ``(x - mean) / std`` per
        channel with ImageNet's statistics (3 channels only); "dataset": unit values, then
        standardised per channel with this folder's own mean and standard deviation.

    Returns
    -------
    Dataset
        ``X`` (n, C, H, W) float32; class names are the subfolder names, sorted.
        ``meta`` records ``channels``, ``image_size``, ``normalize`` and, for "imagenet" /
        "dataset", the per-channel ``mean`` and ``std`` used.

    Raises
    ------
    NichelabError
        Not a folder of class folders, no images, an unreadable image (naming the file, what was
        expected and what was found), bad ``channels`` / ``normalize``, or "imagenet" on 1-channel
        images.

    References
    ----------
    ImageNet statistics as used by torchvision's pretrained models (Deng et al. 2009, "ImageNet:
    a large-scale hierarchical image database", CVPR).
    """
    from skimage.transform import resize

    if grayscale is not None:
        channels = 1 if grayscale else 3
    if channels not in CHANNELS and str(channels) not in ("1", "3"):
        raise _error(f"channels must be auto, 1 or 3; got {channels!r}")
    channels = channels if channels == "auto" else int(channels)
    if normalize not in NORMALIZE:
        raise _error(f"normalize must be one of {', '.join(NORMALIZE)}; got {normalize!r}")
    root = Path(path)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not classes:
        raise _error(f"dataset {str(path)!r} must be a folder with one subfolder of images per class; found "
                            f"{'a folder without subfolders' if root.is_dir() else 'no such folder'}")
    files, labels = [], []
    for k, cls in enumerate(classes):
        for f in sorted(p for p in (root / cls).iterdir() if p.suffix.lower() in _IMAGE_EXT):
            files.append(f)
            labels.append(k)
    if not files:
        raise _error(f"dataset {str(path)!r}: no images ({', '.join(sorted(_IMAGE_EXT))}) in the class folders "
                            f"{classes[:5]}")
    raw = [_read_image(f) for f in files]
    colour = any(img.ndim == 3 and img.shape[2] >= 3 for img in raw)
    c = (3 if colour else 1) if channels == "auto" else channels
    target = (size, size) if isinstance(size, int) else (tuple(size) if size is not None else None)
    images = []
    for img in raw:
        img = _channels(img if normalize == "none" else _to_unit(img), c).astype(np.float64)
        target = target or img.shape[:2]
        if img.shape[:2] != tuple(target):
            img = resize(img, tuple(target) + (c,), anti_aliasing=True, preserve_range=True)
        images.append(np.moveaxis(img, 2, 0))
    X = np.stack(images).astype(np.float32)
    meta = {"source": str(root), "image_shape": tuple(X.shape[1:]), "channels": int(c),
            "channels_option": channels, "image_size": tuple(int(t) for t in target), "normalize": normalize}
    if normalize == "imagenet":
        if c != 3:
            raise _error(f"normalize imagenet needs 3-channel (RGB) images; {str(path)!r} gives {c} channel "
                                "(use channels 3, or normalize 'dataset')")
        mean, std = np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    elif normalize == "dataset":
        mean = X.mean(axis=(0, 2, 3), dtype=np.float64)
        std = X.std(axis=(0, 2, 3), dtype=np.float64)
        std = np.where(std > 0, std, 1.0)
    if normalize in ("imagenet", "dataset"):
        X = ((X - mean[None, :, None, None]) / std[None, :, None, None]).astype(np.float32)
        meta.update(mean=[float(v) for v in mean], std=[float(v) for v in std])
    return Dataset(X, np.array(labels, np.int64), classes, root.name, meta)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise _error(f"cannot read idx file {str(path)!r}: {exc}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise _error(f"{str(path)!r} is not an unsigned-byte idx file (MNIST format)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise _error(f"{str(path)!r}: header says shape {shape} but holds {arr.size} values")
    return arr.reshape(shape)


TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def _token_npz(path: Path, arrays: dict) -> Dataset:
    """A token data set from an .npz with ``input_ids`` (n, seq), optional ``attention_mask`` /
    ``token_type_ids`` of the same shape, and labels ``y``."""
    if "y" not in arrays:
        raise _error(f"dataset {str(path)!r} holds input_ids but no labels 'y'; has {sorted(arrays)}")
    return tokens_dataset({k: arrays[k] for k in TOKEN_KEYS if k in arrays}, arrays["y"], name=path.stem,
                          source=str(path))


def tokens_dataset(inputs, y, *, name: str = "tokens", source: str = "", pad_id: int = 0) -> Dataset:
    """A Dataset of token inputs for a Hugging Face (or any keyword-input) model.

    Parameters
    ----------
    inputs : dict of arrays, or iterable of dicts
        ``{"input_ids": (n, seq) int, "attention_mask": (n, seq), "token_type_ids": (n, seq)}``
        (the mask and type ids optional), or an iterable of such dicts (e.g. tokenizer outputs,
        one per batch or per sample), padded to the longest sequence with ``pad_id`` and mask 0.
    y : array of shape (n,)
        Labels of any kind (mapped to 0..k-1 as in :func:`load_npz`).
    name, source : str
    pad_id : int, default 0

    Returns
    -------
    Dataset
        ``X`` is ``input_ids`` (n, seq) int64; ``meta["attention_mask"]`` (always present: ones
        where no mask was given) and ``meta["token_type_ids"]`` are per-sample arrays, sliced by
        :meth:`Dataset.subset`; ``meta["inputs"] == "tokens"``. :func:`model_inputs` gives the
        keyword inputs for :func:`nichelab.capture.capture`.

    Raises
    ------
    NichelabError
        No ``input_ids``, non-integer ids, arrays of different shapes, labels of the wrong length.
    """
    where = f" in {source!r}" if source else ""
    if not isinstance(inputs, dict):
        items = [dict(item) for item in inputs]
        if not items or any("input_ids" not in it for it in items):
            raise _error(f"token inputs{where} must be dicts holding 'input_ids'; found keys "
                                f"{sorted(items[0]) if items else 'nothing'}")
        rows = {k: [] for k in TOKEN_KEYS if k in items[0]}
        for it in items:
            for k in rows:
                a = np.asarray(it[k].cpu() if hasattr(it[k], "cpu") else it[k])
                rows[k].extend(a[None] if a.ndim == 1 else a)
        seq = max(len(r) for r in rows["input_ids"])
        inputs = {k: np.stack([np.pad(np.asarray(r), (0, seq - len(r)), constant_values=pad_id if k == "input_ids" else 0)
                               for r in v]) for k, v in rows.items()}
        if "attention_mask" not in inputs:
            inputs["attention_mask"] = np.stack([np.pad(np.ones(len(r), np.int64), (0, seq - len(r)))
                                                 for r in rows["input_ids"]])
    ids = np.asarray(inputs.get("input_ids"))
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise _error(f"input_ids{where} must be integer token ids of shape (n, seq); found dtype {ids.dtype}, "
                            f"shape {ids.shape}")
    meta = {"source": source, "inputs": "tokens"}
    for k in TOKEN_KEYS[1:]:
        if k in inputs:
            a = np.asarray(inputs[k])
            if a.shape != ids.shape:
                raise _error(f"{k}{where} must have the shape of input_ids {ids.shape}; found {a.shape}")
            meta[k] = a.astype(np.int64)
    meta.setdefault("attention_mask", np.ones(ids.shape, np.int64))
    labels, names, mapping = _labels(np.asarray(y), "dataset", source)
    meta["label_mapping"] = mapping
    return Dataset(ids.astype(np.int64), labels, names, name, meta)


def model_inputs(data: Dataset, idx=None):
    """The model inputs of a Dataset: ``X`` (or ``X[idx]``) for ordinary data; for token data the
    dict ``{"input_ids": ..., "attention_mask": ..., "token_type_ids": ...}`` that
    :func:`nichelab.capture.capture` and :func:`nichelab.interventions.ablate_units` pass as
    keyword inputs."""
    sel = slice(None) if idx is None else idx
    if data.meta.get("inputs") != "tokens":
        return data.X[sel]
    out = {"input_ids": data.X[sel]}
    for k in TOKEN_KEYS[1:]:
        if isinstance(data.meta.get(k), np.ndarray):
            out[k] = data.meta[k][sel]
    return out


def load_idx(images: str | Path, labels: str | Path) -> Dataset:
    """MNIST-format files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``).

    Returns ``X`` (n, 1, H, W) float32 in [0, 1] and ``y`` int64.
    """
    X, y = _read_idx(Path(images)), _read_idx(Path(labels))
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise _error(f"idx images must be (n, H, W) and labels (n,); got {X.shape} and {y.shape}")
    return Dataset((X[:, None] / 255.0).astype(np.float32), y.astype(np.int64), [str(i) for i in range(int(y.max()) + 1)],
                   Path(images).name.split("-")[0], {"source": str(images), "image_shape": (1,) + X.shape[1:]})


def load_dataset(name: str, *, label_column: str = "label", image_size: int | None = None,
                 images: bool = False, channels="auto", normalize: str = "unit") -> Dataset:
    """A built-in dataset by name, or a user's file or folder by path.

    Parameters
    ----------
    name : str
        ``blobs``, ``digits``, ``faces``, ``parts``; or a path to ``.npz``, ``.csv``, an image
        folder, or ``IMAGES,LABELS`` idx files.
    images : bool, default False
        For digits: return (n, 1, 8, 8) images instead of (n, 64) vectors.
    image_size, channels, normalize
        For an image folder, as in :func:`load_image_folder` (``size``, ``channels``, ``normalize``).

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
        if a.endswith(".npy") and b.endswith(".npy"):
            return load_npy_pair(a, b)
        return load_idx(a, b)
    path = Path(name)
    if path.is_dir():
        return load_image_folder(path, size=image_size, channels=channels, normalize=normalize)
    if path.suffix == ".npz" and path.exists():
        return load_npz(path)
    if path.suffix == ".csv" and path.exists():
        return load_csv(path, label_column)
    raise _error(f"dataset must be one of {', '.join(BUILTIN_DATASETS)} or an existing .npz/.csv file, "
                        f"image folder or IMAGES,LABELS idx pair; got {name!r}{suggest(name, BUILTIN_DATASETS)}")
