"""``kubectl okr checkin KEYRESULT VALUE``: record a check-in without editing YAML by hand.

-f FILE   edits the manifest in place (comments and layout kept): commit it, the GitOps way.
--live    appends to the KeyResult in the cluster (warns when Argo CD manages it: it would revert it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from ..checkin import CheckIn, CheckInError, parse_check_in

EPILOG = """\b
Examples:
  kubectl okr checkin checkout-mttr 41 --confidence 0.8 --note "Rollback drill" -f config/samples/keyresults.yaml
  kubectl okr checkin checkout-mttr 41 --live -n team-checkout
"""


@click.command(epilog=EPILOG)
@click.argument("key_result", metavar="KEYRESULT")
@click.argument("value", metavar="VALUE")
@click.option("--confidence", metavar="C", help="Your confidence in reaching the target, 0..1 (or a percentage).")
@click.option("--note", metavar="TEXT", help="What changed (at most 1024 characters).")
@click.option("--date", "when", metavar="D", help="When it was measured: YYYY-MM-DD or RFC 3339 (default: today, UTC).")
@click.option(
    "-f", "--filename", type=click.Path(path_type=Path), metavar="FILE", help="Edit this manifest file in place."
)
@click.option("--live", is_flag=True, help="Patch the KeyResult in the cluster instead of a file.")
@click.option(
    "-n", "--namespace", metavar="NS", help="Namespace (--live: default the context's; -f: to pick among several)."
)
@click.option("--kubeconfig", metavar="PATH", help="Kubeconfig file (--live).")
@click.option("--context", metavar="NAME", help="Kubeconfig context (--live).")
@click.option("--request-timeout", type=float, default=30.0, metavar="SECONDS", help="Per API request (--live).")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def checkin(
    key_result: str,
    value: str,
    confidence: str | None,
    note: str | None,
    when: str | None,
    filename: Path | None,
    live: bool,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    request_timeout: float,
    output: str,
) -> None:
    """Add a check-in (VALUE, and optionally confidence, note and date) to a manual KeyResult.

    \b
    With -f FILE the KeyResult's document in FILE gets the new entry at the end of
    spec.source.manual.checkIns; nothing else in the file changes, the result is
    validated like `okrctl validate` and the file is replaced atomically. Commit it.
    With --live the KeyResult in the cluster gets it (a JSON patch that retries when
    someone else changed the object meanwhile). Exit 1 with one line on bad input.
    """
    from .kubectl_okr import fail

    if (filename is None) == (not live):
        fail("give -f FILE (edit a manifest: the GitOps way) or --live (patch the cluster), one of them")
    if not request_timeout > 0:
        fail(f"--request-timeout {request_timeout:g}: must be more than 0 seconds")
    try:
        entry = parse_check_in(value, confidence=confidence, note=note, when=when, now=datetime.now(UTC))
        if filename is not None:
            result = _to_file(filename, key_result, namespace, entry)
        else:
            result = _to_cluster(key_result, namespace, entry, kubeconfig, context, request_timeout)
    except CheckInError as exc:
        fail(str(exc))
    if output == "json":
        click.echo(json.dumps(result, indent=2))
        return
    where = result["file"] or f"namespace {result['namespace']}"
    click.echo(
        f"added check-in {entry.describe()} to KeyResult {key_result} in {where}: {result['checkIns']} check-ins"
    )
    hint = "the operator's next evaluation updates its status"
    if filename is not None:
        hint = f"commit it: git add {filename} && git commit"
    click.echo(hint, err=True)


def _to_file(path: Path, name: str, namespace: str | None, entry: CheckIn) -> dict[str, Any]:
    from ..checkin.manifest import edit_text, read_text, write_atomically

    if path.is_dir():
        raise CheckInError(f"-f {path} is a directory; give the manifest file that holds KeyResult {name}")
    if not path.exists():
        raise CheckInError(f"-f {path}: no such file")
    text, bom = read_text(path)
    edit = edit_text(text, name, namespace, entry, str(path))
    try:
        write_atomically(path, edit.text, bom=bom)
    except OSError as exc:
        raise CheckInError(f"cannot write {path}: {exc.strerror or exc}") from None
    return {
        "keyResult": name,
        "namespace": namespace,
        "file": str(path),
        "line": edit.line,
        "checkIn": entry.to_dict(),
        "checkIns": edit.check_ins,
    }


def _to_cluster(
    name: str, namespace: str | None, entry: CheckIn, kubeconfig: str | None, context: str | None, timeout: float
) -> dict[str, Any]:
    import urllib3
    from kubernetes import client

    from ..checkin.live import append, argocd_tracking
    from .kubectl_okr import connect

    api_client, context_namespace = connect(kubeconfig, context)
    namespace = namespace or context_namespace
    server = getattr(api_client.configuration, "host", "") or "the API server"
    try:
        done = append(client.CustomObjectsApi(api_client), namespace, name, entry, timeout=timeout)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise CheckInError(f"cannot reach {server}: {' '.join(str(exc).split())[:200]}") from None
    tracking = argocd_tracking(done.body)
    if tracking:
        click.echo(
            f"warning: KeyResult {namespace}/{name} is managed by Argo CD ({tracking}): Argo CD shows it OutOfSync "
            "and reverts this check-in at its next sync (at once with selfHeal); add it to the manifest in Git "
            "instead: kubectl okr checkin ... -f FILE",
            err=True,
        )
    return {
        "keyResult": name,
        "namespace": namespace,
        "file": None,
        "checkIn": entry.to_dict(),
        "checkIns": done.check_ins,
        "attempts": done.attempts,
        "argocd": tracking,
    }
