"""Prometheus adapter on prometheus-api-client: instant queries with auth, tenancy, timeouts, retries, deadlines.

Evaluation sends a handful of large batched queries per cycle, so queries go out as POST (a query of
many SLOs does not fit in a URL). Failures become :class:`PrometheusError` with a reason the status
conditions show (PrometheusUnreachable, PrometheusTimeout, QueryFailed, BadResponse).

Time limits: every attempt has a connect and a read timeout (``connect_timeout_seconds``,
``timeout_seconds``), and the read timeout goes to Prometheus as the query's own ``timeout`` (it stops
evaluating when we stop waiting). Quick failures (connection refused or reset, 429/502/503/504) are retried
``retries`` times after a short backoff; a read timeout is not (the query already had its full time).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .config import PrometheusSettings
from .types import PrometheusError, Sample, parse_result

TENANT_HEADER = "X-Scope-OrgID"
RETRY_STATUSES = (429, 502, 503, 504)
BACKOFF_SECONDS = 0.5  # before the first retry; doubled for each next one


class _Retryable(Exception):
    """An attempt that failed quickly and may be tried again: the error to raise if no try is left."""

    def __init__(self, error: PrometheusError) -> None:
        super().__init__(error.message)
        self.error = error


class PrometheusAdapter:
    """Instant queries against one Prometheus-compatible endpoint; thread-safe, counts what it does."""

    def __init__(
        self,
        settings: PrometheusSettings,
        *,
        on_query: Callable[[str, float, str | None], None] | None = None,
    ) -> None:
        self.settings = settings
        self._on_query = on_query
        self._lock = threading.Lock()
        self.queries = 0
        self.errors = 0
        session = requests.Session()
        if settings.ca_file:
            session.verify = settings.ca_file
        if settings.insecure_skip_verify:
            session.verify = False
        headers: dict[str, str] = {}
        token = settings.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if settings.tenant:
            headers[TENANT_HEADER] = settings.tenant
        self._client = PrometheusConnect(
            url=settings.url.rstrip("/"),
            headers=headers,
            retry=Retry(total=0, raise_on_status=False),  # retries are ours: they must respect the deadline
            auth=settings.basic_auth(),
            session=session,
            timeout=settings.timeout_seconds,
            method="POST",
        )

    def query(self, expr: str, at: datetime | None = None) -> list[Sample]:
        """Evaluate ``expr`` at ``at`` (default: Prometheus's now); raise PrometheusError on failure."""
        params = {"time": f"{at.timestamp():.3f}"} if at is not None else {}
        started = time.monotonic()
        error: str | None = None
        try:
            return self._with_retries(expr, params)
        except PrometheusError as exc:
            error = exc.reason
            raise
        finally:
            with self._lock:
                self.queries += 1
                self.errors += error is not None
            if self._on_query is not None:
                self._on_query(expr, time.monotonic() - started, error)

    async def aquery(self, expr: str, at: datetime | None = None) -> list[Sample]:
        """:meth:`query` in a worker thread, off the event loop."""
        return await asyncio.to_thread(self.query, expr, at)

    def _with_retries(self, expr: str, params: dict[str, str]) -> list[Sample]:
        backoff = BACKOFF_SECONDS
        for attempt in range(self.settings.retries + 1):
            try:
                return self._post(expr, params, self.settings.timeout_seconds)
            except _Retryable as exc:
                if attempt == self.settings.retries:
                    raise exc.error from None
                time.sleep(backoff)
                backoff *= 2
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _post(self, expr: str, params: dict[str, str], read: float) -> list[Sample]:
        client = self._client
        timeout = (min(self.settings.connect_timeout_seconds, read), read)
        # Prometheus stops evaluating when we stop waiting (it caps this at its own --query.timeout).
        params = {**params, "timeout": f"{max(int(read * 1000), 1)}ms"}
        try:
            if len(expr) < 4000:
                return parse_result(client.custom_query(expr, params=params, timeout=timeout))
            # Long batched queries go in the form body: a URL of hundreds of kilobytes is refused.
            response = client._session.post(  # the session is ours (passed in above)
                f"{client.url}/api/v1/query",
                data={"query": expr, **params},
                headers=client.headers,
                auth=client.auth,
                timeout=timeout,
            )
            if response.status_code != 200:
                raise PrometheusApiClientException(f"HTTP Status Code {response.status_code} ({response.content!r})")
            return parse_result(response.json()["data"])
        except requests.exceptions.JSONDecodeError as exc:  # before RequestException: it is one too
            raise PrometheusError("BadResponse", f"Prometheus answered with something else than JSON: {exc}") from None
        except requests.exceptions.RequestException as exc:
            if _is_timeout(exc):
                raise PrometheusError(
                    "PrometheusTimeout", f"no answer from {self.settings.url} within {read:g}s"
                ) from None
            raise _Retryable(
                PrometheusError("PrometheusUnreachable", f"cannot reach {self.settings.url}: {_short(exc)}")
            ) from None
        except PrometheusApiClientException as exc:
            refused = bool(re.search(r"HTTP Status Code (400|422)\b", str(exc)))
            error = PrometheusError("QueryFailed", f"Prometheus refused the query: {_short(exc)}", refused=refused)
            if any(f"HTTP Status Code {code} " in str(exc) for code in RETRY_STATUSES):
                raise _Retryable(error) from None
            raise error from None
        except ValueError as exc:  # not JSON
            raise PrometheusError("BadResponse", f"Prometheus answered with something else than JSON: {exc}") from None

    def close(self) -> None:
        self._client.close()


def _is_timeout(exc: requests.exceptions.RequestException) -> bool:
    # urllib3 wraps a read timeout in MaxRetryError inside a ConnectionError.
    return isinstance(exc, requests.exceptions.Timeout) or isinstance(
        getattr(exc.args[0] if exc.args else None, "reason", None), ReadTimeoutError
    )


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
