"""Connection settings of the Kubernetes adapter and of kopf's watches (the operator fills them from flags/env).

Every API request carries a connect and a read timeout: a hung or black-holed API server is an error the
caller retries, never a hang. Watches end server-side after ``watch_timeout_seconds``; a watch that delivers
nothing (the API server sends a bookmark about once a minute) for ``watch_inactivity_seconds`` is dropped and
re-established, and the client gives up on a watch request a little after the server should have ended it.
"""

from __future__ import annotations

from dataclasses import dataclass

# How much longer than the server-side watch timeout the client waits before it drops the request itself.
WATCH_CLIENT_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class KubeSettings:
    """Timeouts of every Kubernetes API call the operator makes (seconds)."""

    timeout_seconds: float = 15.0  # read timeout of a request (status write, apply, list, lease)
    connect_timeout_seconds: float = 5.0
    retries: int = 1  # transport retries per request (a dead pooled connection); API errors are not retried here
    watch_timeout_seconds: int = 300  # the API server ends each watch request after this long (whole seconds)
    watch_inactivity_seconds: float = 75.0  # reconnect a watch that delivered nothing, not even a bookmark

    @property
    def request_timeout(self) -> tuple[float, float]:
        """(connect, read), as the Kubernetes client's ``_request_timeout`` takes it."""
        return self.connect_timeout_seconds, self.timeout_seconds

    @property
    def watch_client_timeout_seconds(self) -> float:
        """When the client gives up on one watch request (the server should have ended it before)."""
        return float(self.watch_timeout_seconds) + WATCH_CLIENT_GRACE_SECONDS

    def check(self) -> None:
        """Raise ValueError naming the setting when the values cannot work together."""
        for name in ("timeout_seconds", "connect_timeout_seconds", "watch_timeout_seconds", "watch_inactivity_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"kube {name} {getattr(self, name)!r}: must be more than 0")
        if self.retries < 0:
            raise ValueError(f"kube retries {self.retries!r}: must be 0 or more")
        if self.watch_inactivity_seconds >= self.watch_client_timeout_seconds:
            raise ValueError(
                f"kube watch_inactivity_seconds {self.watch_inactivity_seconds:g} must be below the watch client "
                f"timeout ({self.watch_client_timeout_seconds:g} s = watch_timeout_seconds + "
                f"{WATCH_CLIENT_GRACE_SECONDS:g}); otherwise a silent watch is noticed only when the request ends"
            )
