"""Check-ins without hand-editing (``kubectl okr checkin``): the new check-in from the command line, the
in-place edit of a manifest file (comments and layout kept), and the patch of a live KeyResult.

``entry`` and ``manifest.edit_text`` are pure; ``manifest.write_atomically`` and ``live`` are the edges
(a file, the API server).
"""

from .entry import CheckIn, CheckInError, parse_check_in

__all__ = ["CheckIn", "CheckInError", "parse_check_in"]
