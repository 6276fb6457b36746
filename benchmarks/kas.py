"""KAS and ZTDF throughput (spec/ztdf-kas.md §13): measured against a real `dive serve kas`, printed as a table.

Run: `.venv/bin/python benchmarks/kas.py [--single 2000] [--bulk-requests 10]`. Nothing is asserted; targets and the
OpenTDF anchors are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jws
from joserfc.jwk import RSAKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dive.kas.key_ring import public_key_pem
from dive.pki import ssl_context_for
from dive.ztdf import KasTarget, Label, LocalKeySource, decrypt, open_ztdf, write_ztdf
from harness import start_service
from integration.kas.conftest import GOLDEN, Issuer, _dive, _jwks_server, _register_partner

LABEL = Label(
    classification="SECRET", releasable_to=("USA", "FRA"), originator_country="USA",
    creation_date="2026-03-01T10:00:00Z", cois=("NATO",),
)  # fmt: skip
MIB = 1024 * 1024


def _kaos(kas_url: str, public_pem: bytes, count: int) -> list[tuple[dict[str, object], str]]:
    items = []
    for n in range(count):
        sink = io.BytesIO()
        target = KasTarget(url=f"{kas_url}/kas", kid="golden-r1", public_key_pem=public_pem)
        m = write_ztdf(b"x" * 64, sink, label=LABEL, kas_targets=[target], resource_id=f"doc-USA-bench-{n:05d}")
        k = m.key_access[0]
        kao = {"type": "wrapped", "url": k.url, "protocol": "kas", "wrappedKey": k.wrapped_key, "kid": k.kid,
               "sid": k.sid, "policyBinding": {"alg": "HS256", "hash": k.binding_hash}}  # fmt: skip
        items.append((kao, m.policy))
    return items


def _srt(key: rsa.RSAPrivateKey, jwk: RSAKey, items: list[tuple[dict[str, object], str]]) -> dict[str, str]:
    body = {
        "clientPublicKey": public_key_pem(key.public_key()),
        "requests": [
            {"policy": {"id": f"p{n}", "body": policy},
             "keyAccessObjects": [{"keyAccessObjectId": "kao-0", "keyAccessObject": kao}]}
            for n, (kao, policy) in enumerate(items)
        ],
    }  # fmt: skip
    claims = json.dumps({"requestBody": json.dumps(body), "iat": int(time.time())})
    registry = jws.JWSRegistry(algorithms=["RS256"])
    registry.max_payload_length = len(claims)
    return {"signedRequestToken": jws.serialize_compact({"alg": "RS256"}, claims, jwk, registry=registry)}


def _row(name: str, median: str, p95: str, throughput: str, anchor: str) -> None:
    print(f"| {name:<34} | {median:>10} | {p95:>10} | {throughput:>14} | {anchor:<40} |")


def _mbps(size: int, seconds: float) -> str:
    return f"{size / MIB / seconds:,.0f} MB/s"


def _crypto_rows(size_mib: int) -> None:
    data = os.urandom(size_mib * MIB)
    aead, iv = AESGCM(os.urandom(32)), os.urandom(12)
    begin = time.perf_counter()
    for offset in range(0, len(data), MIB):
        aead.encrypt(iv, data[offset : offset + MIB], None)
    _row(
        "raw AES-256-GCM (1 MiB segments)",
        "",
        "",
        _mbps(len(data), time.perf_counter() - begin),
        "2.7–3.3 GB/s measured (§13)",
    )
    public = (GOLDEN / "golden-r1-public.pem").read_bytes()
    target = KasTarget(url="https://localhost:9000/kas", kid="golden-r1", public_key_pem=public)
    sink = io.BytesIO()
    begin = time.perf_counter()
    write_ztdf(data, sink, label=LABEL, kas_targets=[target], segment_size=MIB)
    _row("ZTDF encrypt (in memory)", "", "", _mbps(len(data), time.perf_counter() - begin), "target ≥ 300 MB/s")
    source = LocalKeySource.from_pem((GOLDEN / "golden-r1-private.pem").read_bytes(), "golden-r1")
    begin = time.perf_counter()
    with open_ztdf(sink.getvalue()) as container:
        decrypt(container, source)
    _row("ZTDF decrypt (in memory)", "", "", _mbps(len(data), time.perf_counter() - begin), "target ≥ 300 MB/s")


def _engine_row(samples: int = 200) -> None:
    """The embedded engine alone, so that a throughput miss can be attributed (§13)."""
    from datetime import UTC, datetime

    from dive.policy.engines.regopy_engine import RegopyEngine
    from dive.policy.pep_input import build_kas_input

    claims = {"iss": "x", "uniqueID": "u", "clearance": "SECRET", "countryOfAffiliation": "FRA", "acpCOI": ["NATO"]}
    label = {"classification": "SECRET", "releasabilityTo": ["USA", "FRA"], "COI": ["NATO"]}
    engine = RegopyEngine()
    item = build_kas_input(claims, label, resource_id="d", origin_instance="USA", tenant="USA", now=datetime.now(UTC))
    engine.decide(item)
    times = []
    for _ in range(samples):
        begin = time.perf_counter()
        engine.decide(item)
        times.append(time.perf_counter() - begin)
    _row("policy engine decide (in-process)", f"{statistics.median(times) * 1000:.2f} ms",
         f"{statistics.quantiles(times, n=20)[18] * 1000:.2f} ms", f"{len(times) / sum(times):,.0f} dec/s",
         "budget ≤ 1.2 ms per decision (§13)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--bulk-requests", type=int, default=8, help="per client (4 clients, 100 KAOs each)")
    parser.add_argument("--size-mib", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        _dive(
            home,
            "kas",
            "import-key",
            "usa",
            "--kid",
            "golden-r1",
            "--private-key",
            str(GOLDEN / "golden-r1-private.pem"),
        )
        issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        server = _jwks_server(home, issuer_key, "test-kid-1", [])
        base = f"https://localhost:{server.server_address[1]}"
        issuer = Issuer(url=f"{base}/realms/dive-v3-broker-fra", key=issuer_key)
        _register_partner(home, issuer.url, f"{base}/jwks")
        env = {"DIVE_KAS_DEK_CACHE_SIZE": "0", "DIVE_KAS_SUBJECT_RATE": "100000", "DIVE_KAS_SUBJECT_BURST": "100000",
               "DIVE_KAS_IP_RATE": "100000", "DIVE_KAS_IP_BURST": "100000", "DIVE_LOG_LEVEL": "WARNING"}  # fmt: skip
        kas = start_service("kas", "usa", home=home, env=env)
        try:
            _measure(kas, issuer, args)
        finally:
            kas.stop()
            server.shutdown()
    _engine_row()
    _crypto_rows(args.size_mib)


def _measure(kas, issuer: Issuer, args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def]
    public = (GOLDEN / "golden-r1-public.pem").read_bytes()
    token = issuer.token(exp=int(time.time()) + 3600)
    headers = {"Authorization": f"Bearer {token}"}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAKey.import_key(key)
    items = _kaos(kas.url, public, 100)
    verify = ssl_context_for(kas.ca_bundle)
    _row("measurement", "median", "p95", "throughput", "anchor / target")
    print("|" + "-" * 36 + "|" + "-" * 12 + "|" + "-" * 12 + "|" + "-" * 16 + "|" + "-" * 42 + "|")

    def bulk_client(_: int) -> list[float]:
        times = []
        with httpx.Client(base_url=kas.url, verify=verify, timeout=60) as client:
            for _ in range(args.bulk_requests):
                body = _srt(key, jwk, items)
                begin = time.perf_counter()
                response = client.post("/kas/v2/rewrap", json=body, headers=headers)
                times.append(time.perf_counter() - begin)
                assert response.status_code == 200, response.text
                results = [r for g in response.json()["responses"] for r in g["results"]]
                assert all(r["status"] == "permit" for r in results), results[0]
        return times

    bulk_client(0)  # warm-up: JWKS, engine workers, TLS
    begin = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        times = [t for ts in pool.map(bulk_client, range(4)) for t in ts]
    elapsed = time.perf_counter() - begin
    rate = len(times) * 100 / elapsed
    _row("bulk rewrap, 100 KAOs, 4 clients", f"{statistics.median(times) * 1000:.0f} ms",
         f"{statistics.quantiles(times, n=20)[18] * 1000:.0f} ms", f"{rate:,.0f} KAO/s",
         "OpenTDF 300–513/s; target ≥ 800/s")  # fmt: skip
    single = items[:1]
    with httpx.Client(base_url=kas.url, verify=verify, timeout=60) as client:
        latencies = []
        for n in range(args.single + 50):
            body = _srt(key, jwk, single)
            begin = time.perf_counter()
            client.post("/kas/v2/rewrap", json=body, headers=headers).raise_for_status()
            if n >= 50:
                latencies.append(time.perf_counter() - begin)
    total = sum(latencies)
    _row("single-KAO rewrap incl. policy", f"{statistics.median(latencies) * 1000:.1f} ms",
         f"{statistics.quantiles(latencies, n=20)[18] * 1000:.1f} ms", f"{len(latencies) / total:,.0f} req/s",
         "OpenTDF p95 448 ms; target p95 < 20 ms")  # fmt: skip


if __name__ == "__main__":
    main()
