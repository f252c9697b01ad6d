"""Is the operator itself alive and ready? Its evaluation loop and its watches, never Prometheus.

A slow or down Prometheus is a status condition (``MetricsAvailable=False``) and a metric
(``okr_prometheus_up``); a restart would not make it answer, so liveness does not look at it. What a restart
does fix is an operator whose own machinery stopped: an evaluation loop that no longer beats, or a watch of
one of our kinds whose task ended. (A watch that stays open but delivers nothing is not a liveness matter:
kopf drops and re-opens it after the inactivity timeout, see ``KubeSettings.watch_inactivity_seconds``.)
"""

from __future__ import annotations

import asyncio
import time

from ..api import GROUP, KINDS, VERSION

# kopf names each watch-stream task "watcher for <plural>.<version>.<group>@<namespace or None>".
WATCHER_TASK_PREFIX = "watcher for "
OUR_RESOURCES = tuple(f"{info.plural}.{VERSION}.{GROUP}" for info in KINDS.values())


def running_watches() -> set[str]:
    """The resources (``plural.version.group``) kopf has a live watch-stream task for, in this event loop."""
    found = set()
    for task in asyncio.all_tasks():
        name = task.get_name()
        if name.startswith(WATCHER_TASK_PREFIX) and not task.done():
            found.add(name.removeprefix(WATCHER_TASK_PREFIX).rpartition("@")[0])
    return found


class Health:
    """Liveness (``/healthz``) and readiness (``/readyz``) of the operator's own loop and watches.

    ``stale_after``: seconds without a finished evaluation cycle after which the loop counts as dead (cycles
    have a deadline, so a live loop beats about once an interval whatever Prometheus does).
    """

    def __init__(self, stale_after: float, resources: tuple[str, ...] = OUR_RESOURCES) -> None:
        self.stale_after = stale_after
        self.resources = resources
        self.started = time.monotonic()
        self.heartbeat: float | None = None  # when the last evaluation cycle ended
        self._seen: set[str] = set()  # watches that were running once

    def beat(self) -> None:
        self.heartbeat = time.monotonic()

    def _loop_problem(self) -> str | None:
        last = self.heartbeat if self.heartbeat is not None else self.started
        age = time.monotonic() - last
        if age > self.stale_after:
            return f"evaluation loop silent for {age:.0f}s (more than {self.stale_after:g}s)"
        return None

    def live(self) -> tuple[bool, str]:
        """Alive unless the loop stopped beating or a watch of our kinds that ran has ended."""
        running = running_watches()
        self._seen |= running & set(self.resources)
        problems = [p for p in [self._loop_problem()] if p]
        problems += [f"watch of {r} ended" for r in sorted(self._seen - running)]
        return (not problems, "; ".join(problems) or "ok")

    def ready(self) -> tuple[bool, str]:
        """Ready once every kind of ours is watched and one evaluation cycle has finished."""
        alive, why = self.live()
        if not alive:
            return False, why
        missing = [r for r in self.resources if r not in running_watches()]
        problems = [f"no watch of {r} (is its CRD installed?)" for r in missing]
        if self.heartbeat is None:
            problems.append("no evaluation cycle finished yet")
        return (not problems, "; ".join(problems) or "ok")
