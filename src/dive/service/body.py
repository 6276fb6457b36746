"""Reading a request body under a route-specific size limit (tighter than the app-wide one)."""

from __future__ import annotations

from starlette.requests import Request

from dive.service.errors import PayloadTooLargeError

__all__ = ["read_body_limited"]


async def read_body_limited(request: Request, max_bytes: int) -> bytes:
    """The whole body, or `PayloadTooLargeError` (413) as soon as it is known to exceed `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
