"""runtime.memory: freed heap pages really go back to the kernel (glibc only)."""

from __future__ import annotations

import pytest

from okr_operator.runtime import memory

pytestmark = pytest.mark.skipif(memory._libc() is None, reason="not glibc: nothing to tune")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_limit_arenas_is_accepted():
    assert memory.limit_arenas() is True


def test_release_returns_freed_pages_inside_the_heap():
    # 1 KiB chunks (above pymalloc's 512 B, so glibc's malloc serves them); every 64th stays alive so the
    # heap cannot shrink from its top by itself: only malloc_trim gives the pages in between back.
    chunks = [bytearray(1024) for _ in range(200_000)]
    kept = chunks[::64]
    del chunks
    before = _rss_mb()
    assert memory.release() is True
    after = _rss_mb()
    assert before - after > 50, f"RSS {before:.0f} MB -> {after:.0f} MB"
    assert len(kept) == 3125
