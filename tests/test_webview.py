"""The web view: pure rendering (exact figures, trends from status.history, plain-word conditions, escaping,
accessibility) and its HTTP server (headers, read-only, failures as a message)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer

from okr_operator.webview.model import plain_conditions, slo_views, trend
from okr_operator.webview.render import render_page
from okr_operator.webview.server import make_app
from okr_operator.webview.svg import budget_bar, progress_bar, sparkline

NOW = datetime(2026, 11, 16, tzinfo=UTC)  # half of 2026-Q4 (Oct 1 .. Jan 1: 92 days; 46 elapsed)


def objective(name, progress, state, *, parent=None, kind="committed", title=None):
    spec = {"title": title or name.title(), "owner": "team", "period": "2026-Q4", "type": kind}
    if parent:
        spec["parentRef"] = {"name": parent}
    status = {"progress": progress, "score": round(progress, 2), "expected": 0.5, "state": state}
    return {"kind": "Objective", "metadata": {"name": name, "namespace": "shop"}, "spec": spec, "status": status}


def key_result(name, objective_name, source=None, **status):
    spec = {
        "objectiveRef": {"name": objective_name},
        "description": f"{name} description",
        "direction": "decrease",
        "baseline": 45,
        "target": 40,
        "unit": "minutes",
        "source": source or {"prometheus": {"query": "vector(42.5)"}},
    }
    return {"kind": "KeyResult", "metadata": {"name": name, "namespace": "shop"}, "spec": spec, "status": status}


SLO = {
    "kind": "ServiceLevelObjective",
    "metadata": {"name": "checkout-availability", "namespace": "shop"},
    "spec": {"service": "checkout", "target": 99.9, "window": "28d", "description": "Checkout requests succeed"},
    "status": {
        "sli": 99.95,
        "errorBudget": {"remaining": 0.5},
        "burnRates": {"1h": 0.5, "5m": 0.25, "1d": 0.45},
        "timeToExhaustion": "4w",
        "state": "Healthy",
        "alerts": ["page"],
    },
}
HISTORY = [
    {"time": "2026-10-01T00:00:00Z", "value": 45},
    {"time": "2026-10-24T00:00:00Z", "value": 44},
    {"time": "2026-11-16T00:00:00Z", "value": 42.5},
]


class Elements(HTMLParser):
    """Every element with its attributes and the text inside it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **dict(attrs), "text": ""}
        self.found.append(element)
        if tag not in ("meta",):
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.found.append({"tag": tag, **dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        while self.open and self.open.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data


def page(objects, **kw):
    return render_page(objects, now=NOW, **kw)


def test_each_objective_and_key_result_shows_the_progress_its_status_holds():
    objects = [
        objective("platform", 1.0, "Achieved"),
        objective("reliable", 0.8889, "OnTrack", parent="platform"),
        key_result("mttr", "reliable", current=42.5, progress=0.5, score=0.5, expected=1, state="OnTrack"),
    ]
    elements = Elements(page(objects)).found
    shown = {(e["data-kind"], e["data-name"]): (e["data-progress"], e["text"]) for e in elements if "data-kind" in e}
    assert shown[("Objective", "reliable")][0] == "0.8889"
    assert "89%" in shown[("Objective", "reliable")][1] and "✓ OnTrack" in shown[("Objective", "reliable")][1]
    assert shown[("Objective", "platform")][0] == "1.0" and "★ Achieved" in shown[("Objective", "platform")][1]
    assert shown[("KeyResult", "mttr")][0] == "0.5"
    assert "Progress 50%, expected 100% by now" in shown[("KeyResult", "mttr")][1]  # an int from JSON too
    assert "42.5 minutes (target 40 minutes)" in shown[("KeyResult", "mttr")][1]
    # the child objective is nested inside its parent
    platform = next(e for e in elements if e.get("data-name") == "platform")
    assert "Reliable" in platform["text"]


def test_every_picture_has_a_text_title_and_the_page_has_no_script():
    objects = [objective("reliable", 0.5, "AtRisk"), key_result("mttr", "reliable", progress=0.4, history=HISTORY), SLO]
    text = page(objects)
    svgs = re.findall(r"<svg[^>]*>", text)
    assert len(svgs) == 4  # objective bar, key-result bar and sparkline, the SLO's budget bar
    assert all('role="img"' in s and "aria-label=" in s for s in svgs)
    assert text.count("<title>") == len(svgs) + 1  # + the page's own
    assert "<script" not in text.lower() and "onload" not in text.lower()
    assert '<meta http-equiv="refresh" content="30">' in text


def test_text_from_objects_is_escaped():
    evil = objective("x", 0.1, "OffTrack", title='<script>alert("x")</script>')
    text = page([evil])
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text


def test_namespace_filter_and_navigation():
    other = {**objective("elsewhere", 0.2, "OffTrack"), "metadata": {"name": "elsewhere", "namespace": "ops"}}
    text = page([objective("reliable", 0.5, "OnTrack"), other], namespace="ops")
    assert 'data-name="elsewhere"' in text and 'data-name="reliable"' not in text
    assert '<a href="./?namespace=shop">shop</a>' in text
    assert '<a href="./?namespace=ops" aria-current=page>ops</a>' in text


def test_trend_from_history_against_the_expected_pace():
    kr = key_result("mttr", "reliable", progress=0.5, history=HISTORY)
    got = trend(kr, objective("reliable", 0.5, "OnTrack"), NOW)
    assert got.period == "2026-Q4"
    assert got.points == [(0.0, 0.0), (pytest.approx(23 / 92), 0.2), (0.5, 0.5)]
    assert got.pace == (0.0, 1.0) and got.now == 0.5
    aspirational = trend(kr, objective("reliable", 0.5, "OnTrack", kind="aspirational"), NOW)
    assert aspirational.pace == (0.0, 0.7)


def test_trend_of_a_manual_key_result_comes_from_its_check_ins():
    check_ins = [{"date": "2026-10-01", "value": 45}, {"date": "2026-11-16", "value": 42.5}]
    kr = key_result("mttr", "reliable", {"manual": {"checkIns": check_ins}}, progress=0.5, history=HISTORY[:1])
    assert trend(kr, objective("reliable", 0.5, "OnTrack"), NOW).points == [(0.0, 0.0), (0.5, 0.5)]


def test_overspent_and_spent_budgets_are_said_in_words():
    spent = {**SLO, "status": {**SLO["status"], "errorBudget": {"remaining": -0.5}, "timeToExhaustion": None}}
    row = next(e for e in Elements(page([spent])).found if e.get("class") == "slo")
    assert "overspent by 50%" in row["text"] and "already spent" in row["text"]


def test_trend_adds_the_current_progress_after_the_last_history_point():
    kr = key_result("mttr", "reliable", progress=0.6, history=HISTORY[:2])
    assert trend(kr, objective("reliable", 0.5, "OnTrack"), NOW).points[-1] == (0.5, 0.6)
    assert trend(key_result("x", "missing"), None, NOW) is None  # no period known


def test_pictures_say_in_words_what_they_show():
    assert 'aria-label="Progress 89%, expected 72% by now"' in progress_bar(0.8889, 0.72)
    assert "Error budget overspent by 20%" in budget_bar(-0.2)
    assert '<rect class="fill budget" x="0" y="0" width="0.0"' in budget_bar(-0.2)
    spark = sparkline([(0.0, 0.0), (0.5, 0.5)], (0.0, 1.0), 0.5, "2026-Q4")
    assert "Progress over 2026-Q4: 2 measurements, from 0% to 50%; expected pace from 0% to 100%" in spark
    assert 'points="0.0,39.0 100.0,20.0"' in spark


def test_conditions_in_plain_words():
    status = {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "NotReady", "message": "see the other conditions"},
            {"type": "MetricsAvailable", "status": "False", "reason": "PrometheusUnreachable", "message": "refused"},
            {"type": "Valid", "status": "False", "reason": "SLONotFound", "message": "SLO checkout not found"},
            {"type": "RulesSynced", "status": "True", "reason": "Synced", "message": ""},
        ]
    }
    assert plain_conditions(status) == [
        "Prometheus could not be reached; the figures shown are from the last good evaluation: refused",
        "The spec has a problem the schema could not catch (SLONotFound): SLO checkout not found",
    ]


