"""The REST server's request guards, as ASGI middleware around KServe's app: a body over the limit
is a 413 before it is parsed, a versioned path a 404, and a malformed request of the binary
extension a 400 (KServe 0.21 answered the last two with 501 and 500), and a body its schema
refuses a 400 in one line (FastAPI's 422 echoed the body back). TrialNotes, beside them,
adds a trial model's note to its metadata."""

import json
import re

from alexnet_kfp.serve.binary_request import Malformed, check_binary_request
from alexnet_kfp.untrusted import is_whole_number

_VERSIONED = re.compile(r"^/v2/models/[^/]+/versions/")
_METADATA = re.compile(r"^/v2/models/([^/]+)$")
_INFER = re.compile(r"^/v2/models/[^/]+/infer$")
_HEADER_LENGTH = b"inference-header-content-length"
_JSON = b"application/json"


class BodyLimit:
    """ASGI middleware: refuse a request body over `limit` bytes with 413. A declared Content-Length
    is refused before the body is read. Otherwise the body is read here first, at most `limit`
    bytes kept (the app would read it all anyway); past the limit the rest is read and dropped, so
    that the client, still sending, hears the 413 (raising inside the app's read would reach the
    client as FastAPI's 400 "error parsing the body")."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and _too_long(declared, self.limit):
            return await self._refuse(send)
        messages, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            more = message.get("more_body", False)
            seen += len(message.get("body", b""))
            if seen <= self.limit:
                messages.append(message)
        if seen > self.limit:
            return await self._refuse(send)
        return await self.app(scope, replaying(messages, receive), send)

    async def _refuse(self, send):
        await json_error(send, 413, f"request body larger than {self.limit} bytes")


def _too_long(declared: bytes, limit: int) -> bool:
    """Whether a Content-Length header declares more than `limit` bytes (one that is not digits
    0-9 is left to the HTTP server, which refuses it)."""
    text = declared.decode("latin-1")
    return is_whole_number(text) and int(text) > limit


class NoVersions:
    """ASGI middleware: /v2/models/NAME/versions/V/... is a 404 naming the problem; KServe 0.21
    answers it with 501, a server error for a client's request. (Over gRPC the model refuses it.)"""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] == "http" and _VERSIONED.match(path):
            error = f"{path}: this server has no model versions; use /v2/models/NAME/..."
            return await json_error(send, 404, error)
        return await self.app(scope, receive, send)


class TrialNotes:
    """ASGI middleware: GET /v2/models/NAME of a trial model answers its metadata with
    `"parameters": {"trial": note}` added (`notes`: {name: note}). The Open Inference Protocol's
    metadata has no field for it, and KServe 0.21's response model drops any it is given; clients
    ignore a field they do not know."""

    def __init__(self, app, notes: dict[str, str]):
        self.app, self.notes = app, notes

    async def __call__(self, scope, receive, send):
        found = _METADATA.match(scope.get("path", "")) if scope["type"] == "http" else None
        if scope.get("method") != "GET" or not found or found[1] not in self.notes:
            return await self.app(scope, receive, send)
        start, parts = {}, []

        async def keep(message):
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                parts.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(parts)
        if start.get("status") == 200:
            metadata = json.loads(body)
            metadata["parameters"] = {"trial": self.notes[found[1]]}
            body = json.dumps(metadata).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def one_line_validation_error(request, error):
    """FastAPI's answer to a request body its schema refuses (KServe 0.21 leaves FastAPI's 422,
    which echoes the whole body back): 400 naming the first field refused, in one line."""
    from fastapi.responses import JSONResponse

    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"][2:]) or "the body"  # past "body", schema
    return JSONResponse({"error": f"{where}: {first['msg']}"}, status_code=400)


async def json_error(send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CheckedBinaryRequests:
    """ASGI middleware: a POST to /v2/models/NAME/infer with `Inference-Header-Content-Length` is
    checked whole (binary_request.py) and refused with 400 naming the fault, before KServe reads
    it. Placed inside BodyLimit, so the body it holds is bounded. One without that header is JSON,
    whatever its content type says: tritonclient's HTTP client sends JSON requests with none, which
    KServe 0.21 took for binary ones and refused ("the 'inference-header-content-length' header is
    missing")."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if scope.get("method") != "POST" or not _INFER.match(scope.get("path", "")):
            return await self.app(scope, receive, send)
        if _HEADER_LENGTH not in headers:
            if headers.get(b"content-type", b"").split(b";")[0].strip() != _JSON:
                kept = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
                scope = {**scope, "headers": [*kept, (b"content-type", _JSON)]}
            return await self.app(scope, receive, send)
        messages, body = await read_body(receive)
        if messages is None:  # the client went away
            return
        try:
            check_binary_request(headers[_HEADER_LENGTH], body)
        except Malformed as e:
            return await json_error(send, 400, str(e))
        return await self.app(scope, replaying(messages, receive), send)


async def read_body(receive) -> tuple[list | None, bytes]:
    """A request's body messages, read whole, and the body they hold; (None, b"") if the client
    went away first."""
    messages, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None, b""
        messages.append(message)
        more = message.get("more_body", False)
    return messages, b"".join(message.get("body", b"") for message in messages)


def replaying(messages: list, receive):
    """An ASGI `receive` that gives the app the body messages a guard has read, then the rest."""

    async def replay():
        return messages.pop(0) if messages else await receive()

    return replay
