"""okrctl: OKRs and SLOs as code, offline.

okrctl validate -f config/samples/           check manifests (exit 1 with one line per problem)
okrctl generate -f config/samples/           print the PrometheusRules and AnalysisTemplates
okrctl crds [-o crds/]                        print or write the CustomResourceDefinitions
okrctl evaluate -f ... --prometheus URL       compute the status the operator would write
okrctl dashboards [-f ...] -o DIR             write the Grafana dashboards (one JSON file each)
okrctl convert --from openslo -f slos/        OpenSLO documents to ServiceLevelObjectives (and --to openslo)
okrctl report -f ... --prometheus URL -o html the period review (objectives, key results, SLOs per month)
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from .. import __version__, yamlio
from ..api import KEY_RESULT_KIND, MAINTENANCE_WINDOW_KIND, OBJECTIVE_KIND, SLO_KIND
from ..api.crd import render_crds
from ..api.loader import ManifestSet, load_manifests
from ..generate import (
    RenderOptions,
    find_objective,
    key_result_period,
    objects_for_key_result,
    objects_for_slo,
)
from ..options import key_values_option, prometheus_options, prometheus_settings
from ..prometheus.config import DEFAULT_URL
from ..prometheus.types import Sample
from .convert import convert
from .report import okrctl_report

FILES_HELP = "Manifest file, directory (read recursively) or - for stdin. Repeatable."


def _load(files: tuple[str, ...], namespace: str) -> ManifestSet:
    if not files:
        raise click.UsageError("give at least one -f FILE|DIR|-")
    return load_manifests(files, default_namespace=namespace)


def _report(manifests: ManifestSet, *, quiet_warnings: bool = False) -> None:
    for problem in manifests.problems:
        if problem.severity == "error" or not quiet_warnings:
            click.echo(str(problem), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="okrctl")
def cli() -> None:
    """okrctl: validate OKR/SLO manifests, generate what the okr-operator would create, and evaluate status."""


@cli.command()
@click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help=FILES_HELP)
@click.option("-n", "--namespace", default="default", show_default=True, help="Namespace for objects without one.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(files: tuple[str, ...], namespace: str, output: str) -> None:
    """Check manifests offline: schema, cross-field rules, PromQL syntax, references.

    Exit 0 when valid (warnings are printed), 1 with one line per problem:
    file:doc-index: kind/name: field: message
    """
    manifests = _load(files, namespace)
    if output == "json":
        click.echo(json.dumps([p.__dict__ for p in manifests.problems], indent=2))
    else:
        _report(manifests)
        if not manifests.errors:
            counts = {k: len(manifests.of_kind(k)) for k in (OBJECTIVE_KIND, KEY_RESULT_KIND, SLO_KIND)}
            summary = ", ".join(f"{n} {k}" for k, n in counts.items())
            click.echo(f"valid: {summary}")
    sys.exit(1 if manifests.errors else 0)


def generated_objects(
    manifests: ManifestSet, options: RenderOptions, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every object the operator would own for these manifests (at ``now``, for maintenance windows)."""
    objectives = manifests.of_kind(OBJECTIVE_KIND)
    windows = manifests.of_kind(MAINTENANCE_WINDOW_KIND)
    objects: list[dict[str, Any]] = []
    for slo in manifests.of_kind(SLO_KIND):
        objects.extend(objects_for_slo(slo, options, windows, now or datetime.now(UTC)))
    for kr in manifests.of_kind(KEY_RESULT_KIND):
        objective = find_objective(objectives, kr)
        if kr.spec.source.prometheus is not None and key_result_period(kr, objective) is None:
            click.echo(
                f"warning: KeyResult/{kr.metadata.name}: no period (its objective is not in the given files and "
                "spec.period is not set); its rules are not generated",
                err=True,
            )
        objects.extend(objects_for_key_result(kr, objective, options))
    return sorted(objects, key=lambda o: (o["metadata"]["namespace"], o["kind"], o["metadata"]["name"]))


@cli.command()
@click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help=FILES_HELP)
@click.option("-n", "--namespace", default="default", show_default=True, help="Namespace for objects without one.")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per object into this directory instead of printing.",
)
@click.option(
    "--rule-label",
    multiple=True,
    metavar="KEY=VALUE",
    callback=key_values_option,
    help="Label for generated PrometheusRules (what your Prometheus ruleSelector matches). Repeatable.",
)
@click.option(
    "--prometheus-address",
    default=DEFAULT_URL,
    show_default=True,
    help="Prometheus URL written into AnalysisTemplates (Argo Rollouts queries it).",
)
@click.option("--at", "at", metavar="RFC3339", help="Render maintenance windows as of this time (default: now).")
def generate(
    files: tuple[str, ...],
    namespace: str,
    output_dir: Path | None,
    rule_label: dict[str, str],
    prometheus_address: str,
    at: str | None,
) -> None:
    """Print the PrometheusRules and AnalysisTemplates the operator would create."""
    manifests = _load(files, namespace)
    if manifests.errors:
        _report(manifests, quiet_warnings=True)
        click.echo(f"{len(manifests.errors)} problem(s); nothing generated (run okrctl validate)", err=True)
        sys.exit(1)
    options = RenderOptions(rule_labels=rule_label, prometheus_address=prometheus_address)
    objects = generated_objects(manifests, options, _parse_time(at))
    if output_dir is None:
        sys.stdout.write(yamlio.dump_all(objects))
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        meta = obj["metadata"]
        path = output_dir / f"{obj['kind'].lower()}-{meta['namespace']}-{meta['name']}.yaml"
        path.write_text(yamlio.dump(obj), encoding="utf-8")
    click.echo(f"wrote {len(objects)} object(s) to {output_dir}", err=True)


