"""RemoteOpaEngine against a small real HTTP server that serves the OPA data API from the embedded engine.

The lead tests it against the real `pdp` service; this server exists only so the adapter is exercised over HTTP.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dive.policy import PolicyUnavailableError
from dive.policy.engines import RegopyEngine, RemoteOpaEngine


def _handler_for(engine: RegopyEngine) -> type[BaseHTTPRequestHandler]:
    class OpaDataApi(BaseHTTPRequestHandler):
        def _answer(self, body: object | None) -> None:
            path = self.path.removeprefix("/v1/data/")
            input_document = body.get("input") if isinstance(body, dict) else None
            result = engine.query(path, input_document)
            payload = json.dumps({"result": result.value} if result.defined else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self._answer(json.loads(self.rfile.read(length) or b"{}"))

        def do_GET(self) -> None:
            self._answer(None)

        def log_message(self, format: str, *args: object) -> None:
            return

    return OpaDataApi


@pytest.fixture(scope="module")
def opa_url(engine: RegopyEngine) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(engine))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_remote_decisions_equal_embedded_decisions(engine: RegopyEngine, opa_url: str, make_input: Callable) -> None:
    documents = [make_input({}, []), make_input({"subject": {"acpCOI": []}}, []), {}]
    with RemoteOpaEngine(opa_url, timeout_s=30) as remote:
        remote_decisions = remote.decide_many(documents)
        assert [d.raw for d in remote_decisions] == [d.raw for d in engine.decide_many(documents)]
        assert remote_decisions[0].allow is True
        assert remote.revision() == engine.revision()
        assert remote.check_label({"classification": "SECRET"}, strict=True).codes == ("P9",)
        assert remote.query("dive/authz/nothing", {}).defined is False


def test_unreachable_remote_engine_is_policy_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RemoteOpaEngine(f"http://127.0.0.1:{port}") as remote, pytest.raises(PolicyUnavailableError) as err:
        remote.decide({})
    assert err.value.code == "policy_unavailable"
    assert err.value.__cause__ is not None
