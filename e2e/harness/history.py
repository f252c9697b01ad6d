"""OpenMetrics history generator: weeks of synthetic request counters for ``LocalPrometheus.backfill``.

    spec = SeriesSpec("checkout", "v1", [Span(t0, t0 + 7 * 86400, Traffic(rate=5, error_ratio=0.001))])
    text = openmetrics_history([spec], step=60)
    prom.backfill(text)
    # http_requests_total{service="checkout",version="v1",code="500"} at t0+7d is exactly
    assert spec.requests_at(t0 + 7 * 86400, code="500") == 5 * 7 * 86400 * 0.001

Counters start at 0 at the first span's start and integrate each span's rate; between spans the
rate is 0 (values stay flat). Samples are written every ``step`` seconds from the first start to the
last end (the end itself included).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from e2e.harness.traffic import DEFAULT_BUCKETS, DURATION, ERROR_CODE, OK_CODE, REQUESTS, Traffic, format_le


@dataclass(frozen=True)
class Span:
    """Traffic between two unix timestamps (seconds), ``start`` inclusive."""

    start: float
    end: float
    traffic: Traffic

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"span end {self.end} must be after start {self.start}")


@dataclass
class SeriesSpec:
    """The history of one (service, version): spans in time order, not overlapping."""

    service: str
    version: str
    spans: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spans = sorted(self.spans, key=lambda s: s.start)
        for a, b in zip(self.spans, self.spans[1:], strict=False):
            if b.start < a.end:
                raise ValueError(f"spans overlap for {self.service}/{self.version}: {a} and {b}")

    @property
    def start(self) -> float:
        return self.spans[0].start

    @property
    def end(self) -> float:
        return self.spans[-1].end

    def _integral(self, t: float, weight: str, le: float | None = None) -> float:
        total = 0.0
        for span in self.spans:
            if t <= span.start:
                break
            seconds = min(t, span.end) - span.start
            tr = span.traffic
            if weight == "total":
                per_request = 1.0
            elif weight == "errors":
                per_request = tr.error_ratio
            elif weight == "ok":
                per_request = 1.0 - tr.error_ratio
            elif weight == "bucket":
                assert le is not None
                per_request = tr.fraction_within(le)
            elif weight == "sum":
                per_request = tr.mean_latency
            else:
                raise ValueError(weight)
            total += tr.rate * seconds * per_request
        return total

    def requests_at(self, t: float, code: str | None = None) -> float:
        """Counter value at ``t``: all requests, or those with ``code`` ("200"/"500")."""
        if code is None:
            return self._integral(t, "total")
        return self._integral(t, "errors" if code == ERROR_CODE else "ok")

    def bucket_at(self, t: float, le: float) -> float:
        """``http_request_duration_seconds_bucket{le}`` at ``t``."""
        return self._integral(t, "bucket", le)

    def duration_sum_at(self, t: float) -> float:
        return self._integral(t, "sum")


def constant(
    service: str, version: str, start: float, end: float, rate: float, error_ratio: float = 0.0, **latency: object
) -> SeriesSpec:
    """A one-span series: ``constant("checkout", "v1", t0, t1, rate=5, error_ratio=0.01)``."""
    traffic = Traffic(rate=rate, error_ratio=error_ratio, **latency)  # type: ignore[arg-type]
    return SeriesSpec(service, version, [Span(start, end, traffic)])


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _times(spec: SeriesSpec, step: float) -> Iterator[float]:
    n = math.floor((spec.end - spec.start) / step + 1e-9)
    for i in range(n + 1):
        yield spec.start + i * step
    last = spec.start + n * step
    if last < spec.end:
        yield spec.end


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def openmetrics_history(
    specs: Iterable[SeriesSpec],
    step: float = 60.0,
    histogram: bool = True,
    buckets: Iterable[float] = DEFAULT_BUCKETS,
) -> str:
    """OpenMetrics text (ending ``# EOF``) with a sample every ``step`` seconds for each series."""
    specs = list(specs)
    bounds = [*sorted(buckets), float("inf")]
    out: list[str] = ["# HELP http_requests Synthetic requests.", "# TYPE http_requests counter"]
    for spec in specs:
        for code in (OK_CODE, ERROR_CODE):
            labels = _labels(service=spec.service, version=spec.version, code=code)
            for t in _times(spec, step):
                out.append(f"{REQUESTS}{labels} {_num(spec.requests_at(t, code))} {_num(t)}")
    if histogram:
        out += [f"# HELP {DURATION} Synthetic request latency.", f"# TYPE {DURATION} histogram"]
        for spec in specs:
            base = {"service": spec.service, "version": spec.version}
            for le in bounds:
                labels = _labels(**base, le=format_le(le))
                for t in _times(spec, step):
                    out.append(f"{DURATION}_bucket{labels} {_num(spec.bucket_at(t, le))} {_num(t)}")
            for t in _times(spec, step):
                out.append(f"{DURATION}_sum{_labels(**base)} {_num(spec.duration_sum_at(t))} {_num(t)}")
            for t in _times(spec, step):
                out.append(f"{DURATION}_count{_labels(**base)} {_num(spec.requests_at(t))} {_num(t)}")
    out.append("# EOF")
    return "\n".join(out) + "\n"
