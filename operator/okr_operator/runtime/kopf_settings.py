"""kopf's settings from ours: where kopf keeps its own state, and the timeouts of its watches and requests."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import kopf

from ..api import GROUP
from ..kube.client import FIELD_MANAGER
from .settings import Settings
from .sharding import Shard


class ShardDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's last-handled configuration, stored only on objects of our shard.

    kopf stores it after every create/update cause, also when a ``when=`` filter left no handler to run: every
    shard would patch every object. The owning shard alone does.
    """

    def __init__(self, shard: Shard) -> None:
        super().__init__(prefix=GROUP, key="last-handled-configuration")
        self.shard = shard

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        if self.shard.owns(body.metadata.namespace):
            super().store(body=body, patch=patch, essence=essence)


def configure_kopf(kopf_settings: kopf.OperatorSettings, ours: Settings) -> None:
    """kopf's persistence, watch timeouts and request timeouts from our settings."""
    # kopf keeps its own progress in annotations: the status schema is structural and would prune it.
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    kopf_settings.persistence.diffbase_storage = ShardDiffBaseStorage(ours.owned)
    kube = ours.kube
    # A watch stream can die silently (open, but nothing arrives): the server ends each one after
    # watch_timeout, the client gives up shortly after, and a watch that delivered nothing (not even the
    # bookmark the API server sends about once a minute) for watch_inactivity is dropped and re-opened.
    kopf_settings.watching.server_timeout = kube.watch_timeout_seconds
    kopf_settings.watching.client_timeout = kube.watch_client_timeout_seconds
    kopf_settings.watching.connect_timeout = kube.connect_timeout_seconds
    kopf_settings.watching.inactivity_timeout = kube.watch_inactivity_seconds
    # kopf's own requests (its annotations, peering): the same timeouts as ours.
    kopf_settings.networking.request_timeout = kube.timeout_seconds
    kopf_settings.networking.connect_timeout = kube.connect_timeout_seconds
    # kopf retries a failed request (a watch included) after growing pauses (1, 1, 2, ... 21 s): none longer than
    # one interval, so after an API server outage the watches are back within an interval.
    backoffs = kopf_settings.networking.error_backoffs
    backoffs = backoffs if isinstance(backoffs, Iterable) else [backoffs]
    kopf_settings.networking.error_backoffs = tuple(min(b, ours.interval_seconds) for b in backoffs)
    kopf_settings.posting.level = logging.WARNING
    kopf_settings.posting.reporting_component = FIELD_MANAGER
