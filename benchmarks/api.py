"""Backend API benchmark (identity-api-ui §B.9): list pages over 5,000 seeded documents with wrk, document open
through the KAS, federated search, and seeding time. Measured, never asserted; prints a table with targets.

Run: `.venv/bin/python benchmarks/api.py [--count 5000] [--duration 30]` (wrk from /usr/bin/wrk).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _report import Row, latency_row, print_table
from integration.api.deployment import dive, register_partner, seed, start_api, start_kas
from integration.api.issuer import Issuer, start_issuer

USERS = (  # 10 users of mixed clearance, country and COI (abac §6.1 shapes)
    {"clearance": "UNCLASSIFIED", "acpCOI": [], "acr": "1", "amr": ["pwd"]},
    {"clearance": "RESTRICTED", "acpCOI": [], "acr": "1", "amr": ["pwd"]},
    {"clearance": "CONFIDENTIAL", "acpCOI": ["NATO"]},
    {"clearance": "SECRET", "acpCOI": ["NATO", "US-ONLY"]},
    {"clearance": "TOP SECRET", "acpCOI": ["FVEY", "NATO", "NATO-COSMIC", "US-ONLY"]},
    {"clearance": "SECRET", "acpCOI": ["NATO"], "organizationType": "INDUSTRY"},
    {"clearance": "TOP SECRET", "acpCOI": ["AUKUS", "FVEY", "NATO", "QUAD", "Alpha", "Beta", "Gamma"]},
    {"clearance": "CONFIDENTIAL", "acpCOI": ["FVEY"]},
    {"clearance": "SECRET", "acpCOI": ["CAN-US", "NORTHCOM"]},
    {"clearance": "TOP SECRET", "acpCOI": ["US-ONLY"]},
)
WRK_SCRIPT = """
tokens = {%s}
paths = {}
for p = 1, 5 do
  paths[#paths + 1] = "/api/resources?pageSize=25&page=" .. p
  paths[#paths + 1] = "/api/resources?pageSize=25&q=security&page=" .. p
end
counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  local path = paths[(counter %% #paths) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f %%f %%d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.errors.status))
end
"""


def _wrk(url: str, tokens: list[str], duration_s: int, path: Path) -> tuple[float, float, float, int]:
    path.write_text(WRK_SCRIPT % ", ".join(json.dumps(t) for t in tokens))
    subprocess.run(["wrk", "-t2", "-c32", "-d5s", "-s", str(path), url], check=True, capture_output=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{duration_s}s", "-s", str(path), url], check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    rps, p50, p95, errors = line.split()[1:]
    return float(rps), float(p50), float(p95), int(errors)


def _timed(call, count: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    samples, begin = [], time.perf_counter()
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples, time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=30)
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir(mode=0o700)
        issuers: dict[str, Issuer] = {}
        servers = []
        for code in ("usa", "fra", "deu"):
            issuers[code], server = start_issuer(home, code)
            servers.append(server)
        kas = start_kas(home, "usa", issuers["usa"].url)
        apis = []
        try:
            begin = time.perf_counter()
            seed(home, "usa", args.count)
            seeding_s = time.perf_counter() - begin
            rows.append(Row(f"seed {args.count:,} documents (ZTDF + store)", None, None, args.count / seeding_s,
                            "—", f"{seeding_s:.1f} s total"))  # fmt: skip
            for code in ("fra", "deu"):
                dive(home, "kas", "rotate", code)
                seed(home, code, 200)
                register_partner(home, code, "usa", issuer=issuers["usa"].url, api_url="https://localhost:1")
                apis.append(start_api(home, code, issuers[code].url))
            for partner, api in zip(("fra", "deu"), apis, strict=True):
                url = f"https://localhost:{api.port}"
                register_partner(home, "usa", partner, issuer=issuers[partner].url, api_url=url)
            hub = start_api(home, "usa", issuers["usa"].url)
            apis.append(hub)
            tokens = [issuers["usa"].token(**user) for user in USERS]
            rps, p50, p95, errors = _wrk(hub.url, tokens, args.duration, Path(tmp) / "list.lua")
            anchor = f"upstream 100 req/s, p95 < 200 ms; {errors} non-2xx"
            target = "≥ 500 req/s, p95 < 50 ms"
            rows.append(Row("GET /api/resources pageSize=25, 32 conns", p50, p95, rps, target, anchor))
            print(f"list: {rps:.0f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, {errors} non-2xx", flush=True)
            with hub.client(timeout=30) as client:
                secret = tokens[4]
                headers = {"Authorization": f"Bearer {secret}"}
                items = client.get("/api/resources", params={"pageSize": "50"}, headers=headers).json()["items"]
                ids = [item["resourceId"] for item in items]
                position = iter(range(10**6))

                def open_one() -> None:
                    rid = ids[next(position) % len(ids)]
                    response = client.get(f"/api/resources/{rid}/content", headers=headers)
                    assert response.status_code == 200, response.text[:300]

                samples, elapsed = _timed(open_one, 100)
                rows.append(latency_row("open document (decision + KAS rewrap + decrypt)", samples, elapsed,
                                        target="—", anchor="upstream: KAS round trip"))  # fmt: skip
                counter = iter(range(10**6))

                def federated() -> None:
                    params = {"pageSize": "25", "q": f"x{next(counter)}"}  # distinct queries: cold cache
                    response = client.get("/api/resources/federated-search", params=params, headers=headers)
                    assert response.status_code == 200

                samples, elapsed = _timed(federated, 50)
                rows.append(latency_row("federated search, 2 healthy partners, cold", samples, elapsed,
                                        target="p95 < 1 s", anchor="upstream < 3 s"))  # fmt: skip
        finally:
            for api in apis:
                api.stop()
            kas.stop()
            for server in servers:
                server.shutdown()
    print_table("api benchmark (identity-api-ui §B.9)", rows, ["one uvicorn process (the runner has no workers yet)"])


if __name__ == "__main__":
    main()
