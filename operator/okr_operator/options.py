"""Settings as text, one way for both CLIs and the environment.

* ``parse_key_values``: ``KEY=VALUE`` items (``--rule-label`` of okrctl and of the operator, and the
  comma-separated ``OKR_RULE_LABELS``).
* ``prometheus_options``: the Prometheus connection flags of ``okrctl evaluate`` and ``okr-operator run``,
  generated from :class:`PrometheusSettings` so both CLIs use the same names: ``--prometheus-<field>``
  (``--prometheus-url``, ``--prometheus-tenant``, ...), the environment variable ``OKR_PROMETHEUS_<FIELD>``.
  okrctl's earlier names (``--prometheus``, ``--tenant``, ``--timeout``, ...) stay as aliases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import click

from .prometheus.config import PrometheusSettings

F = TypeVar("F", bound=Callable[..., Any])
PREFIX = "prometheus_"  # parameter names: prometheus_<field>, as Settings overrides take them


def parse_key_values(items: Iterable[str], *, example: str = "release=kube-prometheus-stack") -> dict[str, str]:
    """``KEY=VALUE`` items, each possibly several separated by commas, as a dict; ValueError names a bad one."""
    pairs: dict[str, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"{part!r}: use KEY=VALUE, e.g. {example}")
            pairs[key.strip()] = value.strip()
    return pairs


def key_values_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    """click callback: a repeatable ``KEY=VALUE`` option as a dict (exit 2 naming the option on a bad item)."""
    try:
        return parse_key_values(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dataclass(frozen=True)
class _Flag:
    field: str
    help: str
    aliases: tuple[str, ...] = ()
    metavar: str | None = None

    @property
    def file(self) -> bool:
        return self.field.endswith("_file")


_FLAGS = (
    _Flag("url", "Prometheus (or Thanos/Mimir/Cortex) URL.", ("--prometheus",), "URL"),
    _Flag("tenant", "X-Scope-OrgID header (Mimir, Cortex, Thanos receive).", ("--tenant",)),
    _Flag("bearer_token_file", "File with a bearer token.", ("--bearer-token-file",), "PATH"),
    _Flag("basic_auth_username", "Basic auth user.", ("--basic-auth-username",)),
    _Flag("basic_auth_password_file", "File with the basic auth password.", ("--basic-auth-password-file",), "PATH"),
    _Flag("ca_file", "CA bundle for TLS.", ("--ca-file",), "PATH"),
    _Flag("insecure_skip_verify", "Do not verify the server certificate.", ("--insecure-skip-verify",)),
    _Flag("timeout_seconds", "Seconds to wait for one answer.", ("--timeout",), "SECONDS"),
    _Flag("connect_timeout_seconds", "Seconds to wait for a connection.", (), "SECONDS"),
    _Flag("retries", "Retries of quick failures (refused connections, 429/502/503/504).", (), "N"),
)


def flag_name(field_name: str) -> str:
    """The flag of a PrometheusSettings field, e.g. ``--prometheus-url``."""
    return "--prometheus-" + field_name.replace("_", "-")


def env_name(field_name: str) -> str:
    """The environment variable of a PrometheusSettings field, e.g. ``OKR_PROMETHEUS_URL``."""
    return f"OKR_PROMETHEUS_{field_name.upper()}"


def prometheus_options(
    *,
    defaults: dict[str, Any] | None = None,
    required: tuple[str, ...] = (),
    env_help: bool = False,
    aliases: bool = False,
) -> Callable[[F], F]:
    """Decorator adding one ``--prometheus-<field>`` option per PrometheusSettings field.

    ``defaults``: shown defaults by field name (without them an unset flag is None: the caller's defaults
    apply); ``required``: fields that must be given; ``env_help``: name the environment variable in the help;
    ``aliases``: also accept okrctl's earlier names (``--prometheus``, ``--tenant``, ``--timeout``, ...).
    """
    types = {f.name: f.type for f in fields(PrometheusSettings)}
    defaults = defaults or {}

    def decorate(func: F) -> F:
        for flag in reversed(_FLAGS):
            kind = str(types[flag.field])
            extra: dict[str, Any] = {}
            if "bool" in kind:
                extra["is_flag"] = True
                if flag.field in defaults:
                    extra["default"] = defaults[flag.field]
                else:  # unset is None (not False), so it does not override the environment
                    extra["callback"] = lambda ctx, param, value: value or None
            else:
                extra["type"] = (
                    click.Path(exists=True, dir_okay=False)
                    if flag.file
                    else (float if "float" in kind else int if "int" in kind else str)
                )
                extra["metavar"] = flag.metavar
                if flag.field in defaults:
                    extra["default"], extra["show_default"] = defaults[flag.field], True
            help_text = flag.help + (f" Env: {env_name(flag.field)}." if env_help else "")
            option = click.option(
                flag_name(flag.field),
                *(flag.aliases if aliases else ()),
                PREFIX + flag.field,
                required=flag.field in required,
                help=help_text,
                **extra,
            )
            func = option(func)
        return func

    return decorate


def prometheus_settings(values: dict[str, Any]) -> PrometheusSettings:
    """PrometheusSettings from the ``prometheus_<field>`` parameters (unset ones keep their defaults)."""
    given = {
        f.name: values[PREFIX + f.name] for f in fields(PrometheusSettings) if values.get(PREFIX + f.name) is not None
    }
    return PrometheusSettings(**given)
