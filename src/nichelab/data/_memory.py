"""Memory helpers for large, memory-mapped data: blockwise checks, and reading without keeping pages.

A memory-mapped array (``np.load(mmap_mode="r")``, :func:`nichelab.data.loaders.npz_member_mmap`)
is read from the file page by page as it is used; the pages read stay *mapped* into the process
(and count in its resident set size) until the mapping is closed or the process tells the kernel
it no longer needs them. :func:`release` does the latter (``madvise(MADV_DONTNEED)``): the pages
leave this process's resident set but stay in the operating system's file cache, so reading them
again costs a page fault, not a disk read. Streaming passes over the data call it every few
megabytes, so a 314 MB file passed through in batches never holds more than a few batches.

Scattered rows (a shuffled minibatch, a held-out split, a stratified subset) are read with
:func:`take`: positioned reads (``os.preadv``) from the file into a new array, so no page of the
map enters the resident set at all. Reading them through the map instead costs far more than the
rows: on Linux 6.x with large page-cache folios (ext4), one fault maps the whole folio around it
(measured: the first 256 shuffled rows of a 314 MB file, 0.8 MB of data, mapped 145 MB).
"""
from __future__ import annotations

import mmap
import os

import numpy as np

__all__ = ["mapping_of", "release", "take", "gather", "count_nonfinite", "Releaser", "BLOCK_BYTES"]

#: Bytes read from a memory map between two releases of its pages (and the block size of blockwise checks).
BLOCK_BYTES = 32 * 2**20


def mapping_of(a) -> mmap.mmap | None:
    """The ``mmap`` object under a memory-mapped array or any view of one (basic slices, ``np.asarray``), else None.

    Copies (fancy indexing, ``astype``) are not mapped and give None.
    """
    seen = 0
    while a is not None and seen < 64:
        m = getattr(a, "_mmap", None)
        if isinstance(m, mmap.mmap):
            return m
        if isinstance(a, mmap.mmap):
            return a
        a = getattr(a, "base", None)
        seen += 1
    return None


def release(a) -> None:
    """Drop the pages of the memory map under ``a`` from this process's resident set (no-op for ordinary arrays).

    The data is unchanged: the next read of those pages maps them again from the file cache.
    """
    m = mapping_of(a)
    if m is None or not hasattr(mmap, "MADV_DONTNEED") or m.closed:
        return
    try:
        m.madvise(mmap.MADV_DONTNEED)
    except (OSError, ValueError):       # not supported here: the pages simply stay resident
        pass


class Releaser:
    """Count bytes read from ``a`` and :func:`release` its pages every :data:`BLOCK_BYTES` (a no-op when not mapped)."""

    #: Bytes a scattered row may bring into the resident set beyond its own: a page fault maps the pages
    #: around the faulting one too (Linux "fault-around", 64 KB by default), so callers reading rows
    #: scattered over the file count this much per row.
    PAGE = 65536

    def __init__(self, a):
        self.a = a if mapping_of(a) is not None else None
        self.pending = 0

    def read(self, nbytes: int) -> None:
        if self.a is None:
            return
        self.pending += int(nbytes)
        if self.pending >= BLOCK_BYTES:
            release(self.a)
            self.pending = 0

    def close(self) -> None:
        if self.a is not None and self.pending:
            release(self.a)
            self.pending = 0


def _file_rows(X) -> tuple[str, int, int] | None:
    """(file name, byte offset of row 0, bytes per row) when ``X`` is a C-contiguous view of an ``np.memmap``
    (whole rows, rows adjacent in the file), else None."""
    if not isinstance(X, np.ndarray) or X.ndim < 1 or not X.flags.c_contiguous or X.dtype.hasobject:
        return None
    base, seen = X, 0
    while base is not None and not isinstance(base, np.memmap) and seen < 64:
        base, seen = getattr(base, "base", None), seen + 1
    name, mm = getattr(base, "filename", None), getattr(base, "_mmap", None)
    if name is None or not isinstance(mm, mmap.mmap) or mm.closed:
        return None
    # numpy maps the file from ``offset`` rounded down to the allocation granularity (slices of a memmap keep
    # the parent's ``offset``), so a row's place in the file is its distance from the map's first byte + that
    start = int(base.offset) - int(base.offset) % mmap.ALLOCATIONGRANULARITY
    head = np.frombuffer(mm, dtype=np.uint8, count=1).__array_interface__["data"][0]
    pos = X.__array_interface__["data"][0] - head
    if pos < 0 or pos + X.nbytes > len(mm):
        return None
    return name, start + pos, X[:1].nbytes if len(X) else 0


