"""Goals and the Markdown table from the benchmark's figures (bench/results.json -> bench/results.md)."""

from __future__ import annotations

import itertools
from typing import Any

from bench import agreement, evaluation, shards

OURS = "okr-operator"
RSS_LIMIT_MB = 250  # issue 19 (was 300)
APPLY_LIMIT_SECONDS = 60  # apply -> all statuses at the largest size
EDIT_SLACK_SECONDS = 5  # edit -> status p95 <= interval + this
RULES_PER_SLO_LIMIT = 10
SLOTH_RATIO_LIMIT = 0.7
WORKBOOK_SLACK_MINUTES = 1.0


def _largest(sizes: dict[str, Any]) -> tuple[str, Any] | tuple[None, None]:
    if not sizes:
        return None, None
    key = max(sizes, key=int)
    return key, sizes[key]


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of issue 7 with the measured figure and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []
    rules = results.get("rules") or {}
    n, size = _largest(rules.get("sizes") or {})
    if size:
        tools = size["tools"]
        ours = tools.get(OURS, {})
        per_slo = ours.get("rules_per_slo")
        out.append(
            _goal("rules per SLO <= 10", per_slo, f"<= {RULES_PER_SLO_LIMIT}", per_slo is not None and per_slo <= 10)
        )
        for other in ("sloth", "pyrra"):
            theirs = tools.get(other)
            if theirs is None:
                out.append(_goal(f"rules per SLO below {other}", per_slo, f"< {other} (not built)", None))
                continue
            out.append(
                _goal(
                    f"rules per SLO below {other}",
                    f"{per_slo} vs {theirs['rules_per_slo']}",
                    f"< {theirs['rules_per_slo']}",
                    per_slo < theirs["rules_per_slo"],
                )
            )
        # Per minute, not per cycle: a group evaluated every 10 minutes (our tiles) costs a tenth of its duration
        # per minute, while a per-cycle sum would count it in every cycle.
        for other, limit in (("sloth", SLOTH_RATIO_LIMIT), ("pyrra", 1.0)):
            theirs = tools.get(other)
            mine = ours.get("eval_seconds_per_minute_median")
            what = f"rule evaluation time per minute <= {limit:g}x {other} (N={n})"
            if theirs is None or not theirs.get("eval_seconds_per_minute_median") or mine is None:
                out.append(_goal(what, None, f"<= {limit:g}x", None))
                continue
            ratio = mine / theirs["eval_seconds_per_minute_median"]
            out.append(
                _goal(
                    what,
                    f"{ratio:.2f}x ({mine * 1000:.1f} vs {theirs['eval_seconds_per_minute_median'] * 1000:.1f} ms)",
                    f"<= {limit:g}x",
                    ratio <= limit,
                )
            )
    eq = results.get("equivalence")
    if eq and eq.get("outcomes"):
        bad = [o for o in eq["outcomes"] if not o["as_expected"]]
        out.append(
            _goal(
                "page/ticket alerts alike at 15x / 3.5x / 0.9x",
                "all alike"
                if not bad
                else "; ".join(f"{o['tool']} at {o['burn']:g}x: {o['firing_at_end']}" for o in bad),
                "each tool fires as expected",
                not bad,
            )
        )
    out += detect_goals(results.get("detect"))
    out += cost_goals(results.get("cost"))
    op = results.get("operator") or {}
    sizes = op.get("sizes") or {}
    if sizes:
        small, large = min(sizes, key=int), max(sizes, key=int)
        q_small = sizes[small]["steady"]["queries_per_cycle"]
        q_large = sizes[large]["steady"]["queries_per_cycle"]
        out.append(
            _goal(
                f"queries per cycle equal at {small} and {large} objects",
                f"{q_small:g} vs {q_large:g}",
                "equal",
                q_large <= q_small,
            )
        )
        writes = {k: v["steady"]["status_writes_per_cycle"] for k, v in sizes.items()}
        out.append(
            _goal(
                "0 status writes per cycle at steady state",
                ", ".join(f"{w:g} at {k}" for k, w in sorted(writes.items(), key=lambda kv: int(kv[0]))),
                "0",
                all(w == 0 for w in writes.values()),
            )
        )
        out += operator_goals(op, large)
    return out


