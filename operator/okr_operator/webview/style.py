"""The page's style sheet (inline: the page needs no other request). Colours only repeat what the words say."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem;
color:#1b1b1b;background:#fff;line-height:1.35}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
h3{font-size:1rem;margin:0;display:inline}
.muted,.name{color:#555;font-size:.85rem}.name{margin-left:.6rem;font-family:ui-monospace,monospace}
nav a{margin-right:.5rem}nav a[aria-current]{font-weight:bold;text-decoration:none}
ul.tree,ul.objectives,ul.key-results{list-style:none;padding-left:1.2rem;margin:.2rem 0}
ul.tree{padding-left:0}
li.objective{border-left:3px solid #8a8a8a;padding:.3rem 0 .3rem .6rem;margin:.5rem 0}
li.key-result{border-left:2px dotted #8a8a8a;padding:.2rem 0 .2rem .6rem;margin:.3rem 0}
.line{display:flex;flex-wrap:wrap;align-items:center;gap:.6rem}.detail{color:#333;font-size:.9rem}
.progress{font-weight:bold;min-width:3rem;text-align:right}.score{font-size:.9rem}
.state{white-space:nowrap;font-weight:bold;border:1px solid currentColor;border-radius:3px;padding:0 .35rem;
font-size:.85rem}
.state-OnTrack,.state-Achieved,.state-Healthy{color:#116329}
.state-AtRisk,.state-Warning{color:#8a5300}
.state-OffTrack,.state-Missed,.state-Critical,.state-Exhausted{color:#a40e26}
.state-Unknown,.state-none{color:#555}
svg .track{fill:#eee;stroke:#999;stroke-width:1}svg .fill{fill:#3d6fb4}svg .fill.budget{fill:#2f7d4a}
svg .expected{stroke:#111;stroke-width:2}svg .pace{stroke:#111;stroke-width:1;stroke-dasharray:4 3}
svg .now{stroke:#999;stroke-width:1}svg .spark{fill:none;stroke:#3d6fb4;stroke-width:2}svg .spark-end{fill:#3d6fb4}
ul.conditions{margin:.2rem 0;padding-left:1.2rem;color:#a40e26;font-size:.9rem}
table.slos{border-collapse:collapse;width:100%;font-size:.9rem}
table.slos th,table.slos td{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
table.slos th[scope=row] .title{display:block;font-weight:bold}
@media (prefers-color-scheme: dark){body{background:#111;color:#eee}.muted,.name,.detail{color:#bbb}
svg .track{fill:#333}svg .expected,svg .pace{stroke:#eee}}
"""
