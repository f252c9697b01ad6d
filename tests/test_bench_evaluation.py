"""bench/evaluation.py measures what it says: every object evaluated and written once, then steady cycles with
nothing to write, at a query count that does not depend on the object count."""

from __future__ import annotations

from bench import evaluation


def test_the_in_process_evaluation_writes_once_then_nothing():
    small, larger = (evaluation.measure(n, cycles=2) for n in (10, 50))
    assert small["first_cycle_writes"] == 10 and larger["first_cycle_writes"] == 50
    assert small["status_writes_per_cycle"] == larger["status_writes_per_cycle"] == 0
    assert small["queries_per_cycle"] == larger["queries_per_cycle"] > 0
    assert larger["cpu_seconds_per_cycle"] > 0


def test_every_batched_member_is_answered():
    samples = evaluation.answer(
        '(\nlabel_replace(label_replace((up), "okr_name", "a", "", ""), "okr_namespace", "n", "", "")\nor\n'
        'label_replace(label_replace((up), "okr_name", "b", "", ""), "okr_namespace", "n", "", "")\n)'
    )
    assert [(s.labels["okr_namespace"], s.labels["okr_name"], s.value) for s in samples] == [
        ("n", "a", 0.001),
        ("n", "b", 0.001),
    ]
