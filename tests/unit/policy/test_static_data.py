"""spec/abac.md §1.5: the committed static `data.dive` equals what `dive.domain` generates."""

from __future__ import annotations

import json

from dive.domain.clearance import normalize
from dive.policy.static_data import DATA_FILE, build_static_data, main, render_static_data


def test_committed_data_file_equals_the_regenerated_one():
    assert DATA_FILE.read_text(encoding="utf-8") == render_static_data()
    assert main(["--check"]) == 0


def test_static_data_has_the_members_the_policy_mounts_under_data_dive():
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert data["levels"] == {"UNCLASSIFIED": 0, "RESTRICTED": 1, "CONFIDENTIAL": 2, "SECRET": 3, "TOP_SECRET": 4}
    assert set(data["clearance"]) == {"exact", "folded", "case_map", "fold_map"}
    assert len(data["countries"]["valid"]) == 249 and set(data["countries"]["valid"].values()) == {True}
    assert data["coi"]["members"]["Alpha"] == [] and data["coi"]["members"]["FVEY"] == [
        "USA",
        "GBR",
        "CAN",
        "AUS",
        "NZL",
    ]
    assert data["industry_caps_builtin"] == {
        "USA": "SECRET",
        "FRA": "CONFIDENTIAL",
        "GBR": "SECRET",
        "DEU": "CONFIDENTIAL",
    }
    assert data["tenant_defaults"]["industry_cap_default"] == "CONFIDENTIAL"
    assert data == build_static_data()


def _normalize_with_data(data: dict, term: str, country: str) -> str | None:
    """§2.4 run on the JSON alone, as the Rego does, to show that the file carries the whole procedure."""
    clearance = data["clearance"]
    ladder = country if country in clearance["exact"] and country != "GENERIC" else "GENERIC"
    upper = "".join(clearance["case_map"].get(char, char) for char in term.strip(" \t\r\n"))
    if upper in clearance["exact"][ladder]:
        return clearance["exact"][ladder][upper]
    return clearance["folded"][ladder].get("".join(clearance["fold_map"].get(char, char) for char in upper))


def test_the_procedure_on_the_committed_maps_agrees_with_python_for_every_table_term():
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    for ladder, terms in data["clearance"]["exact"].items():
        for term in terms:
            for variant in (term, term.lower(), f" {term.replace(' ', '-')} ".lower()):
                assert _normalize_with_data(data, variant, ladder) == normalize(variant, ladder)


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "data.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr("dive.policy.static_data.DATA_FILE", stale)
    assert main(["--check"]) == 1
    assert "is stale" in capsys.readouterr().err
    assert main(["--write"]) == 0
    assert main(["--check"]) == 0
