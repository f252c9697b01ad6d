"""The period review as HTML: opened in headless Chromium (Debian's chromium, as e2e/test_views.py does),
the DOM after load holds every objective, key result and SLO month with its figures; SVG charts are drawn
on the server and the page has no script."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from e2e.harness.browser import dump_dom
from okr_operator.okr.period import parse_period
from okr_operator.report import build_report
from okr_operator.report.html import render_html
from tests.report_data import of_kind, sample_objects

NOW = datetime(2026, 11, 16, tzinfo=UTC)


class Elements(HTMLParser):
    """Elements with a data-kind, with their attributes and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[dict] = []
        self.open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, **dict(attrs), "text": "", "svgs": 0}
        if tag == "svg":
            for e in self.open:
                e["svgs"] += 1
        if tag in ("meta", "br", "line", "rect", "circle", "polyline"):
            return
        self.open.append(element)
        if "data-kind" in element:
            self.found.append(element)

    def handle_endtag(self, tag):
        if all(e["tag"] != tag for e in self.open):
            return
        while self.open and self.open.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data


def rendered(tmp_path, objects, now=NOW):
    report = build_report(
        of_kind(objects, "Objective"),
        of_kind(objects, "KeyResult"),
        of_kind(objects, "ServiceLevelObjective"),
        now=now,
        period=parse_period("2026-Q4"),
        source="the live status of namespace shop",
        slo_months={
            ("shop", "checkout-availability"): {
                "2026-10": {"sli": 99.92, "errorBudget": {"remaining": 0.2}, "state": "Warning"},
                "2026-11": {"sli": 99.96, "errorBudget": {"remaining": 0.6}, "state": "Healthy"},
            },
            ("shop", "checkout-latency"): {"2026-11": {"sli": 98.5, "errorBudget": {"remaining": -0.5}}},
        },
    )
    html = render_html(report)
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    return html, dump_dom(path.as_uri())


def test_the_report_in_chromium_shows_every_figure(tmp_path):
    html, dom = rendered(tmp_path, sample_objects())
    found = Elements(dom).found
    objectives = {e["data-name"]: e for e in found if e["data-kind"] == "Objective"}
    figures = {
        n: (e["data-progress"], e["data-score"], e["data-state"], e["data-grade"]) for n, e in objectives.items()
    }
    assert figures == {
        "platform-excellence": ("0.963", "0.96", "OnTrack", "current"),
        "checkout-reliability": ("0.8889", "0.89", "OnTrack", "current"),
        "checkout-speed": ("1.0", "1.0", "Achieved", "current"),
    }
    reliability = objectives["checkout-reliability"]["text"]
    assert "owner team-checkout · committed · period 2026-Q4 · aligned to shop/platform-excellence" in reliability
    assert "89%" in reliability and "score 0.89" in reliability and "✓ OnTrack" in reliability

    krs = {e["data-name"]: e for e in found if e["data-kind"] == "KeyResult"}
    mttr = krs["checkout-mttr"]
    assert (mttr["data-progress"], mttr["data-score"], mttr["data-state"]) == ("0.6667", "0.67", "OnTrack")
    assert "42 minutes / 40.5 minutes" in mttr["text"]
    assert "2026-11-12: 42 minutes (One-click rollback shipped)" in mttr["text"]
    assert "improving (43.5 -> 42 since 2026-10-22)" in mttr["text"] and "80%" in mttr["text"]
    assert "Progress over 2026-Q4: 4 measurements, from 0% to 67%" in mttr["text"]  # the chart's title
    assert mttr["svgs"] == 2  # progress bar and trend chart
    assert "n/a (prometheus)" in krs["sli-coverage"]["text"] and "platform-team" in krs["sli-coverage"]["text"]

    slos = {e["data-name"]: e for e in found if e["data-kind"] == "ServiceLevelObjective"}
    assert "99.920%" in slos["checkout-availability"]["text"] and "20% left" in slos["checkout-availability"]["text"]
    assert "overspent by 50%" in slos["checkout-latency"]["text"]
    cells = re.findall(r'data-month="([0-9-]+)" data-sli="([^"]*)" data-remaining="([^"]*)"', dom)
    assert cells == [("2026-10", "99.92", "0.2"), ("2026-11", "99.96", "0.6"), ("2026-10", "", ""),
                     ("2026-11", "98.5", "-0.5")]  # fmt: skip
    assert "<script" not in html.lower() and " on" not in re.sub(r'"[^"]*"', "", "".join(re.findall(r"<[^>]+>", html)))
    svgs = re.findall(r"<svg[^>]*>", html)
    assert all('role="img"' in s and "aria-label=" in s for s in svgs)
    summary = [e for e in found if e["data-kind"] == "ObjectiveSummary"]
    assert [e["data-name"] for e in summary] == ["platform-excellence", "checkout-reliability", "checkout-speed"]


def test_text_from_the_objects_is_escaped(tmp_path):
    objects = sample_objects()
    objects[4]["spec"]["title"] = '<img src=x onerror="alert(1)">'
    html, dom = rendered(tmp_path, objects)
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "<img" not in dom
