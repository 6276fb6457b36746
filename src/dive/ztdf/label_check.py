"""Label ≡ policy for DIVE-profile files (spec/ztdf-kas.md §5.6)."""

from __future__ import annotations

from .errors import LabelMismatchError, PolicyInvalidError
from .label import ReadLabel
from .policy import Policy, policy_requirements

__all__ = ["check_label_matches_policy"]


def _upper_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.upper() for v in values)


def check_label_matches_policy(label: ReadLabel | None, policy: Policy) -> None:
    """The verified label and the bound policy must state the same access attributes."""
    if label is None:
        raise LabelMismatchError("the DIVE policy has no stanag4774-label assertion beside it")
    try:
        required = policy_requirements(policy)
    except PolicyInvalidError as exc:
        raise LabelMismatchError(f"the policy cannot be compared with the label: {exc.message}") from exc
    dive = policy.dive
    pairs = {
        "classification": (label.classification, required.classification),
        "releasableTo": (_upper_set(label.releasable_to), _upper_set(required.releasable_to)),
        "cois": (_upper_set(label.cois), _upper_set(required.cois)),
        "coiOperator": (label.coi_operator if label.cois else "ALL", required.coi_operator),
        "caveats": (_upper_set(label.caveats), _upper_set(required.caveats)),
        "releasableToIndustry": (label.releasable_to_industry, required.releasable_to_industry),
        "creationDate": (label.creation_time, dive.creation_date if dive else None),
        "originalClassification": (label.original_classification, dive.original_classification if dive else None),
        "originalCountry": (label.original_country, dive.original_country if dive else None),
    }
    differing = sorted(name for name, (left, right) in pairs.items() if left != right)
    if differing:
        raise LabelMismatchError(f"the label and the policy disagree on {', '.join(differing)}", {"fields": differing})
