"""The web view's HTTP server (aiohttp): ``GET /`` is the page, ``GET /healthz`` says ok; nothing else.

The operator serves it from its store; ``kubectl okr serve`` from what the viewer's kubeconfig may list.
Both give a ``source``: an async function returning the objects to show. Read-only, no cookies, no
credentials in the page, and a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .render import render_page

log = logging.getLogger("okr_operator.webview")
Source = Callable[[], Awaitable[list[dict[str, Any]]]]
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def make_app(source: Source, *, refresh: int = 30, title: str = "okr-operator") -> web.Application:
    async def page(request: web.Request) -> web.Response:
        namespace = request.query.get("namespace") or None
        try:
            objects = await source()
        except Exception as exc:  # the page says what is wrong instead of a stack trace
            log.warning("web view: cannot read objects: %s", exc)
            return web.Response(status=503, text=f"cannot read the objects: {exc}\n")
        html = await asyncio.to_thread(
            render_page, objects, now=datetime.now(UTC), refresh=refresh, namespace=namespace, title=title
        )
        return web.Response(body=html.encode(), headers=HEADERS)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/healthz", health)
    return app


async def serve(
    source: Source, host: str, port: int, *, refresh: int = 30, title: str = "okr-operator"
) -> web.AppRunner:
    """Start serving; returns the runner (``await runner.cleanup()`` stops it)."""
    runner = web.AppRunner(make_app(source, refresh=refresh, title=title), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
