"""Benchmarks (``make bench``, ``make bench-quick``; docs/performance.md).

* ``rules``: okr-operator vs Sloth vs Pyrra rules in one Prometheus on the same synthetic series (``synth``,
  ``slos``);
* ``equivalence``: their page/ticket alerts at 15x / 3.5x / 0.9x burns (``promtool test rules``);
* ``operator``: the operator at 10 / 1 000 / 10 000 objects (``objects``) on the Testbed, with a py-spy profile;
* ``report``: goals, checks and the Markdown table; ``tools``: Sloth/Pyrra binaries and versions;
  ``procstat``: CPU and memory from /proc.
"""
