"""Which objects this replica owns when the operator is split into shards (``--shards N --shard K``).

A namespace belongs to shard ``sha256(namespace) mod N``: every object of a namespace is owned by exactly one
shard, whatever the other shards are told, because the split is a function of the name alone (never Python's
``hash()``, which differs between processes). Only the owning shard reconciles an object (its PrometheusRule and
AnalysisTemplate), evaluates it and writes its status and Events; the others keep nothing of it but, for
Objectives, the status its owner wrote, so a parent with ``spec.children.fromNamespaces`` rolls up children
that live in another shard. Each shard has its own kopf peering and Lease (``<name>-shard-<K>``), so a standby
of one shard takes over from that shard's active replica without the other shards noticing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=65536)  # asked for every object every cycle; namespaces are few
def shard_of(namespace: str, shards: int) -> int:
    """The shard (0 .. shards-1) that owns ``namespace``: the first 8 bytes of its SHA-256, modulo ``shards``."""
    digest = hashlib.sha256(namespace.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def check_shard(shards: int, shard: int) -> None:
    """ValueError naming the flag when ``--shards``/``--shard`` cannot describe a shard."""
    if shards < 1:
        raise ValueError(f"--shards {shards} (OKR_SHARDS): use 1 or more (1: no sharding)")
    if shards == 1 and shard > 0:
        raise ValueError(f"--shard {shard} (OKR_SHARD): set --shards (OKR_SHARDS) to {shard + 1} or more as well")
    if not 0 <= shard < shards:
        raise ValueError(f"--shard {shard} (OKR_SHARD): use 0 to {shards - 1} with --shards {shards}")


@dataclass(frozen=True)
class Shard:
    """This replica's shard: ``index`` of ``count`` (count 1: it owns everything)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        check_shard(self.count, self.index)

    @property
    def sharded(self) -> bool:
        return self.count > 1

    def owns(self, namespace: str | None) -> bool:
        """Whether objects of ``namespace`` are this shard's (cluster-scoped ones, never ours to split, are)."""
        return not self.sharded or shard_of(namespace or "default", self.count) == self.index

    def name(self, base: str) -> str:
        """``base`` for this shard: unchanged without sharding, else ``<base>-shard-<index>``."""
        return f"{base}-shard-{self.index}" if self.sharded else base

    @property
    def label(self) -> str:
        """How logs and metrics name the shard, e.g. ``0/2``."""
        return f"{self.index}/{self.count}"
