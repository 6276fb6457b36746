"""A TCP proxy that holds each new connection for `delay_s` before relaying it: a slow partner for timeout tests."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

from harness import pick_free_port


class SlowProxy:
    def __init__(self, target_port: int, delay_s: float = 0.0) -> None:
        self.target_port, self.delay_s = target_port, delay_s
        self.port = pick_free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stopped.set()
        self._server.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        time.sleep(self.delay_s)
        with client:
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                return  # the target is down: the caller sees its connection closed
            with upstream:
                threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
                _pipe(client, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
