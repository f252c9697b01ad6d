"""The Testbed: a real local control plane and Prometheus for end-to-end tests, demos and benchmarks.

Importable without pytest. See docs/testbed.md.
"""

from e2e.harness.cluster import ADMIN, Identity, KubectlError, LocalCluster, kubectl_binary
from e2e.harness.exporter import SyntheticExporter
from e2e.harness.history import SeriesSpec, Span, constant, openmetrics_history
from e2e.harness.procs import ManagedProcess, free_port, stop_all, wait_until
from e2e.harness.prometheus import LocalPrometheus, PrometheusError
from e2e.harness.traffic import DEFAULT_BUCKETS, Traffic
from e2e.harness.upstream import kwok_stage_files, upstream_crd_groups, upstream_crds

__all__ = [
    "ADMIN",
    "DEFAULT_BUCKETS",
    "Identity",
    "KubectlError",
    "LocalCluster",
    "LocalPrometheus",
    "ManagedProcess",
    "PrometheusError",
    "SeriesSpec",
    "Span",
    "SyntheticExporter",
    "Traffic",
    "constant",
    "free_port",
    "kubectl_binary",
    "kwok_stage_files",
    "openmetrics_history",
    "stop_all",
    "upstream_crd_groups",
    "upstream_crds",
    "wait_until",
]
