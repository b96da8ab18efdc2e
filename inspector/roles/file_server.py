"""`csms --files DIR`: the fake CSMS's own file server for firmware and logs.

Chargers download firmware with `GET /<name>` (any file in DIR) and upload diagnostics and
logs with `PUT` or `POST /<name>` (stored in DIR; an existing file is never overwritten:
the upload gets a numbered name). Plain HTTP on its own port, beside the WebSocket one, so
an UpdateFirmware / GetDiagnostics / GetLog loop runs on one laptop. Built on the standard
library's threading HTTP server (a thread per request, off the roles' event loop); every
request is a notice on the console.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

MAX_UPLOAD = 64 << 20  # bytes: a log, not a disk image


class FileServer:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0, notice=None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"--files {folder}: not a folder")
        self.notice = notice or (lambda level, text: None)
        self.received: list[Path] = []  # uploads, in order (tests, the summary)
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}/"

    def start(self) -> "FileServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="csms-files",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def path_of(self, url_path: str) -> Path | None:
        """The file a request path names inside the folder (None: outside it, or empty)."""
        name = unquote(urlsplit(url_path).path).lstrip("/")
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            return None
        return self.folder / name

    def free_name(self, path: Path) -> Path:
        if not path.exists():
            return path
        for number in range(1, 10_000):
            candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
            if not candidate.exists():
                return candidate
        raise OSError(f"no free name for {path.name}")


def _handler_for(files: FileServer):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ocpp-inspector-files"

        def log_message(self, format, *args):  # noqa: A002 - the console gets notices instead
            pass

        def do_GET(self):  # noqa: N802
            path = files.path_of(self.path)
            if path is None or not path.is_file():
                files.notice("warning", f"files: GET {self.path}: not found")
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            body = path.read_bytes()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            files.notice("info", f"files: sent {path.name} ({len(body):,} bytes) to "
                                 f"{self.client_address[0]}")

        def _upload(self):
            path = files.path_of(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if path is None or not 0 <= length <= MAX_UPLOAD:
                self.send_error(HTTPStatus.BAD_REQUEST)
                return
            body = self.rfile.read(length)
            target = files.free_name(path)
            target.write_bytes(body)
            files.received.append(target)
            self.send_response(HTTPStatus.CREATED)
            self.send_header("Content-Length", "0")
            self.end_headers()
            files.notice("info", f"files: received {target.name} ({len(body):,} bytes) from "
                                 f"{self.client_address[0]}")

        do_PUT = _upload  # noqa: N815
        do_POST = _upload  # noqa: N815
    return Handler
