"""The built-in read-only web view: server-rendered HTML and SVG of objectives, key results and SLOs."""
