"""okr-operator: OKRs and SLOs as Kubernetes resources."""

__version__ = "0.1.0"
