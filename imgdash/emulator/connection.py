"""One connection to the emulator: HTTP/1.1 with keep-alive and optional TLS, the request
read and handed to the WSGI app, the answer written back, and the faults that need the raw
connection (reset, truncate, drip, latency). `EmulatorServer` (server.py) runs it.
"""

import base64
import contextlib
import io
import logging
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

from .app import CONTROL
from .requestlog import LoggedRequest

logger = logging.getLogger("imgdash.emulator")
access_logger = logging.getLogger("imgdash.emulator.access")

MAX_REQUEST_BODY = 16 * 1024 * 1024
# Bodies up to this size go out in the same write as the headers.
SMALL_BODY = 64 * 1024
# Errors that only mean the client went away or never completed TLS: not worth a traceback.
QUIET_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, OSError)


class HTTPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, emulator, ssl_context):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        self.ssl_context = ssl_context
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self):
        sock, address = super().get_request()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # delayed ACKs add 40 ms to every small response on a kept-alive connection.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context:
            # The handshake happens in the connection's own thread (see _Handler.setup), so
            # a slow or failing client never holds up the accept loop.
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def track(self, connection):
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection):
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self):
        """Wake every handler thread waiting on a kept-alive connection, so stop() is final."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # The plain socket's shutdown: SSLSocket's would tear down its TLS state under
            # the feet of the thread reading from it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], QUIET_ERRORS):
            return
        logger.exception("emulator: error serving %s", client_address)


class _BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answer unparseable requests with a status line too (http.server assumes HTTP/0.9).
    default_request_version = "HTTP/1.1"
    # Idle kept-alive connections are dropped after this, like nginx's keepalive_timeout.
    timeout = 75

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()
        self.server.track(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format, *args):
        # http.server would print to stderr; the access log below is opt-in.
        pass

    def send_error(self, code, message=None, explain=None):
        # For requests http.server cannot parse: answer as Go does, in plain text.
        self.close_connection = True
        self._send_status(code, [f"{code} {HTTPStatus(code).phrase}\n".encode()])

    def __getattr__(self, name):
        # Every method reaches the router (which answers 405 or 404), as with Go's mux,
        # instead of http.server's 501 for methods it has no do_* handler for.
        if name.startswith("do_"):
            return self.do_request
        raise AttributeError(name)

    def do_request(self):
        emulator = self.server.emulator
        started = time.monotonic()
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send_status(exc.status, [str(exc).encode() + b"\n"])
            return
        target = urlsplit(self.path)
        path = unquote(target.path) or "/"
        is_control = emulator.control and (path == CONTROL or path.startswith(CONTROL + "/"))

        if is_control:
            # Not counted as in flight: POST /_emulator/reset waits for in-flight requests.
            self._serve(path, target, body, started, None)
            return
        with emulator.handling():
            emulator.requests.append(self._log_entry(path, target.query, body))
            fault = emulator.faults.match(self.command, path)
            self._serve(path, target, body, started, fault)

    def _serve(self, path, target, body, started, fault):
        if fault and fault.latency:
            time.sleep(fault.latency)
        if fault and fault.reset:
            self._reset_connection()
            self._access_log(path, "RST", 0, started, fault)
            return

        answer = fault.canned_response() if fault else None
        if answer is None:
            answer = self._call_app(target, body, fault)
        status, headers, chunks, length = answer
        if fault and fault.truncate:
            self._send_truncated(status, headers, chunks)
        elif fault and fault.drip:
            self._send_dripped(status, headers, chunks, length, fault.drip)
        elif fault and fault.rate:
            self._send_at_rate(status, headers, chunks, length, fault.rate)
        else:
            self._send(status, headers, chunks, length)
        self._access_log(path, status.split()[0], length, started, fault)

    # -- reading -------------------------------------------------------------------------

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BadRequest(400, "Bad Request: invalid Content-Length") from None
        if length < 0:
            raise _BadRequest(400, "Bad Request: invalid Content-Length")
        if length > MAX_REQUEST_BODY:
            raise _BadRequest(413, "Request Entity Too Large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "Bad Request: invalid chunked encoding") from None
            if size == 0:
                # Skip any trailers up to the blank line.
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_REQUEST_BODY:
                raise _BadRequest(413, "Request Entity Too Large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _log_entry(self, path, query, body):
        headers = {
            name: value for name, value in self.headers.items() if name.lower() != "authorization"
        }
        return LoggedRequest(
            method=self.command,
            path=path,
            query=parse_qs(query, keep_blank_values=True),
            headers=headers,
            body=body,
            username=_claimed_user(self.headers.get("Authorization", "")),
        )

    # -- answering -----------------------------------------------------------------------

    def _call_app(self, target, body, fault):
        server = self.server
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(target.path, encoding="latin-1"),
            "QUERY_STRING": target.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": server.emulator.host,
            "SERVER_PORT": str(server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if server.ssl_context else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # Faults the app itself applies (a forged ID token) read their knobs here.
            "imgdash.emulator.fault": fault,
        }
        for name, value in self.headers.items():
            # Like wsgiref: a header spelled with "_" could pass for one spelled with "-".
            if "_" in name:
                continue
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value

        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"], started["headers"] = status, headers

        chunks = server.emulator.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in started["headers"] if k.lower() != "content-length"]
        return started["status"], headers, [data], len(data)

    def _send_head(self, status, headers, length, body_start=b""):
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        # end_headers(), with the start of the body in the same write: a small answer
        # leaves in one packet, as it does from a Go server.
        self._headers_buffer.append(b"\r\n")
        if body_start:
            self._headers_buffer.append(body_start)
        self.flush_headers()

    def _send(self, status, headers, chunks, length):
        chunks = iter(() if self.command == "HEAD" else chunks)
        first = next(chunks, b"")
        try:
            if len(first) <= SMALL_BODY:
                self._send_head(status, headers, length, first)
            else:
                self._send_head(status, headers, length)
                self.wfile.write(first)
            for chunk in chunks:
                self.wfile.write(chunk)
        except QUIET_ERRORS:
            self.close_connection = True

    def _send_status(self, code, chunks):
        """A plain-text answer from the server itself (the request never reached the app)."""
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        status = f"{code} {HTTPStatus(code).phrase}"
        self._send(status, headers, chunks, sum(map(len, chunks)))

    def _send_truncated(self, status, headers, chunks):
        """Promise the whole body, send part of it, hang up: a connection lost mid-answer."""
        body = b"".join(chunks)
        promised = len(body) if len(body) >= 2 else len(body) + 16
        self.close_connection = True
        try:
            self._send_head(status, headers, promised)
            self.wfile.write(body[: len(body) // 2])
        except QUIET_ERRORS:
            pass

    def _send_dripped(self, status, headers, chunks, length, pause):
        """Headers at once, then the body one byte every `pause` seconds, until the client
        hangs up: a link (or a server) that never stalls long enough for a read timeout."""
        try:
            self._send_head(status, headers, length)
            for chunk in chunks:
                for offset in range(len(chunk)):
                    time.sleep(pause)
                    self.wfile.write(chunk[offset : offset + 1])
        except QUIET_ERRORS:
            self.close_connection = True

    def _send_at_rate(self, status, headers, chunks, length, rate):
        """Headers at once, then the body in slices of a tenth of a second's worth, paced to
        about `rate` bytes per second: a large answer over a slow network."""
        step = max(1, rate // 10)
        started = time.monotonic()
        sent = 0
        try:
            self._send_head(status, headers, length)
            for chunk in chunks:
                for offset in range(0, len(chunk), step):
                    piece = chunk[offset : offset + step]
                    self.wfile.write(piece)
                    sent += len(piece)
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        except QUIET_ERRORS:
            self.close_connection = True

    def _reset_connection(self):
        """Close with a TCP RST: linger 0 and close without shutdown, sending nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            return
        # The buffered reader holds a reference to the socket; the descriptor is only
        # really closed (and the RST sent) once that reference is gone too.
        self.rfile.close()
        self.connection.close()

    def _access_log(self, path, status, length, started, fault):
        if not self.server.emulator.log_requests:
            return
        elapsed = time.monotonic() - started
        note = f" [fault {fault.id}]" if fault else ""
        access_logger.info(
            '%s "%s %s" %s %s %.3fs%s',
            self.client_address[0],
            self.command,
            path,
            status,
            length,
            elapsed,
            note,
        )


def _claimed_user(authorization):
    """Who a request says it is, without checking: for the request log only."""
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        try:
            return jwt.decode(credentials, options={"verify_signature": False}).get("sub")
        except jwt.InvalidTokenError:
            return None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials, validate=True).decode().partition(":")[0]
        except ValueError:  # bad base64, non-ASCII, or not UTF-8
            return None
    return None
