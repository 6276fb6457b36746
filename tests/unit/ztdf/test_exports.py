from __future__ import annotations

import dive.ztdf
from dive.ztdf import errors


def test_every_name_in_all_is_exported_and_nothing_public_is_missing() -> None:
    exported = set(dive.ztdf.__all__)
    assert all(hasattr(dive.ztdf, name) for name in exported)
    public_errors = {name for name in errors.__all__}
    assert public_errors <= exported


def test_every_error_class_has_a_distinct_stable_code() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(code.islower() and " " not in code for code in codes)
