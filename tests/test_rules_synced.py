"""RulesSynced after an apply says whether a Prometheus loads the rule; reselect() re-decides it alone."""

from datetime import UTC, datetime

from okr_operator.generated import generated_labels
from okr_operator.rule_selection import PrometheusSelectors, SelectionView
from okr_operator.runtime.reconcile import _synced_condition, reselect

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
KPS = {"matchLabels": {"release": "kube-prometheus-stack"}}
LABELS = generated_labels("checkout-availability", {})
WANTS_RELEASE = SelectionView((PrometheusSelectors("monitoring", "k8s", KPS, {}),))
TAKES_ALL = SelectionView((PrometheusSelectors("monitoring", "k8s", {}, {}),))


def slo(reason: str = "Applied", status: str = "True", message: str = "applied PrometheusRule x") -> dict:
    return {
        "kind": "ServiceLevelObjective",
        "metadata": {"name": "checkout-availability", "namespace": "team-a", "generation": 3},
        "status": {
            "observedGeneration": 2,
            "generated": {
                "prometheusRule": "checkout-availability-slo",
                "analysisTemplate": "checkout-availability-gate",
            },
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ready", "lastTransitionTime": "2026-11-01T00:00:00Z"},
                {
                    "type": "RulesSynced",
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastTransitionTime": "2026-11-01T00:00:00Z",
                },
            ],
        },
    }


def test_generated_labels_are_the_rule_labels_plus_ours():
    assert generated_labels("s", {"release": "x"}) == {
        "release": "x",
        "app.kubernetes.io/managed-by": "okr-operator",
        "okr.dev/owner": "s",
    }


def test_a_prometheus_that_wants_other_labels_turns_rules_synced_false():
    done = reselect(slo(), WANTS_RELEASE, LABELS, NOW)
    assert done is not None
    synced = done.status["conditions"][0]
    assert (synced["status"], synced["reason"]) == ("False", "NotSelected")
    assert synced["message"].startswith(
        "applied PrometheusRule checkout-availability-slo, AnalysisTemplate checkout-availability-gate; "
        "no Prometheus selects PrometheusRule team-a/checkout-availability-slo"
    )
    assert synced["lastTransitionTime"] == "2026-11-20T10:00:00Z"
    # the reconcile-owned part is written whole; it does not claim generation 3: status.observedGeneration
    # is the evaluation's (it stays 2 until figures of generation 3 exist), so the reconcile leaves it out
    assert "observedGeneration" not in done.status
    assert done.status["generated"] == slo()["status"]["generated"]
    assert [c["type"] for c in done.status["conditions"]] == ["RulesSynced"]
    assert [(reason, warning) for reason, _, warning in done.events] == [("RulesNotSelected", True)]


def test_nothing_is_written_when_the_verdict_did_not_change():
    first = reselect(slo(), WANTS_RELEASE, LABELS, NOW)
    synced = first.status["conditions"][0]
    again = slo(synced["reason"], synced["status"], synced["message"])
    assert reselect(again, WANTS_RELEASE, LABELS, NOW) is None


def test_selected_again_is_true_with_an_event_and_keeps_no_old_transition_time():
    not_selected = reselect(slo(), WANTS_RELEASE, LABELS, NOW).status["conditions"][0]
    body = slo(not_selected["reason"], not_selected["status"], not_selected["message"])
    done = reselect(body, TAKES_ALL, LABELS, NOW)
    synced = done.status["conditions"][0]
    assert (synced["status"], synced["reason"]) == ("True", "Selected")
    assert synced["message"] == (
        "applied PrometheusRule checkout-availability-slo, AnalysisTemplate checkout-availability-gate; "
        "loaded by Prometheus monitoring/k8s"
    )
    assert [reason for reason, _, _ in done.events] == ["RulesSynced"]


def test_only_applied_rules_are_re_decided():
    assert reselect(slo("CRDNotInstalled", "False"), WANTS_RELEASE, LABELS, NOW) is None
    assert reselect(slo("InvalidSpec", "False"), WANTS_RELEASE, LABELS, NOW) is None
    body = slo()
    del body["status"]["generated"]
    assert reselect(body, WANTS_RELEASE, LABELS, NOW) is None


def test_synced_condition_without_a_view_is_what_it_always_was():
    assert _synced_condition([], ["PrometheusRule r"]) == {
        "type": "RulesSynced",
        "status": "True",
        "reason": "Applied",
        "message": "applied PrometheusRule r",
    }
    assert _synced_condition([("ApplyFailed", "boom")], ["PrometheusRule r"], ("Selected", "x"))["status"] == "False"
