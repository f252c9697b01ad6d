"""kopf's settings from ours: where kopf keeps its own state, and the timeouts of its watches and requests."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import kopf

from ..kube.client import FIELD_MANAGER
from .handled import HandledGenerations
from .settings import Settings

KOPF_PREFIX = "kopf.zalando.org"  # kopf's own, which it recognises without a marker annotation


def configure_kopf(kopf_settings: kopf.OperatorSettings, ours: Settings) -> HandledGenerations:
    """kopf's persistence, watch timeouts and request timeouts from our settings; returns the diff-base."""
    # kopf keeps the progress of a handler being retried in annotations (written only while one is retried):
    # the status schema is structural and would prune it. Under kopf's own prefix: any other prefix makes kopf
    # patch a "<prefix>/kopf-managed" marker onto every object it handles (one write per object). What was
    # handled is kept in memory (handled.py), not in an annotation patched onto every object after every change.
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    handled = HandledGenerations(ours.owned)
    kopf_settings.persistence.diffbase_storage = handled
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
    return handled
