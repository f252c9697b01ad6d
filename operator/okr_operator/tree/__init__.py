"""The objective tree of ``kubectl okr tree``, the web view and the period report: model, building, figures.

``build_forest(objectives, key_results, slos)`` turns the objects as the API lists them (dicts) into
``Node`` trees: top-level objectives (no parentRef, or a parent that is not among the objectives given),
their aligned child objectives nested under them (``okr.alignment``: which count in the parent's roll-up),
and each objective's key results as leaves. ``to_data(nodes)`` gives the trees as plain data. Rendering
lives with each view (``cli/tree.py`` for the terminal).
"""

from .build import build_forest
from .model import Key, KeyResultNode, Node, Problem, SLOInfo, to_data, walk
from .text import fmt_number, key_result_values

__all__ = [
    "Key",
    "KeyResultNode",
    "Node",
    "Problem",
    "SLOInfo",
    "build_forest",
    "fmt_number",
    "key_result_values",
    "to_data",
    "walk",
]
