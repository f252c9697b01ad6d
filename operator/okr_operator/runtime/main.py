"""``okr-operator run``: start the kopf operator with settings from flags and ``OKR_*`` environment variables."""

from __future__ import annotations

import logging
import zlib
from typing import Any

import click

from .. import __version__
from ..options import key_values_option, prometheus_options
from .settings import from_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="okr-operator")
def cli() -> None:
    """The okr-operator: OKR and SLO resources -> PrometheusRules, AnalysisTemplates and status."""


@cli.command()
@prometheus_options(env_help=True)
@click.option("--interval", help="Evaluation interval, e.g. 30s. Env: OKR_INTERVAL.")
@click.option(
    "--namespace", "namespaces", multiple=True, help="Watch only these namespaces (repeatable). Default: all."
)
@click.option(
    "--rule-label",
    "rule_labels",
    multiple=True,
    metavar="KEY=VALUE",
    callback=key_values_option,
    help="Label for generated PrometheusRules (repeatable). Env: OKR_RULE_LABELS (comma-separated).",
)
@click.option(
    "--sli-source",
    type=click.Choice(["auto", "raw", "recorded"]),
    help="auto (default): our recordings where they cover a window, raw series elsewhere; raw; recorded.",
)
@click.option("--metrics-port", type=int, help="Port of /metrics and /healthz. Env: OKR_METRICS_PORT.")
@click.option("--web/--no-web", default=None, help="Serve the read-only web view (default: on). Env: OKR_WEB.")
@click.option("--web-port", type=int, help="Port of the web view. Env: OKR_WEB_PORT (default 8081).")
@click.option("--standalone", is_flag=True, default=None, help="One replica: no peering, no leader lease.")
@click.option(
    "--priority", type=int, help="kopf peering priority (distinct per replica; default derived from POD_NAME)."
)
@click.option(
    "--shards",
    type=int,
    help="Split the namespaces into this many shards, one Deployment each (default 1: no split). Env: OKR_SHARDS.",
)
@click.option(
    "--shard", type=int, help="The shard this replica serves, 0 .. shards-1 (sha256 of the namespace). Env: OKR_SHARD."
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(
    namespaces: tuple[str, ...], rule_labels: dict[str, str], verbose: bool, standalone: bool | None, **flags: Any
) -> None:
    """Run the operator until interrupted."""
    import kopf

    from . import handlers  # noqa: F401  (registers the handlers)
    from .state import identity

    try:
        settings = from_env(
            namespaces=tuple(namespaces) or None,
            rule_labels=rule_labels or None,
            standalone=standalone or None,
            **flags,
        )
    except ValueError as exc:  # one line naming the setting, exit 1
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    priority = settings.priority or (zlib.crc32(identity().encode()) % 10000 + 1)
    peering: dict[str, Any] = {"standalone": True}
    if not settings.standalone:  # a named peering makes kopf require the KopfPeering CRDs (config/crd installs them)
        peering = {"peering_name": settings.peering, "priority": priority}  # per shard when sharded
    memo = kopf.Memo(settings=settings)  # the startup handler builds the Runtime from it (handlers.startup)
    kopf.run(clusterwide=not settings.namespaces, namespaces=settings.namespaces, memo=memo, **peering)


def main() -> None:
    cli(prog_name="okr-operator")


if __name__ == "__main__":
    main()
