"""Small inline SVG pictures for the web view: a progress bar with the expected-pace mark, a sparkline of
progress over the period against the expected pace, and an error-budget bar.

Each picture is ``role="img"`` with a ``<title>`` saying in words what it shows, and none relies on colour:
the expected pace is a dashed line or a tick, overspent budget is written out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_WIDTH = 160
BAR_HEIGHT = 14
SPARK_WIDTH = 200
SPARK_HEIGHT = 40


def pct(value: float | None) -> str:
    """0.8889 -> "89%"; None -> "n/a"."""
    return "n/a" if value is None else f"{round(100 * value)}%"  # round: an int, so -0.0 is "0%"


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _svg(width: int, height: int, label: str, body: str, css: str) -> str:
    return (
        f'<svg class="{css}" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{body}</svg>'
    )


def progress_bar(progress: float | None, expected: float | None = None, *, what: str = "Progress") -> str:
    """A bar filled to ``progress`` (0..1) with a tick at ``expected``."""
    label = f"{what} {pct(progress)}" + (f", expected {pct(expected)} by now" if expected is not None else "")
    fill = 0 if progress is None else round(_clamp(progress) * BAR_WIDTH, 1)
    body = (
        f'<rect class="track" x="0" y="0" width="{BAR_WIDTH}" height="{BAR_HEIGHT}"/>'
        f'<rect class="fill" x="0" y="0" width="{fill}" height="{BAR_HEIGHT}"/>'
    )
    if expected is not None:
        x = round(_clamp(expected) * BAR_WIDTH, 1)
        body += f'<line class="expected" x1="{x}" y1="-2" x2="{x}" y2="{BAR_HEIGHT + 2}"/>'
    return _svg(BAR_WIDTH, BAR_HEIGHT, label, body, "bar")


def budget_bar(remaining: float | None) -> str:
    """A bar of the error budget left (0..1); overspent budget is an empty bar and says so."""
    if remaining is None:
        label = "Error budget left: no data"
    elif remaining < 0:
        label = f"Error budget overspent by {pct(-remaining)}"
    else:
        label = f"Error budget left {pct(remaining)}"
    fill = 0 if remaining is None else round(_clamp(remaining) * BAR_WIDTH, 1)
    body = (
        f'<rect class="track" x="0" y="0" width="{BAR_WIDTH}" height="{BAR_HEIGHT}"/>'
        f'<rect class="fill budget" x="0" y="0" width="{fill}" height="{BAR_HEIGHT}"/>'
    )
    return _svg(BAR_WIDTH, BAR_HEIGHT, label, body, "bar")


def _point(x: float, y: float) -> str:
    return f"{round(x * SPARK_WIDTH, 1)},{round((1 - _clamp(y)) * (SPARK_HEIGHT - 2) + 1, 1)}"


def sparkline(points: Sequence[tuple[float, float]], pace: tuple[float, float], now: float, period: str) -> str:
    """Progress over the period: ``points`` are (elapsed share of the period, progress), ``pace`` the expected
    progress at the start and the end of the period (a dashed line), ``now`` the elapsed share today."""
    first, last = (points[0][1], points[-1][1]) if points else (None, None)
    label = (
        f"Progress over {period}: {len(points)} measurement{'s' if len(points) != 1 else ''}"
        + (f", from {pct(first)} to {pct(last)}" if points else "")
        + f"; expected pace from {pct(pace[0])} to {pct(pace[1])} by the end of the period"
    )
    x_now = round(_clamp(now) * SPARK_WIDTH, 1)
    body = (
        f'<rect class="track" x="0" y="0" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}"/>'
        f'<line class="pace" x1="0" y1="{_point(0, pace[0]).split(",")[1]}" '
        f'x2="{SPARK_WIDTH}" y2="{_point(1, pace[1]).split(",")[1]}"/>'
        f'<line class="now" x1="{x_now}" y1="0" x2="{x_now}" y2="{SPARK_HEIGHT}"/>'
    )
    if len(points) > 1:
        body += f'<polyline class="spark" points="{" ".join(_point(x, y) for x, y in points)}"/>'
    for x, y in points[-1:]:
        cx, cy = _point(x, y).split(",")
        body += f'<circle class="spark-end" cx="{cx}" cy="{cy}" r="2.5"/>'
    return _svg(SPARK_WIDTH, SPARK_HEIGHT, label, body, "sparkline")
