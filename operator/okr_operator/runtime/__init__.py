"""The operator runtime: kopf handlers, evaluation loop, settings, self-metrics.

``kopf run -m okr_operator.runtime`` imports this package, which registers the handlers; settings then
come from the ``OKR_*`` environment variables.
"""

from . import handlers as handlers
