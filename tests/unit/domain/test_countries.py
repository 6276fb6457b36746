"""spec/abac.md §5.2, §5.3: the 249 ISO codes and the groupings."""

from __future__ import annotations

import hashlib

import pytest

from dive.domain.countries import (
    EU_27,
    FVEY_5,
    ISO_ALPHA3,
    ISO_ALPHA3_SHA256,
    NATO_32,
    is_valid_country,
    matches_code_syntax,
)


def test_iso_codes_are_the_249_of_the_spec_by_sha256():
    assert len(ISO_ALPHA3) == 249
    digest = hashlib.sha256("\n".join(sorted(ISO_ALPHA3)).encode()).hexdigest()
    assert digest == ISO_ALPHA3_SHA256 == "8810c4d98093359be6c85d9e7a04d4ad2ef39b7dce1db604eeda21477cb45074"


def test_groupings_have_their_sizes_and_only_iso_members():
    assert (len(NATO_32), len(set(NATO_32)), len(FVEY_5), len(EU_27), len(set(EU_27))) == (32, 32, 5, 27, 27)
    assert set(NATO_32) | set(FVEY_5) | set(EU_27) <= ISO_ALPHA3


@pytest.mark.parametrize("code", ["NATO", "FVEY", "EU", "fra", " FRA", "FRA ", None, 250, ["FRA"]])
def test_pseudo_codes_wrong_case_and_non_strings_are_not_valid_countries(code):
    assert not is_valid_country(code)


def test_a_registered_test_code_is_valid_only_in_the_set_that_holds_it():
    assert not is_valid_country("XYZ")
    assert is_valid_country("XYZ", ISO_ALPHA3 | {"XYZ"})
    assert is_valid_country("FRA")


@pytest.mark.parametrize(
    ("code", "ok"), [("XYZ", True), ("xyz", False), ("XY", False), ("XYZW", False), ("X1Z", False)]
)
def test_code_syntax_is_three_upper_case_ascii_letters(code, ok):
    assert matches_code_syntax(code) is ok
