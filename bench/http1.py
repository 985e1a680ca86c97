"""A minimal HTTP/1.1 keep-alive client for load generation: one connection per simulated scanner.

httpx spent 13 ms of CPU per scan+use pair at 50 concurrent clients on this 2-core machine (more
than the service it measured), so the benchmark saturated itself. This client does only what a
benchmark needs: JSON requests on one persistent connection, Content-Length or chunked answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class Http1Error(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.base_headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await self.request("POST", path, body, headers)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return await self.request("GET", path, None, headers)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None  # noqa: S101
        payload = json.dumps(body).encode() if body is not None else b""
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        content = f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n" if payload else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.base_headers}{extra}"
            f"{content}\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise Http1Error("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = None, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        else:
            data = await self.reader.readexactly(length or 0)
        return status, (json.loads(data) if data else None)
