"""The upload-size limit, applied to every request body before it is read into memory."""

from __future__ import annotations

import json
from typing import Any

from margincall.web._settings import Settings

Scope = dict[str, Any]


class BodyLimit:
    """ASGI middleware: 413, naming the limit and its setting, for a body over `limit` bytes
    (by its Content-Length, or counted as it streams)."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    def _message(self, size: str) -> bytes:
        variable = Settings.variable("max_upload_bytes")
        return json.dumps({"detail": {
            "message": f"the request body ({size}) is over this service's limit of {self.limit:,} bytes (setting {variable})",
            "limit": "max_upload_bytes", "setting": variable}}).encode()

    async def _refuse(self, send: Any, size: str) -> None:
        body = self._message(size)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._refuse(send, f"{declared:,} bytes")
                    return
        seen = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracked_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, f"more than {self.limit:,} bytes")


class _TooLarge(Exception):
    pass