def take(X: np.ndarray, index) -> np.ndarray:
    """``X[index]`` (a new C-contiguous array) for a 1-D integer ``index``; a memory-mapped ``X`` is read with
    positioned file reads (``os.preadv``, runs of consecutive rows in one read), so none of its pages enters
    the resident set. Any other array (or a platform without ``os.preadv``) is indexed as usual.

    The same values as ``X[index]`` (the bytes of the file; negative indices count from the end).

    Raises
    ------
    IndexError
        An index outside ``[-len(X), len(X))`` (as numpy does).
    """
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    info = _file_rows(X) if hasattr(os, "preadv") else None
    if info is None or len(index) == 0:
        return np.ascontiguousarray(X[index])
    name, offset, row = info
    if index.min() < -len(X) or index.max() >= len(X):
        raise IndexError(f"index out of range for {len(X)} rows (min {index.min()}, max {index.max()})")
    index = np.where(index < 0, index + len(X), index)
    out = np.empty((len(index),) + tuple(X.shape[1:]), dtype=X.dtype)
    flat = out.reshape(len(index), -1).view(np.uint8).reshape(-1)
    cuts = np.flatnonzero(np.diff(index) != 1) + 1          # runs of consecutive rows: one read each
    starts = np.concatenate([[0], cuts]).tolist()
    stops = np.concatenate([cuts, [len(index)]]).tolist()
    first = index[starts].tolist()
    fd = os.open(name, os.O_RDONLY)
    try:
        for a, b, r in zip(starts, stops, first):
            view, pos, done = memoryview(flat[a * row:b * row]), offset + r * row, 0
            while done < len(view):
                got = os.preadv(fd, [view[done:]], pos + done)
                if got <= 0:            # the file is shorter than the map says: read through the map
                    out[a:b] = X[r:r + (b - a)]
                    break
                done += got
    finally:
        os.close(fd)
    return out


def gather(X: np.ndarray, index, *, rows: int = 512) -> np.ndarray:
    """``X[index]`` (a new array); a memory-mapped ``X`` is read with :func:`take` (no page of the map kept) or,
    when that is not possible, in blocks of ``rows`` rows with its pages released as they are read (a one-shot
    ``X[index]`` of scattered rows maps nearly the whole file first).

    The same values as ``X[index]``.
    """
    index = np.asarray(index, dtype=np.int64)
    if mapping_of(X) is None:
        return X[index]
    if hasattr(os, "preadv") and _file_rows(X) is not None:
        return take(X, index)
    out = np.empty((len(index),) + tuple(X.shape[1:]), dtype=X.dtype)
    rel = Releaser(X)
    row = X[:1].nbytes
    for start in range(0, len(index), rows):
        out[start:start + rows] = X[index[start:start + rows]]
        rel.read((row + Releaser.PAGE) * len(index[start:start + rows]))
    rel.close()
    return out


def count_nonfinite(X: np.ndarray) -> int:
    """Number of NaN or infinite values of a float array, counted in row blocks of about :data:`BLOCK_BYTES`.

    The same count as ``X.size - np.isfinite(X).sum()`` without an (n, ...) bool copy; the pages of a
    memory-mapped ``X`` are released as the blocks are read.
    """
    X = np.asarray(X)
    if X.size == 0 or not np.issubdtype(X.dtype, np.inexact):
        return 0
    rows = max(1, BLOCK_BYTES // max(1, X[:1].nbytes))
    bad = 0
    rel = Releaser(X)
    for start in range(0, len(X), rows):
        block = X[start:start + rows]
        bad += int(block.size - np.count_nonzero(np.isfinite(block)))
        rel.read(block.nbytes)
    rel.close()
    return bad
