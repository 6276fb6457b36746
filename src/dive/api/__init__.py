"""The backend API, the policy enforcement point (identity-api-ui §B): `dive serve api` runs `create_app`;
`dive spoke authorize` / `revoke-authorization` call the enrolment-token functions (orchestration Amendment A1)."""

from __future__ import annotations

from dive.api.app import create_app
from dive.api.enrolment import DEFAULT_ENROLMENT_TTL_S, issue_enrolment_token, revoke_enrolment_tokens

__all__ = ["DEFAULT_ENROLMENT_TTL_S", "create_app", "issue_enrolment_token", "revoke_enrolment_tokens"]
