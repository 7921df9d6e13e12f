"""Memory helpers for large, memory-mapped data: blockwise checks, and reading without keeping pages.

A memory-mapped array (``np.load(mmap_mode="r")``, :func:`nichelab.data.loaders.npz_member_mmap`)
is read from the file page by page as it is used; the pages read stay *mapped* into the process
(and count in its resident set size) until the mapping is closed or the process tells the kernel
it no longer needs them. :func:`release` does the latter (``madvise(MADV_DONTNEED)``): the pages
leave this process's resident set but stay in the operating system's file cache, so reading them
again costs a page fault, not a disk read. Streaming passes over the data call it every few
megabytes, so a 314 MB file passed through in batches never holds more than a few batches.
"""
from __future__ import annotations

import mmap

import numpy as np

__all__ = ["mapping_of", "release", "gather", "count_nonfinite", "Releaser", "BLOCK_BYTES"]

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


def gather(X: np.ndarray, index, *, rows: int = 512) -> np.ndarray:
    """``X[index]`` (a new array), gathered in blocks of ``rows`` rows; the pages of a memory-mapped ``X`` are
    released as they are read (a one-shot ``X[index]`` of scattered rows maps nearly the whole file first).

    The same values as ``X[index]``.
    """
    index = np.asarray(index, dtype=np.int64)
    if mapping_of(X) is None:
        return X[index]
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
