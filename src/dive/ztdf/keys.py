"""Obtaining the DEK from the key access objects (spec/ztdf-kas.md §6.1, §6.3).

The reader asks a `KeySource` for split keys in rounds: each round holds the next candidate KAO of every split
group still open. A KAS client answers over HTTP (one bulk rewrap per KAS); `LocalKeySource` unwraps with
local private keys (offline tooling, interop tests, and the KAS's own unwrap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from .crypto import load_private_key, unwrap_split_key, xor_keys
from .errors import KeyUnavailableError, KeyUnwrapError, PolicyBindingError
from .integrity import is_policy_binding_valid
from .manifest import KeyAccessObject, Manifest

__all__ = ["KeyRequest", "KeyResult", "KeySource", "LocalKeySource", "ResolvedKeys", "resolve_keys"]

# Only these failures send the reader to another KAO of the same group; a denial is final (§6.3 step 3).
RETRYABLE_CODES = frozenset(
    {"kas_unavailable", "unknown_kid", "key_unwrap_failed", "kas_not_trusted", "unsupported_key_type"}
)


@dataclass(frozen=True)
class KeyRequest:
    index: int  # position of the KAO in the manifest's keyAccess
    kao: KeyAccessObject
    policy: str  # the policy string PS the binding covers


@dataclass(frozen=True)
class KeyResult:
    index: int
    split_key: bytes | None = field(default=None, repr=False)
    code: str | None = None
    message: str = ""


class KeySource(Protocol):
    def unwrap(self, requests: Sequence[KeyRequest]) -> Sequence[KeyResult]:
        """One result per request, each a 32-byte split key or a per-KAO error code (§11)."""
        ...


class LocalKeySource:
    """Unwraps with local RSA private keys by `kid`; a KAO with an empty kid tries the default kids."""

    def __init__(self, keys: Mapping[str, rsa.RSAPrivateKey], *, default_kids: Sequence[str] = ()) -> None:
        self._keys = dict(keys)
        self._default_kids = tuple(default_kids)

    @classmethod
    def from_pem(cls, pem: bytes, kid: str, *, password: bytes | None = None) -> LocalKeySource:
        """One key, also used for KAOs without a kid (legacy OpenTDF files)."""
        return cls({kid: load_private_key(pem, password)}, default_kids=(kid,))

    def unwrap(self, requests: Sequence[KeyRequest]) -> list[KeyResult]:
        return [self._unwrap_one(request) for request in requests]

    def _unwrap_one(self, request: KeyRequest) -> KeyResult:
        kao = request.kao
        if kao.type != "wrapped":
            return KeyResult(request.index, code="unsupported_key_type", message=f"KAO type {kao.type!r}")
        kids = (kao.kid,) if kao.kid else self._default_kids
        keys = [self._keys[kid] for kid in kids if kid in self._keys]
        if not keys:
            return KeyResult(request.index, code="unknown_kid", message=f"no local key with kid {kao.kid!r}")
        for key in keys:
            try:
                return KeyResult(request.index, split_key=unwrap_split_key(key, kao.wrapped_key))
            except (KeyUnwrapError, ValueError):
                continue
        return KeyResult(request.index, code="key_unwrap_failed", message="the wrapped key does not unwrap")


@dataclass(frozen=True)
class ResolvedKeys:
    dek: bytes = field(repr=False)
    split_keys: Mapping[int, bytes] = field(repr=False)  # by KAO index, for encryptedMetadata


def _groups(manifest: Manifest, preferred_urls: Sequence[str]) -> dict[str, list[int]]:
    preference = {url.rstrip("/").lower(): rank for rank, url in enumerate(preferred_urls)}

    def rank(index: int) -> tuple[int, int]:
        url = manifest.key_access[index].url.rstrip("/").lower()
        return (preference.get(url, len(preference)), index)

    groups: dict[str, list[int]] = {}
    for index, kao in enumerate(manifest.key_access):
        groups.setdefault(kao.sid, []).append(index)
    return {sid: sorted(indexes, key=rank) for sid, indexes in groups.items()}


def _unavailable(causes: list[KeyResult], manifest: Manifest) -> KeyUnavailableError:
    detail = [{"kao": c.index, "url": manifest.key_access[c.index].url, "code": c.code} for c in causes]
    denied = next((c for c in causes if c.code == "policy_denied"), None)
    reason = f": {denied.message}" if denied else ""
    return KeyUnavailableError(f"no usable key access object for every split{reason}", {"causes": detail})


def _checked(result: KeyResult, request: KeyRequest) -> bytes:
    key = result.split_key or b""
    if len(key) != 32:
        raise KeyUnwrapError(f"KAO {request.index} returned a {len(key)}-byte key; expected 32")
    if not is_policy_binding_valid(request.kao.binding_hash, key, request.policy):
        raise PolicyBindingError(
            f"KAO {request.index}: the policy binding does not match — the policy was changed or the key moved "
            "from another document",
            {"kao": request.index},
        )
    return key


def resolve_keys(manifest: Manifest, source: KeySource, preferred_urls: Sequence[str] = ()) -> ResolvedKeys:
    """One split key per group, each binding verified, XOR of the groups (§3.6 step 2, §6.3)."""
    pending = _groups(manifest, preferred_urls)
    found: dict[str, bytes] = {}
    split_keys: dict[int, bytes] = {}
    causes: list[KeyResult] = []
    while pending:
        requests = {sid: KeyRequest(q[0], manifest.key_access[q[0]], manifest.policy) for sid, q in pending.items()}
        results = {r.index: r for r in source.unwrap(list(requests.values()))}
        for sid, request in requests.items():
            result = results.get(request.index, KeyResult(request.index, code="rewrap_failed", message="no answer"))
            pending[sid].pop(0)
            if result.split_key is not None:
                found[sid] = split_keys[request.index] = _checked(result, request)
                del pending[sid]
                continue
            causes.append(result)
            if result.code not in RETRYABLE_CODES or not pending[sid]:
                raise _unavailable(causes, manifest)
    return ResolvedKeys(dek=xor_keys(list(found.values())), split_keys=split_keys)