@cli.command()
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per CRD into this directory instead of printing.",
)
@click.option("--check", is_flag=True, help="Exit 1 when the files in --output-dir differ from the models.")
def crds(output_dir: Path | None, check: bool) -> None:
    """Print or write the CustomResourceDefinitions generated from the API models."""
    rendered = render_crds()
    if output_dir is None:
        sys.stdout.write("---\n".join(rendered.values()))
        return
    stale = [name for name, text in rendered.items() if _read(output_dir / name) != text]
    if check:
        for name in stale:
            click.echo(f"{output_dir / name} is stale; run `make crds`", err=True)
        sys.exit(1 if stale else 0)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (output_dir / name).write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(rendered)} CRD(s) to {output_dir} ({len(stale)} changed)", err=True)


# okrctl's Prometheus flags: the operator's (--prometheus-<field>), okrctl's earlier names as aliases.
prometheus_flags = prometheus_options(defaults={"timeout_seconds": 30.0, "retries": 1}, required=("url",), aliases=True)


@cli.command()
@click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help=FILES_HELP)
@click.option("-n", "--namespace", default="default", show_default=True, help="Namespace for objects without one.")
@prometheus_flags
@click.option("--at", "at", metavar="RFC3339", help="Evaluate at this time (default: now), e.g. 2026-11-20T12:00:00Z.")
@click.option(
    "--sli-source",
    type=click.Choice(["raw", "recorded", "auto"]),
    default="raw",
    show_default=True,
    help="raw: query the indicators' own expressions (works on any Prometheus); recorded: our recording rules; "
    "auto: our recordings where they cover a window, raw elsewhere (the operator's default).",
)
@click.option("-o", "--output", type=click.Choice(["table", "json", "yaml"]), default="table", show_default=True)
def evaluate(files: tuple[str, ...], namespace: str, at: str | None, sli_source: str, output: str, **conn: Any) -> None:
    """Compute the status the operator would write, from any Prometheus, without a cluster."""
    from ..evaluation.snapshot import Snapshot
    from .tables import status_tables

    manifests = _load(files, namespace)
    if manifests.errors:
        _report(manifests, quiet_warnings=True)
        sys.exit(1)
    when = _parse_time(at)
    adapter = prometheus_adapter(conn)
    outcome = evaluate_snapshot(adapter, Snapshot.from_models(manifests.models), when, sli_source)
    objects = status_objects(outcome)
    if output == "json":
        click.echo(json.dumps(objects, indent=2))
    elif output == "yaml":
        sys.stdout.write(yamlio.dump_all(objects))
    else:
        status_tables(objects)
    if outcome.queries and outcome.query_errors == outcome.queries:
        url = conn["prometheus_url"]
        click.echo(f"error: every query to {url} failed; see the MetricsAvailable conditions", err=True)
        sys.exit(1)


def prometheus_adapter(conn: dict[str, Any]) -> Any:
    """The Prometheus adapter of the connection flags (okrctl evaluate, okrctl report)."""
    from ..prometheus.adapter import PrometheusAdapter

    return PrometheusAdapter(prometheus_settings(conn))


def evaluate_snapshot(adapter: Any, snapshot: Any, when: datetime, sli_source: str) -> Any:
    """One evaluation cycle of ``snapshot`` as of ``when`` (every query at that instant): the Outcome."""
    from ..evaluation.cycle import Evaluator

    def query(expr: str, at: datetime | None = None) -> list[Sample]:
        return adapter.query(expr, at=at or when)

    return Evaluator(query, sli_source=sli_source).evaluate(snapshot, when)


def status_objects(outcome: Any) -> list[dict[str, Any]]:
    """The statuses of an Outcome as objects (kind, name, namespace, status), sorted."""
    return [
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": ref.kind,
            "metadata": {"name": ref.name, "namespace": ref.namespace},
            "status": status,
        }
        for ref, status in sorted(outcome.statuses.items())
    ]


@cli.command()
@click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help=FILES_HELP)
@click.option("-n", "--namespace", default="default", show_default=True, help="Namespace for objects without one.")
@click.option(
    "-o",
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the dashboards, one JSON file each (created if missing).",
)
@click.option("--check", is_flag=True, help="Exit 1 when the files in --output-dir differ from what would be written.")
def dashboards(files: tuple[str, ...], namespace: str, output_dir: Path, check: bool) -> None:
    """Write the Grafana dashboards: executive, on-call, and one debug dashboard per SLO in the manifests.

    Without -f only the executive and on-call dashboards are written (they are the same for any manifests).
    """
    from ..dashboards import dashboard_text, render_dashboards

    slos: list[Any] = []
    if files:
        manifests = _load(files, namespace)
        if manifests.errors:
            _report(manifests, quiet_warnings=True)
            click.echo(f"{len(manifests.errors)} problem(s); no dashboards written (run okrctl validate)", err=True)
            sys.exit(1)
        slos = manifests.of_kind(SLO_KIND)
    rendered = {name: dashboard_text(data) for name, data in render_dashboards(slos).items()}
    stale = [name for name, text in rendered.items() if _read(output_dir / name) != text]
    if check:
        for name in stale:
            click.echo(f"{output_dir / name} is stale; run okrctl dashboards again", err=True)
        sys.exit(1 if stale else 0)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (output_dir / name).write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(rendered)} dashboard(s) to {output_dir} ({len(stale)} changed)", err=True)


def _parse_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use RFC 3339, e.g. 2026-11-20T12:00:00Z", param_hint="--at") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


cli.add_command(convert)
cli.add_command(okrctl_report(prometheus_flags))


def main() -> None:
    """Entry point of the okrctl console script."""
    cli(prog_name="okrctl")


if __name__ == "__main__":
    main()
