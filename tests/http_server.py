"""A real HTTP server on 127.0.0.1 for download tests: serves bytes, honours Range, can cut a
response mid-way, ignore Range, or answer with an error status. It records every request.
StaticFiles serves a folder, as a user serves the browser example."""

import functools
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Behaviour:
    files: dict[str, bytes]
    # close the connection after this many body bytes, once
    cut_first_response_at: int | None = None
    honour_range: bool = True
    status: int | None = None  # answer every request with this error status
    requests: list[dict] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        b = self.behaviour
        b.requests.append({"path": self.path, "range": self.headers.get("Range")})
        if b.status is not None:
            self.send_error(b.status)
            return
        body = b.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        range_header = self.headers.get("Range")
        if range_header and b.honour_range:
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if b.cut_first_response_at is not None:
            cut, b.cut_first_response_at = b.cut_first_response_at, None
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


class LoopbackServer:
    """Context manager: `with LoopbackServer(Behaviour(...)) as s: s.url("/x.tar.gz")`."""

    def __init__(self, behaviour: Behaviour):
        handler = type("Handler", (_Handler,), {"behaviour": behaviour})
        self.behaviour = behaviour
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class StaticFiles(LoopbackServer):
    """Context manager: the files under `root` served as `python -m http.server` serves them (the
    standard library's SimpleHTTPRequestHandler: its content types, links followed), quietly."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietFiles, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
