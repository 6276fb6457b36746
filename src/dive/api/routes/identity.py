"""`GET /api/me` (identity-api-ui §B.4): the subject exactly as the PEP sees it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from dive.api.routes.common import runtime
from dive.domain.aal import effective_aal
from dive.domain.clearance import normalize, primary_term
from dive.policy.pep_input import build_context, build_subject

__all__ = ["router"]

router = APIRouter()


@router.get("/api/me", summary="The caller as the policy sees it")
async def me(request: Request) -> JSONResponse:
    api = runtime(request)
    principal = await api.auth.authenticate(request)
    claims = principal.claims
    subject = build_subject(claims, authenticated=True)
    context = build_context(claims, tenant=api.settings.instance_code, now=datetime.now(UTC))
    country = subject.get("clearanceCountry") or subject.get("countryOfAffiliation")
    level = normalize(subject.get("clearance"), country)
    exp = claims.get("exp")
    return JSONResponse(
        {
            "sub": claims.get("sub"),
            "iss": claims.get("iss"),
            "username": claims.get("preferred_username"),
            "uniqueID": subject.get("uniqueID"),
            "clearance": {
                "level": level,
                "original": subject.get("clearance"),
                "country": country,
                "natoEquivalent": primary_term("NATO", level) if level else None,
            },
            "countryOfAffiliation": subject.get("countryOfAffiliation"),
            "acpCOI": subject.get("acpCOI"),
            "organizationType": subject.get("organizationType") or "GOV",
            "aal": f"AAL{effective_aal(context.get('acr'), context.get('amr'))}",
            "acr": context.get("acr"),
            "amr": context.get("amr"),
            "identityProvider": claims.get("identity_provider"),
            "roles": principal.roles,
            "isAdmin": principal.is_admin,
            "tokenExpiresAt": datetime.fromtimestamp(exp, UTC).isoformat() if isinstance(exp, int | float) else None,
        }
    )
