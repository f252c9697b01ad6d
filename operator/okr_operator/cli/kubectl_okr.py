"""kubectl-okr: the kubectl plugin of the okr-operator (``kubectl okr ...`` when kubectl-okr is on PATH).

kubectl okr tree [-n NS | -A]          objectives as a tree with their key results, progress and state
kubectl okr serve [-n NS]... [--port]   the operator's web view, locally, for what your kubeconfig may list
kubectl okr checkin KR VALUE -f FILE    add a check-in to a manifest (or --live: to the cluster's object)
kubectl okr report [-n NS] -o md|html   the period review from the live statuses
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console

from .. import __version__
from ..api import KEY_RESULT_KIND, OBJECTIVE_KIND, SLO_KIND
from ..tree import build_forest, to_data
from .checkin import checkin
from .report import kubectl_report
from .tree import render

DEFAULT_TIMEOUT = 30.0
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class PluginError(Exception):
    """A failure to report as one line (``error: ...``) and exit 1."""


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


# ---------------------------------------------------------------------------------------------- cluster access


def _kubeconfig_files(kubeconfig: str | None) -> list[str]:
    if kubeconfig:
        return [kubeconfig]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path("~/.kube/config").expanduser())]


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (Path(SERVICE_ACCOUNT_DIR) / "token").exists()


def connect(kubeconfig: str | None, context: str | None) -> tuple[Any, str]:
    """An ApiClient and the namespace of the kubeconfig's context ("default" when it names none).

    Like kubectl: the kubeconfig (``--kubeconfig``, ``$KUBECONFIG`` or ``~/.kube/config``); in a pod without
    one, the pod's ServiceAccount.
    """
    from kubernetes import config

    from ..kube.client import load_api_client

    files = _kubeconfig_files(kubeconfig)
    found = any(Path(f).is_file() for f in files)
    if not found and kubeconfig is None and context is None and _in_cluster():
        namespace_file = Path(SERVICE_ACCOUNT_DIR) / "namespace"
        namespace = namespace_file.read_text().strip() if namespace_file.exists() else ""
        return load_api_client(in_cluster=True), namespace or "default"
    if not found:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        fail(f"no kubeconfig found at {where}: pass --kubeconfig PATH or set KUBECONFIG")
    config_file = files[0] if len(files) == 1 else None  # several files in KUBECONFIG: the client merges them
    try:
        api_client = load_api_client(config_file, context=context, in_cluster=False)
        contexts, active = config.list_kube_config_contexts(config_file=config_file)
        if context is not None:
            active = next((c for c in contexts if c.get("name") == context), active)
    except (config.ConfigException, OSError, ValueError, TypeError, KeyError, yaml.YAMLError) as exc:
        fail(f"cannot load kubeconfig {', '.join(files)}: {_one_line(exc)}")
    namespace = ((active or {}).get("context") or {}).get("namespace") or "default"
    return api_client, namespace


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def fetch(
    api_client: Any, namespace: str | None, timeout: float, *, all_slos: bool = False
) -> tuple[list[dict], list[dict], list[dict]]:
    """Objectives, key results and (only when a key result needs them, or ``all_slos``) SLOs of ``namespace``
    (None: all)."""
    import urllib3

    from ..kube.client import KubeAdapter, KubeError, KubeUnavailable, NotInstalled

    # kubectl is silent about insecure-skip-tls-verify; urllib3 would warn on every request
    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
    adapter = KubeAdapter(api_client, timeout=timeout, connect_timeout=timeout)
    server = getattr(api_client.configuration, "host", "") or "the API server"
    try:
        objectives = adapter.list(OBJECTIVE_KIND, namespace)
        key_results = adapter.list(KEY_RESULT_KIND, namespace)
        needs_slos = any(((kr.get("spec") or {}).get("source") or {}).get("slo") for kr in key_results)
        slos = adapter.list(SLO_KIND, namespace) if needs_slos or all_slos else []
    except NotInstalled as exc:
        raise PluginError(f"{exc} (server {server}); install the okr-operator CRDs first") from None
    except KubeUnavailable as exc:
        if exc.timed_out:
            raise PluginError(f"no answer from {server} within {timeout:g} s (--request-timeout)") from None
        raise PluginError(f"cannot connect to {server}: {exc.reason}") from None
    except KubeError as exc:
        raise PluginError(f"{_one_line(exc)} (server {server})") from None
    return objectives, key_results, slos


# ---------------------------------------------------------------------------------------------- commands


def _positive(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not value > 0:
        raise click.BadParameter("must be more than 0")
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kubectl-okr")
def cli() -> None:
    """Objectives, key results and SLOs of the okr-operator, from kubectl.

    \b
    kubectl-okr must be on PATH (it comes with the okr-operator package).
    Examples:
      kubectl okr tree                  objectives of the current namespace
      kubectl okr tree -A               objectives of every namespace
      kubectl okr tree -n shop -o json  the same tree as JSON, for scripts
    """


@cli.command()
@click.option("-n", "--namespace", metavar="NS", help="Namespace to show (default: the context's namespace).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Show the objectives of every namespace.")
@click.option("--kubeconfig", metavar="PATH", help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--context", metavar="NAME", help="Kubeconfig context to use (default: the current context).")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["tree", "json", "yaml"]),
    default="tree",
    show_default=True,
    help="tree for people; json or yaml: the same tree as nested data.",
)
@click.option("--no-color", is_flag=True, help="Plain text without colours (also: NO_COLOR=1).")
@click.option(
    "--request-timeout",
    type=float,
    default=DEFAULT_TIMEOUT,
    metavar="SECONDS",
    callback=_positive,
    help=f"Give up on an API request after this long (default {DEFAULT_TIMEOUT:g}).",
)
def tree(
    namespace: str | None,
    all_namespaces: bool,
    kubeconfig: str | None,
    context: str | None,
    output: str,
    no_color: bool,
    request_timeout: float,
) -> None:
    """Show objectives as a tree with their key results.

    Child objectives (spec.parentRef) are nested under their parent, key
    results are the leaves. Each line shows the name, the title, a progress
    bar, the score and the state (OnTrack, AtRisk, OffTrack, Achieved, Missed,
    Unknown; "no status" until the operator has evaluated it). Key results
    add current/target and unit, SLO-sourced ones the SLO's state and error
    budget left. Problems (Valid=False, missing parents, cycles) are in red.

    Exit status: 0 on success, also when there is nothing to show; 1 when the
    cluster cannot be read (one line on stderr says why).
    """
    if namespace and all_namespaces:
        raise click.UsageError("use -n/--namespace or -A/--all-namespaces, not both")
    api_client, context_namespace = connect(kubeconfig, context)
    scope = None if all_namespaces else (namespace or context_namespace)
    try:
        objectives, key_results, slos = fetch(api_client, scope, request_timeout)
    except PluginError as exc:
        fail(str(exc))
    forest = build_forest(objectives, key_results, slos, listed_namespaces=None if scope is None else [scope])

    if output == "json":
        click.echo(json.dumps(to_data(forest), indent=2))
        return
    if output == "yaml":
        click.echo(yaml.safe_dump(to_data(forest), sort_keys=False, allow_unicode=True), nl=False)
        return
    console = _console(no_color)
    if not forest:
        where = "any namespace" if scope is None else f"namespace {scope}"
        console.print(f"No objectives in {where}.", highlight=False)
        return
    render(forest, console, show_namespace=True if scope is None else None)


@cli.command()
@click.option("-n", "--namespace", "namespaces", multiple=True, metavar="NS", help="Only these namespaces.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to listen on.")
@click.option("--refresh", type=int, default=30, show_default=True, help="Seconds between page reloads.")
@click.option("--kubeconfig", metavar="PATH", help="Kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--context", metavar="NAME", help="Kubeconfig context to use (default: the current context).")
@click.option(
    "--request-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS", callback=_positive, help="Per request."
)
def serve(
    namespaces: tuple[str, ...],
    address: str,
    port: int,
    refresh: int,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
) -> None:
    """Serve the web view of the okr-operator locally (read-only), until Ctrl-C.

    \b
    The same page as the operator's web view: the objective tree with
    progress, scores and states, key-result trends against the expected
    pace, SLO error budgets, burn rates and time to exhaustion. It shows
    what your kubeconfig may list: every namespace where you may list
    objectives (key results, SLOs), or only the -n namespaces.
    """
    import asyncio

    import urllib3

    from ..kube.client import connection_reason
    from ..webview.server import serve as serve_web
    from .serve import ViewerSource

    api_client, context_namespace = connect(kubeconfig, context)
    source = ViewerSource(api_client, list(namespaces) or None, context_namespace, request_timeout)
    try:
        scope = source.describe()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        fail(f"cannot connect to {api_client.configuration.host}: {connection_reason(exc)}")
    except Exception as exc:  # e.g. 401 from the API server
        fail(f"cannot ask the API server what you may list: {_one_line(exc)}")

    async def run() -> None:
        runner = await serve_web(source, address, port, refresh=refresh, title="okr-operator (kubectl okr serve)")
        click.echo(f"Serving the web view on http://{address}:{port}/ ({scope}); Ctrl-C stops.", err=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(run())
    except OSError as exc:
        fail(f"cannot listen on {address}:{port}: {exc.strerror or exc}")


def _console(no_color: bool) -> Console:
    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = 160  # piped: do not cut lines at 80 columns
    if no_color:
        return Console(color_system=None, width=width, highlight=False)
    return Console(width=width, highlight=False)


cli.add_command(checkin)
cli.add_command(kubectl_report)


def main() -> None:
    """Entry point of the kubectl-okr console script (``kubectl okr``)."""
    try:
        cli(prog_name="kubectl okr")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
