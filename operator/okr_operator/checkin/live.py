"""``kubectl okr checkin --live``: append a check-in to a KeyResult in the cluster.

The patch is a JSON patch that tests ``metadata.resourceVersion`` and adds to the end of
``spec.source.manual.checkIns``: the object is validated with the API models as it was read, and when
someone else changed it in between (another check-in, a ``kubectl apply``) the test fails, the object is read
again and the check-in re-validated and re-sent, so concurrent check-ins all land and none replaces another.
Writes carry the field manager ``kubectl-okr-checkin``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from ..api import API_VERSION, GROUP, KEY_RESULT_KIND, KINDS, VERSION
from ..api.loader import validate_document
from .entry import CheckIn, CheckInError

FIELD_MANAGER = "kubectl-okr-checkin"
JSON_PATCH = "application/json-patch+json"
ATTEMPTS = 8
# How Argo CD marks the objects it manages: the tracking label (its default, annotation+label keeps it) or the
# tracking annotation (application.resourceTrackingMethod: annotation, the default since Argo CD 3).
ARGOCD_LABEL = "app.kubernetes.io/instance"
ARGOCD_ANNOTATION = "argocd.argoproj.io/tracking-id"


@dataclass(frozen=True)
class Appended:
    """What ``append`` did."""

    body: dict[str, Any]  # the KeyResult as the API server answered the patch
    check_ins: int
    attempts: int


def argocd_tracking(body: dict[str, Any]) -> str | None:
    """``annotation argocd.argoproj.io/tracking-id=...`` or ``label app.kubernetes.io/instance=...`` when the
    object carries Argo CD's tracking, else None."""
    meta = body.get("metadata") or {}
    annotation = (meta.get("annotations") or {}).get(ARGOCD_ANNOTATION)
    if annotation:
        return f"annotation {ARGOCD_ANNOTATION}={annotation}"
    label = (meta.get("labels") or {}).get(ARGOCD_LABEL)
    return f"label {ARGOCD_LABEL}={label}" if label else None


def checked(body: dict[str, Any], check_in: CheckIn) -> int:
    """Validate the KeyResult with ``check_in`` appended (the models of ``okrctl validate``); its new count."""
    meta = body.get("metadata") or {}
    subject = f"KeyResult {meta.get('namespace')}/{meta.get('name')}"
    spec = copy.deepcopy(body.get("spec") or {})
    source = spec.get("source") or {}
    manual = source.get("manual")
    if not isinstance(manual, dict):
        kinds = sorted(k for k in source if source.get(k) is not None)
        measured = f"measured by source.{kinds[0]}" if kinds else "has no spec.source"
        raise CheckInError(f"{subject} is {measured}, not by check-ins; only source.manual key results take them")
    manual["checkIns"] = [*(manual.get("checkIns") or []), check_in.to_dict()]
    candidate = {
        "apiVersion": body.get("apiVersion", API_VERSION),
        "kind": KEY_RESULT_KIND,
        "metadata": {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta},
        "spec": spec,
    }
    errors = [p for p in validate_document(subject, 0, candidate).problems if p.severity == "error"]
    if errors:
        problem = errors[0]
        raise CheckInError(f"the KeyResult would not be valid with this check-in: {problem.field}: {problem.message}")
    return len(manual["checkIns"])


def append_patch(body: dict[str, Any], check_in: CheckIn) -> list[dict[str, Any]]:
    """The JSON patch: only if the object is still the one read, add the check-in at the end of the list."""
    return [
        {"op": "test", "path": "/metadata/resourceVersion", "value": body["metadata"]["resourceVersion"]},
        {"op": "add", "path": "/spec/source/manual/checkIns/-", "value": check_in.to_dict()},
    ]


def _message(exc: Any) -> str:
    """The API's message and its causes (a failed JSON patch says why only in ``details.causes``)."""
    try:
        body = json.loads(exc.body or "{}")
    except (ValueError, TypeError):
        return str(getattr(exc, "reason", exc))
    causes = [str(c.get("message")) for c in (body.get("details") or {}).get("causes") or [] if c.get("message")]
    return "; ".join([str(body.get("message") or exc.reason), *causes])


def _maybe_superseded(exc: Any) -> bool:
    """409, or the 422 a failed JSON patch ``test`` gets (the API server says no more than "the server rejected
    our request"): the object may have changed since it was read. A 422 of validation names the object."""
    return exc.status == 409 or (exc.status == 422 and " is invalid" not in _message(exc))


def append(custom: Any, namespace: str, name: str, check_in: CheckIn, *, timeout: float) -> Appended:
    """Read, validate, patch; again when the object changed in between (at most ATTEMPTS times). A refusal
    after which the object is still the one read is reported, not retried."""
    from kubernetes.client.exceptions import ApiException

    args = (GROUP, VERSION, namespace, KINDS[KEY_RESULT_KIND].plural, name)
    refused: tuple[str, str] | None = None  # (resourceVersion patched, the API's message)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            body = custom.get_namespaced_custom_object(*args, _request_timeout=timeout)
        except ApiException as exc:
            if exc.status == 404:
                raise CheckInError(f"KeyResult {name} not found in namespace {namespace}") from None
            raise CheckInError(f"cannot read KeyResult {namespace}/{name}: {_message(exc)}") from None
        if refused is not None and body["metadata"]["resourceVersion"] == refused[0]:
            raise CheckInError(f"cannot patch KeyResult {namespace}/{name}: {refused[1]}")
        count = checked(body, check_in)
        try:
            answer = custom.patch_namespaced_custom_object(
                *args,
                append_patch(body, check_in),
                field_manager=FIELD_MANAGER,
                _content_type=JSON_PATCH,
                _request_timeout=timeout,
            )
        except ApiException as exc:
            if _maybe_superseded(exc):
                refused = (body["metadata"]["resourceVersion"], _message(exc))
                continue
            raise CheckInError(f"cannot patch KeyResult {namespace}/{name}: {_message(exc)}") from None
        return Appended(answer, count, attempt)
    raise CheckInError(f"KeyResult {namespace}/{name} changed {ATTEMPTS} times while checking in; try again")
