"""Keep the operator's resident memory close to what it really uses (glibc only; elsewhere a no-op).

Two known effects inflate a busy Python process's RSS far beyond its live objects:

* glibc gives each thread that allocates its own malloc arena (up to 8 per core); the Kubernetes and
  Prometheus calls run in a thread pool, so memory freed in one arena is not reused by the others.
  ``limit_arenas`` caps them (what ``MALLOC_ARENA_MAX=2`` does, set from inside the process).
* memory freed after a burst (10 000 watch events while statuses converge) stays mapped. ``release``
  (``malloc_trim(0)``) hands free pages back to the kernel; the loop calls it after every cycle.

docs/performance.md shows the effect at 10 000 objects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt() parameter number


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None  # not glibc (musl, macOS): nothing to tune
    return libc


def limit_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas; True when applied. Call early, before the thread pool starts."""
    libc = _libc()
    if libc is None:
        return False
    applied = bool(libc.mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas limited to %d: %s", arenas, applied)
    return applied


def release() -> bool:
    """Return freed heap pages to the kernel; True when some memory was released."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