def operator_goals(op: dict[str, Any], large: str) -> list[dict[str, Any]]:
    """Issue 19's rows for the largest size: apply -> all statuses, peak RSS, edit -> status p95."""
    s = op["sizes"][large]
    rss = s["memory"]["peak_rss_mb"]
    converge = s["apply_to_all_status_seconds"]
    writes = (s.get("apply_writes") or {}).get("per_object")
    p95 = (s.get("edit_latency_seconds") or {}).get("p95")
    edit_limit = op["interval_seconds"] + EDIT_SLACK_SECONDS
    return [
        _goal(
            f"apply -> all statuses at {large} objects <= {APPLY_LIMIT_SECONDS} s",
            f"{converge:g} s" + (f" ({writes:g} apiserver writes per object)" if writes is not None else ""),
            f"<= {APPLY_LIMIT_SECONDS} s",
            converge <= APPLY_LIMIT_SECONDS,
        ),
        _goal(
            f"operator RSS at {large} objects <= {RSS_LIMIT_MB} MB",
            f"{rss:.0f} MB (peak)",
            f"<= {RSS_LIMIT_MB} MB",
            rss <= RSS_LIMIT_MB,
        ),
        _goal(
            f"edit -> status p95 at {large} objects <= interval + {EDIT_SLACK_SECONDS} s",
            f"{_fmt(p95)} s",
            f"<= {edit_limit:g} s",
            None if p95 is None else p95 <= edit_limit,
        ),
    ]


COST_RATIO_LIMIT = 0.5


def _above_idle(cost: dict[str, Any], name: str) -> float | None:
    per_minute = cost.get("cpu_per_minute") or {}
    if name not in per_minute or "idle" not in per_minute:
        return None
    return per_minute[name] - per_minute["idle"]


