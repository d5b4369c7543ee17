"""How many threads numpy's matrix products use during a run (OpenBLAS), and why one.

A character model's products are small: an update at H = 100, B = 32 multiplies
``(32, 100)`` by ``(100, 400)`` at every step of the recurrence. Splitting
such a product across threads costs more in waking and synchronising them
than it saves, and on a machine whose cores are busy with anything else a
waiting thread stalls the whole update. Measured on two busy cores (LSTM,
H = 100, K = 25, B = 64): 13,800 characters/s with OpenBLAS's default of two
threads, 87,000 with one. So a run limits OpenBLAS to ``threads`` (1 by
default) and restores the previous number afterwards.

numpy exposes no setting for this, so :func:`blas_threads` calls OpenBLAS's
own ``openblas_set_num_threads`` through ctypes in the library numpy's wheel
ships (``numpy.libs`` on Linux, ``numpy/.dylibs`` on macOS). Where there is
no such library (numpy built on another BLAS) it does nothing; the
environment variable ``OPENBLAS_NUM_THREADS=1``, set before Python starts,
then does the same.
"""
from __future__ import annotations

import contextlib
import ctypes
from pathlib import Path

import numpy as np

__all__ = ["blas_threads"]

_SUFFIXES = ("scipy_openblas_{}_num_threads64_", "scipy_openblas_{}_num_threads",
             "openblas_{}_num_threads64_", "openblas_{}_num_threads")


def _functions():
    """OpenBLAS's (get, set) number-of-threads functions, or None."""
    root = Path(np.__file__).resolve().parent
    for folder in (root.parent / "numpy.libs", root / ".dylibs"):
        for lib in sorted(folder.glob("*openblas*")) if folder.is_dir() else ():
            try:
                dll = ctypes.CDLL(str(lib))
            except OSError:
                continue
            for pattern in _SUFFIXES:
                get = getattr(dll, pattern.format("get"), None)
                put = getattr(dll, pattern.format("set"), None)
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                    return get, put
    return None


@contextlib.contextmanager
def blas_threads(n: int | None):
    """Use ``n`` OpenBLAS threads inside the ``with`` block (None: leave as it is)."""
    found = _functions() if n is not None else None
    if found is None:
        yield
        return
    get, put = found
    before = get()
    put(int(n))
    try:
        yield
    finally:
        put(before)
