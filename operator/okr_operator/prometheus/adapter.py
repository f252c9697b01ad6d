"""Prometheus adapter on prometheus-api-client: instant queries with auth, tenancy, timeouts and retries.

Evaluation sends a handful of large batched queries per cycle, so queries go out as POST (a query of
many SLOs does not fit in a URL). Failures become :class:`PrometheusError` with a reason the status
conditions show (PrometheusUnreachable, PrometheusTimeout, QueryFailed, BadResponse).
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
        retry = Retry(
            total=settings.retries,
            backoff_factor=0.5,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=("GET", "POST"),
            raise_on_status=False,
        )
        self._client = PrometheusConnect(
            url=settings.url.rstrip("/"),
            headers=headers,
            retry=retry,
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
            return self._post(expr, params)
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

    def _post(self, expr: str, params: dict[str, str]) -> list[Sample]:
        client = self._client
        try:
            if len(expr) < 4000:
                return parse_result(client.custom_query(expr, params=params))
            # Long batched queries go in the form body: a URL of hundreds of kilobytes is refused.
            response = client._session.post(  # the session is ours (passed in above)
                f"{client.url}/api/v1/query",
                data={"query": expr, **params},
                headers=client.headers,
                auth=client.auth,
                timeout=self.settings.timeout_seconds,
            )
            if response.status_code != 200:
                raise PrometheusApiClientException(f"HTTP Status Code {response.status_code} ({response.content!r})")
            return parse_result(response.json()["data"])
        except requests.exceptions.JSONDecodeError as exc:  # before RequestException: it is one too
            raise PrometheusError("BadResponse", f"Prometheus answered with something else than JSON: {exc}") from None
        except requests.exceptions.RequestException as exc:
            # With retries, urllib3 wraps a read timeout in MaxRetryError inside a ConnectionError.
            if isinstance(exc, requests.exceptions.Timeout) or isinstance(
                getattr(exc.args[0] if exc.args else None, "reason", None), ReadTimeoutError
            ):
                raise PrometheusError(
                    "PrometheusTimeout", f"no answer from {self.settings.url} within {self.settings.timeout_seconds:g}s"
                ) from None
            raise PrometheusError("PrometheusUnreachable", f"cannot reach {self.settings.url}: {_short(exc)}") from None
        except PrometheusApiClientException as exc:
            refused = bool(re.search(r"HTTP Status Code (400|422)\b", str(exc)))
            raise PrometheusError(
                "QueryFailed", f"Prometheus refused the query: {_short(exc)}", refused=refused
            ) from None
        except ValueError as exc:  # not JSON
            raise PrometheusError("BadResponse", f"Prometheus answered with something else than JSON: {exc}") from None

    def close(self) -> None:
        self._client.close()


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
