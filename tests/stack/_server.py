"""Small pieces the local stand-in servers share: TLS HTTP server, ready file, JSON-lines log, SIGTERM handling."""

import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = "127.0.0.1"


def utc_now():
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json_atomic(path, data):
    """Write `data` as JSON so that a reader never sees a half-written file (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class JsonLines:
    """A thread-safe append-only JSON-lines file (one request per line), readable back as a list, clearable."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        with self._lock:
            self.path.write_text("", encoding="utf-8")

    def append(self, record):
        line = json.dumps(record, sort_keys=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line)

    def read(self):
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def server_tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


class TLSThreadingHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose TLS handshake runs in the request's own thread, so that one slow or broken
    client can never stall the accept loop."""

    daemon_threads = True
    request_queue_size = 128
    handshake_timeout = 10

    def __init__(self, address, handler, ssl_context):
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind would look up the FQDN of the address; on a closed network that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        request.settimeout(self.handshake_timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gave up or does not trust us: nothing to serve
        try:
            tls.settimeout(None)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        super().handle_error(request, client_address)


class JsonHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler with JSON helpers; quiet (servers keep their own structured logs)."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection frees its thread after this
    server_version = "hsmbackup-local"
    sys_version = ""

    def log_message(self, format, *args):
        pass

    def read_body(self, limit=4 * 1024 * 1024):
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def send_json(self, status, payload, headers=None):
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve_until_sigterm(server, ready_file, ready_data):
    """Publish `ready_data` in `ready_file`, serve until SIGTERM/SIGINT, then close and remove the ready file."""

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, which runs in this very thread: do it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_json_atomic(ready_file, ready_data)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        Path(ready_file).unlink(missing_ok=True)
