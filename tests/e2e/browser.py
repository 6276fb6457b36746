"""A person at a browser, played by an httpx client that follows redirects by hand over verified HTTPS: the
authorization-code flow with PKCE at the hub, brokered to a partner idp with `kc_idp_hint` (identity-api-ui §A.8)."""

from __future__ import annotations

import html
import re
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
import pyotp
from authlib.oauth2.rfc7636 import create_s256_code_challenge

__all__ = ["BrokeredLogin", "sign_in_through_partner"]


@dataclass(frozen=True)
class BrokeredLogin:
    hub_url: str
    realm: str
    client_id: str
    client_secret: str
    redirect_uri: str
    idp_alias: str
    ca: ssl.SSLContext


def sign_in_through_partner(login: BrokeredLogin, username: str, password: str, otp_secret: str) -> str:
    """Sign in at the partner (password, then TOTP), come back through the hub and return the hub access token."""
    verifier = pyotp.random_base32(64)
    params = {"client_id": login.client_id, "redirect_uri": login.redirect_uri, "response_type": "code",
              "scope": "openid", "state": "e2e-state", "nonce": "e2e-nonce", "kc_idp_hint": login.idp_alias,
              "acr_values": "2", "code_challenge_method": "S256",
              "code_challenge": create_s256_code_challenge(verifier)}  # fmt: skip
    with httpx.Client(verify=login.ca, timeout=30) as browser:
        start = browser.get(f"{login.hub_url}/realms/{login.realm}/protocol/openid-connect/auth", params=params)
        partner_page = _follow(browser, start, until=login.redirect_uri)
        answer = _submit(browser, partner_page, username=username, password=password)
        if answer.status_code == 200 and 'name="otp"' in answer.text:
            answer = _submit(browser, answer, otp=pyotp.TOTP(otp_secret).now())
        done = _follow(browser, answer, until=login.redirect_uri)
        assert done.status_code == 302, f"the brokered sign-in did not come back to the app: {done.text[:300]}"
        code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
        tokens = browser.post(
            f"{login.hub_url}/realms/{login.realm}/protocol/openid-connect/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": login.redirect_uri,
                  "code_verifier": verifier},
            auth=(login.client_id, login.client_secret),
        )  # fmt: skip
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def _follow(browser: httpx.Client, response: httpx.Response, until: str) -> httpx.Response:
    while response.status_code == 302 and not response.headers["location"].startswith(until):
        location = response.headers["location"]
        response = browser.get(location if location.startswith("https://") else str(response.url.join(location)))
    return response


def _submit(browser: httpx.Client, page: httpx.Response, **fields: str) -> httpx.Response:
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert form and csrf, f"no sign-in form on {page.url}: {page.text[:300]}"
    return browser.post(str(page.url.join(html.unescape(form.group(1)))), data={"csrf": csrf.group(1), **fields})
