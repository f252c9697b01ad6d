"""One settings surface: the Prometheus flags of okrctl and the operator come from PrometheusSettings with the
same names; one KEY=VALUE parser for flags and the environment."""

from __future__ import annotations

from dataclasses import fields

import click
import pytest
from click.testing import CliRunner

from okr_operator.cli.main import cli as okrctl
from okr_operator.options import env_name, flag_name, parse_key_values
from okr_operator.prometheus.config import PrometheusSettings
from okr_operator.runtime.main import cli as operator_cli
from okr_operator.runtime.settings import from_env


def flags_of(command: click.Command) -> dict[str, list[str]]:
    return {p.name: list(p.opts) for p in command.params if isinstance(p, click.Option)}


def test_both_clis_have_the_same_prometheus_flags():
    ours = flags_of(okrctl.commands["evaluate"])
    operator = flags_of(operator_cli.commands["run"])
    for f in fields(PrometheusSettings):
        name = f"prometheus_{f.name}"
        assert flag_name(f.name) in ours[name], name
        assert flag_name(f.name) in operator[name], name
    assert ours["prometheus_url"] == ["--prometheus-url", "--prometheus"]  # the old okrctl name is an alias
    assert ours["prometheus_tenant"] == ["--prometheus-tenant", "--tenant"]
    assert operator["prometheus_url"] == ["--prometheus-url"]
    assert flag_name("bearer_token_file") == "--prometheus-bearer-token-file"
    assert env_name("bearer_token_file") == "OKR_PROMETHEUS_BEARER_TOKEN_FILE"


def test_the_environment_uses_the_same_names():
    env = {env_name(f.name): "1" for f in fields(PrometheusSettings) if f.type in ("int", "float")}
    env[env_name("url")] = "http://thanos:9090"
    env[env_name("insecure_skip_verify")] = "true"
    settings = from_env(env).prometheus
    assert settings.url == "http://thanos:9090" and settings.insecure_skip_verify is True
    assert settings.timeout_seconds == settings.connect_timeout_seconds == 1.0 and settings.retries == 1
    # a flag (an override) wins over the environment
    assert from_env(env, prometheus_url="http://other:9090").prometheus.url == "http://other:9090"


@pytest.mark.parametrize("old", [["--prometheus", "U", "--tenant", "t", "--timeout", "3"]])
def test_okrctl_old_flags_still_work(old, tmp_path):
    manifest = tmp_path / "empty.yaml"
    manifest.write_text("")
    result = CliRunner().invoke(okrctl, ["evaluate", "-f", str(manifest), *old, "-o", "json"])
    new_flags = ["--prometheus-url", "U", "--prometheus-tenant", "t", "--prometheus-timeout-seconds", "3"]
    new = CliRunner().invoke(okrctl, ["evaluate", "-f", str(manifest), *new_flags, "-o", "json"])
    assert result.exit_code == new.exit_code == 0, (result.output, new.output)
    assert result.output == new.output == "[]\n"


def test_key_values():
    assert parse_key_values(["release=kps", "team=sre"]) == {"release": "kps", "team": "sre"}
    assert parse_key_values(["release=kps, team = sre,"]) == {"release": "kps", "team": "sre"}
    assert parse_key_values(["empty="]) == {"empty": ""}
    assert parse_key_values([]) == {}
    for bad in ("novalue", "=x"):
        with pytest.raises(ValueError, match=f"'{bad}': use KEY=VALUE, e.g. release=kube-prometheus-stack"):
            parse_key_values([bad])


def test_rule_labels_from_flag_and_environment_parse_alike():
    assert from_env({"OKR_RULE_LABELS": "release=kps,team=sre"}).rule_labels == {"release": "kps", "team": "sre"}
    with pytest.raises(ValueError, match="OKR_RULE_LABELS='a=b,c': 'c': use KEY=VALUE"):
        from_env({"OKR_RULE_LABELS": "a=b,c"})
    result = CliRunner().invoke(okrctl, ["generate", "-f", "config/samples/", "--rule-label", "bad"])
    assert result.exit_code == 2
    assert "Invalid value for '--rule-label': 'bad': use KEY=VALUE" in result.output
