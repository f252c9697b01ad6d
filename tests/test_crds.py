"""The CRDs in crds/ are generated from the models and say what `kubectl` users need."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from okr_operator.api import KINDS
from okr_operator.api.crd import custom_resource_definition, render_crds
from okr_operator.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent


def test_crds_directory_is_up_to_date():
    result = CliRunner().invoke(cli, ["crds", "-o", str(ROOT / "crds"), "--check"])
    assert result.exit_code == 0, f"{result.output}crds/ is stale: run `make crds` and commit"
    assert sorted(p.name for p in (ROOT / "crds").glob("*.yaml")) == sorted(render_crds())


def crd(kind):
    return custom_resource_definition(KINDS[kind])


def walk(schema, path=""):
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{name}")
    if "items" in schema:
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


def test_names_short_names_and_category():
    assert crd("Objective")["spec"]["names"]["shortNames"] == ["obj"]
    assert crd("KeyResult")["spec"]["names"]["shortNames"] == ["kr"]
    assert crd("ServiceLevelObjective")["spec"]["names"]["shortNames"] == ["slo"]
    for kind in KINDS:
        spec = crd(kind)["spec"]
        assert spec["names"]["categories"] == ["okr"]
        assert spec["scope"] == "Namespaced"
        assert spec["versions"][0]["subresources"] == {"status": {}}


def test_printer_columns():
    columns = {k: [c["name"] for c in crd(k)["spec"]["versions"][0]["additionalPrinterColumns"]] for k in KINDS}
    assert columns["Objective"][:4] == ["Period", "Progress", "Score", "State"]
    assert columns["ServiceLevelObjective"] == [
        "Target",
        "Window",
        "SLI",
        "Budget-Left",
        "State",
        "Groups",
        "Worst-Group",
        "Age",
    ]
    assert columns["KeyResult"][:5] == ["Objective", "Current", "Target", "Progress", "State"]


def test_schema_is_structural():
    """No $ref/anyOf/oneOf, a type everywhere, no additionalProperties next to properties."""
    for kind in KINDS:
        root = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        text = yaml.safe_dump(root)
        assert "$ref" not in text and "anyOf" not in text and "oneOf" not in text
        for path, node in walk(root):
            assert "type" in node, f"{kind}{path} has no type"
            assert not ("properties" in node and "additionalProperties" in node), path
            assert "title" not in node, path


def test_every_spec_field_is_described_for_kubectl_explain():
    for kind in KINDS:
        spec = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        for path, node in walk(spec, ".spec"):
            if path.endswith("{}"):
                continue  # values of a map (labels) are explained by the map's description
            assert node.get("description"), f"{kind}{path} has no description"


def test_cross_field_rules_are_cel():
    slo_spec = crd("ServiceLevelObjective")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    indicator = slo_spec["properties"]["spec"]["properties"]["indicator"]
    assert indicator["x-kubernetes-validations"][0]["message"] == "set exactly one of ratio, latency or boolGauge"
    target = slo_spec["properties"]["spec"]["properties"]["target"]
    # above 0; at most 99.99999 so that the budget (100 - target) stays measurable (CEL: our own message)
    assert (target["minimum"], target["exclusiveMinimum"]) == (0, True)
    assert target["x-kubernetes-validations"][0]["rule"] == "self <= 99.99999"
    kr_spec = crd("KeyResult")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    messages = [r["message"] for r in kr_spec["x-kubernetes-validations"]]
    assert "baseline and target must differ" in messages
    assert "min must not be greater than max" in messages


def test_conditions_are_a_map_keyed_by_type():
    status = crd("Objective")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    conditions = status["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
