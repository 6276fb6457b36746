"""PDP benchmark: in-process decisions (one core, then two threads) and HTTP throughput with 32 clients.

Run: `.venv/bin/python benchmarks/pdp.py [--seconds 10]`. Targets (issue): ≥ 4,000 decisions/s in-process with
p95 < 1 ms; ≥ 1,500 req/s over HTTPS with p95 < 20 ms. Anchors: OPA's ~1 ms decision budget and ~2,000 req/s over
localhost HTTP; upstream DIVE p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Row, latency_row, print_table
from dive.pki import ensure_ca
from dive.pki.tls import ssl_context_for
from dive.policy.bundle import PolicyBundle, RegistryData, build_data
from dive.policy.engines.regopy_engine import RegopyEngine

ISSUER = "https://localhost:8443/realms/dive-v3-broker-usa"


def _input(clearance: str, country: str, classification: str, releasability: list[str], cois: list[str]) -> dict:
    return {
        "subject": {
            "authenticated": True,
            "uniqueID": f"user-{country.lower()}",
            "clearance": clearance,
            "countryOfAffiliation": country,
            "acpCOI": cois,
            "organizationType": "GOV",
            "issuer": ISSUER,
        },
        "action": {"operation": "read"},
        "resource": {
            "resourceId": "doc-USA-seed-00042",
            "classification": classification,
            "releasabilityTo": releasability,
            "COI": ["NATO"] if "NATO" in cois else [],
            "coiOperator": "ALL",
            "caveats": [],
            "releasableToIndustry": False,
            "encrypted": True,
            "kasUrls": ["https://localhost:9000/kas"],
            "creationDate": "2026-01-02T03:04:05Z",
        },
        "context": {"acr": "2", "amr": ["pwd", "otp"], "tenant": "USA", "currentTime": "2026-11-28T10:00:00Z"},
    }


# A rotating mix: allow, deny by country, national terms (exact and folded), unknown clearance.
INPUTS = [
    _input("SECRET", "USA", "SECRET", ["USA", "GBR"], ["NATO"]),
    _input("SECRET", "USA", "TOP_SECRET", ["USA"], []),
    _input("GEHEIM", "USA", "CONFIDENTIAL", ["DEU"], []),
    _input("secret_défense", "USA", "SECRET", ["USA", "FRA"], ["NATO"]),
    _input("NOT A TERM", "USA", "RESTRICTED", ["USA"], []),
]


def engine() -> RegopyEngine:
    bundle = PolicyBundle.load()
    registry = RegistryData(tenant_id="USA", trusted_issuers={ISSUER: "USA"})
    policy = RegopyEngine(bundle, data=build_data(bundle.static_data, registry))
    for item in INPUTS:  # compile this thread's interpreter outside the measurement
        policy.decide(item)
    return policy


def in_process(policy: RegopyEngine, seconds: float, threads: int) -> tuple[list[float], float]:
    samples: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def work() -> None:
        local: list[float] = []
        index = 0
        while time.perf_counter() < stop_at:
            begin = time.perf_counter()
            policy.decide(INPUTS[index % len(INPUTS)])
            local.append(time.perf_counter() - begin)
            index += 1
        with lock:
            samples.extend(local)

    begin = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return samples, time.perf_counter() - begin


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_pdp(home: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    ensure_ca(home)
    port = _free_port()
    env = {**os.environ, "DIVE_HOME": str(home), "DIVE_ISSUER": ISSUER, "DIVE_LOG_LEVEL": "WARNING"}
    log = (home / "pdp.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "dive", "serve", "pdp", "--instance", "usa", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url, bundle = f"https://127.0.0.1:{port}", home / "pki" / "bundle.pem"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", verify=ssl_context_for(bundle), timeout=2).status_code == 200:
                return process, url, bundle
        except (httpx.HTTPError, OSError):
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"pdp did not become ready; see {home / 'pdp.log'}")


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%f\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def http_with_wrk(url: str, seconds: float, connections: int, home: Path) -> Row:
    script = home / "pdp.lua"
    script.write_text(WRK_SCRIPT % json.dumps({"input": INPUTS[0]}))
    # wrk cannot be given the deployment CA; it does not verify certificates. Loopback only, our own server.
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "-s",
            str(script),
            f"{url}/v1/data/dive/authz/decision",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    _, count, duration_s, p50_ms, p95_ms = line.split()
    return Row(
        f"HTTPS POST /v1/data/dive/authz/decision, {connections} connections (wrk)",
        float(p50_ms),
        float(p95_ms),
        int(count) / float(duration_s),
        "≥ 1,500 req/s, p95 < 20 ms",
        "OPA ~2,000 req/s; upstream p95 < 200 ms",
    )


def http_with_httpx(url: str, bundle: Path, seconds: float, connections: int) -> Row:
    import asyncio

    async def run() -> tuple[list[float], float]:
        samples: list[float] = []
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(verify=ssl_context_for(bundle), limits=limits, timeout=30) as client:
            stop_at = time.perf_counter() + seconds

            async def worker() -> None:
                while time.perf_counter() < stop_at:
                    begin = time.perf_counter()
                    response = await client.post(f"{url}/v1/data/dive/authz/decision", json={"input": INPUTS[0]})
                    response.raise_for_status()
                    samples.append(time.perf_counter() - begin)

            begin = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return samples, time.perf_counter() - begin

    samples, elapsed = asyncio.run(run())
    return latency_row(
        f"HTTPS POST /v1/data/dive/authz/decision, {connections} clients (httpx; client shares the CPU)",
        samples,
        elapsed,
        target="≥ 1,500 req/s, p95 < 20 ms",
        anchor="OPA ~2,000 req/s; upstream p95 < 200 ms",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    policy = engine()
    rows: list[Row] = []
    anchor = "OPA ~1 ms per decision"
    for threads in (1, 2):
        samples, elapsed = in_process(policy, args.seconds, threads)
        rows.append(
            latency_row(
                f"in-process decide(), {threads} thread(s), uncached",
                samples,
                elapsed,
                target="≥ 4,000/s, p95 < 1 ms" if threads == 1 else "-",
                anchor=anchor,
            )
        )
    home = Path(tempfile.mkdtemp(prefix="dive-bench-pdp-"))
    process, url, bundle = start_pdp(home)
    try:
        rows.append(http_with_httpx(url, bundle, args.seconds, args.connections))
        if shutil.which("wrk"):
            rows.append(http_with_wrk(url, args.seconds, args.connections, home))
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(home, ignore_errors=True)
    print_table(
        "DIVE PDP benchmark",
        rows,
        notes=[
            f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end",
            "inputs rotate over allow, deny and national-term cases; no decision cache anywhere on this path",
        ],
    )


if __name__ == "__main__":
    main()
