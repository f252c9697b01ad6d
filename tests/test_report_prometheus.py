"""okrctl report against a real Prometheus: three months of backfilled traffic, a different error ratio each
month; the SLO figures per month are queried at each month's last second (the month in progress: at --at),
and the objectives and key results are what okrctl evaluate computes. Expected figures come from the
traffic definition, independently of the engine."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner

from e2e.harness.history import SeriesSpec, Span, openmetrics_history
from e2e.harness.prometheus import LocalPrometheus
from e2e.harness.traffic import Traffic
from okr_operator.cli.main import cli

SERVICE = "report-checkout"
T = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


def month_start(when: datetime, back: int = 0) -> datetime:
    year, month = divmod(when.year * 12 + when.month - 1 - back, 12)
    return datetime(year, month + 1, 1, tzinfo=UTC)


M0, M1, M2 = month_start(T, 2), month_start(T, 1), month_start(T)  # two complete months, then this one
RATIOS = {M0: 0.0008, M1: 0.0005, M2: 0.0002}  # SLI 99.92, 99.95, 99.98; budget left 20%, 50%, 80%
END = month_start(T, -1)  # the period ends with this month
PERIOD = f"{M0.date()}/{(END - timedelta(days=1)).date()}"


@pytest.fixture(scope="module")
def prom():
    spans = [Span((M0 - timedelta(days=30)).timestamp(), M0.timestamp(), Traffic(rate=10, error_ratio=0.0008))]
    bounds = [M0, M1, M2, T]
    for start, end in itertools.pairwise(bounds):
        spans.append(Span(start.timestamp(), end.timestamp(), Traffic(rate=10, error_ratio=RATIOS[start])))
    with LocalPrometheus() as local:
        local.backfill(openmetrics_history([SeriesSpec(SERVICE, "v1", spans)], step=300, histogram=False))
        yield local


def manifests(tmp_path):
    ratio = {
        "errors": f'sum(rate(http_requests_total{{service="{SERVICE}",code=~"5.."}}[{{{{window}}}}]))',
        "total": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[{{{{window}}}}]))',
    }
    docs = [
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            "metadata": {"name": "monthly"},
            "spec": {"service": SERVICE, "target": 99.9, "window": "month", "indicator": {"ratio": ratio}},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "reliable"},
            "spec": {"title": "Reliable checkout", "owner": "team-checkout", "period": PERIOD},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "throughput"},
            "spec": {
                "objectiveRef": {"name": "reliable"},
                "description": "Serve 20 requests per second",
                "baseline": 0,
                "target": 20,
                "source": {"prometheus": {"query": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[1h]))'}},
            },
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "budget-left"},
            "spec": {
                "objectiveRef": {"name": "reliable"},
                "description": "Keep half the budget",
                "direction": "maintain",
                "min": 0.5,
                "source": {"slo": {"name": "monthly", "field": "errorBudgetRemaining"}},
            },
        },
    ]
    path = tmp_path / "okrs.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_okrctl_report_queries_each_month_end(prom, tmp_path):
    path = manifests(tmp_path)
    args = ["report", "-f", str(path), "-n", "team", "--prometheus", prom.url, "--at", T.isoformat()]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    labels = [f"{m:%Y-%m}" for m in (M0, M1, M2)]
    assert f"| SLO | Service | Target | {labels[0]} | {labels[1]} | {labels[2]} (to date) |" in lines
    assert (
        f"| team/monthly | {SERVICE} | 99.9% over month | 99.920%, 20% left | 99.950%, 50% left | 99.980%, 80% left |"
    ) in lines
    # the key results as okrctl evaluate computes them at --at: 10 req/s of 20, and 80% of the budget left
    assert "| throughput | team-checkout | 10 / 20 | 50% | 0.50 |" in result.stdout
    assert "| budget-left | team-checkout | 0.8 / at least 0.5 |" in result.stdout
    assert "| reliable | team-checkout |" in result.stdout

    html = CliRunner().invoke(cli, [*args, "-o", "html"], catch_exceptions=False)
    assert html.exit_code == 0
    assert f'data-month="{labels[0]}" data-sli="99.92' in html.stdout


def test_after_the_period_okrctl_report_shows_the_final_grade_as_of_the_period_end(prom, tmp_path):
    """A period of the two complete months, reviewed at --at after its end: the PromQL key result is graded
    at the end instant (10 requests/s of 20), the objective's final grade is Missed at 0.5."""
    period = f"{M0.date()}/{(M2 - timedelta(days=1)).date()}"
    docs = [
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "Objective",
            "metadata": {"name": "last-months"},
            "spec": {"title": "Serve more", "owner": "team-checkout", "period": period},
        },
        {
            "apiVersion": "okr.dev/v1alpha1",
            "kind": "KeyResult",
            "metadata": {"name": "throughput"},
            "spec": {
                "objectiveRef": {"name": "last-months"},
                "description": "Serve 20 requests per second",
                "baseline": 0,
                "target": 20,
                "source": {"prometheus": {"query": f'sum(rate(http_requests_total{{service="{SERVICE}"}}[1h]))'}},
            },
        },
    ]
    path = tmp_path / "ended.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    args = ["report", "-f", str(path), "-n", "team", "--prometheus", prom.url, "--at", T.isoformat()]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"# OKR review: {period}" in result.stdout and ", ended." in result.stdout
    assert f"| last-months | team-checkout | 50% | 0.50 | Missed | final grade (graded {T.date()}) |" in result.stdout
    assert "| throughput (final) | team-checkout | 10 / 20 | 50% | 0.50 | Missed |" in result.stdout
