"""idp benchmark: end-to-end password logins with PKCE, client-credential grants, JWKS and discovery.

Run: `.venv/bin/python benchmarks/idp.py [--seconds 10] [--argon2-time-cost 5]`. A login is the browser flow:
GET the auth page → POST the login form → 302 with the code → token exchange with the code verifier.
Target (issue): ≥ 40 logins/s per core with OWASP-grade argon2id (7 MiB, t=5, p=1 is OWASP's minimum for that
memory). Anchors: Keycloak sizes one vCPU per 15 password logins/s and per 120 client-credential grants/s.
"Per core" divides by the CPU seconds the idp process consumed (user + system, from /proc), since its argon2 work
runs in a thread pool outside the GIL and may use both cores of this machine.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Row, latency_row, print_table
from dive.pki import ca_bundle_path
from dive.pki.errors import CaBundleMissingError
from dive.pki.tls import ssl_context_for

REALM = "dive-v3-broker-usa"
CLIENT_SECRET = "bench-secret-" + "b" * 32
BACKEND_SECRET = "backend-secret-" + "c" * 32
ADMIN_PASSWORD = "Admin-pass-1234567!"
PASSWORD = "Bench-user-pass-123!"
REDIRECT = "https://localhost:3000/auth/callback"
USERS = 8  # one per concurrent browser, so no account sees interleaved logins
LOGIN_ANCHOR = "Keycloak 15 /s per vCPU"
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Idp:
    process: subprocess.Popen[bytes]
    url: str
    bundle: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time of the idp process so far (Linux /proc; clock ticks → seconds)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=ssl_context_for(self.bundle), timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_idp(home: Path, args: argparse.Namespace) -> Idp:
    port = _free_port()
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    env = {**os.environ, "DIVE_HOME": str(home), "DIVE_ENV": "test", "DIVE_LOG_LEVEL": "WARNING",
           "DIVE_SECRET_USA_DATA_PROTECTION_KEY": key, "DIVE_SECRET_USA_IDP_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "DIVE_IDP_ARGON2_TIME_COST": str(args.argon2_time_cost),
           "DIVE_IDP_ARGON2_MEMORY_KIB": str(args.argon2_memory_kib), "DIVE_IDP_ARGON2_PARALLELISM": "1"}  # fmt: skip
    if args.database_url:
        env["DIVE_DATABASE_URL"] = args.database_url
    log = (home / "idp.log").open("wb")
    argv = [sys.executable, "-m", "dive", "serve", "idp", "--instance", "usa", "--home", str(home)]
    process = subprocess.Popen([*argv, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    idp = Idp(process, f"https://127.0.0.1:{port}", ca_bundle_path(home))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with idp.client() as client:
                if client.get("/health/ready").status_code == 200:
                    return idp
        except (httpx.HTTPError, OSError, CaBundleMissingError):  # the idp writes its bundle while starting
            pass
        time.sleep(0.3)
    process.terminate()
    process.wait(timeout=15)
    raise SystemExit(f"idp did not become ready; see {home / 'idp.log'}")


def seed(idp: Idp) -> None:
    """The DIVE realm, its browser client (PKCE S256), the backend service-account client and the users
    (UNCLASSIFIED: below `dive.otpRequiredFromClearance`, so a login is password only)."""
    with idp.client() as client:
        form = {"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": ADMIN_PASSWORD}
        token = client.post("/realms/master/protocol/openid-connect/token", data=form).raise_for_status().json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        base = f"/admin/realms/{REALM}"
        client.post("/admin/realms", json={"realm": REALM, "enabled": True}).raise_for_status()
        client.post(f"{base}/clients", json={"clientId": REALM, "secret": CLIENT_SECRET, "redirectUris": [REDIRECT],
                                             "attributes": {"pkce.code.challenge.method": "S256",
                                                            "dive.audiences": "dive-v3-api,dive-v3-kas"}},
                    ).raise_for_status()  # fmt: skip
        client.post(f"{base}/clients", json={"clientId": "dive-v3-backend-client", "secret": BACKEND_SECRET,
                                             "standardFlowEnabled": False, "serviceAccountsEnabled": True},
                    ).raise_for_status()  # fmt: skip
        for index in range(USERS):
            user = {"username": f"bench-user-{index}", "enabled": True,
                    "attributes": {"clearance": ["UNCLASSIFIED"], "countryOfAffiliation": ["USA"], "acpCOI": ["NATO"]},
                    "credentials": [{"type": "password", "value": PASSWORD}]}  # fmt: skip
            client.post(f"{base}/users", json=user).raise_for_status()


def login(idp: Idp, username: str) -> None:
    """One browser login with a fresh cookie jar: auth page → form → code → token (PKCE S256)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = {"client_id": REALM, "response_type": "code", "scope": "openid", "redirect_uri": REDIRECT,
             "state": secrets.token_urlsafe(8), "code_challenge": challenge,
             "code_challenge_method": "S256"}  # fmt: skip
    with idp.client() as browser:
        page = browser.get(f"/realms/{REALM}/protocol/openid-connect/auth?{urlencode(query)}").raise_for_status()
        action, csrf = FORM_ACTION.search(page.text), CSRF.search(page.text)
        if action is None or csrf is None:
            raise SystemExit(f"no login form on the auth page: {page.text[:300]}")
        form = {"csrf": csrf.group(1), "username": username, "password": PASSWORD}
        done = browser.post(action.group(1).replace("&amp;", "&"), data=form)
        if done.status_code != 302:
            raise SystemExit(f"login form answered {done.status_code}: {done.text[:300]}")
        code = dict(parse_qsl(urlsplit(done.headers["location"]).query))["code"]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                    "code_verifier": verifier, "client_id": REALM, "client_secret": CLIENT_SECRET}  # fmt: skip
        tokens = browser.post(f"/realms/{REALM}/protocol/openid-connect/token", data=exchange).raise_for_status()
        if "id_token" not in tokens.json():
            raise SystemExit(f"code exchange gave no ID token: {tokens.text[:300]}")


