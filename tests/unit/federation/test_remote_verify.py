"""`federation verify` from a host that holds only one side (orchestration §8.5, Amendment A1): the hub registry is
read through the hub api, and checks needing the other realm's admin or app credentials are listed skips."""

from __future__ import annotations

import ssl

import httpx

from dive.federation import VerifyTarget, local_partner, verify_federation


class _HubRecords:
    def __init__(self, status: str | None) -> None:
        self.status = status

    def spoke_status(self, code: str) -> str | None:
        return self.status

    def kas(self, kas_id: str) -> tuple[str, str, dict[str, str]] | None:
        return None


def _report(records: _HubRecords | None):
    unavailable = httpx.MockTransport(lambda request: httpx.Response(503))
    with httpx.Client(transport=unavailable) as http:
        target = VerifyTarget(
            hub=local_partner("usa", {}),
            spoke=local_partner("fra", {}),
            http=http,
            tls=ssl.create_default_context(),
            hub_admin=None,
            spoke_admin=None,
            hub_db_url=None,
            spoke_db_url=None,
            test_user_password="password",
            app_client_secrets={"fra": "fra-app-secret"},
            hub_records=records,
        )
        return verify_federation(target, attempts=1, schedule=(0.0,), on_retry=lambda *_: None, sleep=lambda _: None)


def test_the_registry_check_reads_the_remote_hubs_record_through_its_api():
    outcomes = _report(_HubRecords("approved")).outcomes
    assert outcomes["registry"].status == "pass" and "approved" in outcomes["registry"].detail
    assert _report(_HubRecords("pending")).outcomes["registry"].status == "fail"
    assert "not reachable" in _report(None).outcomes["registry"].detail


def test_checks_needing_the_remote_realms_credentials_are_skips_with_the_reason():
    outcomes = _report(_HubRecords("approved")).outcomes
    assert outcomes["usa@fra.token"].detail == "skip: no app client secret for remote realm"
    assert outcomes["fra@usa.idp"].detail == "skip: no admin credentials for remote realm"
    assert outcomes["fra@usa.token"].status != "skip"
    assert outcomes["spoke.kas"].status == "fail" and "absent in the hub KAS registry" in outcomes["spoke.kas"].detail
