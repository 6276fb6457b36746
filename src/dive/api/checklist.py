"""The decision object returned to clients (identity-api-ui §B.3.4; CONSISTENCY #2).

The engine supplies the thirteen booleans and the reason; this module only labels them and composes the values a
person compares (`subjectValue`/`requiredValue`) from the input and the engine's `evaluation_details`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from dive.policy import CHECK_IDS, Decision

__all__ = ["CHECK_LABELS", "decision_object", "reason_code"]

CHECK_LABELS: Final[Mapping[str, str]] = {
    "authenticated": "Authenticated",
    "required_attributes": "Required attributes",
    "clearance_sufficient": "Clearance",
    "country_releasable": "Releasability",
    "coi_satisfied": "Communities of interest",
    "embargo_passed": "Embargo",
    "ztdf_integrity_valid": "ZTDF integrity",
    "upload_releasability_valid": "Upload releasability",
    "aal_sufficient": "Authentication assurance",
    "industry_access_allowed": "Industry access",
    "industry_clearance_cap_ok": "Industry clearance cap",
    "coi_coherent": "COI coherence",
    "federation_trusted": "Federation trust",
}


def reason_code(decision: Decision) -> str:
    """CONSISTENCY #2: `failed[0]`, or `ok` on allow."""
    return decision.failed[0] if decision.failed else "ok"


def decision_object(
    decision: Decision, input: Mapping[str, Any], *, decision_id: str, evaluated_at: datetime
) -> dict[str, object]:
    return {
        "decisionId": decision_id,
        "allow": decision.allow,
        "reasonCode": reason_code(decision),
        "reason": decision.reason,
        "policyRevision": decision.revision,
        "evaluatedAt": evaluated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "checks": [_check(name, decision, input) for name in CHECK_IDS],
        "obligations": [dict(item) for item in decision.obligations],
    }


def _check(name: str, decision: Decision, input: Mapping[str, Any]) -> dict[str, object]:
    subject_value, required_value, applicable = _values(name, decision.evaluation_details, input)
    check: dict[str, object] = {
        "id": name,
        "label": CHECK_LABELS[name],
        "passed": decision.checks[name],
        "subjectValue": subject_value,
        "requiredValue": required_value,
    }
    if not applicable:
        check["applicable"] = False
    return check


def _values(name: str, details: Mapping[str, Any], input: Mapping[str, Any]) -> tuple[object, object, bool]:
    subject, resource = _section(input, "subject"), _section(input, "resource")
    context, action = _section(input, "context"), _section(input, "action")
    evaluated_subject, authentication = _section(details, "subject"), _section(details, "authentication")
    federation = _section(details, "federation")
    industry = evaluated_subject.get("organizationType") == "INDUSTRY"
    table: dict[str, tuple[object, object, bool]] = {
        "authenticated": (subject.get("authenticated"), True, True),
        "required_attributes": (_subject_summary(subject), None, True),
        "clearance_sufficient": (_clearance(evaluated_subject), resource.get("classification"), True),
        "country_releasable": (subject.get("countryOfAffiliation"), resource.get("releasabilityTo"), True),
        "coi_satisfied": (
            subject.get("acpCOI"),
            {"operator": resource.get("coiOperator", "ALL"), "coi": resource.get("COI", [])},
            bool(resource.get("COI")),
        ),
        "embargo_passed": (context.get("currentTime"), resource.get("creationDate"), "creationDate" in resource),
        "ztdf_integrity_valid": (None, resource.get("ztdf"), "ztdf" in resource),
        "upload_releasability_valid": (
            subject.get("countryOfAffiliation"),
            resource.get("releasabilityTo"),
            action.get("operation") == "upload",
        ),
        "aal_sufficient": (_aal(authentication.get("aal")), _aal(authentication.get("required_aal")), True),
        "industry_access_allowed": (
            evaluated_subject.get("organizationType"),
            {"releasableToIndustry": resource.get("releasableToIndustry", False)},
            industry,
        ),
        "industry_clearance_cap_ok": (_clearance(evaluated_subject), resource.get("classification"), industry),
        "coi_coherent": (None, details.get("coi_coherence_violations", []), bool(resource.get("COI"))),
        "federation_trusted": (federation.get("issuer"), federation.get("deciding_instance"), True),
    }
    return table[name]


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name)
    return value if isinstance(value, Mapping) else {}


def _subject_summary(subject: Mapping[str, Any]) -> dict[str, object]:
    names = ("uniqueID", "clearance", "countryOfAffiliation", "organizationType")
    return {name: subject.get(name) for name in names}


def _clearance(evaluated: Mapping[str, Any]) -> str | None:
    """`SECRET (GEHEIM, DEU)`: the policy's normalised level, then the term and ladder it came from."""
    level, term, ladder = (evaluated.get(k) for k in ("clearance_level", "clearance", "clearance_ladder"))
    if level is None:
        return None if term is None else f"unrecognized ({term}, {ladder})"
    return f"{level} ({term}, {ladder})"


def _aal(value: object) -> str | None:
    return f"AAL{value}" if isinstance(value, int) else None
