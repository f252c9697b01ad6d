"""What a Kubernetes call can end in, as the callers see it: an API error with the API's message, or no
answer at all (a timeout, a refused or reset connection), never a hang or a raw transport traceback."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import urllib3
from kubernetes.client.exceptions import ApiException


class KubeError(Exception):
    """Any other API failure, with the API's message."""


class AlreadyExists(KubeError):
    """A create found an object of that name."""


class KubeUnavailable(KubeError):
    """No answer from the API server: a timeout (``timed_out``) or a connection failure (``reason``)."""

    def __init__(self, what: str, *, timed_out: bool, reason: str, timeout: float) -> None:
        detail = f"no answer within {timeout:g} s" if timed_out else f"cannot reach the API server: {reason}"
        super().__init__(f"{what}: {detail}")
        self.timed_out, self.reason, self.timeout = timed_out, reason, timeout


def api_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (urllib3's ``reason``, then ``__cause__``/``__context__``), outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 20 and all(current is not e for e in chain):
        chain.append(current)
        reason = getattr(current, "reason", None)
        current = reason if isinstance(reason, BaseException) else (current.__cause__ or current.__context__)
    return chain


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def connection_reason(exc: BaseException) -> str:
    """The innermost OS-level reason of a connection failure, e.g. ``Connection refused``."""
    chain = _causes(exc)
    for err in reversed(chain):
        if isinstance(err, OSError) and err.strerror:
            return str(err.strerror)
    # urllib3 puts "<urllib3.connection.HTTPSConnection object at 0x...>: " in front of its reasons
    return _one_line(chain[-1]).split(">: ", 1)[-1]


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass, for history
        return False
    return isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError)


@contextlib.contextmanager
def transport_errors(
    what: str, timeout: tuple[float, float], on_timeout: Callable[[], None] | None = None
) -> Iterator[None]:
    """Turn what the HTTP layer raises (timeouts, refused or reset connections) into KubeUnavailable."""
    try:
        yield
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        timed_out = any(_is_timeout(e) for e in _causes(exc))
        if timed_out and on_timeout is not None:
            on_timeout()
        raise KubeUnavailable(what, timed_out=timed_out, reason=connection_reason(exc), timeout=max(timeout)) from None