def test_slo_rows():
    (view,) = slo_views([SLO])
    assert view.burn_rates == [("5m", 0.25), ("1h", 0.5), ("1d", 0.45)]
    row = next(e for e in Elements(page([SLO])).found if e.get("class") == "slo")
    assert row["data-budget-remaining"] == "0.5"
    assert "99.950%" in row["text"] and "target 99.9%" in row["text"] and "4w" in row["text"]
    assert "5m 0.25x, 1h 0.50x, 1d 0.45x" in row["text"] and "✓ Healthy" in row["text"]


def _client(source):
    async def run(check):
        async with TestClient(TestServer(make_app(source, refresh=10))) as client:
            return await check(client)

    return run


def test_server_serves_the_page_with_strict_headers_and_nothing_else():
    async def source():
        return [objective("reliable", 0.5, "OnTrack")]

    async def check(client):
        resp = await client.get("/")
        assert resp.status == 200
        assert "script-src" not in resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert 'content="10"' in await resp.text()
        assert (await client.post("/")).status == 405
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/secrets")).status == 404

    asyncio.run(_client(source)(check))


def test_server_reports_a_failing_source_as_a_message():
    async def source():
        raise RuntimeError("forbidden: cannot list objectives")

    async def check(client):
        resp = await client.get("/")
        assert resp.status == 503
        assert "forbidden: cannot list objectives" in await resp.text()

    asyncio.run(_client(source)(check))
