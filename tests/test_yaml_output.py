"""What okrctl writes reads back as the same strings in every YAML reader users have: kubectl, Argo CD and
prometheus-operator read YAML 1.2 / go-yaml, where ``1234e567`` is a number and ``y`` a boolean, though PyYAML
(YAML 1.1) writes both plain. A tile's indicator label is 8 hex digits and can look like a number."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from ruamel.yaml import YAML

from okr_operator import yamlio
from okr_operator.api import ServiceLevelObjective
from okr_operator.generate import RenderOptions, objects_for_slo
from okr_operator.slo.tiles import indicator_hash

TRICKY = [
    "1234e567",
    "12e4",
    "1E-3",
    "12345678",
    "0o17",
    "0x1f",
    "0b101",
    "1_000",
    ".5",
    "1.",
    "y",
    "N",
    "~",
    "null",
    ".inf",
    "-.Inf",
    ".NaN",
    "true",
    "no",
    "on",
]
PLAIN = ["5m", "sum(rate(x[5m]))", "e123", "abc", "1e", "0o9"]


def yaml12(text: str) -> object:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@pytest.mark.parametrize("value", TRICKY + PLAIN)
def test_strings_read_back_as_strings_in_yaml_1_1_and_1_2(value):
    text = yamlio.dump({"v": value})
    assert yaml.safe_load(text) == {"v": value}
    assert yaml12(text) == {"v": value}


@pytest.mark.parametrize("value", PLAIN)
def test_other_strings_stay_plain(value):
    assert yamlio.dump({"v": value}) == f"v: {value}\n"


def slo(service: str) -> ServiceLevelObjective:
    return ServiceLevelObjective.model_validate(
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": "s", "namespace": "team"},
            "spec": {
                "service": service,
                "target": 99.9,
                "indicator": {
                    "ratio": {
                        "errors": f'sum(rate(http_requests_total{{service="{service}",code="500"}}[{{{{window}}}}]))',
                        "total": f'sum(rate(http_requests_total{{service="{service}"}}[{{{{window}}}}]))',
                    }
                },
            },
        }
    )


def test_an_indicator_hash_that_looks_like_a_number_is_written_as_a_string():
    service = next(
        f"svc-{i}" for i in range(100_000) if re.fullmatch(r"[0-9]+e[0-9]+", indicator_hash(slo(f"svc-{i}").spec))
    )
    model = slo(service)
    text = yamlio.dump_all(objects_for_slo(model, RenderOptions()))
    docs = list(YAML(typ="safe", pure=True).load_all(io.StringIO(text)))
    labels = [
        rule["labels"]["indicator"]
        for doc in docs
        if doc and doc.get("kind") == "PrometheusRule"
        for group in doc["spec"]["groups"]
        for rule in group["rules"]
        if "indicator" in rule.get("labels", {})
    ]
    assert len(labels) == 2 and all(label == indicator_hash(model.spec) for label in labels)
