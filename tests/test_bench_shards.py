"""The sharded benchmark's checks and table: every object owned by exactly one shard, no writes at steady state."""

from __future__ import annotations

from bench import report, shards


def result(owned: list[float], writes: list[float]) -> dict:
    return {
        "objects": 2000,
        "shards": 2,
        "namespaces": 20,
        "interval_seconds": 30,
        "apply_seconds": 10.0,
        "apply_to_all_status_seconds": 40.0,
        "owned": owned,
        "steady": {
            "shards": [
                {
                    "cycles": 3,
                    "queries_per_cycle": 16,
                    "status_writes_per_cycle": w,
                    "evaluation_seconds_per_cycle": 0.9,
                    "cpu_seconds_per_cycle": 0.4,
                }
                for w in writes
            ],
            "cpu_seconds_per_interval": {"kube-apiserver": 0.5},
        },
        "memory": [{"rss_mb": 120.0, "peak_rss_mb": 130.0}, {"rss_mb": 118.0, "peak_rss_mb": 128.0}],
        "edit_latency_seconds": {"edits": 5, "p50": 1.5, "p95": 2.0},
    }


def test_the_shards_must_own_every_object_between_them_and_each_some():
    def oks(owned: list[float], writes: list[float]) -> list[bool]:
        return [ok for _, ok in shards.checks(result(owned, writes))]

    assert oks([1100, 900], [0, 0]) == [True, True]
    assert oks([1100, 1000], [0, 0]) == [False, True]  # one object owned twice
    assert oks([2000, 0], [0, 0]) == [False, True]  # one shard idle
    assert oks([1100, 900], [0, 2]) == [True, False]
    assert shards.checks(None) == []


def test_the_table_has_a_row_per_shard_and_the_run_fails_on_a_bad_split():
    lines = shards.markdown(result([1100, 900], [0, 0]))
    assert lines[0] == "## The operator in 2 shards (2,000 objects, 20 namespaces)"
    assert "| 0 | 1,100 | 16 | 0 | 0.9 | 0.4 | 120 (130) |" in lines
    assert "| 1 | 900 | 16 | 0 | 0.9 | 0.4 | 118 (128) |" in lines
    assert report.failures({"shards": result([1100, 1000], [0, 0])})
