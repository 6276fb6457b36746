"""DIVE label model, display marking (CONSISTENCY #35) and writer-side validation (spec/ztdf-kas.md §5.1–§5.2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from dive.ztdf import KasKeyUnavailableError, KasTarget, Label, LabelInvalidError, display_marking, validate_label


def test_display_marking_lists_caveats_any_cois_and_originator_first(label: Label) -> None:
    marked = dataclasses.replace(
        label, originator_country="FRA", releasable_to=("USA", "FRA", "DEU"), caveats=("NOFORN",),
        cois=("NATO", "EU"), coi_operator="ANY",
    )  # fmt: skip
    assert display_marking(marked) == "SECRET//NOFORN//NATO|EU//REL FRA, DEU, USA"
    assert validate_label(marked).releasable_to == ("FRA", "DEU", "USA")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classification": "SECRETISH"}, "classification"),
        ({"releasable_to": ()}, "releasable_to"),
        ({"releasable_to": ("usa",)}, "releasable_to"),
        ({"cois": ("FVEY<script>",)}, "cois"),
        ({"creation_date": "2026-03-01"}, "creation_date"),
        ({"original_classification": "GEHEIM='x'"}, "text"),
    ],
)
def test_invalid_label_field_is_refused_with_label_invalid(change: dict, field: str, label: Label) -> None:
    with pytest.raises(LabelInvalidError) as err:
        validate_label(dataclasses.replace(label, **change))
    assert err.value.code == "label_invalid" and err.value.detail == {"field": field}


def test_unreadable_kas_public_key_fails_with_kas_key_unavailable(make_ztdf: Callable[..., bytes]) -> None:
    with pytest.raises(KasKeyUnavailableError) as err:
        make_ztdf(kas_targets=[KasTarget("https://localhost:9000/kas", "usa-rsa-1", b"not a key")])
    assert err.value.code == "kas_key_unavailable"