def cost_goals(cost: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 19: Prometheus CPU for our rules and the operator's status queries <= 0.5x Sloth's rules alone."""
    if not cost:
        return []
    sloth = _above_idle(cost, "sloth")
    out = []
    for name in sorted(k for k in cost.get("cpu_per_minute", {}) if k.startswith("ours + status")):
        ours = _above_idle(cost, name)
        if sloth is None or ours is None or sloth <= 0:
            out.append(_goal(f"Prometheus CPU, {name} vs sloth (N={cost['slos']})", None, "<= 0.5x", None))
            continue
        ratio = ours / sloth
        out.append(
            _goal(
                f"Prometheus CPU, {name} vs sloth's rules (N={cost['slos']})",
                f"{ratio:.2f}x ({ours:.2f} vs {sloth:.2f} CPU s/min above idle)",
                f"<= {COST_RATIO_LIMIT:g}x",
                ratio <= COST_RATIO_LIMIT,
            )
        )
    return out


def cost_markdown(cost: dict[str, Any] | None) -> list[str]:
    if not cost:
        return []
    lines = [
        "",
        "## Prometheus CPU: rules and the operator's status queries",
        "",
        f"{cost['slos']} SLOs on the rules phase's series and history; each configuration alone for "
        f"{cost['minutes']:g} min; the operator (okr-operator run --standalone, interval "
        f"{cost['operator_interval_seconds']} s) against that Prometheus. CPU s/min of the Prometheus process "
        "(/proc); normalised: rebuilt from unit costs as if no rule-group iteration or cycle had been skipped "
        "(bench/cost.py). Tiles backfilled: "
        f"{(cost.get('tile_backfill') or {}).get('samples', 0):,} samples.",
        "",
        "| configuration | CPU s/min | normalised | missed iterations | cycles | queries/cycle "
        "| query s/cycle | operator CPU s/min |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, c in (cost.get("configurations") or {}).items():
        lines.append(
            f"| {name} | {c['cpu_per_minute']} | {_fmt((cost.get('cpu_per_minute') or {}).get(name))} "
            f"| {c.get('missed_iterations')} | {_fmt(c.get('cycles'))} | {_fmt(c.get('queries_per_cycle'))} "
            f"| {_fmt(c.get('query_seconds_per_cycle'))} | {_fmt(c.get('operator_cpu_per_minute'))} |"
        )
    for source, prof in (cost.get("profile") or {}).items():
        top = ", ".join(f"{w}: {v['samples']:,}" for w, v in list(prof["by_window"].items())[:6])
        lines += ["", f"One cycle with {source}: {prof['queries']} queries, {prof['samples']:,} samples read ({top})."]
    if cost.get("profile_note"):
        lines += ["", cost["profile_note"]]
    return lines


def detect_goals(detect: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 20's goals from the time-to-detect table: page no later than Sloth and within a minute of the SRE
    workbook at 100% / 10% / 2% errors, ticket no later than Sloth at 3.5x, no page at 10x for 90 minutes."""
    if not detect or not detect.get("rows"):
        return []
    pages = [r for r in detect["rows"] if r["severity"] == "page" and not r["silent"]]
    tickets = [r for r in detect["rows"] if r["severity"] == "ticket"]
    silent = [r for r in detect["rows"] if r["silent"]]
    out = []
    for name, rows in (("page", pages), ("ticket", tickets)):
        label = " / ".join(r["case"] for r in rows)
        ours = [r["minutes"].get(OURS) for r in rows]
        sloth = [r["minutes"].get("sloth") for r in rows]
        if any("sloth" not in r["minutes"] for r in rows):
            out.append(_goal(f"time to {name} <= Sloth's ({label})", _minutes(ours), "<= Sloth's (not built)", None))
        else:
            met = all(o is not None and (t is None or o <= t) for o, t in zip(ours, sloth, strict=True))
            out.append(
                _goal(f"time to {name} <= Sloth's ({label})", f"{_minutes(ours)} vs {_minutes(sloth)}", "<=", met)
            )
    diffs = [None if r["minutes"].get(OURS) is None else r["minutes"][OURS] - r["workbook_minutes"] for r in pages]
    cases = " / ".join(r["case"] for r in pages)
    out.append(
        _goal(
            f"time to page within {WORKBOOK_SLACK_MINUTES:g} min of the workbook ({cases})",
            " / ".join("never" if d is None else f"{d:+.2f}" for d in diffs) + " min",
            f"within ±{WORKBOOK_SLACK_MINUTES:g} min",
            all(d is not None and abs(d) <= WORKBOOK_SLACK_MINUTES for d in diffs),
        )
    )
    for r in silent:
        fired = r["minutes"].get(OURS)
        out.append(
            _goal(
                f"no {r['severity']} at {r['case']}",
                "silent" if fired is None else f"fired after {fired:g} min",
                "silent",
                fired is None,
            )
        )
    return out


def _minutes(values: list[float | None]) -> str:
    return " / ".join("—" if v is None else f"{v:g}" for v in values) + " min"


def _goal(name: str, measured: Any, target: str, met: bool | None) -> dict[str, Any]:
    return {"goal": name, "measured": measured, "target": target, "met": met}


def checks(results: dict[str, Any]) -> list[tuple[str, bool]]:
    """The pass/fail checks of a run: our rules load and evaluate at every N, queries do not grow with objects,
    no status writes at steady state, the cheap status path agrees with raw queries (``agreement``)."""
    out: list[tuple[str, bool]] = []
    for n, size in ((results.get("rules") or {}).get("sizes") or {}).items():
        ours = size["tools"].get(OURS)
        if ours is None:
            out.append((f"N={n}: okr-operator rules were not measured", False))
            continue
        if ours.get("load_error"):
            out.append((f"N={n}: okr-operator rule file did not load: {ours['load_error'][:500]}", False))
        else:
            out.append((f"N={n}: okr-operator rule file loads", True))
        out.append(
            (
                f"N={n}: okr-operator rules evaluate without failures "
                f"({ours.get('evaluation_failures')} failures, unhealthy: {(ours.get('unhealthy_rules') or [])[:3]})",
                not ours.get("evaluation_failures") and not ours.get("unhealthy_rules") and not ours.get("load_error"),
            )
        )
    sizes = (results.get("operator") or {}).get("sizes") or {}
    ordered = sorted(sizes, key=int)
    for a, b in itertools.pairwise(ordered):
        qa, qb = sizes[a]["steady"]["queries_per_cycle"], sizes[b]["steady"]["queries_per_cycle"]
        out.append((f"queries per cycle do not grow with object count: {qa:g} at {a} objects, {qb:g} at {b}", qb <= qa))
    for n in ordered:
        writes = sizes[n]["steady"]["status_writes_per_cycle"]
        by_kind = sizes[n]["steady"].get("status_writes_by_kind") or {}
        out.append(
            (f"0 status writes per cycle at steady state at {n} objects: {writes:g} {by_kind or ''}", writes == 0)
        )
    out += agreement.checks(results.get("agreement"))
    out += shards.checks(results.get("shards"))
    for phase, trace in (results.get("errors") or {}).items():
        last = trace.strip().splitlines()[-1].strip()
        out.append((f"{phase} phase failed: {last[:300]}", False))
    return out


def failures(results: dict[str, Any]) -> list[str]:
    """What makes the run fail (exit 1)."""
    return [name for name, ok in checks(results) if not ok]


# ---------------------------------------------------------------------------------------------- markdown


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.1f}"


