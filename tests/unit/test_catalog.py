"""spec/orchestration.md §0 and §1.2: instance codes, offsets, ports and names (CONSISTENCY #24: tests use 40–89)."""

from __future__ import annotations

import pytest

from dive import catalog
from dive.catalog import (
    CATALOG,
    SERVICES,
    CatalogError,
    alertmanager_port,
    client_id,
    database_name,
    display_code,
    idp_alias,
    is_test_code,
    issuer,
    kas_id,
    kas_url,
    normalize_code,
    port,
    port_shift,
    ports,
    prometheus_port,
    realm,
    supervisor_group,
    supervisor_program,
)


def test_offsets_follow_design_order():
    offsets = {code: entry.offset for code, entry in CATALOG.items()}
    assert (offsets["usa"], offsets["alb"], offsets["fra"], offsets["deu"], offsets["tur"], offsets["gbr"]) == (
        0,
        1,
        10,
        11,
        30,
        31,
    )
    assert [offsets[c] for c in ("aus", "nzl", "jpn", "kor", "isr", "ukr")] == [32, 33, 34, 35, 36, 37]
    assert sorted(offsets.values()) == list(range(38))
    assert all(entry.name for entry in CATALOG.values())


def test_all_usable_offsets_times_services_and_monitoring_ports_are_pairwise_distinct():
    used = [port("xyz", service, offset=o) for o in range(90) for service in SERVICES]
    used += [prometheus_port(), alertmanager_port()]
    assert len(used) == len(set(used)) == 90 * 5 + 2


def test_ports_of_fra_and_the_hub_match_the_design_examples():
    assert ports("FRA") == {"web": 3010, "api": 4010, "pdp": 8191, "idp": 8453, "kas": 9010}
    assert port("hub", "idp") == 8443
    assert port("usa", "api", shift=10000) == 14000
    assert (prometheus_port(shift=20000), alertmanager_port(shift=20000)) == (29090, 29093)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: port("xyz", "api"), "unknown_instance"),
        (lambda: port("fra", "db"), "unknown_service"),
        (lambda: port("xyz", "api", offset=90), "invalid_offset"),
        (lambda: port("xyz", "api", offset=-1), "invalid_offset"),
        (lambda: port("fra", "api", shift=-1), "invalid_port_shift"),
        (lambda: port("fra", "kas", shift=56600), "port_out_of_range"),
        (lambda: prometheus_port(shift=60000), "port_out_of_range"),
        (lambda: port("fr", "api"), "invalid_instance_code"),
        (lambda: supervisor_program("fra", "redis"), "unknown_service"),
    ],
)
def test_usage_errors_carry_their_codes(call, code):
    with pytest.raises(CatalogError) as err:
        call()
    assert err.value.code == code


@pytest.mark.parametrize(
    ("environ", "shift"), [({}, 0), ({"DIVE_PORT_SHIFT": ""}, 0), ({"DIVE_PORT_SHIFT": " 10000 "}, 10000)]
)
def test_port_shift_reads_dive_port_shift(environ, shift):
    assert port_shift(environ) == shift


@pytest.mark.parametrize("raw", ["-1", "1e4", "ten", "٣", "56443"])
def test_port_shift_refuses_non_integers_and_shifts_past_65535(raw):
    with pytest.raises(catalog.InvalidPortShiftError, match="DIVE_PORT_SHIFT") as err:
        port_shift({"DIVE_PORT_SHIFT": raw})
    assert err.value.code == "invalid_port_shift"


def test_the_largest_allowed_shift_keeps_every_port_in_range():
    shift = port_shift({"DIVE_PORT_SHIFT": "56442"})
    assert alertmanager_port(shift=shift) == 65535
    assert port("xyz", "kas", shift=shift, offset=89) == 65531


@pytest.mark.parametrize(
    ("text", "code"), [("FRA", "fra"), (" fra ", "fra"), ("Hub", "usa"), ("HUB", "usa"), ("xyz", "xyz")]
)
def test_normalize_code_is_case_insensitive_and_maps_hub_to_usa(text, code):
    assert normalize_code(text) == code


@pytest.mark.parametrize("text", ["", "fr", "fran", "f1a", "frä", "hubs"])
def test_normalize_code_refuses_anything_but_three_letters(text):
    with pytest.raises(catalog.InvalidInstanceCodeError) as err:
        normalize_code(text)
    assert err.value.code == "invalid_instance_code"


@pytest.mark.parametrize(
    ("code", "is_test"),
    [("xyz", True), ("QQA", True), ("fra", False), ("hub", False), ("bra", False), ("jpn", False), ("x", False)],
)
def test_a_test_code_is_neither_in_the_catalog_nor_iso(code, is_test):
    assert is_test_code(code) is is_test


def test_names_for_an_instance():
    assert realm("FRA") == client_id("fra") == "dive-v3-broker-fra"
    assert issuer("fra") == "https://localhost:8453/realms/dive-v3-broker-fra"
    assert issuer("hub", host="dive.example", shift=10000) == "https://dive.example:18443/realms/dive-v3-broker-usa"
    assert kas_url("deu") == "https://localhost:9011/kas"
    assert kas_url("xyz", offset=40) == "https://localhost:9040/kas"
    assert (kas_id("FRA"), idp_alias("DEU"), database_name("Fra")) == ("fra-kas", "deu-idp", "dive_fra")
    assert (supervisor_group("usa"), supervisor_group("fra")) == ("hub", "fra")
    assert (supervisor_program("hub", "pdp"), supervisor_program("gbr", "web")) == ("hub-pdp", "gbr-web")
    assert display_code("hub") == "USA"
