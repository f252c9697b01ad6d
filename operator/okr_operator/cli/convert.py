"""okrctl convert: OpenSLO documents to okr.dev manifests and back.

okrctl convert --from openslo -f slos/ [-o DIR]     OpenSLO v1/v1alpha -> ServiceLevelObjectives
okrctl convert --to openslo -f config/samples/      ServiceLevelObjectives -> OpenSLO v1

Refusals and notes go to stderr, one line each (file:doc-index: kind/name: field: message); the exit code
is 1 when anything was refused or could not be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .. import yamlio
from ..api.loader import Problem, load_manifests
from ..openslo import convert_from_openslo, convert_to_openslo, read_openslo

FORMATS = ("openslo",)


def _write(objects: list[dict[str, Any]], output_dir: Path | None) -> None:
    if output_dir is None:
        if objects:
            sys.stdout.write(yamlio.dump_all(objects))
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        kind = str(obj["kind"]).lower()
        name = obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace")
        stem = f"{kind}-{namespace}-{name}" if namespace else f"{kind}-{name}"
        (output_dir / f"{stem}.yaml").write_text(yamlio.dump(obj), encoding="utf-8")
    click.echo(f"wrote {len(objects)} document(s) to {output_dir}", err=True)


def _report(problems: list[Problem]) -> bool:
    """Print every problem; True when one of them is an error (a refusal)."""
    for problem in problems:
        click.echo(str(problem), err=True)
    return any(p.severity == "error" for p in problems)


@click.command()
@click.option("--from", "source", type=click.Choice(FORMATS), help="Convert documents of this format to okr.dev.")
@click.option("--to", "target", type=click.Choice(FORMATS), help="Convert okr.dev manifests to this format.")
@click.option("-f", "--filename", "files", multiple=True, metavar="PATH", help="File, directory or -. Repeatable.")
@click.option("-n", "--namespace", default=None, help="Namespace for converted objects (default: none set).")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per document into this directory instead of printing.",
)
def convert(
    source: str | None, target: str | None, files: tuple[str, ...], namespace: str | None, output_dir: Path | None
) -> None:
    """Convert OpenSLO documents to ServiceLevelObjectives (--from openslo) or back (--to openslo).

    What has no faithful equivalent (Timeslices budgeting, non-Prometheus sources, threshold metrics that
    cannot be counted exactly, ...) is refused with one line naming the field and why; exit 1 then.
    """
    if (source is None) == (target is None):
        raise click.UsageError("give exactly one of --from openslo or --to openslo")
    if not files:
        raise click.UsageError("give at least one -f FILE|DIR|-")
    if source is not None:
        manifests, problems = convert_from_openslo(read_openslo(files), namespace=namespace)
        failed = _report(problems)
        _write(manifests, output_dir)
    else:
        loaded = load_manifests(files, default_namespace=namespace or "")
        if loaded.errors:
            _report(loaded.errors)
            click.echo(f"{len(loaded.errors)} problem(s); nothing converted (run okrctl validate)", err=True)
            sys.exit(1)
        documents, problems = convert_to_openslo(loaded)
        failed = _report(problems)
        _write(documents, output_dir)
    sys.exit(1 if failed else 0)