def _met(flag: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[flag]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = results["versions"]
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `make {'bench' if results['mode'] == 'full' else 'bench-quick'}` on {results['generated_at']} "
        f"({results['mode']} run, {results['wall_seconds']['total']:.0f} s wall). Do not edit: `make bench` "
        "rewrites it; docs/performance.md explains the figures.",
        "",
        f"**Machine:** {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}. "
        f"Load average at start {results['load_average_start']}, at end {results['load_average_end']} "
        "(other work on the machine inflates every duration; ratios within one run are comparable).",
        "",
        "**Versions:** " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "**Wall time per phase:** "
        + ", ".join(
            f"{k} {s:.0f} s"
            + (f" (run {results['phase_started_at'][k]})" if k in results.get("phase_started_at", {}) else "")
            for k, s in results["wall_seconds"].items()
        )
        + ".",
        "",
        "## Goals",
        "",
        "| goal | measured | target | |",
        "| --- | --- | --- | --- |",
    ]
    for g in results["goals"]:
        lines.append(f"| {g['goal']} | {_fmt(g['measured'])} | {g['target']} | {_met(g['met'])} |")
    if results.get("failures"):
        lines += ["", "**Failures:** " + "; ".join(results["failures"])]
    if results.get("skipped"):
        lines += ["", "**Not run:** " + "; ".join(results["skipped"])]
    rules = results.get("rules")
    if rules:
        lines += [
            "",
            "## Rules: okr-operator vs Sloth vs Pyrra (one Prometheus, same series)",
            "",
            f"{rules['services']} services, {rules['series']} raw series ({rules['pods_per_service']} pods x codes "
            f"{'/'.join(rules['codes'])}), {rules['raw_history_hours']:g} h of raw history every "
            f"{rules['scrape_interval_seconds']} s, then live; recorded 5m series backfilled over "
            f"{rules['recorded_history_hours']:g} h. Evaluation interval {rules['evaluation_interval_seconds']} s "
            f"(Pyrra's groups: 30 s and 2m30s). Rule evaluation = `prometheus_rule_group_last_duration_seconds` "
            f"summed over the tool's groups, median of {rules['cycles']} cycles; per minute = each group's last "
            "duration x its evaluations per minute. Raw backfill "
            f"{rules['raw_backfill']['samples']:,} samples in {rules['raw_backfill']['backfill_seconds']:g} s; "
            f"recorded backfill {rules['recorded_backfill']['samples']:,} samples in "
            f"{rules['recorded_backfill']['seconds']:g} s.",
            "",
            "| N | tool | rules/SLO | records | alerts | recording series | samples/eval | rule eval ms/cycle | "
            "vs ours | rule eval ms/min | failures |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for n, size in sorted(rules["sizes"].items(), key=lambda kv: int(kv[0])):
            ours = size["tools"].get(OURS, {}).get("eval_seconds_per_cycle_median")
            for tool, t in size["tools"].items():
                theirs = t.get("eval_seconds_per_cycle_median")
                ratio = "1" if tool == OURS else (f"{ours / theirs:.2f}x" if ours and theirs else "—")
                fail = t["evaluation_failures"] + len(t.get("unhealthy_rules") or [])
                if t.get("load_error"):
                    fail = "load error"
                lines.append(
                    f"| {n} | {tool} | {t['rules_per_slo']:g} | {t['record_rules']} | {t['alert_rules']} | "
                    f"{_fmt(t['recording_series'])} | {t['samples_per_evaluation']:,} | {_ms(theirs)} | {ratio} | "
                    f"{_ms(t.get('eval_seconds_per_minute_median'))} | {fail} |"
                )
        if "pyrra" not in next(iter(rules["sizes"].values()))["tools"]:
            lines += ["", "Pyrra: " + results.get("pyrra_note", "not built.")]
    eq = results.get("equivalence")
    if eq:
        lines += [
            "",
            "## Alert equivalence",
            "",
            f"{eq['scenario']} ({eq['seconds']:g} s). Minutes after the burn started until the first firing.",
            "",
            "| burn | tool | firing at the end | expected | page after (min) | ticket after (min) | |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for o in sorted(eq["outcomes"], key=lambda o: (-o["burn"], o["tool"])):
            lines.append(
                f"| {o['burn']:g}x | {o['tool']} | {', '.join(o['firing_at_end']) or 'nothing'} | "
                f"{', '.join(o['expected']) or 'nothing'} | {_fmt(o['minutes_to_page'])} | "
                f"{_fmt(o['minutes_to_ticket'])} | {'alike' if o['as_expected'] else '**differs**'} |"
            )
    lines += detect_markdown(results.get("detect"))
    lines += agreement.markdown(results.get("agreement"))
    lines += cost_markdown(results.get("cost"))
    lines += evaluation.markdown(results.get("evaluation"))
    op = results.get("operator")
    if op:
        lines += [
            "",
            "## The operator at scale (Testbed apiserver, no pods)",
            "",
            f"Units of 10 objects (1 Objective, 3 SLOs, 6 KeyResults: 3 from SLOs, 2 manual, 1 PromQL); interval "
            f"{op['interval_seconds']} s, SLIs from raw series of {op['services']} services. CPU seconds per cycle at "
            "steady state: operator / kube-apiserver / etcd / Prometheus.",
            "",
            "| objects | create s | apply→all statuses s | apiserver writes/object | queries/cycle | "
            "status writes/cycle | cycle s | evaluation s | of which queries s | CPU s/cycle op / api / etcd / prom | "
            "RSS MB (peak) | edit→status p50 / p95 s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for n, s in sorted(op["sizes"].items(), key=lambda kv: int(kv[0])):
            st = s["steady"]
            cpu = st["cpu_seconds_per_cycle"]
            cpu_text = " / ".join(_fmt(cpu.get(k), 2) for k in ("operator", "kube-apiserver", "etcd", "prometheus"))
            e = s["edit_latency_seconds"]
            lines.append(
                f"| {int(n):,} | {s['apply_seconds']:g} | {s['apply_to_all_status_seconds']:g} | "
                f"{_fmt((s.get('apply_writes') or {}).get('per_object'))} | {st['queries_per_cycle']:g} | "
                f"{st['status_writes_per_cycle']:g} | {st['seconds_per_cycle']:g} | "
                f"{st['evaluation_seconds_per_cycle']:g} | {st['query_seconds_per_cycle']:g} | {cpu_text} | "
                f"{s['memory']['rss_mb']:.0f} ({s['memory']['peak_rss_mb']:.0f}) | "
                f"{_fmt(e['p50'])} / {_fmt(e['p95'])} |"
            )
        for n, s in sorted(op["sizes"].items(), key=lambda kv: int(kv[0])):
            for phase, key in (("apply → all statuses", "converge_profile"), ("steady state", "steady_profile")):
                prof = s.get(key)
                if not prof or not prof.get("samples"):
                    continue
                if key == "converge_profile":
                    used = "CPU seconds in that phase: " + ", ".join(
                        f"{k} {val:g}" for k, val in s["converge_cpu_seconds"].items()
                    )
                else:
                    used = "CPU seconds per cycle: " + ", ".join(
                        f"{k} {val:g}" for k, val in s["steady"]["cpu_seconds_per_cycle"].items()
                    )
                lines += [
                    "",
                    f"**Profile at {int(n):,} objects, {phase}** (py-spy, {prof['samples']:,} CPU samples of the "
                    f"operator process at 50 Hz; {used}):",
                    "",
                    "- by category (innermost frame): " + ", ".join(f"{c} {p:g}%" for c, p in prof["by_category"]),
                    "- heaviest functions of ours (inclusive): "
                    + ", ".join(f"`{f}` {p:g}%" for f, p in prof["our_functions_inclusive"][:8]),
                ]
            sizes_json = s.get("object_json_bytes")
            if sizes_json:
                lines += [
                    "",
                    f"Object size as served at {int(n):,} objects (bytes of JSON: total / managedFields / "
                    "annotations / status): "
                    + "; ".join(
                        f"{k} {v['total']:,} / {v['managedFields']:,} / {v['annotations']:,} / {v['status']:,}"
                        for k, v in sizes_json.items()
                    )
                    + ".",
                ]
    lines += shards.markdown(results.get("shards"))
    return "\n".join(lines) + "\n"


def detect_markdown(detect: dict[str, Any] | None) -> list[str]:
    """The time-to-detect table: minutes from the onset to the first firing, per tool, beside the workbook's."""
    if not detect or not detect.get("rows"):
        return []
    tools = list(detect["rows"][0]["minutes"])
    lines = [
        "",
        "## Time to detect",
        "",
        f"{detect['scenario']} ({detect['seconds']:g} s). Minutes from the onset to the first evaluation at which the "
        "alert is firing; the SRE workbook's time is computed from its windows (page: 1h and 5m above 14.4x or 6h "
        "and 30m above 6x; ticket: 1d and 2h above 3x or 3d and 6h above 1x) over the exact error ratio.",
        "",
        "| errors | alert | SRE workbook | " + " | ".join(tools) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in tools) + " |",
    ]
    for r in detect["rows"]:
        if r["silent"]:
            cells = ["silent" if r["minutes"][t] is None else f"**fired after {r['minutes'][t]:g}**" for t in tools]
            lines.append(f"| {r['case']} | no {r['severity']} | silent | " + " | ".join(cells) + " |")
            continue
        cells = ["never" if r["minutes"][t] is None else f"{r['minutes'][t]:g}" for t in tools]
        lines.append(f"| {r['case']} | {r['severity']} | {r['workbook_minutes']:g} | " + " | ".join(cells) + " |")
    return lines
