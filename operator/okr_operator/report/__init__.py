"""The period review (``okrctl report``, ``kubectl okr report``): a model of the report built from the
objects' statuses (:mod:`.model`), rendered as Markdown (:mod:`.markdown`) or HTML with server-side SVG
charts (:mod:`.html`). Pure: no cluster, no network, no clock."""

from .model import Report, build_report, month_ends, report_period

__all__ = ["Report", "build_report", "month_ends", "report_period"]
