"""The shared bearer-token verifier (identity-api-ui §B.2; ztdf-kas §7.4). The JWKS endpoint is an httpx
MockTransport: it stands in for a partner idp's network answer, not for any code of ours."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.jwk import RSAKey

from dive.tokens import TokenCheckUnavailableError, TokenRejectedError, TokenVerifier, TrustedIssuer

ISSUER = "https://localhost:8443/realms/dive-v3-broker-usa"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWKS = {"keys": [{**RSAKey.import_key(KEY.public_key()).as_dict(), "kid": "k1"}]}


def _token(kid: str = "k1", alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": ["dive-v3-api"], "azp": "dive-v3-broker-usa", "typ": "Bearer", "exp": now + 60}
    claims.update(overrides)
    return jws.serialize_compact({"alg": alg, "kid": kid}, json.dumps(claims), RSAKey.import_key(KEY))


def _verifier(fetches: list[str], *, status: int = 200, require_type: bool = True) -> TokenVerifier:
    def answer(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        return httpx.Response(status, json=JWKS)

    async def issuers() -> dict[str, TrustedIssuer]:
        return {
            ISSUER: TrustedIssuer(ISSUER, "USA", f"{ISSUER}/protocol/openid-connect/certs", ("dive-v3-broker-usa",))
        }

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return TokenVerifier(issuers=issuers, http=http, audience="dive-v3-api", require_type=require_type)


def _reason(verifier: TokenVerifier, token: str | None) -> str:
    with pytest.raises(TokenRejectedError) as err:
        asyncio.run(verifier.verify(None if token is None else f"Bearer {token}"))
    return err.value.code


def test_a_valid_token_verifies_with_one_jwks_fetch():
    fetches: list[str] = []
    verifier = _verifier(fetches)
    verified = asyncio.run(verifier.verify(f"Bearer {_token()}"))
    assert verified.issuer.instance_code == "USA" and fetches == [f"{ISSUER}/protocol/openid-connect/certs"]


# Tokens are minted when the test runs, not at collection: a long suite would otherwise expire them first.
@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: None, "missing_token"),
        (lambda: "not.a.jwt", "malformed"),
        (lambda: _token(iss="https://evil.example"), "issuer_not_trusted"),
        (lambda: _token(exp=int(time.time()) - 600), "expired"),
        (lambda: _token(nbf=int(time.time()) + 600), "not_yet_valid"),
        (lambda: _token(typ="Refresh"), "wrong_token_type"),
        (lambda: _token(aud="dive-v3-kas"), "audience_mismatch"),
        (lambda: _token(azp="other-client"), "azp_not_allowed"),
        (lambda: _token(kid="unknown"), "unknown_key"),
    ],
)
def test_a_rejected_token_names_its_reason(make_token: Callable[[], str | None], reason: str):
    assert _reason(_verifier([]), make_token()) == reason


def test_an_untrusted_issuer_never_causes_a_jwks_fetch():
    fetches: list[str] = []
    assert _reason(_verifier(fetches), _token(iss="https://evil.example")) == "issuer_not_trusted"
    assert fetches == []


def test_a_flood_of_unknown_kids_fetches_the_jwks_once():
    fetches: list[str] = []
    verifier = _verifier(fetches)

    async def flood() -> list[BaseException | object]:
        calls = [verifier.verify(f"Bearer {_token(kid=f'k-{n}')}") for n in range(20)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(flood())
    assert all(isinstance(r, TokenRejectedError) and r.code == "unknown_key" for r in results)
    assert len(fetches) == 1


def test_a_token_without_typ_passes_only_when_the_type_is_not_required():
    token = _token(typ=None)
    assert _reason(_verifier([]), token) == "wrong_token_type"
    assert asyncio.run(_verifier([], require_type=False).verify(f"Bearer {token}")).claims["iss"] == ISSUER


def test_an_unreachable_jwks_fails_closed_with_503():
    with pytest.raises(TokenCheckUnavailableError) as err:
        asyncio.run(_verifier([], status=500).verify(f"Bearer {_token()}"))
    assert err.value.code == "jwks_unavailable" and err.value.status == 503
