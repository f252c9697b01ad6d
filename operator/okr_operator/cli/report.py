"""The period review: ``okrctl report`` (evaluated from manifests and Prometheus, like ``okrctl evaluate``)
and ``kubectl okr report`` (from the live statuses). Both build :class:`okr_operator.report.Report` and
render it as Markdown or HTML to stdout."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import click

from ..api import KEY_RESULT_KIND, OBJECTIVE_KIND, SLO_KIND
from ..okr.period import Period, PeriodError
from ..report import Report, build_report, month_ends, report_period

OUTPUT = click.Choice(["md", "html", "json"])
OUTPUT_HELP = (
    "md: Markdown (for a pull request or a wiki); html: one page with SVG charts, no JavaScript; json: the "
    "report's model, for programs."
)
PERIOD_HELP = "The period to review (2026-Q4, 2026-11, 2026, start/end); default: the objectives' current one."


def render(report: Report, output: str) -> str:
    from ..report.html import render_html
    from ..report.markdown import render_markdown

    if output == "json":
        return json.dumps(dataclasses.asdict(report), indent=2, default=_json_default) + "\n"
    return render_html(report) if output == "html" else render_markdown(report)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


def _of_kind(bodies: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [b for b in bodies if b.get("kind") == kind]


def _period(objectives: Iterable[Mapping[str, Any]], now: datetime, wanted: str | None) -> Period | None:
    try:
        return report_period(objectives, now, wanted)
    except PeriodError as exc:
        click.echo(f"error: --period: {exc}", err=True)
        sys.exit(1)


# ---------------------------------------------------------------------------------------------- okrctl


def okrctl_report(prometheus_options: Callable[[Any], Any]) -> click.Command:
    """``okrctl report``, with okrctl evaluate's Prometheus flags (``prometheus_options``)."""

    @click.command("report")
    @click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help="Manifest file or directory.")
    @click.option("-n", "--namespace", default="default", show_default=True, help="Namespace for objects without one.")
    @prometheus_options
    @click.option("--at", "at", metavar="RFC3339", help="Review as of this time (default: now).")
    @click.option("--period", metavar="P", help=PERIOD_HELP)
    @click.option("--sli-source", type=click.Choice(["raw", "recorded", "auto"]), default="raw", show_default=True)
    @click.option("-o", "--output", type=OUTPUT, default="md", show_default=True, help=OUTPUT_HELP)
    def report(
        files: tuple[str, ...],
        namespace: str,
        at: str | None,
        period: str | None,
        sli_source: str,
        output: str,
        **conn: Any,
    ) -> None:
        """The period review, evaluated like `okrctl evaluate`: objectives, key results and SLOs per month.

        \b
        The figures are what the operator would compute as of --at (after the period
        end: the final grades). SLO figures per month are queried at each month end
        within the period (the month in progress: at --at).
        """
        sys.stdout.write(render(_okrctl_review(files, namespace, at, period, sli_source, conn), output))

    return report


def _okrctl_review(
    files: tuple[str, ...], namespace: str, at: str | None, period: str | None, sli_source: str, conn: dict[str, Any]
) -> Report:
    """The review of ``okrctl report``: the manifests evaluated against Prometheus as of ``at``."""
    from ..evaluation.snapshot import Snapshot
    from .main import _load, _parse_time, _report, evaluate_snapshot, prometheus_adapter

    manifests = _load(files, namespace)
    if manifests.errors:
        _report(manifests, quiet_warnings=True)
        sys.exit(1)
    when = _parse_time(at)
    _period([], when, period)  # a bad --period fails before any query
    adapter = prometheus_adapter(conn)
    snapshot = Snapshot.from_models(manifests.models)
    outcome = evaluate_snapshot(adapter, snapshot, when, sli_source)
    if outcome.queries and outcome.query_errors == outcome.queries:
        click.echo(f"error: every query to {conn['prometheus_url']} failed; nothing to report", err=True)
        sys.exit(1)
    bodies = evaluated_bodies(manifests.models, outcome.statuses)
    objectives = _of_kind(bodies, OBJECTIVE_KIND)
    chosen = _period(objectives, when, period)
    slo_months: dict[tuple[str, str], dict[str, Any]] = {
        (e.ref.namespace, e.ref.name): {} for e in snapshot.slos if e.model is not None
    }
    if chosen is not None and slo_months:
        slos_only = Snapshot(slos=snapshot.slos, maintenance_windows=snapshot.maintenance_windows)
        for month in month_ends(chosen, when):
            statuses = (
                outcome.statuses
                if month.at == when
                else evaluate_snapshot(adapter, slos_only, month.at, sli_source).statuses
            )
            for ref, status in statuses.items():
                if ref.kind == SLO_KIND and ref.key in slo_months:
                    slo_months[ref.key][month.label] = status
    return build_report(
        objectives,
        _of_kind(bodies, KEY_RESULT_KIND),
        _of_kind(bodies, SLO_KIND),
        now=when,
        period=chosen,
        source=f"evaluated by okrctl from the manifests and {conn['prometheus_url']} as of {_iso(when)}",
        slo_months=slo_months,
    )


def evaluated_bodies(models: Iterable[Any], statuses: Mapping[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The manifests as objects with the status the evaluation computed."""
    from ..api.identity import entry_from_body

    out = []
    for model in models:
        body = model.model_dump(by_alias=True, exclude_none=True, mode="json")
        entry = entry_from_body(body)
        if entry is not None and entry.ref in statuses:
            body["status"] = statuses[entry.ref]
            body["metadata"].setdefault("namespace", entry.ref.namespace)
            out.append(body)
    return out


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------- kubectl okr


@click.command("report")
@click.option("-n", "--namespace", metavar="NS", help="Namespace to review (default: the context's namespace).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Review the objectives of every namespace.")
@click.option("--period", metavar="P", help=PERIOD_HELP)
@click.option("-o", "--output", type=OUTPUT, default="md", show_default=True, help=OUTPUT_HELP)
@click.option("--kubeconfig", metavar="PATH", help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--context", metavar="NAME", help="Kubeconfig context to use (default: the current context).")
@click.option("--request-timeout", type=float, default=30.0, metavar="SECONDS", help="Per API request.")
def kubectl_report(
    namespace: str | None,
    all_namespaces: bool,
    period: str | None,
    output: str,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
) -> None:
    """The period review from the live statuses: objectives, key results and SLOs.

    \b
    Objectives show status.final (the final grade) once the period is over,
    else their current status. The SLO status keeps only its latest SLI and
    budget, so SLOs show those in the month they were measured; okrctl report
    queries Prometheus at each month end instead.
    """
    from .kubectl_okr import PluginError, connect, fail, fetch

    if namespace and all_namespaces:
        fail("use -n/--namespace or -A/--all-namespaces, not both")
    if not request_timeout > 0:
        fail("--request-timeout must be more than 0")
    _period([], datetime.now(UTC), period)  # a bad --period fails before connecting
    api_client, context_namespace = connect(kubeconfig, context)
    scope = None if all_namespaces else (namespace or context_namespace)
    try:
        objectives, key_results, slos = fetch(api_client, scope, request_timeout, all_slos=True)
    except PluginError as exc:
        fail(str(exc))
    now = datetime.now(UTC)
    where = "every namespace" if scope is None else f"namespace {scope}"
    result = build_report(
        objectives,
        key_results,
        slos,
        now=now,
        period=_period(objectives, now, period),
        source=f"the live status of {where} ({getattr(api_client.configuration, 'host', '')})",
    )
    sys.stdout.write(render(result, output))
