"""Latency and throughput of `RegopyEngine.decide()` on realistic inputs (allow, deny, national terms, `{}`).

Run: `PYTHONPATH=tests .venv/bin/python benchmarks/policy_profile.py [--decisions N] [--threads 1 2]`.
Prints p50/p95 per input (thread CPU time, so other load on the machine inflates it less) and decisions/s.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import threading
import time
from collections.abc import Mapping

from dive.policy import PolicyBundle, RegistryData, build_data
from dive.policy.engines import RegopyEngine

ISSUER = "https://localhost:8443/realms/dive-v3-broker-usa"
ALLOW: Mapping[str, object] = {
    "subject": {
        "authenticated": True,
        "uniqueID": "testuser-usa-4",
        "clearance": "SECRET",
        "countryOfAffiliation": "USA",
        "acpCOI": ["NATO"],
        "organizationType": "GOV",
        "issuer": ISSUER,
    },
    "action": {"operation": "read"},
    "resource": {
        "resourceId": "doc-USA-seed-00001",
        "classification": "SECRET",
        "releasabilityTo": ["USA", "FRA"],
        "COI": [],
        "coiOperator": "ALL",
        "caveats": [],
        "releasableToIndustry": False,
        "encrypted": True,
        "kasUrls": ["https://localhost:9000/kas"],
    },
    "context": {"acr": "2", "amr": ["pwd", "otp"], "tenant": "USA"},
}


def _variant(subject: Mapping[str, object] = {}, resource: Mapping[str, object] = {}) -> dict[str, object]:
    document = copy.deepcopy(dict(ALLOW))
    document["subject"].update(subject)  # type: ignore[union-attr]
    document["resource"].update(resource)  # type: ignore[union-attr]
    return document


INPUTS: Mapping[str, object] = {
    "allow": ALLOW,
    "deny": _variant(resource={"classification": "TOP_SECRET", "releasabilityTo": ["FRA"]}),
    "deu-geheim": _variant(subject={"clearance": "geheim", "countryOfAffiliation": "DEU"}),
    "fra-secret-defense": _variant(subject={"clearance": "Secret Défense", "countryOfAffiliation": "FRA"}),
    "empty": {},
}


def _engine() -> RegopyEngine:
    bundle = PolicyBundle.load()
    registry = RegistryData(tenant_id="USA", trusted_issuers={ISSUER: "USA"})
    return RegopyEngine(bundle, build_data(bundle.static_data, registry))


def measure_latency(engine: RegopyEngine, count: int) -> None:
    for name, document in INPUTS.items():
        engine.decide(document)  # type: ignore[arg-type]
        samples = []
        for _ in range(count):
            started = time.thread_time()
            engine.decide(document)  # type: ignore[arg-type]
            samples.append((time.thread_time() - started) * 1e3)
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{name:20} p50 {statistics.median(samples):6.2f} ms   p95 {p95:6.2f} ms")


def measure_throughput(engine: RegopyEngine, threads: int, count: int) -> None:
    def work() -> None:
        for _ in range(count):
            engine.decide(ALLOW)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    print(f"{threads} thread(s): {threads * count / elapsed:8.0f} decisions/s (wall clock)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    engine = _engine()
    measure_latency(engine, args.decisions)
    for threads in args.threads:
        measure_throughput(engine, threads, args.decisions)


if __name__ == "__main__":
    main()
