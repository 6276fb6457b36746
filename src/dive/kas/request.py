"""Parsing the rewrap request (spec/ztdf-kas.md §7.3, §8 step 9) into typed groups; camelCase and snake_case both.

Anything the spec does not name (e.g. a `userIdentity`) is never read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dive.kas.errors import RequestInvalidError

__all__ = ["KaoRequest", "PolicyGroup", "RewrapBody", "parse_envelope", "parse_request_body"]


@dataclass(frozen=True)
class KaoRequest:
    kao_id: str
    type: str
    url: str
    wrapped_key: str = field(repr=False)
    kid: str
    sid: str
    binding_alg: str
    binding_hash: str


@dataclass(frozen=True)
class PolicyGroup:
    policy_id: str
    policy_body: str
    kaos: tuple[KaoRequest, ...]


@dataclass(frozen=True)
class RewrapBody:
    client_public_key: rsa.RSAPublicKey = field(repr=False)
    client_public_key_pem: str = field(repr=False)
    groups: tuple[PolicyGroup, ...]
    legacy: bool


def _get(obj: Mapping[str, Any], camel: str, snake: str | None = None) -> Any:
    if camel in obj:
        return obj[camel]
    return obj.get(snake) if snake else None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _field(obj: Mapping[str, Any], camel: str) -> Any:
    return _get(obj, camel, _snake(camel))


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RequestInvalidError("request_invalid", f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise RequestInvalidError("request_invalid", f"{what} is not a JSON object")
    return value


def parse_envelope(raw: bytes) -> object:
    """The `signedRequestToken` of the HTTP body (§8 step 4)."""
    envelope = _json_object(raw, "the request body")
    token = _field(envelope, "signedRequestToken")
    if token is None:
        raise RequestInvalidError("request_invalid", "the request body has no signedRequestToken")
    return token


def parse_request_body(text: str, *, max_policies: int, max_kaos: int) -> RewrapBody:
    body = _json_object(text, "requestBody")
    key_pem, key = _client_key(_field(body, "clientPublicKey"))
    requests = _field(body, "requests")
    if requests is None and _field(body, "keyAccess") is not None:
        groups = (_legacy_group(body),)
    elif isinstance(requests, list) and requests:
        if len(requests) > max_policies:
            raise RequestInvalidError("request_invalid", f"{len(requests)} policies exceed the limit of {max_policies}")
        groups = tuple(_group(item, index) for index, item in enumerate(requests))
    else:
        raise RequestInvalidError("request_invalid", "requestBody needs a non-empty requests array")
    total = sum(len(group.kaos) for group in groups)
    if total > max_kaos:
        raise RequestInvalidError("request_invalid", f"{total} key access objects exceed the limit of {max_kaos}")
    return RewrapBody(key, key_pem, groups, legacy=requests is None)


def _client_key(pem: object) -> tuple[str, rsa.RSAPublicKey]:
    if not isinstance(pem, str) or not pem.strip():
        raise RequestInvalidError("client_key_invalid", "requestBody.clientPublicKey must be a PEM public key")
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise RequestInvalidError("client_key_invalid", "clientPublicKey is not a PEM SubjectPublicKeyInfo") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        raise RequestInvalidError("unsupported_algorithm", "EC client keys are not supported; send an RSA key")
    if not isinstance(key, rsa.RSAPublicKey) or not 2048 <= key.key_size <= 4096:
        raise RequestInvalidError("client_key_invalid", "clientPublicKey must be an RSA key of 2048–4096 bits")
    return pem, key


def _group(item: object, index: int) -> PolicyGroup:
    if not isinstance(item, dict):
        raise RequestInvalidError("request_invalid", f"requests[{index}] is not an object")
    policy = item.get("policy")
    if not isinstance(policy, dict) or not isinstance(policy.get("body"), str):
        raise RequestInvalidError("request_invalid", f"requests[{index}].policy needs a string body")
    policy_id = policy.get("id", f"policy-{index + 1}")
    kaos = _field(item, "keyAccessObjects")
    if not isinstance(policy_id, str) or not isinstance(kaos, list) or not kaos:
        raise RequestInvalidError("request_invalid", f"requests[{index}] needs a string policy.id and KAOs")
    parsed = tuple(_kao_entry(entry, index, position) for position, entry in enumerate(kaos))
    ids = [kao.kao_id for kao in parsed]
    if len(set(ids)) != len(ids):
        raise RequestInvalidError("request_invalid", f"requests[{index}] repeats a keyAccessObjectId")
    return PolicyGroup(policy_id, policy["body"], parsed)


def _kao_entry(entry: object, index: int, position: int) -> KaoRequest:
    if not isinstance(entry, dict):
        raise RequestInvalidError("request_invalid", f"requests[{index}].keyAccessObjects[{position}] is not an object")
    kao_id, kao = _field(entry, "keyAccessObjectId"), _field(entry, "keyAccessObject")
    if not isinstance(kao_id, str) or not isinstance(kao, dict):
        raise RequestInvalidError(
            "request_invalid", f"requests[{index}].keyAccessObjects[{position}] needs an id and a keyAccessObject"
        )
    return _kao(kao, kao_id)


def _legacy_group(body: Mapping[str, Any]) -> PolicyGroup:
    kao, policy = _field(body, "keyAccess"), body.get("policy")
    if not isinstance(kao, dict) or not isinstance(policy, str):
        raise RequestInvalidError("request_invalid", "a v1 requestBody needs a keyAccess object and a policy string")
    return PolicyGroup("policy-1", policy, (_kao(kao, "kao-0"),))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _kao(kao: Mapping[str, Any], kao_id: str) -> KaoRequest:
    """Shape only; per-KAO validation (type, sizes, binding algorithm) is step 11 and yields a `fail` result."""
    binding = _field(kao, "policyBinding")
    if isinstance(binding, dict):
        binding_alg, binding_hash = _text(binding.get("alg")), _text(binding.get("hash"))
    else:
        binding_alg, binding_hash = ("HS256", binding) if isinstance(binding, str) else ("", "")
    return KaoRequest(
        kao_id=kao_id,
        type=_text(kao.get("type")),
        url=_text(kao.get("url")),
        wrapped_key=_text(_field(kao, "wrappedKey")),
        kid=_text(kao.get("kid")),
        sid=_text(kao.get("sid")),
        binding_alg=binding_alg,
        binding_hash=binding_hash,
    )
