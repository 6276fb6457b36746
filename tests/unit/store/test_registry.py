"""The federation registry repository and its feed to the policy (orchestration §5.3; CONSISTENCY #8–#10)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dive.domain.coi import COI_MEMBERS
from dive.store import FederationRegistryRepository, RecordInvalidError, TrustedPartner
from dive.store.models import FederationSpoke

registry = FederationRegistryRepository()


def _spoke(code: str, status: str) -> FederationSpoke:
    return FederationSpoke(
        code=code,
        spoke_id=f"spoke-{code.lower()}-0a1b2c3d",
        role="spoke",
        kind="local",
        status=status,
        api_url=f"https://localhost/{code}/api",
        web_url=f"https://localhost/{code}",
        idp_url=f"https://localhost/{code}/idp",
        kas_url=f"https://localhost/{code}/kas",
        issuer=f"https://localhost:8453/realms/dive-v3-broker-{code.lower()}",
    )


def _version(reader: sessionmaker[Session]) -> int:
    with reader() as session:
        return registry.read_version(session)


def test_a_new_database_has_registry_version_0_and_the_coi_registry_of_abac_5_1(reader: sessionmaker[Session]):
    with reader() as session:
        snapshot = registry.read_policy_registry(session)

    assert snapshot.version == 0
    assert snapshot.coi_members == {coi: tuple(members) for coi, members in COI_MEMBERS.items()}
    assert snapshot.coi_members["Alpha"] == ()
    assert (snapshot.trusted_partners, snapshot.matrix, snapshot.tenants, snapshot.test_codes) == ((), {}, {}, ())


def test_an_approved_spoke_is_trusted_with_its_upper_case_code_and_a_pending_one_is_not(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.save_spoke(session, _spoke("FRA", "approved"))
        registry.save_spoke(session, _spoke("deu", "pending"))

    with reader() as session:
        snapshot = registry.read_policy_registry(session)
        assert registry.get_spoke(session, "Fra").status == "approved"
    assert snapshot.trusted_partners == (TrustedPartner("FRA", "https://localhost:8453/realms/dive-v3-broker-fra"),)
    assert snapshot.version == 2


def test_saving_an_existing_spoke_updates_it_and_bumps_the_version(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.save_spoke(session, _spoke("fra", "pending"))
    with writer.begin() as session:
        registry.save_spoke(session, _spoke("fra", "approved"))

    with reader() as session:
        assert [spoke.status for spoke in registry.list_spokes(session)] == ["approved"]
    assert _version(reader) == 2


def test_a_matrix_pair_writes_both_directions_in_upper_case(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.set_matrix_pair(session, "usa", "fra", source="approval")
        registry.set_matrix_pair(session, "USA", "DEU", source="approval")

    with reader() as session:
        snapshot = registry.read_policy_registry(session)
    assert snapshot.matrix == {"DEU": ("USA",), "FRA": ("USA",), "USA": ("DEU", "FRA")}
    assert snapshot.version == 2

    with writer.begin() as session:
        registry.remove_matrix_pair(session, "fra", "usa")
    with reader() as session:
        assert registry.read_policy_registry(session).matrix == {"DEU": ("USA",), "USA": ("DEU",)}


def test_a_spoke_code_outside_iso_3166_is_reported_as_a_test_code(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.save_spoke(session, _spoke("xyz", "approved"))
        registry.save_spoke(session, _spoke("fra", "approved"))

    with reader() as session:
        assert registry.read_policy_registry(session).test_codes == ("XYZ",)


def test_coi_and_tenant_writes_bump_the_version_and_reach_the_snapshot(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.set_coi_members(session, "Delta", ["fra", "DEU"])
        registry.set_tenant_settings(session, "fra", {"aal_top_secret": 3})

    with reader() as session:
        snapshot = registry.read_policy_registry(session)
    assert snapshot.coi_members["Delta"] == ("FRA", "DEU")
    assert snapshot.tenants == {"FRA": {"aal_top_secret": 3}}
    assert snapshot.version == 2


def test_a_rolled_back_change_leaves_the_version_unchanged(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer() as session, session.begin():
        registry.set_matrix_pair(session, "usa", "fra", source="cli")
        session.rollback()

    with reader() as session:
        snapshot = registry.read_policy_registry(session)
    assert (snapshot.version, snapshot.matrix) == (0, {})


def test_a_matrix_pair_of_one_instance_with_itself_is_rejected(writer: sessionmaker[Session]):
    with pytest.raises(RecordInvalidError) as err, writer.begin() as session:
        registry.set_matrix_pair(session, "fra", "FRA", source="cli")
    assert err.value.code == "store_record_invalid"


def test_a_malformed_instance_code_is_rejected_before_any_write(writer: sessionmaker[Session]):
    with pytest.raises(RecordInvalidError, match="'fr'"), writer.begin() as session:
        registry.set_tenant_settings(session, "fr", {})


def test_deleting_a_spoke_removes_its_issuer_from_the_trusted_set(
    writer: sessionmaker[Session], reader: sessionmaker[Session]
):
    with writer.begin() as session:
        registry.save_spoke(session, _spoke("fra", "approved"))
    with writer.begin() as session:
        assert registry.delete_spoke(session, "FRA")
        assert not registry.delete_spoke(session, "FRA")

    with reader() as session:
        snapshot = registry.read_policy_registry(session)
    assert (snapshot.trusted_partners, snapshot.version) == ((), 2)


def test_a_spoke_with_a_status_outside_the_spec_is_rejected_by_the_database(writer: sessionmaker[Session]):
    with pytest.raises(RecordInvalidError, match="registry record FRA") as err, writer.begin() as session:
        registry.save_spoke(session, _spoke("fra", "enabled"))
    assert err.value.code == "store_record_invalid"