def run_concurrently(work: Callable[[int], None], workers: int, seconds: float) -> tuple[list[float], float]:
    samples: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop(index: int) -> None:
        local: list[float] = []
        while time.perf_counter() < stop_at:
            begin = time.perf_counter()
            work(index)
            local.append(time.perf_counter() - begin)
        with lock:
            samples.extend(local)

    begin = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - begin


def measure_logins(idp: Idp, workers: int, seconds: float, target: str) -> list[Row]:
    cpu_before = idp.cpu_seconds()
    samples, elapsed = run_concurrently(lambda index: login(idp, f"bench-user-{index}"), workers, seconds)
    cpu = idp.cpu_seconds() - cpu_before
    what = f"password login (auth page → form → code → token), {workers} browser(s)"
    return [
        latency_row(what, samples, elapsed, target="-", anchor="-"),
        Row(f"  … per idp CPU-second ({cpu:.1f} s CPU in {elapsed:.1f} s)", None, None, len(samples) / cpu, target,
            LOGIN_ANCHOR),
    ]  # fmt: skip


def measure_client_credentials(idp: Idp, workers: int, seconds: float) -> list[Row]:
    form = {"grant_type": "client_credentials", "client_id": "dive-v3-backend-client", "client_secret": BACKEND_SECRET}
    local = threading.local()

    def grant(index: int) -> None:
        if not hasattr(local, "client"):
            local.client = idp.client()
        local.client.post(f"/realms/{REALM}/protocol/openid-connect/token", data=form).raise_for_status()

    cpu_before = idp.cpu_seconds()
    samples, elapsed = run_concurrently(grant, workers, seconds)
    cpu = idp.cpu_seconds() - cpu_before
    return [
        latency_row(f"client-credentials grant, {workers} clients (httpx, keep-alive)", samples, elapsed,
                    target="-", anchor="-"),
        Row(f"  … per idp CPU-second ({cpu:.1f} s CPU in {elapsed:.1f} s)", None, None, len(samples) / cpu, "-",
            "Keycloak 120 /s per vCPU"),
    ]  # fmt: skip


def measure_with_wrk(idp: Idp, path: str, seconds: float, connections: int, home: Path) -> Row:
    script = home / "report.lua"
    script.write_text(
        'done = function(summary, latency, requests)\n  io.write(string.format("RESULT %d %f %f %f\\n",'
        " summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000))\n"
        "end\n"
    )
    # wrk cannot be given the deployment CA; it does not verify certificates. Loopback only, our own server.
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s", str(script), f"{idp.url}{path}"]
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    _, count, duration_s, p50_ms, p95_ms = line.split()
    return Row(f"GET {path.split(REALM)[-1]}, {connections} connections (wrk)", float(p50_ms), float(p95_ms),
               int(count) / float(duration_s), "-", "-")  # fmt: skip


def _fetcher(idp: Idp, path: str) -> Callable[[int], None]:
    local = threading.local()

    def fetch(index: int) -> None:
        if not hasattr(local, "client"):
            local.client = idp.client()
        local.client.get(path).raise_for_status()

    return fetch


def measure_public_documents(idp: Idp, seconds: float, connections: int, home: Path) -> list[Row]:
    paths = [f"/realms/{REALM}/protocol/openid-connect/certs", f"/realms/{REALM}/.well-known/openid-configuration"]
    if shutil.which("wrk"):
        return [measure_with_wrk(idp, path, seconds, connections, home) for path in paths]
    rows = []
    for path in paths:
        samples, elapsed = run_concurrently(_fetcher(idp, path), 8, seconds)
        rows.append(latency_row(f"GET {path.split(REALM)[-1]}, 8 clients (httpx)", samples, elapsed, target="-",
                                anchor="-"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--argon2-time-cost", type=int, default=5, help="OWASP minimum for 7 MiB is 5")
    parser.add_argument("--argon2-memory-kib", type=int, default=7168)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: the embedded instance store")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for JWKS and discovery")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="dive-bench-idp-"))
    idp = start_idp(home, args)
    try:
        seed(idp)
        login(idp, "bench-user-0")  # warm up templates, keys and the connection pool outside the measurement
        target = "≥ 40 /s per core"
        rows = [*measure_logins(idp, 1, args.seconds, target), *measure_logins(idp, 4, args.seconds, target)]
        rows += measure_client_credentials(idp, 4, args.seconds)
        rows += measure_public_documents(idp, args.seconds, args.connections, home)
    finally:
        idp.process.terminate()
        idp.process.wait(timeout=15)
        shutil.rmtree(home, ignore_errors=True)
    store = "PostgreSQL" if args.database_url else "embedded SQLite store"
    print_table(
        "DIVE idp benchmark",
        rows,
        notes=[
            f"argon2id t={args.argon2_time_cost}, m={args.argon2_memory_kib} KiB, p=1; {store}; one uvicorn process",
            f"machine: {os.cpu_count()} cores shared with the load generator; "
            f"load average {os.getloadavg()[0]:.2f} at the end",
            "per-core rows divide by the idp process's own CPU seconds, so the load generator's share is excluded",
        ],
    )


if __name__ == "__main__":
    main()
