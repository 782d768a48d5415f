import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _RecordingHandler(BaseHTTPRequestHandler):
    """Answers every request with an empty JSON list and keeps its headers."""

    def _answer(self):
        self.server.received.append((self.command, self.path, dict(self.headers.items())))
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recording_server():
    """A host that answers anything and records every request's headers, Authorization
    included: where a cluster's URL is pointed to catch a token that should not come."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    server.received = []
    server.api_url = f"http://127.0.0.1:{server.server_address[1]}/image-manager/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()
